"""Ops commands: ``tingfeng run``, ``tingfeng feeds ...`` and ``tingfeng schedule ...``.

``schedule run-now|pause|resume`` act on the running daemon through the database (``feed_commands``; pause
state also in ``feed_state.paused``), so they work from any shell that can read the database file.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.cli_options import config_option, load, store_options
from monitor.errors import InputError

logger = logging.getLogger(__name__)

HEARTBEAT_STALE = 30.0  # seconds without a heartbeat after which the daemon counts as not running


def _open_existing(path: Path):
    from monitor.store import open_db

    return open_db(path) if path.exists() else None


def _feed_or_fail(config, name: str):
    try:
        return config.feeds.feed(name)
    except KeyError as exc:
        raise InputError(exc.args[0]) from None


def _ago(stamp: str | None, now: datetime) -> str:
    if not stamp:
        return "-"
    seconds = (now - datetime.fromisoformat(stamp)).total_seconds()
    size = abs(seconds)
    text = f"{size:.0f}s" if size < 90 else f"{size / 60:.0f}m" if size < 5400 else f"{size / 3600:.1f}h"
    return f"in {text}" if seconds < 0 else f"{text} ago"


def _daemon_line(db, now: datetime) -> tuple[bool, str]:
    from monitor.feeds.store import daemon_status

    status = daemon_status(db) if db is not None and db["feed_daemon"].exists() else None
    if not status or status.get("stopped_at") or not status.get("heartbeat_at"):
        return False, "daemon: not running"
    age = (now - datetime.fromisoformat(status["heartbeat_at"])).total_seconds()
    if age > HEARTBEAT_STALE:
        return False, f"daemon: not running (last heartbeat {age:.0f}s ago, pid {status['pid']})"
    return True, f"daemon: running (pid {status['pid']}, heartbeat {age:.0f}s ago)"


# -- run ---------------------------------------------------------------------------------------------------


@click.command("run")
@store_options
@click.option(
    "--once", is_flag=True, help="Fetch every enabled feed once, process, and exit (1 if any failed)."
)
@click.option(
    "--for", "duration", type=click.FloatRange(min=0), default=None, help="Stop cleanly after SECONDS."
)
@click.option(
    "--store-only", is_flag=True, help="Store fetched posts without classifying or alerting (no model)."
)
@click.option("--no-web", is_flag=True, help="Do not serve the dashboard (default: serve it as [web] says).")
def run(
    db_path: Path | None,
    config_dir: Path | None,
    once: bool,
    duration: float | None,
    store_only: bool,
    no_web: bool,
) -> None:
    """Run the monitor: scheduled feeds into the pipeline, until SIGTERM or Ctrl-C.

    Logs one line per fetch. SIGHUP reloads the configuration (an invalid one is refused and the running one
    kept). With the shipped configuration it plays the built-in fridge-case demo over local HTTP, offline.
    """
    from monitor.daemon import Daemon, DaemonOptions

    logging.getLogger("monitor").setLevel(min(logging.getLogger("monitor").getEffectiveLevel(), logging.INFO))
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    daemon = Daemon(
        DaemonOptions(config_dir=config_dir, db_path=db_path, store_only=store_only, web=not (no_web or once))
    )
    if any(f.kind == "demo" and f.enabled for f in daemon.feeds.feeds):
        click.echo(
            "听风 Tingfeng: playing the built-in demo feed in accelerated time (Ctrl-C to stop)", err=True
        )
    status = daemon.run(once=once, duration=duration)
    click.echo(f"Database: {daemon.db_path}   Browse it: datasette {daemon.db_path}", err=True)
    sys.exit(status)


# -- feeds -------------------------------------------------------------------------------------------------


@click.group("feeds")
def feeds() -> None:
    """Configured feeds: list them with their health, or test one without writing anything."""


@feeds.command("list")
@store_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per feed instead of a table.")
def feeds_list(db_path: Path | None, config_dir: Path | None, as_json: bool) -> None:
    """Each feed: kind, schedule, tags, health, last success, error streak, items in its last run."""
    from monitor.feeds.health import assess
    from monitor.feeds.store import FeedState, load_states, recent_runs

    config, path = load(config_dir, db_path)
    db = _open_existing(path)
    states = load_states(db) if db is not None else {}
    now = datetime.now(UTC)
    rows = []
    for feed in config.feeds.feeds:
        state = states.get(feed.name, FeedState(feed.name))
        runs = recent_runs(db, feed.name, 200) if db is not None else []
        health = assess(state, runs, now, config.feeds.health) if feed.enabled else None
        schedule = (
            f"cron {feed.cron}" if feed.cron else f"every {config.feeds.effective(feed, 'interval'):g}s"
        )
        rows.append(
            {
                "name": feed.name,
                "kind": feed.kind,
                "enabled": feed.enabled,
                "schedule": schedule,
                "tags": feed.tags,
                "health": health.status if health else "disabled",
                "reason": health.reason if health else "",
                "last_success_at": state.last_success_at,
                "error_streak": state.error_streak or 0,
                "items_last_run": state.items_last_run,
                "paused": bool(state.paused),
            }
        )
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no feeds configured in {config.dir / 'feeds.toml'}")
        return
    click.echo(
        f"{'NAME':20} {'KIND':6} {'SCHEDULE':14} {'HEALTH':9} {'LAST SUCCESS':13} {'ERRS':>4} {'ITEMS':>5}  TAGS"
    )
    for row in rows:
        tags = ",".join(f"{k}={v}" for k, v in row["tags"].items())
        click.echo(
            f"{row['name']:20} {row['kind']:6} {row['schedule']:14} {row['health']:9} "
            f"{_ago(row['last_success_at'], now):13} {row['error_streak']:>4} {row['items_last_run'] if row['items_last_run'] is not None else '-':>5}  {tags}"
        )
        if row["health"] in ("failing", "quiet"):
            click.echo(f"{'':20} └ {row['reason']}")


@feeds.command("test")
@click.argument("name")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the posts as contract JSONL.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True, help="Posts to show.")
def feeds_test(name: str, config_dir: Path | None, as_json: bool, limit: int) -> None:
    """Fetch feed NAME once and show what would be stored; writes nothing (no database, no cursor).

    Exits 1 when the fetch fails, printing the reason (e.g. login_required for an expired Weibo cookie).
    """
    from monitor.feeds.fetch import FetchContext, fetch_pages
    from monitor.feeds.http import FetchError, HttpFetcher, build_client
    from monitor.feeds.store import FeedState

    config, _ = load(config_dir, None)
    feed = _feed_or_fail(config, name)
    if feed.kind == "push":
        raise InputError(
            "push feeds receive posts; nothing to fetch (POST to /push/NAME while the daemon runs)"
        )
    context = FetchContext(
        http=HttpFetcher(build_client(config.feeds.http), config.feeds.http),
        config=config.feeds,
        env=os.environ,
        base_dir=config.dir.parent,
    )
    demo = None
    if feed.kind == "demo":
        from monitor.feeds.demo import AcceleratedClock, DemoServer

        demo = DemoServer(feed.scenario, feed.speed)
        demo.clock = AcceleratedClock(demo.lines[-1]["clock"], feed.speed)  # everything is due
        demo.start()
        context.demo_urls[feed.name] = demo.url
    now = datetime.now(UTC)
    posts, notes = [], []
    try:
        for page in fetch_pages(feed, context, FeedState(feed.name), now):
            posts += page.posts
            notes += page.notes
            if page.not_modified:
                notes.append("304 not modified")
    except FetchError as exc:
        click.echo(f"FAILED ({exc.reason}): {exc}", err=True)
        sys.exit(1)
    finally:
        context.http.client.close()
        if demo is not None:
            demo.stop()
    for note in notes:
        click.echo(f"note: {note}", err=True)
    for post in posts[:limit]:
        if as_json:
            click.echo(json.dumps(post.to_dict(), ensure_ascii=False))
        else:
            when = post.created_at.isoformat(timespec="minutes") if post.created_at else "?"
            counts = "/".join("-" if c is None else str(c) for c in (post.reposts, post.comments, post.likes))
            click.echo(
                f"{post.source}:{post.id}  {when}  {post.author or '?'}  [{counts}]  {post.text[:60]!r}"
            )
    click.echo(
        f"{len(posts)} post(s) would be stored{f' (showing {limit})' if len(posts) > limit else ''}; nothing was written.",
        err=True,
    )


# -- schedule ----------------------------------------------------------------------------------------------


@click.group("schedule")
def schedule() -> None:
    """The running daemon's schedule: next run times, and run-now / pause / resume a feed."""


