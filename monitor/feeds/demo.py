"""The offline demo: a built-in replay scenario served over local HTTP in accelerated time.

``DemoServer`` plays the scenario's post observations on a clock that runs ``speed`` times faster than real
time, and answers ``GET /posts?cursor=N`` with the lines already "posted" by then. The daemon fetches it like
any JSON feed and runs the pipeline on the same simulated clock, so a new user sees fetching, classifying and
alerting live, without a network.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitor.errors import InputError
from monitor.feeds.config import DemoFeed
from monitor.feeds.fetch import FetchContext, Page
from monitor.feeds.http import FetchError
from monitor.feeds.jsonapi import decode_json
from monitor.feeds.local_server import LocalServer
from monitor.feeds.store import FeedState
from monitor.post import Post, parse_time

logger = logging.getLogger(__name__)

PAGE_SIZE = 200


class AcceleratedClock:
    """Simulated time: ``start`` at the moment of creation, running ``speed`` times faster than real time."""

    def __init__(
        self, start: datetime, speed: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(self._monotonic() - self._origin) * self.speed)

    def real_seconds(self, simulated: float) -> float:
        return simulated / self.speed


def load_lines(path: Path) -> list[dict[str, Any]]:
    """The scenario's observations in file order, each with its clock (``observed_at``, else ``created_at``)."""
    lines = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            data = json.loads(raw)
            stamp = data.get("observed_at") or data.get("created_at")
            if not stamp:
                raise InputError(
                    "scenario line without observed_at or created_at", file=str(path), line=number
                )
            lines.append({"clock": parse_time(stamp), "post": data})
    return lines


class DemoServer(LocalServer):
    """Serves one scenario's lines once their simulated time has come."""

    thread_name = "demo-server"

    def __init__(
        self, scenario: str, speed: float, *, resume_from: int = 0, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        from monitor.scenarios import scenario_path

        self.scenario = scenario
        self.lines = load_lines(Path(scenario_path(scenario)))
        if not self.lines:
            raise InputError(f"scenario {scenario!r} is empty")
        resume_from = min(max(resume_from, 0), len(self.lines) - 1)
        # A restarted demo continues where its feed's cursor stopped, a little before the next line.
        start = self.lines[resume_from]["clock"] - timedelta(minutes=1)
        self.clock = AcceleratedClock(start, speed)
        self.finished = threading.Event()
        self._listen(host, port, self._handler())

    @property
    def url(self) -> str:
        return f"{self.base_url}/posts"

    def start(self) -> None:
        super().start()
        logger.info(
            "demo: serving scenario %r (%d observations) at %s, %gx real time from %s",
            self.scenario,
            len(self.lines),
            self.url,
            self.clock.speed,
            self.clock.start.isoformat(timespec="minutes"),
        )

    def page(self, cursor: int, limit: int = PAGE_SIZE) -> dict[str, Any]:
        """Lines from ``cursor`` that are due by the simulated now, at most ``limit``."""
        now = self.clock.now()
        items = []
        index = cursor
        while index < len(self.lines) and len(items) < limit and self.lines[index]["clock"] <= now:
            items.append(self.lines[index]["post"])
            index += 1
        if index >= len(self.lines) and not self.finished.is_set():
            self.finished.set()
            logger.info("demo: scenario %r fully served", self.scenario)
        return {"now": now.isoformat(), "items": items, "next": index, "done": index >= len(self.lines)}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                logger.debug("demo: " + format, *args)

            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                raw = (query.get("cursor") or ["0"])[0]
                body = json.dumps(server.page(int(raw) if raw.isdigit() else 0), ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def fetch_demo(feed: DemoFeed, context: FetchContext, state: FeedState, now: datetime) -> Iterator[Page]:
    """Follow the demo server's pages from the stored cursor; its posts keep their own simulated times."""
    url = context.demo_urls.get(feed.name)
    if url is None:
        raise FetchError(
            "the demo server is not running (only the daemon starts it)", feed=feed.name, reason="config"
        )
    cursor = int(state.cursor or 0)
    for _ in range(context.max_pages(feed) * 10):
        response = context.http.get(url, feed=feed.name, params={"cursor": str(cursor)})
        payload, notes = decode_json(response, feed.name)
        items = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise FetchError("demo server answered without an items list", feed=feed.name, reason="bad_shape")
        posts = []
        for item in items:
            if isinstance(item, dict) and feed.source:
                item = {**item, "source": feed.source}
            posts.append(Post.from_dict(item))
        cursor = int(payload.get("next", cursor))
        yield Page(posts=posts, advance={"cursor": str(cursor)}, notes=notes)
        if len(items) < PAGE_SIZE:
            return
