"""The Starlette application: routes, middleware, templates; ``serve`` runs it with uvicorn.

Middleware, outermost first: request metrics, the signed session cookie (secret kept in the database), then
``AuthMiddleware`` (login or token, CSRF). Each request opens its own SQLite connection; the store is in WAL
mode, so pages read while the daemon writes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.config import Config
from monitor.store import open_db
from monitor.web import api, pages
from monitor.web.auth import AuthMiddleware, LoginThrottle
from monitor.web.metrics import RequestMetrics, build_registry
from monitor.web.store import connect, ensure_initial_password, migrations, session_secret

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


def create_app(
    config: Config,
    db_path: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The dashboard and API over the store at ``db_path``; secrets come from ``environ`` (default: os.environ)."""
    environ = os.environ if environ is None else environ
    web = config.monitor.web
    db = open_db(db_path)
    try:
        prepare_db(db)
        ensure_initial_password(db, environ.get(web.password_env))
        secret = session_secret(db)
    finally:
        db.close()
    routes = [
        Route("/healthz", api.healthz),
        Route("/metrics", api.metrics),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        *pages.routes(),
        *api.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestMetrics),
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie="tingfeng_session",
                max_age=int(web.session_hours * 3600),
                same_site="lax",
                https_only=web.secure_cookie,
            ),
            Middleware(AuthMiddleware, db_path=db_path, api_token=environ.get(web.token_env)),
        ],
        exception_handlers=pages.EXCEPTION_HANDLERS,
    )
    app.state.config = config
    app.state.db_path = Path(db_path)
    app.state.tz = ZoneInfo(config.monitor.timezone)
    app.state.clock = clock or (lambda: datetime.now(UTC))
    app.state.templates = _templates(app.state.tz)
    app.state.throttle = LoginThrottle()
    app.state.registry = build_registry(app.state.db_path)
    app.state.started = time.time()
    return app


def prepare_db(db: sqlite_utils.Database) -> None:
    """Apply the web's migrations (``open_db`` applies every registered set; this keeps the web whole alone)."""
    migrations.apply(db)


@contextmanager
def database(request: Request) -> Iterator[sqlite_utils.Database]:
    """A connection for this request, closed afterwards."""
    db = connect(request.app.state.db_path)
    try:
        yield db
    finally:
        db.close()


def _templates(tz: ZoneInfo) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pages.filters(tz))
    env.globals.update(pages.GLOBALS)
    return env


def feed_configs(config: Config) -> list[Any]:
    feeds = getattr(config, "feeds", None)
    return list(getattr(feeds, "feeds", []) or [])


def serve(config: Config, db_path: str | Path, *, host: str | None = None, port: int | None = None) -> None:
    """Run the dashboard in the foreground (``tingfeng web``) until interrupted."""
    import uvicorn

    app = create_app(config, db_path)
    web = config.monitor.web
    uvicorn.run(app, host=host or web.host, port=port or web.port, log_level="warning", proxy_headers=False)


class BackgroundServer:
    """The dashboard on a uvicorn server in a thread (for ``tingfeng run`` and browser tests)."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, name="tingfeng-web", daemon=True)

    def start(self, timeout: float = 10.0) -> str:
        """Start serving; returns the base URL once the socket listens."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