@schedule.command("list")
@store_options
def schedule_list(db_path: Path | None, config_dir: Path | None) -> None:
    """Next and last run time of each enabled feed, as the running daemon recorded them."""
    from monitor.feeds.store import FeedState, load_states

    config, path = load(config_dir, db_path)
    db = _open_existing(path)
    now = datetime.now(UTC)
    running, line = _daemon_line(db, now)
    click.echo(line)
    states = load_states(db) if db is not None else {}
    click.echo(f"{'NAME':20} {'SCHEDULE':14} {'NEXT RUN':26} {'LAST RUN':12} STATE")
    for feed in config.feeds.feeds:
        if not feed.enabled:
            continue
        state = states.get(feed.name, FeedState(feed.name))
        schedule_text = (
            f"cron {feed.cron}" if feed.cron else f"every {config.feeds.effective(feed, 'interval'):g}s"
        )
        upcoming = "-" if state.paused or not running else (state.next_run_at or "-")
        if upcoming != "-":
            upcoming = f"{upcoming[:19]} ({_ago(upcoming, now)})"
        status = "paused" if state.paused else ("failing" if (state.error_streak or 0) else "ok")
        click.echo(
            f"{feed.name:20} {schedule_text:14} {upcoming:26} {_ago(state.last_run_at, now):12} {status}"
        )


