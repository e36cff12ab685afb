"""The API's OpenAPI 3.1 document, written by hand so it says what each endpoint means, not only its shape."""

from __future__ import annotations

from typing import Any

INCIDENT_ACTIONS = {
    "ack": "确认（acknowledge）：同一级别不再重复提醒，升级时再提醒。",
    "unack": "取消确认。",
    "silence": "静默该事件的通知若干小时（body: hours, comment）。",
    "resolve": "手动标记为已解决。",
    "note": "添加备注（body: text）。",
    "false-alarm": "标记为误报：证据帖成为分析员的标注（task=alert, label=false_alarm），并停止重复提醒。",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": schema or _ref("Result")}},
        },
        "401": {"$ref": "#/components/responses/Unauthorized"},
    }


def _action(
    summary: str, body: dict[str, Any] | None = None, *, params: list | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            **_ok("Done."),
            "400": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Forbidden"},
            "404": {"$ref": "#/components/responses/Error"},
        },
    }
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object", "properties": body}}},
        }
    return {"post": operation}


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def openapi_document(base_url: str) -> dict[str, Any]:
    """The document served at ``/api/openapi.json``."""
    incident_id = _path("incident_id", "Incident id.")
    feed = _path("feed", "Feed name (feeds.toml).")
    incident_actions = {
        f"/api/incidents/{{incident_id}}/{name}": _action(
            summary,
            {"hours": {"type": "number"}, "comment": {"type": "string"}}
            if name == "silence"
            else {"text": {"type": "string"}}
            if name == "note"
            else {"comment": {"type": "string"}},
            params=[incident_id],
        )
        for name, summary in INCIDENT_ACTIONS.items()
    }
    feed_actions = {
        f"/api/feeds/{{feed}}/{name}": _action(summary, params=[feed])
        for name, summary in {
            "pause": "暂停数据源（立即生效，并通知运行中的守护进程）。",
            "resume": "恢复数据源。",
            "run": "请求守护进程立即运行该数据源。",
        }.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "听风 Tingfeng API",
            "version": "1",
            "description": (
                "Incidents, posts, labels, models, feeds and alerts of a Tingfeng monitor. Authenticate with "
                "`Authorization: Bearer TOKEN` (the token comes from the environment variable named by "
                "`[web] token_env`), or with the dashboard's session cookie plus its CSRF token in "
                "`X-CSRF-Token` for state-changing calls."
            ),
        },
        "servers": [{"url": base_url}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/incidents": {
                "get": {
                    "summary": "Open incidents, most severe and fastest-growing first.",
                    "parameters": [_query("all", "1 to include resolved incidents.")],
                    "responses": _ok(
                        "Incidents.",
                        {
                            "type": "object",
                            "properties": {
                                "incidents": {"type": "array", "items": _ref("Incident")},
                                "data_now": {"type": ["string", "null"], "format": "date-time"},
                            },
                        },
                    ),
                }
            },
            "/api/incidents/{incident_id}": {
                "get": {
                    "summary": "One incident: evidence posts, timeline, alert history, ack, silences, notes.",
                    "parameters": [incident_id],
                    "responses": {
                        **_ok("The incident.", _ref("IncidentDetail")),
                        "404": {"$ref": "#/components/responses/Error"},
                    },
                }
            },
            **incident_actions,
            "/api/posts": {
                "get": {
                    "summary": "Full-text search of posts with filters, newest first.",
                    "parameters": [
                        _query(
                            "q",
                            "Words, all of which must appear (3+ characters use the trigram index; shorter words"
                            " alone are looked for among the newest 200,000 posts).",
                        ),
                        _query(
                            "feed", "The post's feed, or its source when it came from no configured feed."
                        ),
                        _query(
                            "sentiment",
                            "Latest classification.",
                            {"enum": ["negative", "neutral", "positive"]},
                        ),
                        _query("escalation", "Latest classification.", {"enum": ["low", "medium", "high"]}),
                        _query(
                            "since",
                            "First day (YYYY-MM-DD, inclusive).",
                            {"type": "string", "format": "date"},
                        ),
                        _query(
                            "until", "Last day (YYYY-MM-DD, inclusive).", {"type": "string", "format": "date"}
                        ),
                        _query("limit", "At most 500.", {"type": "integer", "default": 50}),
                        _query(
                            "before",
                            "Page cursor: the `next` of the previous answer (posts after that page).",
                        ),
                        _query(
                            "offset",
                            "Skip this many (slow far into a big store: follow `next` instead).",
                            {"type": "integer", "default": 0},
                        ),
                    ],
                    "responses": _ok(
                        "Posts, each with its page `cursor`; `next` is the cursor of the next page (null on the last).",
                        {
                            "type": "object",
                            "properties": {
                                "posts": {"type": "array", "items": _ref("Post")},
                                "next": {"type": ["string", "null"]},
                            },
                        },
                    ),
                }
            },
            "/api/labels/queue": {
                "get": {
                    "summary": "Posts to label for a task, the ones the model is least sure about first.",
                    "parameters": [
                        _query("task", "Labelling task.", {"enum": ["sentiment", "escalation"]}),
                        _query("limit", "At most 200.", {"type": "integer", "default": 20}),
                    ],
                    "responses": _ok("The queue."),
                }
            },
            "/api/labels": _action(
                "Label one post.",
                {
                    "source": {"type": "string"},
                    "post_id": {"type": "string"},
                    "task": {"enum": ["sentiment", "escalation"]},
                    "label": {
                        "type": "string",
                        "description": "negative|neutral|positive or low|medium|high",
                    },
                },
            ),
            "/api/models": {
                "get": {"summary": "Model versions with their metrics.", "responses": _ok("Models.")}
            },
            "/api/models/{version}/promote": _action(
                "Promote a model version (refused when worse on a held-out set unless forced).",
                {"force": {"type": "boolean"}, "reason": {"type": "string"}},
                params=[_path("version", "Model version.")],
            ),
            "/api/models/rollback": _action(
                "Go back to the previously active model.", {"reason": {"type": "string"}}
            ),
            "/api/feeds": {
                "get": {
                    "summary": "Feeds: health, last and next run, error streak, paused.",
                    "responses": _ok("Feeds."),
                }
            },
            **feed_actions,
            "/api/alerts": {
                "get": {
                    "summary": "Notifications sent, the outbox, dead letters and silences.",
                    "responses": _ok("Alerts."),
                }
            },
            "/api/silences/{silence_id}/expire": _action(
                "End a silence now.", params=[_path("silence_id", "Silence id.")]
            ),
            "/api/openapi.json": {
                "get": {"summary": "This document.", "responses": _ok("OpenAPI 3.1.", {"type": "object"})}
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "tingfeng_session"},
            },
            "responses": {
                "Unauthorized": {
                    "description": "Not logged in and no valid token.",
                    "content": {"application/json": {"schema": _ref("Error")}},
                },
                "Forbidden": {
                    "description": "Missing or wrong CSRF token, or a cross-site request.",
                    "content": {"application/json": {"schema": _ref("Error")}},
                },
                "Error": {
                    "description": "Bad input or no such thing.",
                    "content": {"application/json": {"schema": _ref("Error")}},
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
                },
                "Result": {
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}, "message": {"type": "string"}},
                },
                "Incident": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"enum": ["new", "growing", "cooling", "resolved"]},
                        "severity": {"enum": ["watch", "warning", "critical"]},
                        "n_posts": {"type": "integer"},
                        "n_authors": {"type": "integer"},
                        "reach": {"type": "integer"},
                        "last_hour": {"type": "integer", "description": "Posts in the hour up to data_now."},
                        "previous_hour": {"type": "integer"},
                        "growth": {"type": ["number", "null"], "description": "last_hour / previous_hour."},
                        "acked": {"type": "boolean"},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "IncidentDetail": {
                    "allOf": [
                        _ref("Incident"),
                        {
                            "type": "object",
                            "properties": {
                                "posts": {"type": "array", "items": _ref("Post")},
                                "alerts": {"type": "array", "items": {"type": "object"}},
                                "severity_changes": {"type": "array", "items": {"type": "object"}},
                                "timeline": {"type": "object"},
                                "notes": {"type": "array", "items": {"type": "object"}},
                                "silences": {"type": "array", "items": {"type": "object"}},
                                "ack": {"type": ["object", "null"]},
                            },
                        },
                    ]
                },
                "Post": {
                    "type": "object",
                    "properties": {
                        "source": {"type": "string"},
                        "id": {"type": "string"},
                        "text": {"type": "string"},
                        "url": {"type": ["string", "null"]},
                        "author": {"type": ["string", "null"]},
                        "created_at": {"type": ["string", "null"]},
                        "sentiment": {"type": ["string", "null"]},
                        "escalation": {"type": ["string", "null"]},
                        "escalation_score": {"type": ["number", "null"]},
                    },
                },
            },
        },
    }
