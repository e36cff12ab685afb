"""``tingfeng run``: the long-running monitor. Scheduled feeds feed the pipeline; ops steer it through the database.

One APScheduler 3.x ``BackgroundScheduler`` holds a job per enabled feed (``max_instances=1``, coalescing,
misfire grace time), a control job that applies ``tingfeng schedule`` commands and records next run times,
and a tick job that lets the pipeline's timers run and delivers due notifications. Fetches overlap; writes
take turns under one lock. SIGHUP reloads the configuration (an invalid one keeps the running one); SIGTERM
lets in-flight runs finish their current page and exits cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.config import Config, load_config
from monitor.errors import ConfigError, MonitorError
from monitor.feeds.config import FeedsConfig
from monitor.feeds.fetch import FetchContext
from monitor.feeds.http import HttpFetcher, build_client
from monitor.feeds.runner import FairLock, FeedRunner, RunResult, StoreOnly
from monitor.feeds.schedule import Pace, next_interval, pace_for, trigger_for
from monitor.feeds.store import (
    finish_command,
    heartbeat,
    load_state,
    pending_commands,
    set_paused,
    update_state,
)
from monitor.store import iso, open_db, write_transaction

logger = logging.getLogger(__name__)

CONTROL_EVERY = 2.0  # seconds between looks at feed_commands
TICK_EVERY = 60.0  # real seconds between pipeline ticks (shorter in the accelerated demo)
WORKERS = 8
SHUTDOWN_GRACE = 60.0  # seconds SIGTERM waits for in-flight fetches


@dataclass
class DaemonOptions:
    """How ``tingfeng run`` was asked to behave."""

    config_dir: Path | None = None
    db_path: Path | None = None
    store_only: bool = False  # no model: store posts only (tools, tests)
    workers: int = WORKERS
    on_notification: Callable[[Any], None] | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    web: bool = False  # serve the dashboard too (`tingfeng run` does, when [web] enabled is true)


class Daemon:
    """Owns the scheduler, the runner, the pipeline and the local servers; ``run`` blocks until told to stop."""

    def __init__(self, options: DaemonOptions) -> None:
        self.options = options
        self.stop_requested = threading.Event()
        self.reload_requested = threading.Event()
        self.write_lock = FairLock()
        self.paces: dict[str, Pace] = {}
        self.demo = None
        self.push = None
        self.web = None
        self.scheduler: BackgroundScheduler | None = None
        self.config: Config = load_config(options.config_dir)
        self.db_path = Path(options.db_path or self.config.resolve(self.config.monitor.database))
        self.sink = self._open_sink(self.config)
        self.db = self.sink.db
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.context = FetchContext(
            http=self._http(self.feeds),
            config=self.feeds,
            env=options.env,
            db=self.db,
            base_dir=self.config.dir.parent,
            should_stop=self.stop_requested.is_set,
        )
        self.runner = FeedRunner(
            self.feeds,
            self.context,
            self.sink,
            clock=lambda: datetime.now(UTC),
            post_clock=lambda: self.clock(),
            ops_alert=self._ops_alert,
            write_lock=self.write_lock,
        )
        self.missed: list[str] = []
        self._inflight = 0
        self._delivery_client: httpx.Client | None = None
        self._inflight_done = threading.Condition()
        self._next_written: dict[str, str | None] = {}

    @property
    def feeds(self) -> FeedsConfig:
        return self.config.feeds

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the local servers, the dashboard and the scheduler with every enabled feed's job."""
        self._start_servers()
        self._start_web()
        defaults = self.feeds.defaults
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(self.options.workers)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(defaults.misfire_grace_time),
            },
        )
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        for feed in self.feeds.feeds:
            if feed.enabled:
                self._add_feed_job(feed)
        self.scheduler.add_job(
            self._control, "interval", seconds=CONTROL_EVERY, id="control", max_instances=1
        )
        self.scheduler.add_job(self._tick, "interval", seconds=self._tick_every(), id="tick", max_instances=1)
        self.scheduler.start()
        with self.write_lock:
            heartbeat(
                self.db,
                os.getpid(),
                datetime.now(UTC),
                started_at=iso(datetime.now(UTC)),
                config_dir=str(self.config.dir),
                stopped_at=None,
            )
        enabled = [f.name for f in self.feeds.feeds if f.enabled]
        logger.info(
            "daemon: %d feed(s) scheduled (%s); database %s",
            len(enabled),
            ", ".join(enabled) or "none",
            self.db_path,
        )

    def run(self, *, once: bool = False, duration: float | None = None, install_signals: bool = True) -> int:
        """Run until SIGTERM/SIGINT (or ``duration`` seconds); ``once`` fetches every feed once and returns."""
        if once:
            return self.run_once()
        if install_signals:
            self._install_signals()
        self.start()
        deadline = time.monotonic() + duration if duration is not None else None
        try:
            while not self.stop_requested.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                timeout = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
                if self.reload_requested.wait(timeout):
                    self.reload_requested.clear()
                    self.reload()
        finally:
            self.shutdown()
        return 0

    def run_once(self) -> int:
        """Fetch every enabled feed once (in order), tick and deliver; exit status 1 if any feed failed."""
        self._start_servers()
        failed = 0
        try:
            for feed in self.feeds.feeds:
                if feed.enabled:
                    result = self.runner.run(feed.name)
                    failed += result.status == "error"
            self._tick()
        finally:
            self.shutdown()
        return 1 if failed else 0

    def shutdown(self) -> None:
        """Let running jobs finish (each stops after its current page), then close everything."""
        self.stop_requested.set()
        if self.scheduler is not None and self.scheduler.running:
            logger.info("daemon: stopping; waiting for in-flight fetches to store their current page")
            # Pause, drain our own runs, then stop: shutdown(wait=True) would deadlock with a job that is
            # rescheduling itself, since it holds the executors' lock while the scheduler holds the jobs'.
            self.scheduler.pause()
            with self._inflight_done:
                if not self._inflight_done.wait_for(lambda: self._inflight == 0, timeout=SHUTDOWN_GRACE):
                    logger.warning(
                        "daemon: %d fetch(es) still running after %gs; exiting anyway",
                        self._inflight,
                        SHUTDOWN_GRACE,
                    )
            self.scheduler.shutdown(wait=False)
        for server in (self.demo, self.push, self.web):
            if server is not None:
                server.stop()
        self.demo = self.push = self.web = None
        if self.context.http is not None:
            self.context.http.client.close()
        if self._delivery_client is not None:
            self._delivery_client.close()
        with self.write_lock:
            heartbeat(self.db, os.getpid(), datetime.now(UTC), stopped_at=iso(datetime.now(UTC)))
        logger.info("daemon: stopped cleanly")

    def reload(self) -> bool:
        """Re-read the configuration; on any error keep the running one and say why."""
        try:
            config = load_config(self.options.config_dir)
        except ConfigError as exc:
            logger.error("daemon: reload failed, keeping the running configuration: %s", exc)
            return False
        old = self.feeds
        new = config.feeds
        try:
            sink = self._open_sink(config) if not self.options.store_only else self.sink
        except MonitorError as exc:
            logger.error("daemon: reload failed, keeping the running configuration: %s", exc)
            return False
        with self.write_lock:
            self.config = config
            self.sink = sink
            self.runner.sink = sink
            self.runner.config = new
            self.context.config = new
            if new.http != old.http:
                previous = self.context.http
                self.context.http = self._http(new)
                if previous is not None:
                    previous.client.close()
        old_by_name = {f.name: f for f in old.feeds if f.enabled}
        new_by_name = {f.name: f for f in new.feeds if f.enabled}
        for name in old_by_name.keys() - new_by_name.keys():
            self.scheduler.remove_job(f"feed:{name}")
            self.paces.pop(name, None)
        for name, feed in new_by_name.items():
            before = old_by_name.get(name)
            if before is None:
                self._add_feed_job(feed)
            elif before != feed or old.defaults != new.defaults:
                self.scheduler.remove_job(f"feed:{name}")
                self._add_feed_job(feed)
            if feed.kind == "demo" and before != feed:
                logger.warning(
                    "daemon: a new or changed demo feed (%s) takes effect at the next restart", name
                )
        self._reload_push(new)
        logger.info(
            "daemon: configuration reloaded (%d feeds: +%d -%d)",
            len(new_by_name),
            len(new_by_name.keys() - old_by_name.keys()),
            len(old_by_name.keys() - new_by_name.keys()),
        )
        return True

    # -- jobs -----------------------------------------------------------------------------------------------

    def run_feed(self, name: str) -> RunResult | None:
        """The scheduled job of one feed: run it, then adapt its pace."""
        with self._inflight_done:
            if self.stop_requested.is_set():
                return None
            self._inflight += 1
        try:
            result = self.runner.run(name)
            if not self.stop_requested.is_set():
                self._adapt(name, result)
            return result
        finally:
            with self._inflight_done:
                self._inflight -= 1
                self._inflight_done.notify_all()

    def _adapt(self, name: str, result: RunResult) -> None:
        pace = self.paces.get(name)
        if pace is None or result.status == "skipped":
            return
        before = pace.get()
        after = next_interval(
            pace,
            status=result.status,
            new=result.new,
            incident_open=self._incident_open(name),
            retry_after=result.retry_after,
        )
        if after != before:
            pace.set(after)
            logger.info("feed %s: polling every %gs (was %gs)", name, after, before)
            job = self.scheduler.get_job(f"feed:{name}") if self.scheduler else None
            if job is not None and job.next_run_time is not None:
                nxt = datetime.now(UTC) + timedelta(seconds=after)
                self.scheduler.modify_job(job.id, next_run_time=nxt)

    def _control(self) -> None:
        """Apply ops commands from ``feed_commands``, record next run times, and beat the heart."""
        now = datetime.now(UTC)
        with self.write_lock:
            commands = pending_commands(self.db)
        for command in commands:
            outcome = self._apply(command["feed"], command["command"], now)
            with self.write_lock:
                finish_command(self.db, command["id"], now, outcome)
            logger.info("daemon: %s %s: %s", command["command"], command["feed"], outcome)
        updates = {}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("feed:"):
                stamp = iso(job.next_run_time) if job.next_run_time else None
                if self._next_written.get(job.name) != stamp:
                    updates[job.name] = stamp
        with self.write_lock, write_transaction(self.db):
            for name, stamp in updates.items():
                update_state(self.db, name, next_run_at=stamp)
            heartbeat(self.db, os.getpid(), now)
        self._next_written.update(updates)

    def _apply(self, name: str, command: str, now: datetime) -> str:
        job = self.scheduler.get_job(f"feed:{name}")
        if job is None:
            return "no such enabled feed in the running configuration"
        if command == "pause":
            with self.write_lock:
                set_paused(self.db, name, True)
            self.scheduler.pause_job(job.id)
            return "paused"
        if command == "resume":
            with self.write_lock:
                set_paused(self.db, name, False)
            self.scheduler.resume_job(job.id)
            return "resumed"
        if command == "run-now":
            with self.write_lock:
                paused = load_state(self.db, name).paused
            if paused:
                return "paused: resume it first"
            self.scheduler.modify_job(job.id, next_run_time=now)
            return "scheduled now"
        return f"unknown command {command!r}"

    def _tick(self) -> None:
        """Time-driven pipeline work: incident lifecycle, alert timers, delivery of due notifications."""
        now = self.clock()
        for step in ("tick", "deliver"):
            method = getattr(self.sink, step, None)
            if method is None:
                continue
            kwargs = {"http": self._delivery_http()} if step == "deliver" else {}
            try:
                with self.write_lock:
                    method(now, **kwargs)
            except Exception:
                logger.exception("daemon: pipeline %s failed", step)

    def _delivery_http(self) -> httpx.Client:
        if self._delivery_client is None:
            self._delivery_client = httpx.Client(
                headers={"User-Agent": self.feeds.http.user_agent}, timeout=30
            )
        return self._delivery_client

    # -- helpers --------------------------------------------------------------------------------------------

    def _add_feed_job(self, feed) -> None:
        pace = pace_for(self.feeds, feed)
        self.paces[feed.name] = pace
        job = self.scheduler.add_job(
            self.run_feed,
            trigger_for(self.feeds, feed, pace),
            args=[feed.name],
            id=f"feed:{feed.name}",
            name=feed.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(self.feeds.effective(feed, "misfire_grace_time")),
        )
        with self.write_lock:
            paused = load_state(self.db, feed.name).paused
        if paused:
            job.pause()

    def _start_servers(self) -> None:
        from monitor.feeds.config import DemoFeed

        demos = [f for f in self.feeds.feeds if isinstance(f, DemoFeed) and f.enabled]
        if demos and self.demo is None:
            from monitor.feeds.demo import DemoServer

            feed = demos[0]
            with self.write_lock:
                cursor = load_state(self.db, feed.name).cursor
            self.demo = DemoServer(feed.scenario, feed.speed, resume_from=int(cursor or 0))
            self.demo.start()
            self.context.demo_urls[feed.name] = self.demo.url
            self.clock = self.demo.clock.now
        self._start_push()

    def _start_push(self) -> None:
        from monitor.feeds.config import PushFeed

        pushes = [f for f in self.feeds.feeds if isinstance(f, PushFeed) and f.enabled]
        if pushes and self.push is None:
            from monitor.feeds.push import PushServer

            settings = self.feeds.push
            self.push = PushServer(
                open_db(self.db_path),
                pushes,
                self.context,
                host=settings.host,
                port=settings.port,
                max_bytes=settings.max_bytes,
            )
            self.push.start()
            logger.info("daemon: push endpoint at %s/push/NAME", self.push.url)

    def _reload_push(self, feeds: FeedsConfig) -> None:
        """Apply a reloaded config to the push endpoint: new tokens and feeds at once, a new address by restart."""
        from monitor.feeds.config import PushFeed

        pushes = [f for f in feeds.feeds if isinstance(f, PushFeed) and f.enabled]
        settings = feeds.push
        if self.push is not None and (
            not pushes or self.push.listens_on != (settings.host, settings.port, settings.max_bytes)
        ):
            self.push.stop()
            self.push = None
            logger.info("daemon: push endpoint stopped")
        if self.push is not None:
            self.push.reconfigure(pushes, self.context)
        elif pushes:
            try:
                self._start_push()  # a demo feed added by the reload still waits for a restart, as logged
            except OSError as exc:  # the new address is taken: keep running, without the endpoint
                logger.error(
                    "daemon: push endpoint could not start on %s:%s (%s); push feeds are refused until a reload",
                    settings.host,
                    settings.port,
                    exc,
                )

    def _start_web(self) -> None:
        settings = self.config.monitor.web
        if not (self.options.web and settings.enabled) or self.web is not None:
            return
        from monitor.web.app import BackgroundServer, create_app

        server = BackgroundServer(create_app(self.config, self.db_path), settings.host, settings.port)
        try:
            url = server.start()
        except (OSError, RuntimeError) as exc:
            # The monitor matters more than its dashboard: keep fetching and alerting, say what is wrong.
            logger.error("daemon: dashboard not started on %s:%s: %s", settings.host, settings.port, exc)
            return
        self.web = server
        logger.info("daemon: dashboard at %s", url)
        self._first_login(url)

    def _first_login(self, url: str) -> None:
        """With no dashboard user yet (a first `make run`), make one and tell the person at the terminal."""
        import secrets

        from monitor.web.store import DEFAULT_USER, has_users, set_password

        with self.write_lock:
            if has_users(self.db) or self.options.env.get(self.config.monitor.web.password_env):
                return
            password = secrets.token_urlsafe(9)
            set_password(self.db, DEFAULT_USER, password)
        # Printed for the person who started the monitor, never logged: logs are shipped and kept.
        print(
            f"听风 dashboard: {url}  user {DEFAULT_USER}, first password {password}"
            f"  (change it: tingfeng web passwd {DEFAULT_USER})",
            file=sys.stderr,
            flush=True,
        )

    def _open_sink(self, config: Config):
        if self.options.store_only:
            return StoreOnly(open_db(self.db_path))
        from monitor.pipeline import Pipeline

        pipe = Pipeline.open(
            config.dir, self.db_path, on_notification=self.options.on_notification or _log_notification
        )
        # Waits for the model: a broken one stops the start, not each feed run.
        logger.info("classifier %s", pipe.classifier.version)
        return pipe

    def _http(self, feeds: FeedsConfig) -> HttpFetcher:
        return HttpFetcher(build_client(feeds.http), feeds.http)

    def _tick_every(self) -> float:
        if self.demo is not None:
            return max(1.0, TICK_EVERY / self.demo.clock.speed)
        return TICK_EVERY

    def _ops_alert(self, event) -> list[Any]:
        alerter = getattr(self.sink, "alerter", None)
        if alerter is None:
            logger.warning("ops alert (no alerter configured): %s: %s", event.title, event.summary)
            return []
        with self.write_lock:
            notifications = alerter.submit([event], event.at)
        for notification in notifications:
            (self.options.on_notification or _log_notification)(notification)
        return notifications

    def _incident_open(self, feed: str) -> bool:
        with self.write_lock:
            if not self.db["incidents"].exists():
                return False
            rows = list(
                self.db.query(
                    "select 1 from incidents where feed = ? and status in ('new', 'growing') limit 1", [feed]
                )
            )
        return bool(rows)

    def _on_missed(self, event) -> None:
        self.missed.append(event.job_id)
        logger.warning(
            "daemon: job %s %s",
            event.job_id,
            "missed its run time" if event.code == EVENT_JOB_MISSED else "still running; skipped a run",
        )

    def _install_signals(self) -> None:
        def stop(signum, _frame):
            logger.info("daemon: %s received", signal.Signals(signum).name)
            self.stop_requested.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())


def _log_notification(notification: Any) -> None:
    when = getattr(notification, "fired_at", None)
    stamp = when.isoformat(timespec="minutes") if isinstance(when, datetime) else ""
    status = getattr(notification, "status", "")
    severity = getattr(notification, "severity", "")
    title = getattr(notification, "title", str(notification))
    logger.warning(
        "ALERT [%s] %s %s: %s",
        stamp,
        severity.upper() if status == "firing" else "RESOLVED",
        getattr(notification, "receiver", ""),
        title,
    )
