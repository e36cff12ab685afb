"""Injected faults: a database locked by another process, a nearly full disk, a receiver down for an hour,
a feed flapping between 200 and 500, clock jumps (and clocks in other offsets), an invalid config on SIGHUP.

Each fault is one trial: inject it, then check that nothing was lost or doubled and that the error, if any, was
reported clearly (one line, no traceback).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx

from benchmarks.fault_suite.servers import Hit, LocalServer, Reply, WebhookReceiver
from benchmarks.fault_suite.tally import Tally
from benchmarks.fault_suite.workspace import (
    SECRETS,
    WEBHOOK_SECRET,
    environment,
    expected_posts,
    file_feed,
    integrity,
    monitor_command,
    rows,
    run,
    scalar,
    scenario_lines,
    shifted,
    spawn,
    tail,
    wait_until,
    write_config,
    write_lines,
)

logger = logging.getLogger(__name__)

LINES = 400  # posts of the fridge case per trial
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("create table if not exists fault_lock (x)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def run_family(work: Path, *, seed: int, long_lock: bool = True, only: set[str] | None = None) -> Tally:
    """Every fault once (``only``: the named ones); ``long_lock`` adds a lock held past the busy timeout."""
    tally = Tally("injected faults")
    os.environ.update(SECRETS)  # the in-process pipelines sign webhooks with the suite's secret
    data = scenario_lines("fridge", LINES)
    source = write_lines(work / "input.jsonl", data)
    config = write_config(work / "config", db=work / "unused.db")
    for part in ("locked", "disk", "down", "flap", "clock", "offset", "reload", "future"):
        (work / part).mkdir(parents=True, exist_ok=True)
    reference: list[str] | None = []
    if only is None or only & {"database locked", "disk nearly full"}:
        reference = _replay(source, work / "ref.db", work / "ref.jsonl", config, work / "ref.log")
        if not tally.check(reference is not None, f"reference replay failed: {tail(work / 'ref.log')}"):
            return tally
    for name, trial in (
        ("database locked", lambda: _locked(work / "locked", source, config, reference, tally, long_lock)),
        ("disk nearly full", lambda: _disk_full(work / "disk", source, config, reference, tally)),
        ("receiver down for an hour", lambda: _receiver_down(work / "down", data, tally)),
        ("feed flapping 200/500", lambda: _flapping(work / "flap", tally)),
        ("clock jumps", lambda: _clock_jumps(work / "clock", data, tally)),
        ("times in +08:00 are delivered when due", lambda: _offsets(work / "offset", data, tally)),
        ("invalid config on SIGHUP", lambda: _reload(work / "reload", data, tally)),
        ("a post dated 2099", lambda: _future_post(work / "future", data, config, tally)),
    ):
        if only is not None and name not in only:
            continue
        started = time.monotonic()
        try:
            trial()
        except Exception as exc:
            logger.exception("fault %s", name)
            tally.check(False, f"{name}: the trial raised {type(exc).__name__}: {exc}")
        tally.figures[f"{name}: time"] = f"{time.monotonic() - started:.1f}s"
    return tally


def _replay(source: Path, db: Path, alerts: Path, config: Path, log: Path, **kwargs) -> list[str] | None:
    args = monitor_command(
        "replay", str(source), "--db", str(db), "--alerts", str(alerts), "--config", str(config)
    )
    if run(args, log, **kwargs) != 0:
        return None
    return _lines(alerts)


def _lines(alerts: Path) -> list[str]:
    out = []
    for line in alerts.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        data.pop("alert_id")
        out.append(json.dumps(data, sort_keys=True, ensure_ascii=False))
    return out


def _compare(
    tally: Tally, got: list[str] | None, reference: list[str], db: Path, source: Path, what: str
) -> None:
    from collections import Counter

    if got is None:
        tally.check(False, f"{what}: the replay did not finish")
        got = []
    tally.alerts_lost += sum((Counter(reference) - Counter(got)).values())
    tally.alerts_doubled += sum((Counter(got) - Counter(reference)).values())
    keys, _ = expected_posts(source.read_text(encoding="utf-8").splitlines())
    tally.posts_lost += len(keys - set(rows(db, "select source, id from posts")))
    tally.check(integrity(db) == "ok", f"{what}: integrity {integrity(db)}")


def _clear_error(log: Path) -> bool:
    text = log.read_text(encoding="utf-8", errors="replace")
    return "Traceback" not in text and any(line.startswith("error") for line in text.splitlines())


# -- database locked ----------------------------------------------------------------------------------------


def _hold_lock(db: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def _locked(
    work: Path, source: Path, config: Path, reference: list[str], tally: Tally, long_lock: bool
) -> None:
    from monitor.store import open_db

    db = work / "t.db"
    open_db(db).close()
    # A writer holds BEGIN IMMEDIATE for 5 s: the replay waits (busy timeout) and then finishes normally.
    holder = _hold_lock(db, 5)
    tally.trials += 1
    tally.faults += 1
    got = _replay(source, db, work / "t.jsonl", config, work / "t.log")
    holder.wait()
    tally.check(
        got is not None,
        f"database locked for 5 s: the replay failed instead of waiting for the lock: {tail(work / 't.log', 1)}",
    )
    if got is None:  # what an operator would do: run it again once the lock is gone
        got = _replay(source, db, work / "t.jsonl", config, work / "t.log")
    _compare(tally, got, reference, db, source, "database locked for 5 s")
    # Readers are not blocked by a writer (WAL): the dashboard answers while the lock is held.
    holder = _hold_lock(db, 3)
    tally.faults += 1
    status = _dashboard_status(config, db)
    holder.wait()
    tally.check(
        status == 200, f"database locked: the incidents page answered {status} while a writer held the lock"
    )
    if long_lock:
        # Longer than the busy timeout (30 s): the replay must fail with one clear line, and a rerun finish.
        db2 = work / "t2.db"
        open_db(db2).close()
        holder = _hold_lock(db2, 40)
        tally.trials += 1
        tally.faults += 1
        got = _replay(source, db2, work / "t2.jsonl", config, work / "t2.log")
        holder.wait()
        tally.check(got is None, "database locked for 40 s: the replay claimed success")
        tally.check(
            _clear_error(work / "t2.log"),
            f"database locked past the busy timeout: no clear one-line error ({tail(work / 't2.log', 2)})",
        )
        got = _replay(source, db2, work / "t2.jsonl", config, work / "t2.log")
        _compare(tally, got, reference, db2, source, "database locked for 40 s, then rerun")


def _dashboard_status(config_dir: Path, db: Path) -> int:
    import warnings

    warnings.filterwarnings("ignore", module="starlette.testclient")
    from starlette.testclient import TestClient

    from monitor.config import load_config
    from monitor.web.app import create_app

    env = {"TINGFENG_API_TOKEN": "lock-test-token"}
    app = create_app(load_config(config_dir), db, environ=env)
    with TestClient(app) as client:
        return client.get("/incidents", headers={"Authorization": "Bearer lock-test-token"}).status_code


# -- disk nearly full ----------------------------------------------------------------------------------------


@contextmanager
def _small_disk(directory: Path, size: int) -> Iterator[Callable[[int], None] | None]:
    """A tmpfs of ``size`` bytes mounted on ``directory`` (root only); yields a resize function, or None when
    mounting is not allowed here (the caller then limits file sizes with RLIMIT_FSIZE instead)."""
    directory.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)], capture_output=True
        ).returncode
        == 0
        if shutil.which("mount")
        else False
    )

    def resize(new_size: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={new_size}", str(directory)], check=True)

    try:
        yield resize if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", str(directory)], check=False)


def _disk_full(work: Path, source: Path, config: Path, reference: list[str], tally: Tally) -> None:
    size = (work.parent / "ref.db").stat().st_size
    limit = max(128 * 1024, (size // 2) // 4096 * 4096)
    with _small_disk(work / "disk", limit) as resize:
        db = work / "disk" / "t.db"
        kwargs = {}
        if resize is None:

            def small_files() -> None:  # every file the replay writes may grow to ``limit`` bytes at most
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

            kwargs["preexec_fn"] = small_files
        how = f"a {limit:,}-byte tmpfs" if resize else f"RLIMIT_FSIZE of {limit:,} bytes"
        tally.figures["disk nearly full"] = how
        tally.trials += 1
        tally.faults += 1
        got = _replay(source, db, work / "t.jsonl", config, work / "t.log", **kwargs)
        tally.check(got is None, f"disk nearly full: the replay claimed success on {how}")
        tally.check(
            _clear_error(work / "t.log"),
            f"disk nearly full: no clear one-line error, the CLI ends with: {tail(work / 't.log', 2)}",
        )
        tally.check(integrity(db) == "ok", f"disk nearly full: integrity after the failure: {integrity(db)}")
        if resize is not None:
            resize(64 * 1024 * 1024)
        got = _replay(source, db, work / "t.jsonl", config, work / "t.log")  # space freed: resume
        _compare(tally, got, reference, db, source, "disk nearly full, then space freed")


# -- pipeline in process: receiver down, clock jumps, offsets ---------------------------------------------------


def _pipeline(work: Path, receiver: WebhookReceiver, delivery: str = ""):
    from monitor.pipeline import Pipeline

    db = work / "t.db"
    config = write_config(work / "config", db=db, webhook_url=receiver.url("/hook"), delivery=delivery)
    return Pipeline.open(config, db)


def _posts(lines: list[str]):
    from monitor.post import Post

    return [Post.from_dict(json.loads(line)) for line in lines]


def _delivered_once(tally: Tally, pipe, receiver: WebhookReceiver, what: str) -> None:
    outbox = rows(pipe_path(pipe), "select id, status from alerting_outbox")
    dead = rows(pipe_path(pipe), "select id from alerting_dead_letters")
    ids = {row[0] for row in outbox} | {row[0] for row in dead}
    unsent = [row[0] for row in outbox if row[1] != "sent"]
    tally.alerts_lost += (
        len(unsent) + len(dead) + len(ids - set(receiver.keys) - set(unsent) - {d[0] for d in dead})
    )
    tally.alerts_doubled += sum(count - 1 for count in receiver.keys.values()) + len(set(receiver.keys) - ids)
    tally.check(not unsent and not dead, f"{what}: {len(unsent)} messages unsent, {len(dead)} dead letters")
    tally.check(bool(ids), f"{what}: the posts caused no message to deliver")


def pipe_path(pipe) -> Path:
    return Path(pipe.db.conn.execute("pragma database_list").fetchone()[2])


def _receiver_down(work: Path, data: list[str], tally: Tally) -> None:
    """The receiver answers 503 for an hour of simulated time; the daemon's tick delivers every minute."""
    end = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    lines, _ = shifted(data, end)
    with WebhookReceiver(WEBHOOK_SECRET) as receiver, httpx.Client() as http:
        pipe = _pipeline(work, receiver)
        posts = _posts(lines)
        for start in range(0, len(posts), 100):
            pipe.process(posts[start : start + 100])
        receiver.down = True
        tally.trials += 1
        tally.faults += 1
        now = end
        for minute in range(120):
            now = end + timedelta(minutes=minute)
            receiver.down = minute < 60
            pipe.tick(now)
            pipe.deliver(now, http=http)
        tally.figures["receiver down: attempts refused during the hour"] = str(receiver.refused)
        _delivered_once(tally, pipe, receiver, "receiver down for an hour (shipped delivery settings)")
        pipe.db.close()


