"""Push feeds: other systems POST posts to ``/push/NAME`` (bearer token; one JSON object, a JSON array or JSONL).

Accepted posts are written to ``push_inbox`` before the sender gets its ``202``, so nothing acknowledged is
lost; the feed's scheduled run then drains the inbox into the pipeline like any other fetch, its cursor being
the last inbox sequence number stored.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import sqlite_utils

from monitor.errors import InputError
from monitor.feeds.config import PushFeed
from monitor.feeds.fetch import FetchContext, Page
from monitor.feeds.http import FetchError
from monitor.feeds.local_server import LocalServer
from monitor.feeds.store import FeedState
from monitor.post import Post
from monitor.store import iso

logger = logging.getLogger(__name__)

DRAIN_BATCH = 1000


def fetch_push(feed: PushFeed, context: FetchContext, state: FeedState, now: datetime) -> Iterator[Page]:
    if context.db is None:
        raise FetchError("push feeds need the database", feed=feed.name, reason="config")
    last = int(state.since_id or 0)
    with context.db_lock, context.db.atomic():
        # Rows already stored by earlier runs are done with.
        context.db.execute("delete from push_inbox where feed = ? and seq <= ?", [feed.name, last])
    while True:
        with context.db_lock:
            rows = list(
                context.db.query(
                    "select seq, post from push_inbox where feed = ? and seq > ? order by seq limit ?",
                    [feed.name, last, DRAIN_BATCH],
                )
            )
        if not rows:
            return
        posts = [Post.from_dict(json.loads(row["post"])) for row in rows]
        last = rows[-1]["seq"]
        yield Page(posts=posts, advance={"since_id": str(last)})
        if len(rows) < DRAIN_BATCH:
            return


def parse_body(body: bytes, default_source: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Valid posts (as contract dicts) and rejections ``{"index", "error"}`` from a pushed body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [{"index": None, "error": f"body is not UTF-8 (byte {exc.start})"}]
    stripped = text.strip()
    items: list[Any]
    try:
        decoded = json.loads(stripped)
        items = decoded if isinstance(decoded, list) else [decoded]
    except (ValueError, RecursionError):
        items = []
        for line in stripped.splitlines():
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except (ValueError, RecursionError) as exc:
                items.append(InputError(f"not valid JSON: {exc}"))
    accepted, rejected = [], []
    for index, item in enumerate(items):
        try:
            if isinstance(item, InputError):
                raise item
            if isinstance(item, dict):
                item.setdefault("source", default_source)
            accepted.append(Post.from_dict(item).to_dict())
        except InputError as exc:
            rejected.append({"index": index, "error": str(exc)})
    return accepted, rejected


class PushServer(LocalServer):
    """A small threaded HTTP server in front of ``push_inbox``; tokens resolved once at start."""

    thread_name = "push-server"

    def __init__(
        self,
        db: sqlite_utils.Database,
        feeds: list[PushFeed],
        context: FetchContext,
        *,
        host: str,
        port: int,
        max_bytes: int,
    ):
        self.db = db
        self.max_bytes = max_bytes
        self.listens_on = (host, port, max_bytes)
        self.reconfigure(feeds, context)
        self._lock = threading.Lock()
        self._listen(host, port, self._handler())

    def reconfigure(self, feeds: list[PushFeed], context: FetchContext) -> None:
        """Serve ``feeds`` from now on, with their tokens read again (a rotated token takes effect at once)."""
        tokens: dict[str, str] = {}
        for feed in feeds:
            token = context.secret(feed.token_env, feed.token_file)
            if token:
                tokens[feed.name] = token
            else:
                logger.warning(
                    "push feed %s: no token in %s; it refuses every request",
                    feed.name,
                    feed.token_env or feed.token_file,
                )
        # Requests read these two attributes once each: swapping whole dicts keeps every request consistent.
        self.tokens = tokens
        self.feeds = {feed.name: feed for feed in feeds}

    @property
    def url(self) -> str:
        return self.base_url

    def accept(self, feed: str, posts: list[dict[str, Any]]) -> None:
        stamp = iso(datetime.now(UTC))
        with self._lock, self.db.atomic():
            self.db["push_inbox"].insert_all(
                {"feed": feed, "received_at": stamp, "post": json.dumps(post, ensure_ascii=False)}
                for post in posts
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                logger.debug("push: " + format, *args)

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                parts = self.path.split("?")[0].strip("/").split("/")
                # Read once: a reload (reconfigure) may swap server.feeds while the body is still arriving.
                feed = server.feeds.get(parts[1]) if len(parts) == 2 and parts[0] == "push" else None
                if feed is None:
                    return self._reply(404, {"error": "unknown push feed"})
                name = parts[1]
                token = server.tokens.get(name)
                given = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                if not token or not hmac.compare_digest(given.encode(), token.encode()):
                    return self._reply(401, {"error": "missing or wrong bearer token"})
                length = self.headers.get("Content-Length", "")
                if not length.isdigit():
                    return self._reply(411, {"error": "Content-Length required"})
                if int(length) > server.max_bytes:
                    return self._reply(413, {"error": f"body over {server.max_bytes} bytes"})
                body = self.rfile.read(int(length))
                accepted, rejected = parse_body(body, feed.source or name)
                if not accepted:
                    return self._reply(400, {"accepted": 0, "rejected": rejected})
                server.accept(name, accepted)
                logger.info(
                    "push feed %s: accepted %d post(s), rejected %d", name, len(accepted), len(rejected)
                )
                return self._reply(202, {"accepted": len(accepted), "rejected": rejected})

        return Handler
