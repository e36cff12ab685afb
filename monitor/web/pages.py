"""Server-rendered pages (Chinese UI) and their form posts; forms call the same actions as the JSON API."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from monitor.errors import InputError, MonitorError
from monitor.web import actions, read
from monitor.web.auth import csrf_token, user_stamp, wants_json
from monitor.web.store import verify_login
from monitor.web.timeline import SEVERITY_NAMES, build_timeline, render_svg

logger = logging.getLogger(__name__)

STATUS_NAMES = {"new": "新发现", "growing": "扩散中", "cooling": "降温中", "resolved": "已解决"}
SENTIMENT_NAMES = {"negative": "负面", "neutral": "中性", "positive": "正面"}
ESCALATION_NAMES = {"low": "低", "medium": "中", "high": "高"}
HEALTH_NAMES = {"ok": "正常", "failing": "出错", "paused": "已暂停"}
OUTBOX_NAMES = {"pending": "待发送", "sent": "已发送", "held": "仅记录（回放）", "dead": "已放弃"}
GLOBALS: dict[str, Any] = {
    "SEVERITY_NAMES": SEVERITY_NAMES,
    "STATUS_NAMES": STATUS_NAMES,
    "SENTIMENT_NAMES": SENTIMENT_NAMES,
    "ESCALATION_NAMES": ESCALATION_NAMES,
    "HEALTH_NAMES": HEALTH_NAMES,
    "OUTBOX_NAMES": OUTBOX_NAMES,
    "TASK_LABELS": read.TASK_LABELS,
}
NAV = (
    ("/incidents", "事件"),
    ("/posts", "帖子"),
    ("/labels", "标注"),
    ("/models", "模型"),
    ("/feeds", "数据源"),
    ("/alerts", "告警"),
)


def filters(tz: ZoneInfo) -> dict[str, Any]:
    def local(value: Any, fmt: str = "%m-%d %H:%M") -> str:
        moment = value if isinstance(value, datetime) else read.parse_time(value)
        return moment.astimezone(tz).strftime(fmt) if moment else "—"

    def number(value: Any) -> str:
        if value is None:
            return "—"
        value = float(value)
        if value >= 100_000_000:
            return f"{value / 100_000_000:.1f}亿"
        if value >= 10_000:
            return f"{value / 10_000:.1f}万"
        return f"{value:,.0f}"

    def percent(value: Any) -> str:
        return "—" if value is None else f"{float(value) * 100:.0f}%"

    return {"local": local, "number": number, "percent": percent, "link": link, "mark": mark, "query": query}


def link(url: Any) -> str | None:
    """Only http(s) links are rendered: a post's ``url`` comes from outside and could be ``javascript:``."""
    if isinstance(url, str) and urlsplit(url.strip()).scheme in ("http", "https"):
        return url.strip()
    return None


def mark(text: Any, q: str) -> Markup:
    """``text`` escaped, with the search words of ``q`` highlighted (one pass, so marks never nest)."""
    text = str(text or "")
    words = sorted({w for w in (q or "").split() if w}, key=len, reverse=True)
    if not words:
        return escape(text)
    parts = re.split("(" + "|".join(re.escape(w) for w in words) + ")", text, flags=re.IGNORECASE)
    return Markup("").join(
        Markup("<mark>%s</mark>") % part if i % 2 else escape(part) for i, part in enumerate(parts)
    )


def query(params: Any, **changes: Any) -> str:
    """The current query string with ``changes`` applied (for pager links)."""
    values = dict(params)
    values.update({key: str(value) for key, value in changes.items()})
    return urlencode(values)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    env = request.app.state.templates
    session = request.scope.get("session", {})
    context.update(
        request=request,
        user=request.scope.get("user"),
        csrf_token=csrf_token(session),
        nav=NAV,
        flashes=session.pop("flash", []),
        path=request.url.path,
    )
    html = env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})


def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "message": message})


def _db(request: Request):
    from monitor.web.app import database

    return database(request)