def _clock_jumps(work: Path, data: list[str], tally: Tally) -> None:
    """Post times and the tick's wall clock jump back 3 h, forward 2 days, back a day, forward again."""
    end = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    lines, _ = shifted(data, end)
    jumps = [timedelta(0), timedelta(hours=-3), timedelta(days=2), timedelta(days=1)]
    with WebhookReceiver(WEBHOOK_SECRET) as receiver, httpx.Client() as http:
        pipe = _pipeline(work, receiver)
        posts = _posts(lines)
        part = len(posts) // len(jumps) + 1
        tally.trials += 1
        for index, jump in enumerate(jumps):
            chunk = posts[index * part : (index + 1) * part]
            for post in chunk:
                if post.created_at:
                    post.created_at += jump
                if post.observed_at:
                    post.observed_at += jump
            tally.faults += bool(jump)
            for start in range(0, len(chunk), 50):
                pipe.process(chunk[start : start + 50])
            wall = (chunk[-1].seen_at if chunk else end) + timedelta(minutes=1)
            for step in (timedelta(0), timedelta(hours=-1), timedelta(minutes=20), timedelta(days=-1)):
                pipe.tick(wall + step)
                pipe.deliver(wall + step, http=http)
        final = end + timedelta(days=5)
        pipe.tick(final)
        pipe.deliver(final, http=http)
        keys, _ = expected_posts(lines)
        tally.posts_lost += len(keys - set(rows(pipe_path(pipe), "select source, id from posts")))
        _delivered_once(tally, pipe, receiver, "clock jumps")
        tally.check(integrity(pipe_path(pipe)) == "ok", "clock jumps: integrity")
        pipe.db.close()


