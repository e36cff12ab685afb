"""One run of one feed: fetch its pages, hand each page to the pipeline, then advance its state.

A page's posts and its cursor are written in one transaction (the pipeline's ``extra_writes``), so a run
killed at any point resumes exactly: nothing lost, nothing doubled. A failing feed records why, and its
health may raise an ops alert; other feeds are not affected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlite_utils

from monitor.events import AlertEvent
from monitor.feeds.config import FeedsConfig
from monitor.feeds.fetch import FetchContext, Page, fetch_pages
from monitor.feeds.health import Health, assess, ops_event
from monitor.feeds.http import FetchError
from monitor.feeds.store import (
    RESUME_FIELDS,
    FeedState,
    ensure_tables,
    load_state,
    recent_runs,
    record_run,
    save_state,
    update_state,
)
from monitor.normalize import normalize
from monitor.post import Post
from monitor.store import iso, save_post, write_transaction

logger = logging.getLogger(__name__)


class FairLock:
    """A reentrant lock granted in request order: a feed with a long backlog cannot starve the others' writes."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._next_ticket = 0
        self._serving = 0

    def acquire(self) -> bool:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return True
            ticket = self._next_ticket
            self._next_ticket += 1
            self._cond.wait_for(lambda: self._owner is None and self._serving == ticket)
            self._owner, self._depth = me, 1
            self._serving += 1
            return True

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("cannot release a lock held by another thread")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class PostSink(Protocol):
    """Where fetched posts go: the pipeline (``monitor.pipeline.Pipeline``) or, without a model, the store."""

    db: sqlite_utils.Database

    def process(
        self,
        posts: Sequence[Post],
        now: datetime | None = None,
        tags: dict[str, str] | None = None,
        *,
        extra_writes: Callable[[sqlite_utils.Database], None] | None = None,
    ) -> Any: ...


@dataclass
class StoreOnly:
    """A sink that only stores posts (with their observations): for tools and tests that need no model."""

    db: sqlite_utils.Database

    def process(self, posts, now=None, tags=None, *, extra_writes=None):
        saved = new = 0
        with write_transaction(self.db):
            for post in posts:
                clock = post.seen_at or now
                result = save_post(self.db, post, normalize(post.text), now=clock, tags=tags)
                saved += 1
                new += int(result.is_new)
            if extra_writes is not None:
                extra_writes(self.db)
        return _Stored(saved, new)


@dataclass
class _Stored:
    saved: int
    new: int
    notifications: list = field(default_factory=list)


@dataclass
class RunResult:
    """What one run of one feed did; ``status`` is ``ok``, ``not_modified``, ``error`` or ``skipped``."""

    feed: str
    status: str
    items: int = 0
    new: int = 0
    pages: int = 0
    reason: str | None = None
    message: str | None = None
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0
    retry_after: float | None = None
    posts: list[Post] = field(default_factory=list)  # dry runs only
    health: Health | None = None
    notifications: list[Any] = field(default_factory=list)

    def log_line(self) -> str:
        if self.status == "skipped":
            return f"feed {self.feed}: skipped ({self.message})"
        if self.status == "error":
            return f"feed {self.feed}: FAILED {self.reason}: {self.message} ({self.items} items stored before it, {self.duration:.2f}s)"
        extra = f"; {'; '.join(self.notes)}" if self.notes else ""
        if self.status == "not_modified":
            return f"feed {self.feed}: not modified (304), {self.duration:.2f}s{extra}"
        return f"feed {self.feed}: ok {self.items} items ({self.new} new) in {self.pages} page(s), {self.duration:.2f}s{extra}"


