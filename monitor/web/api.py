"""The JSON API (described by ``/api/openapi.json``), ``/metrics`` and ``/healthz``.

Reads return what the pages show; actions take a JSON object (or a form) and call the same functions as the
pages' buttons. A browser calling the API sends the page's CSRF token in ``X-CSRF-Token``; a script sends
``Authorization: Bearer TOKEN`` instead.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monitor.errors import InputError, MonitorError
from monitor.web import actions, read
from monitor.web.openapi import openapi_document
from monitor.web.pages import context, incident_chart, post_filters

logger = logging.getLogger(__name__)


def _db(request: Request):
    from monitor.web.app import database

    return database(request)


def _json(data: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status_code, headers={"cache-control": "no-store"})


def healthz(request: Request) -> Response:
    """Liveness and whether the store answers; open to all, so it says nothing else."""
    try:
        with _db(request) as db:
            db.execute("select 1").fetchall()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        logger.warning("health check failed: %s", exc)
        return _json({"status": "error", "database": "unavailable"}, 503)
    return _json({"status": "ok", "database": "ok"})


def metrics(request: Request) -> Response:
    registry, _ = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def openapi(request: Request) -> Response:
    return _json(openapi_document(request.app.state.config.monitor.web.base_url))


def incidents(request: Request) -> Response:
    show_all = request.query_params.get("all") in ("1", "true")
    with _db(request) as db:
        rows = read.incidents(db, include_resolved=show_all)
        now = read.data_now(db)
    return _json({"incidents": rows, "data_now": now.isoformat() if now else None})


def incident(request: Request) -> Response:
    incident_id = request.path_params["incident_id"]
    with _db(request) as db:
        item = read.incident(db, incident_id)
    if item is None:
        return _json({"error": f"no incident {incident_id!r}", "status": 404}, 404)
    item["timeline"] = incident_chart(item, request.app.state.tz).to_dict()
    return _json(item)


def posts(request: Request) -> Response:
    filters = post_filters(request)
    limit = min(500, max(1, int(request.query_params.get("limit", "50") or 50)))
    offset = max(0, int(request.query_params.get("offset", "0") or 0))
    before = request.query_params.get("before", "")
    with _db(request) as db:
        rows = read.search_posts(
            db, **filters, limit=limit + 1, offset=offset, before=before, tz=request.app.state.tz
        )
    return _json(
        {"posts": rows[:limit], "limit": limit, "offset": offset, "next": read.next_cursor(rows, limit)}
    )


def label_queue(request: Request) -> Response:
    task = request.query_params.get("task", "sentiment")
    if task not in read.TASK_LABELS:
        raise InputError(f"unknown task {task!r} (expected one of: {', '.join(read.TASK_LABELS)})")
    limit = min(200, max(1, int(request.query_params.get("limit", "20") or 20)))
    with _db(request) as db:
        rows = read.label_queue(db, task, limit=limit)
    return _json({"task": task, "labels": list(read.TASK_LABELS[task]), "posts": rows})


def models(request: Request) -> Response:
    with _db(request) as db:
        rows = read.models(db)
    for row in rows:
        row.pop("flat_metrics", None)
    return _json({"models": rows, "registry": actions.registry_available()})


def feeds(request: Request) -> Response:
    from monitor.web.app import feed_configs

    with _db(request) as db:
        rows = read.feeds(db, feed_configs(request.app.state.config))
    return _json({"feeds": rows})


def alerts(request: Request) -> Response:
    with _db(request) as db:
        data = {
            "notifications": read.notifications(db),
            "outbox": read.outbox(db),
            "dead_letters": read.dead_letters(db),
            "silences": read.silences(db, active_at=request.app.state.clock()),
        }
    return _json(data)


async def _params(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type == "application/json":
        body = await request.body()
        if not body:
            return {}
        try:
            data = json.loads(body)
        except ValueError:
            raise InputError("request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise InputError("request body must be a JSON object")
        return data
    form = await request.form()
    return {key: str(value) for key, value in form.items() if key != "csrf_token"}


async def act(request: Request, name: str, target: str) -> Response:
    params = await _params(request)
    ctx = context(request)

    def run() -> dict:
        with _db(request) as db:
            return actions.perform(db, name, target, ctx, params)

    try:
        result = await run_in_threadpool(run)
    except actions.NotFound as exc:
        return _json({"error": str(exc), "status": 404}, 404)
    except InputError as exc:
        return _json({"error": str(exc), "status": 400}, 400)
    except MonitorError as exc:
        return _json({"error": str(exc), "status": 409}, 409)
    return _json({"ok": True, "message": actions.ACTIONS[name].message, **result})


async def incident_action(request: Request) -> Response:
    name = request.path_params["action"]
    if name not in actions.ACTIONS or actions.ACTIONS[name].target != "incident":
        return _json({"error": f"unknown action {name!r}", "status": 404}, 404)
    return await act(request, name, request.path_params["incident_id"])


async def label(request: Request) -> Response:
    return await act(request, "label", "")


async def feed_action(request: Request) -> Response:
    name = request.path_params["action"]
    if name not in ("pause", "resume", "run"):
        return _json({"error": f"unknown action {name!r}", "status": 404}, 404)
    return await act(request, name, request.path_params["feed"])


async def promote(request: Request) -> Response:
    return await act(request, "promote", request.path_params["version"])


async def rollback(request: Request) -> Response:
    return await act(request, "rollback", "")


async def expire_silence(request: Request) -> Response:
    return await act(request, "expire", request.path_params["silence_id"])


def routes() -> list[Route]:
    return [
        Route("/api/openapi.json", openapi),
        Route("/api/incidents", incidents),
        Route("/api/incidents/{incident_id}", incident),
        Route("/api/incidents/{incident_id}/{action}", incident_action, methods=["POST"]),
        Route("/api/posts", posts),
        Route("/api/labels/queue", label_queue),
        Route("/api/labels", label, methods=["POST"]),
        Route("/api/models", models),
        Route("/api/models/rollback", rollback, methods=["POST"]),
        Route("/api/models/{version}/promote", promote, methods=["POST"]),
        Route("/api/feeds", feeds),
        Route("/api/feeds/{feed}/{action}", feed_action, methods=["POST"]),
        Route("/api/alerts", alerts),
        Route("/api/silences/{silence_id}/expire", expire_silence, methods=["POST"]),
    ]