def _offsets(work: Path, data: list[str], tally: Tally) -> None:
    """Posts stamped +08:00 (as Weibo's are): a notification due at 12:00 Beijing is sent by 12:01 Beijing."""
    beijing = timezone(timedelta(hours=8))
    end = datetime(2026, 3, 2, 12, 0, tzinfo=beijing)
    lines, _ = shifted(data, end, tz=beijing)
    with WebhookReceiver(WEBHOOK_SECRET) as receiver, httpx.Client() as http:
        pipe = _pipeline(work, receiver)
        posts = _posts(lines)
        for start in range(0, len(posts), 100):
            pipe.process(posts[start : start + 100])
        tally.trials += 1
        # The daemon's wall clock is UTC: one hour after the last post, everything due by then must be sent.
        now = (end + timedelta(hours=1)).astimezone(UTC)
        pipe.tick(now)
        pipe.deliver(now, http=http)
        late = rows(
            pipe_path(pipe),
            "select id, next_attempt_at from alerting_outbox where status = 'pending'",
        )
        due = [row for row in late if datetime.fromisoformat(row[1]) <= now]
        tally.check(
            not due,
            f"times in +08:00: {len(due)} of {len(late)} pending messages were due by {now.isoformat()} but not "
            f"sent (e.g. next_attempt_at {due[0][1] if due else ''}): deliver_due compares ISO text across offsets",
        )
        pipe.db.close()