class FeedRunner:
    """Runs feeds by name; safe to call from scheduler threads (fetches overlap, writes take turns)."""

    def __init__(
        self,
        config: FeedsConfig,
        context: FetchContext,
        sink: PostSink,
        *,
        clock: Callable[[], datetime],
        ops_alert: Callable[[AlertEvent], list[Any]] | None = None,
        write_lock: FairLock | None = None,
        post_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.context = context
        self.sink = sink
        self.db = sink.db
        self.clock = clock  # real time: run records, health, state
        self.post_clock = post_clock or clock  # the pipeline's time (simulated in the demo)
        self.ops_alert = ops_alert
        self.write_lock = write_lock or FairLock()
        with self.write_lock:
            ensure_tables(self.db)
        if self.context.db is None:
            self.context.db = self.db
        if self.context.db is self.db:
            self.context.db_lock = self.write_lock

    def run(self, name: str, *, dry_run: bool = False, force: bool = False) -> RunResult:
        """Fetch ``name`` once and store what it brings; ``dry_run`` stores nothing and keeps the posts."""
        feed = self.config.feed(name)
        started = self.clock()
        t0 = time.monotonic()
        with self.write_lock:
            state = load_state(self.db, name)
        if state.paused and not force and not dry_run:
            return RunResult(name, "skipped", message="paused")
        result = RunResult(name, "ok")
        tags = {"feed": name, **feed.tags}
        now = self.post_clock()
        try:
            for page in fetch_pages(feed, self.context, state, now):
                result.pages += 1
                result.notes += page.notes
                if page.not_modified:
                    result.status = "not_modified"
                    continue
                if dry_run:
                    result.posts += page.posts
                    result.items += len(page.posts)
                    continue
                self._store(page, state, tags, now, result)
        except FetchError as exc:
            result.status, result.reason, result.message = (
                "error",
                exc.reason,
                str(exc).removeprefix(f"feed {name!r}: "),
            )
            result.retry_after = exc.retry_after
        except Exception as exc:  # a bug or a store failure must not stop the other feeds
            logger.exception("feed %s: run failed unexpectedly", name)
            result.status, result.reason, result.message = "error", "internal", f"{type(exc).__name__}: {exc}"
        result.duration = time.monotonic() - t0
        if not dry_run:
            self._finish(feed, state, result, started)
        logger.info("%s", result.log_line())
        return result

    def _store(
        self, page: Page, state: FeedState, tags: dict[str, str], now: datetime, result: RunResult
    ) -> None:
        advance = {k: v for k, v in page.advance.items() if k in RESUME_FIELDS}

        def save_cursor(db: sqlite_utils.Database) -> None:
            if advance:
                update_state(db, state.feed, **advance)

        with self.write_lock:
            stored = self.sink.process(page.posts, now, tags, extra_writes=save_cursor)
        for key, value in advance.items():
            setattr(state, key, value)
        result.items += getattr(stored, "saved", len(page.posts))
        result.new += getattr(stored, "new", 0)
        result.notifications += list(getattr(stored, "notifications", []) or [])

    def _finish(self, feed: Any, state: FeedState, result: RunResult, started: datetime) -> None:
        finished = self.clock()
        with self.write_lock, write_transaction(self.db):
            # The daemon's control loop writes these while a run goes on (pause, the next run time): keep its values.
            fresh = load_state(self.db, feed.name)
            state.paused = fresh.paused
            state.next_run_at = fresh.next_run_at
            state.last_run_at = iso(started)
            if result.status == "error":
                state.error_streak = (state.error_streak or 0) + 1
                state.last_error = f"{result.reason}: {result.message}"[:500]
            else:
                state.error_streak = 0
                state.last_error = None
                state.last_success_at = iso(finished)
                state.items_last_run = result.items
            save_state(self.db, state)
            record_run(
                self.db,
                {
                    "feed": feed.name,
                    "started_at": iso(started),
                    "finished_at": iso(finished),
                    "status": result.status,
                    "reason": result.reason,
                    "message": result.message or ("; ".join(result.notes)[:500] or None),
                    "items": result.items,
                    "new": result.new,
                    "pages": result.pages,
                    "duration": round(result.duration, 4),
                },
                keep=self.config.health.history,
            )
            result.health = assess(state, recent_runs(self.db, feed.name, 200), finished, self.config.health)
            changed = self._health_changed(feed.name, result.health, finished)
        if changed and self.ops_alert is not None:
            event = ops_event(feed.name, result.health, self.post_clock(), self.config.health, feed.tags)
            try:
                result.notifications += self.ops_alert(event) or []
            except Exception:
                logger.exception("feed %s: could not raise the ops alert", feed.name)
        if changed:
            level = logging.WARNING if result.health.unhealthy else logging.INFO
            logger.log(
                level,
                "feed %s: health %s%s",
                feed.name,
                result.health.status,
                f" ({result.health.reason})" if result.health.reason else "",
            )

    def _health_changed(self, name: str, health: Health, now: datetime) -> bool:
        rows = list(self.db.query("select status from feed_health where feed = ?", [name]))
        before = rows[0]["status"] if rows else None
        was_unhealthy = before in ("failing", "quiet")
        if before == health.status and not health.unhealthy:
            return False
        if before == health.status:
            return False
        self.db["feed_health"].upsert(
            {
                "feed": name,
                "status": health.status,
                "reason": health.reason,
                "since": iso(now),
                "alerted_at": iso(now) if health.unhealthy or was_unhealthy else None,
            },
            pk="feed",
        )
        # Alert when it turns unhealthy (or from failing to quiet), and resolve when it recovers.
        return health.unhealthy or (was_unhealthy and health.status == "ok")