def _safe_next(target: str | None) -> str:
    """Only a local path: never redirect a login to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/incidents"
    return target


# Login --------------------------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    next_url = _safe_next(request.query_params.get("next"))
    if request.method == "GET":
        if request.scope.get("user"):
            return RedirectResponse(next_url, status_code=303)
        return render(request, "login.html", next_url=next_url, error=None)
    form = await request.form()
    username = str(form.get("username") or "admin").strip()
    password = str(form.get("password") or "")
    next_url = _safe_next(str(form.get("next") or next_url))
    client = request.client.host if request.client else "?"
    throttle = request.app.state.throttle
    if throttle.blocked(client):
        return render(request, "login.html", 429, next_url=next_url, error="尝试次数过多，请几分钟后再试。")

    def check() -> bool:
        with _db(request) as db:
            return verify_login(db, username, password)

    if not await run_in_threadpool(check):
        throttle.failed(client)
        logger.warning("failed web login for %r from %s", username, client)
        return render(request, "login.html", 401, next_url=next_url, error="用户名或密码不对。")
    throttle.succeeded(client)
    request.session.clear()  # a fresh session (and CSRF token) at login: no fixation
    request.session.update(user=username, stamp=user_stamp(request.app.state.db_path, username))
    csrf_token(request.session)
    return RedirectResponse(next_url, status_code=303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# Pages --------------------------------------------------------------------------------------------------


def home(request: Request) -> Response:
    return RedirectResponse("/incidents", status_code=303)


def incidents_page(request: Request) -> Response:
    show_all = request.query_params.get("all") == "1"
    with _db(request) as db:
        rows = read.incidents(db, include_resolved=show_all)
        now = read.data_now(db)
    return render(request, "incidents.html", incidents=rows, show_all=show_all, data_now=now)


def incident_page(request: Request) -> Response:
    incident_id = request.path_params["incident_id"]
    with _db(request) as db:
        item = read.incident(db, incident_id)
        if item is None:
            raise HTTPException(404, f"没有这个事件：{incident_id}")
        chart = incident_chart(item, request.app.state.tz)
    return render(
        request, "incident.html", incident=item, chart=render_svg(chart), now=request.app.state.clock()
    )


def incident_chart(item: dict, tz: ZoneInfo):
    posts = [
        (moment, post.get("author"), post.get("author_followers") or 0)
        for post in item["posts"]
        if (moment := read.parse_time(post.get("created_at") or post.get("added_at"))) is not None
    ]
    changes = [
        (moment, change["severity"])
        for change in item["severity_changes"]
        if (moment := read.parse_time(change["at"])) is not None
    ]
    return build_timeline(posts, changes, tz)


POST_FILTERS = ("q", "feed", "sentiment", "escalation", "since", "until")


def post_filters(request: Request) -> dict[str, str]:
    out = {name: request.query_params.get(name, "").strip() for name in POST_FILTERS}
    for name in ("since", "until"):
        if out[name]:
            try:
                datetime.strptime(out[name], "%Y-%m-%d")
            except ValueError:
                raise InputError(f"{name} must be a date like 2026-11-23, got {out[name]!r}") from None
    if out["sentiment"] and out["sentiment"] not in read.SENTIMENTS:
        raise InputError(f"unknown sentiment {out['sentiment']!r}")
    if out["escalation"] and out["escalation"] not in read.ESCALATIONS:
        raise InputError(f"unknown escalation {out['escalation']!r}")
    return out


PAGE_SIZE = 50


def posts_page(request: Request) -> Response:
    """Fifty posts a page; the next page starts after the last post shown (a cursor), so page 1,000 of a big
    store is as quick as page 1. An old ``page=N`` link still works, by counting."""
    from monitor.web.app import feed_configs

    filters_ = post_filters(request)
    before = request.query_params.get("before", "")
    page = max(1, int(request.query_params.get("page", "1") or 1))
    with _db(request) as db:
        rows = read.search_posts(
            db,
            **filters_,
            limit=PAGE_SIZE + 1,
            offset=0 if before else (page - 1) * PAGE_SIZE,
            before=before,
            tz=request.app.state.tz,
        )
        feeds = read.feed_names(db, [feed.name for feed in feed_configs(request.app.state.config)])
        # Short words are looked for among the newest posts only, unless a longer word narrows the search: say so.
        short_words = [w for w in filters_["q"].split() if len(w) < 3]
        if short_words and read.fts_picks_posts(db, filters_["q"]):
            short_words = []
    following = read.next_cursor(rows, PAGE_SIZE)
    first = {name: value for name, value in filters_.items() if value}
    return render(
        request,
        "posts.html",
        posts=rows[:PAGE_SIZE],
        next_url="?" + urlencode({**first, "before": following}) if following else None,
        first_url="?" + urlencode(first) if before or page > 1 else None,
        filters=filters_,
        feeds=feeds,
        short_words=short_words,
        short_window=read.SHORT_WORD_WINDOW,
    )


def labels_page(request: Request) -> Response:
    task = request.query_params.get("task", "sentiment")
    if task not in read.TASK_LABELS:
        task = "sentiment"
    with _db(request) as db:
        queue = read.label_queue(db, task, limit=20)
        counts = read.label_counts(db)
    return render(request, "labels.html", queue=queue, task=task, counts=counts)


def models_page(request: Request) -> Response:
    with _db(request) as db:
        rows = read.models(db)
    columns = sorted({key for row in rows for key in row["flat_metrics"]})[:12]
    return render(request, "models.html", models=rows, columns=columns, registry=actions.registry_available())


def feeds_page(request: Request) -> Response:
    from monitor.web.app import feed_configs

    with _db(request) as db:
        rows = read.feeds(db, feed_configs(request.app.state.config))
        runs = _recent_runs(db)
    return render(request, "feeds.html", feeds=rows, runs=runs)


def _recent_runs(db) -> dict[str, list[dict]]:
    if not read.has_table(db, "feed_runs"):
        return {}
    out: dict[str, list[dict]] = {}
    for row in db.query("select * from feed_runs order by id desc limit 500"):
        runs = out.setdefault(row["feed"], [])
        if len(runs) < 10:
            runs.append(row)
    return out


def alerts_page(request: Request) -> Response:
    with _db(request) as db:
        context = {
            "notifications": read.notifications(db, limit=100),
            "outbox": read.outbox(db, limit=100),
            "outbox_counts": read.outbox_counts(db),
            "dead_letters": read.dead_letters(db, limit=100),
            "silences": read.silences(db, active_at=request.app.state.clock()),
        }
    return render(request, "alerts.html", **context)


# Form posts ---------------------------------------------------------------------------------------------


def context(request: Request) -> actions.Context:
    from monitor.web.app import feed_configs

    return actions.Context(
        user=request.scope.get("user") or "?",
        now=request.app.state.clock(),
        feeds=frozenset(feed.name for feed in feed_configs(request.app.state.config)),
    )


async def act(request: Request, name: str, target: str, back: str) -> Response:
    """Run action ``name`` from a form, then go back to ``back`` with a message."""
    form = await request.form()
    params = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    ctx = context(request)

    def run() -> dict:
        with _db(request) as db:
            return actions.perform(db, name, target, ctx, params)

    try:
        await run_in_threadpool(run)
    except actions.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except MonitorError as exc:
        flash(request, f"没有成功：{exc}", "error")
    else:
        flash(request, actions.ACTIONS[name].message)
    return RedirectResponse(_safe_next(str(form.get("next") or back)), status_code=303)


async def incident_action(request: Request) -> Response:
    name, incident_id = request.path_params["action"], request.path_params["incident_id"]
    if name not in actions.ACTIONS or actions.ACTIONS[name].target != "incident":
        raise HTTPException(404, f"unknown action {name!r}")
    return await act(request, name, incident_id, f"/incidents/{incident_id}")


async def label_action(request: Request) -> Response:
    return await act(request, "label", "", "/labels")


async def feed_action(request: Request) -> Response:
    name = request.path_params["action"]
    if name not in ("pause", "resume", "run"):
        raise HTTPException(404, f"unknown action {name!r}")
    return await act(request, name, request.path_params["feed"], "/feeds")


async def promote_action(request: Request) -> Response:
    return await act(request, "promote", request.path_params["version"], "/models")


async def rollback_action(request: Request) -> Response:
    return await act(request, "rollback", "", "/models")


async def expire_action(request: Request) -> Response:
    return await act(request, "expire", request.path_params["silence_id"], "/alerts")


def routes() -> list[Route]:
    return [
        Route("/", home),
        Route("/incidents", incidents_page),
        Route("/incidents/{incident_id}", incident_page),
        Route("/incidents/{incident_id}/{action}", incident_action, methods=["POST"]),
        Route("/posts", posts_page),
        Route("/labels", labels_page),
        Route("/labels", label_action, methods=["POST"]),
        Route("/models", models_page),
        Route("/models/rollback", rollback_action, methods=["POST"]),
        Route("/models/{version}/promote", promote_action, methods=["POST"]),
        Route("/feeds", feeds_page),
        Route("/feeds/{feed}/{action}", feed_action, methods=["POST"]),
        Route("/alerts", alerts_page),
        Route("/silences/{silence_id}/expire", expire_action, methods=["POST"]),
    ]


# Errors -------------------------------------------------------------------------------------------------


async def http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or ""
    if wants_json(request.scope):
        return JSONResponse({"error": detail, "status": status}, status_code=status)
    return render(request, "error.html", status, status=status, detail=detail)


async def input_error(request: Request, exc: Exception) -> Response:
    status = 404 if isinstance(exc, actions.NotFound) else 400
    if wants_json(request.scope):
        return JSONResponse({"error": str(exc), "status": status}, status_code=status)
    return render(request, "error.html", status, status=status, detail=str(exc))


EXCEPTION_HANDLERS = {HTTPException: http_error, InputError: input_error}