def _future_post(work: Path, data: list[str], config: Path, tally: Tally, limit: float = 120.0) -> None:
    """One post with a created_at in 2099 among ordinary ones: the replay must still finish, in normal time."""
    far = json.dumps(
        {"id": "future-1", "text": "海尔冰箱门又掉了，气死了", "created_at": "2099-01-01T00:00:00+08:00"}
    )
    source = write_lines(work / "future.jsonl", data[:300] + [far] + data[300:])
    tally.trials += 1
    tally.faults += 1
    args = monitor_command(
        "replay",
        str(source),
        "--db",
        str(work / "t.db"),
        "--alerts",
        str(work / "t.jsonl"),
        "--config",
        str(config),
    )
    started = time.monotonic()
    try:
        status = run(args, work / "t.log", timeout=limit)
    except subprocess.TimeoutExpired:
        status = None
    seconds = time.monotonic() - started
    tally.check(
        status is not None,
        f"a post dated 2099: the replay hung (killed after {limit:.0f}s; alerter._flush steps every group "
        "tick from the last one to 2099)",
    )
    if status is not None:
        tally.check(status == 0, f"a post dated 2099: replay exited {status}: {tail(work / 't.log', 1)}")
        tally.figures["a post dated 2099: replay time"] = f"{seconds:.1f}s"


# -- feed flapping ----------------------------------------------------------------------------------------------


