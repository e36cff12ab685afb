"""Who may see and change what: session login or API bearer token on every route but ``/healthz``, and CSRF.

``AuthMiddleware`` (pure ASGI, inside Starlette's ``SessionMiddleware``) decides each request:

- ``Authorization: Bearer TOKEN`` matching the configured token: an API client; no CSRF (no cookie is used).
- a signed session cookie naming a user whose password has not changed since the login: a browser.
- otherwise: pages redirect to ``/login``, the API and ``/metrics`` answer 401.

Every state-changing request from a browser (the login form included) must carry the session's CSRF token,
in the ``X-CSRF-Token`` header or a ``csrf_token`` form field, and, when the browser sends ``Origin``, come from
this site. Forms are URL-encoded; the body is read here and handed on unchanged.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.web.store import connect

logger = logging.getLogger(__name__)

PUBLIC_PATHS = ("/healthz", "/login", "/static/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
MAX_FORM_BYTES = 64 * 1024
TOKEN_USER = "api-token"


def csrf_token(session: dict) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def user_stamp(db_path: str | Path, username: str) -> str | None:
    """The user's password-change stamp: a session made before the last change is no longer valid."""
    db = connect(db_path)
    try:
        rows = list(db.query("select updated_at from web_users where username = ?", [username]))
    finally:
        db.close()
    return rows[0]["updated_at"] if rows else None


class LoginThrottle:
    """At most ``attempts`` failed logins per client address in ``window`` seconds (in memory: it is a brake,
    not state worth keeping across restarts)."""

    def __init__(
        self, attempts: int = 10, window: float = 300.0, clock: Callable[[], float] = time.monotonic
    ):
        self.attempts, self.window, self.clock = attempts, window, clock
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, client: str) -> bool:
        failures = self.failures[client]
        while failures and self.clock() - failures[0] > self.window:
            failures.popleft()
        return len(failures) >= self.attempts

    def failed(self, client: str) -> None:
        self.failures[client].append(self.clock())

    def succeeded(self, client: str) -> None:
        self.failures.pop(client, None)


class AuthMiddleware:
    """Authenticates every request and checks CSRF on state-changing browser requests."""

    def __init__(self, app: ASGIApp, *, db_path: str | Path, api_token: str | None) -> None:
        self.app = app
        self.db_path = db_path
        self.api_token = api_token or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = dict(scope["headers"])
        session: dict = scope.get("session", {})
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        public = path == "/healthz" or path == "/login" or path.startswith("/static/")
        if authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
            if self.api_token and hmac.compare_digest(given.encode(), self.api_token.encode()):
                scope["user"], scope["auth"] = TOKEN_USER, "token"
                await self.app(scope, receive, send)
                return
            await _deny(scope, send, 401, "invalid API token")
            return
        user = session.get("user")
        if user and session.get("stamp") != user_stamp(self.db_path, user):
            session.clear()  # password changed or user removed since this session logged in
            user = None
        if user:
            scope["user"], scope["auth"] = user, "session"
        elif not public:
            await _unauthenticated(scope, send)
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if not _same_origin(headers):
            await _deny(scope, send, 403, "cross-site request refused")
            return
        body, receive = await _buffer(receive)
        if body is None:
            await _deny(scope, send, 413, "request body too large")
            return
        expected = session.get("csrf", "")
        given = headers.get(CSRF_HEADER, b"").decode("latin-1") or _form_field(headers, body, CSRF_FIELD)
        if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
            logger.warning("refused %s %s: missing or wrong CSRF token", scope["method"], path)
            await _deny(scope, send, 403, "missing or invalid CSRF token (reload the page and try again)")
            return
        await self.app(scope, receive, send)


def _same_origin(headers: dict[bytes, bytes]) -> bool:
    origin = headers.get(b"origin")
    if not origin or origin == b"null":
        return origin is None
    host = headers.get(b"host", b"").decode("latin-1")
    return urlsplit(origin.decode("latin-1")).netloc == host


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """Read the whole body (bounded) and return a ``receive`` that replays it."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _form_field(headers: dict[bytes, bytes], body: bytes, name: str) -> str:
    content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip()
    if content_type != "application/x-www-form-urlencoded":
        return ""
    values = parse_qs(body.decode("utf-8", "replace")).get(name)
    return values[0] if values else ""


def wants_json(scope: Scope) -> bool:
    path: str = scope["path"]
    accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
    return (
        path.startswith("/api/")
        or path == "/metrics"
        or ("application/json" in accept and "text/html" not in accept)
    )


async def _unauthenticated(scope: Scope, send: Send) -> None:
    if wants_json(scope):
        await _deny(scope, send, 401, "authentication required", challenge=True)
        return
    target = scope["path"] + (
        "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
    )
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", f"/login?next={quote(target, safe='')}".encode()),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _deny(scope: Scope, send: Send, status: int, message: str, *, challenge: bool = False) -> None:
    headers = [(b"cache-control", b"no-store")]
    if challenge or status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="tingfeng"'))
    if wants_json(scope):
        body = json.dumps({"error": message, "status": status}).encode()
        headers.append((b"content-type", b"application/json"))
    else:
        body = (
            f"<!doctype html><meta charset=utf-8><title>{status}</title><p>{status}: {message}</p>".encode()
        )
        headers.append((b"content-type", b"text/html; charset=utf-8"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