def _command(name: str, command: str, db_path: Path | None, config_dir: Path | None) -> None:
    from monitor.feeds.store import ensure_tables, request_command, set_paused
    from monitor.store import open_db

    config, path = load(config_dir, db_path)
    feed = _feed_or_fail(config, name)
    if not feed.enabled:
        raise InputError(f"feed {name!r} is disabled in feeds.toml (set enabled = true)")
    db = open_db(path)
    ensure_tables(db)
    now = datetime.now(UTC)
    with db.atomic():
        if command in ("pause", "resume"):
            set_paused(db, name, command == "pause")
        request_command(db, name, command, now)
    running, line = _daemon_line(db, now)
    if running:
        click.echo(f"{command} {name}: requested; {line.removeprefix('daemon: ')} applies it within seconds")
    elif command == "run-now":
        click.echo(
            f"{command} {name}: requested, but the daemon is not running (try `tingfeng feeds test {name}`)"
        )
    else:
        click.echo(f"{command} {name}: recorded; the daemon is not running, it applies at its next start")


@schedule.command("run-now")
@click.argument("name")
@store_options
def schedule_run_now(name: str, db_path: Path | None, config_dir: Path | None) -> None:
    """Ask the running daemon to fetch feed NAME now (once; its schedule continues)."""
    _command(name, "run-now", db_path, config_dir)


@schedule.command("pause")
@click.argument("name")
@store_options
def schedule_pause(name: str, db_path: Path | None, config_dir: Path | None) -> None:
    """Stop fetching feed NAME until resumed (kept across restarts)."""
    _command(name, "pause", db_path, config_dir)


@schedule.command("resume")
@click.argument("name")
@store_options
def schedule_resume(name: str, db_path: Path | None, config_dir: Path | None) -> None:
    """Resume fetching feed NAME on its schedule."""
    _command(name, "resume", db_path, config_dir)