def _rss(items: list[int]) -> bytes:
    entries = "".join(
        f"<item><title>t{i}</title><guid>flap-{i}</guid><link>https://example.com/p/{i}</link>"
        f"<description>海尔冰箱门第{i}次掉了，客服不理人</description>"
        f"<pubDate>Mon, 02 Mar 2026 08:{i % 60:02d}:00 +0000</pubDate></item>"
        for i in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>flap</title>{entries}</channel></rss>'.encode()


def _flapping(work: Path, tally: Tally) -> None:
    """Each request adds two items; every other request is a 500. A 200 serves the latest ten items."""
    from monitor.config import load_config
    from monitor.daemon import Daemon, DaemonOptions

    served: set[str] = set()
    state = {"n": 0, "items": []}

    def handle(hit: Hit) -> Reply:
        state["n"] += 1
        state["items"] += [len(state["items"]), len(state["items"]) + 1]
        if state["n"] % 2 == 0:
            return Reply(500, b"upstream error")
        window = state["items"][-10:]
        served.update(f"flap-{i}" for i in window)
        return Reply(200, _rss(window), {"Content-Type": "application/rss+xml"})

    with LocalServer(handle) as server:
        feeds = (
            "[http]\nretries = 0\nper_host_rate = 1000.0\n"
            f'[[feeds]]\nname = "flap"\nkind = "rss"\nurl = "{server.url("/feed")}"\ninterval = "1m"\njitter = 0\n'
        )
        config = write_config(work / "config", db=work / "t.db", feeds=feeds)
        load_config(config)
        daemon = Daemon(DaemonOptions(config_dir=config, db_path=work / "t.db", env={}))
        statuses = []
        for _ in range(20):
            result = daemon.runner.run("flap")
            statuses.append(result.status)
            tally.faults += result.status == "error"
        tally.trials += 1
        stored = {row[0] for row in rows(work / "t.db", "select id from posts")}
        tally.posts_lost += len(served - stored)
        tally.check(
            not stored - served, f"feed flapping: {len(stored - served)} posts stored that were never served"
        )
        tally.check(
            statuses.count("error") == 10 and statuses.count("ok") == 10,
            f"feed flapping: runs {statuses}",
        )
        streak = scalar(
            work / "t.db", "select max(error_streak) from feed_state where feed = 'flap'", default=-1
        )
        tally.check(streak in (0, 1), f"feed flapping: error streak {streak} (must reset after each success)")
        daemon.shutdown()


# -- reload with an invalid file -------------------------------------------------------------------------------


def _reload(work: Path, data: list[str], tally: Tally) -> None:
    inbox = work / "inbox.jsonl"
    lines, _ = shifted(data, datetime.now(UTC))
    write_lines(inbox, lines[:100])
    db = work / "t.db"
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        config = write_config(
            work / "config", db=db, webhook_url=receiver.url("/hook"), feeds=file_feed(inbox, interval="1s")
        )
        good_feeds = (config / "feeds.toml").read_text(encoding="utf-8")
        good_alerting = (config / "alerting.toml").read_text(encoding="utf-8")
        log = work / "daemon.log"
        process = spawn(monitor_command("run", "--config", str(config), "--db", str(db)), log, environment())
        try:
            tally.trials += 1
            first = len(expected_posts(lines[:100])[0])
            ok = wait_until(lambda: scalar(db, "select count(*) from posts") >= first, 90)
            tally.check(ok, f"reload: the daemon did not store the first posts ({tail(log)})")
            bad = {
                "feeds.toml": good_feeds + '\n[[feeds]]\nname = "x"\nkind = "rss"\n',  # no url
                "alerting.toml": good_alerting.replace('receiver = "pager"', 'receiver = "nobody"'),
            }
            written = 100
            for file_name, text in bad.items():
                (config / file_name).write_text(text, encoding="utf-8")
                before = log.read_text(encoding="utf-8").count("reload failed")
                process.send_signal(signal.SIGHUP)
                tally.faults += 1
                reported = wait_until(
                    lambda b=before: log.read_text(encoding="utf-8").count("reload failed") > b, 30
                )
                text_now = log.read_text(encoding="utf-8")
                tally.check(
                    reported and file_name in text_now.split("reload failed")[-1].splitlines()[0],
                    f"reload with an invalid {file_name}: the error was not reported naming the file",
                )
                with inbox.open("a", encoding="utf-8") as handle:
                    handle.write("".join(line + "\n" for line in lines[written : written + 50]))
                written += 50
                kept = wait_until(
                    lambda w=written: (
                        scalar(db, "select count(*) from posts") >= len(expected_posts(lines[:w])[0])
                    ),
                    60,
                )
                tally.check(kept, f"reload with an invalid {file_name}: the old config stopped storing posts")
                tally.check(process.poll() is None, f"reload with an invalid {file_name}: the daemon exited")
                (config / file_name).write_text(
                    good_feeds if file_name == "feeds.toml" else good_alerting, encoding="utf-8"
                )
            process.send_signal(signal.SIGHUP)
            tally.check(
                wait_until(lambda: "configuration reloaded" in log.read_text(encoding="utf-8"), 30),
                "reload: the repaired configuration was not reloaded",
            )
            process.send_signal(signal.SIGTERM)
            status = process.wait(60)
            tally.check(
                status == 0 and "stopped cleanly" in log.read_text(encoding="utf-8"),
                f"reload: SIGTERM exit {status}",
            )
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        keys, _ = expected_posts(lines[:written])
        tally.posts_lost += len(keys - set(rows(db, "select source, id from posts")))
        tally.check(integrity(db) == "ok", "reload: integrity")
