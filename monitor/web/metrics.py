"""``/metrics`` for Prometheus: figures read from the store at scrape time, plus the dashboard's own latency.

The store is the one home of every count (the daemon, the replay and the CLI all write there), so a scrape
reads it rather than keeping counters in this process. Each app has its own registry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.web import read
from monitor.web.store import connect

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class RowCounts:
    """Rows of a big table by one grouping expression, counted in full once and then only over newer rows.

    Posts and classifications are only ever added (or updated in place, keeping their rowid), so the rows past
    the highest rowid counted are the new ones: a scrape reads those instead of millions. A post that moves to
    another feed keeps being counted under its first one; a table that shrank (a new store) is counted again.
    """

    def __init__(self, table: str, key: str) -> None:
        self.table, self.key = table, key
        self.counts: dict[str, int] = {}
        self.last_rowid = 0
        self.lock = threading.Lock()

    def read(self, db) -> dict[str, int]:
        with self.lock:
            top = db.execute(f"select max(rowid) from {self.table}").fetchone()[0] or 0
            if top < self.last_rowid:
                self.counts, self.last_rowid = {}, 0
            if top > self.last_rowid:
                # In full: no rowid range, so that SQLite counts over an index on the key (dashboard migrations).
                where = "where rowid > ? and rowid <= ?" if self.last_rowid else "where +rowid <= ?"
                rows = db.execute(
                    f"select {self.key}, count(*) from {self.table} {where} group by 1",
                    [self.last_rowid, top] if self.last_rowid else [top],
                )
                for key, n in rows:
                    self.counts[key or ""] = self.counts.get(key or "", 0) + n
                self.last_rowid = top
            return dict(self.counts)


class StoreCollector(Collector):
    """Counts of posts, classifications, incidents, notifications, outbox, feeds and labels."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.posts = RowCounts("posts", "coalesce(feed, source)")
        self.classifications = RowCounts("classifications", "model_version")

    def collect(self) -> Iterator[Metric]:
        db = connect(self.db_path)
        try:
            yield from self._collect(db)
        finally:
            db.close()

    def _collect(self, db) -> Iterator[Metric]:
        posts = CounterMetricFamily("tingfeng_posts", "Posts stored.", labels=["feed"])
        for feed, n in sorted(self.posts.read(db).items()):
            posts.add_metric([feed], n)
        yield posts
        classified = CounterMetricFamily(
            "tingfeng_classifications", "Posts classified, by model version.", labels=["model_version"]
        )
        for version, n in sorted(self.classifications.read(db).items()):
            classified.add_metric([version], n)
        yield classified
        incidents = GaugeMetricFamily(
            "tingfeng_incidents", "Incidents by status and severity.", labels=["status", "severity"]
        )
        for row in db.query("select status, severity, count(*) as n from incidents group by 1, 2"):
            incidents.add_metric([row["status"] or "", row["severity"] or ""], row["n"])
        yield incidents
        sent = CounterMetricFamily(
            "tingfeng_notifications",
            "Alert notifications, by severity and status.",
            labels=["severity", "status"],
        )
        for row in db.query("select severity, status, count(*) as n from alerts group by 1, 2"):
            sent.add_metric([row["severity"] or "", row["status"] or ""], row["n"])
        yield sent
        outbox = GaugeMetricFamily(
            "tingfeng_outbox_messages", "Outbox messages by status.", labels=["status"]
        )
        for status, n in sorted(read.outbox_counts(db).items()):
            outbox.add_metric([status or ""], n)
        yield outbox
        if read.has_table(db, "alerting_dead_letters"):
            yield GaugeMetricFamily(
                "tingfeng_dead_letters",
                "Notifications that failed their last attempt.",
                value=db["alerting_dead_letters"].count,
            )
        yield from self._feeds(db)
        labels = CounterMetricFamily("tingfeng_labels", "Analyst labels, by task.", labels=["task"])
        for task, n in sorted(read.label_counts(db).items()):
            labels.add_metric([task or ""], n)
        yield labels

    def _feeds(self, db) -> Iterator[Metric]:
        streak = GaugeMetricFamily(
            "tingfeng_feed_error_streak", "Consecutive failed runs of a feed.", labels=["feed"]
        )
        paused = GaugeMetricFamily("tingfeng_feed_paused", "1 when a feed is paused.", labels=["feed"])
        success = GaugeMetricFamily(
            "tingfeng_feed_last_success_timestamp_seconds",
            "When a feed last ran without error.",
            labels=["feed"],
        )
        for row in db.query("select feed, error_streak, paused, last_success_at from feed_state"):
            streak.add_metric([row["feed"]], row["error_streak"] or 0)
            paused.add_metric([row["feed"]], int(bool(row["paused"])))
            moment = read.parse_time(row["last_success_at"])
            if moment is not None:
                success.add_metric([row["feed"]], moment.timestamp())
        yield from (streak, paused, success)
        if not read.has_table(db, "feed_runs"):
            return
        # feed_runs keeps each feed's most recent runs, so these describe the retained history, not all time.
        runs = GaugeMetricFamily(
            "tingfeng_feed_fetches_recent",
            "Fetch runs in the retained history, by outcome.",
            labels=["feed", "status"],
        )
        latency = SummaryMetricFamily(
            "tingfeng_feed_fetch_duration_seconds",
            "Fetch run durations in the retained history.",
            labels=["feed"],
        )
        for row in db.query("select feed, status, count(*) as n from feed_runs group by 1, 2"):
            runs.add_metric([row["feed"], row["status"] or ""], row["n"])
        for row in db.query(
            "select feed, count(duration) as n, coalesce(sum(duration), 0) as s from feed_runs group by 1"
        ):
            latency.add_metric([row["feed"]], count_value=row["n"], sum_value=row["s"])
        yield from (runs, latency)


def build_registry(db_path: Path) -> tuple[CollectorRegistry, Histogram]:
    """A registry holding the store's figures and this app's request-latency histogram."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StoreCollector(db_path))
    latency = Histogram(
        "tingfeng_web_request_duration_seconds",
        "Dashboard and API request latency.",
        ["method", "route", "status"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    return registry, latency


class RequestMetrics:
    """Observes each request's latency under its route template (``/incidents/{incident_id}``), never the raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or (
                "/static" if scope["path"].startswith("/static/") else "other"
            )
            _, latency = scope["app"].state.registry
            latency.labels(scope["method"], template, str(status)).observe(time.perf_counter() - started)
