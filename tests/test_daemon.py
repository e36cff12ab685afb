"""The daemon: ops commands through the database, reload, clean stop, and resuming after kill -9."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from fixtures.feeds.server import FixtureServer, Reply

from monitor.daemon import Daemon, DaemonOptions
from monitor.feeds.store import load_state, request_command
from monitor.store import open_db

ROOT = Path(__file__).resolve().parent.parent


def write_config(directory: Path, feeds_toml: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "feeds.toml").write_text(feeds_toml, encoding="utf-8")
    return directory


def file_feed(path: Path, name: str = "drop", interval: str = "1h", batch: int = 500) -> str:
    return f'[[feeds]]\nname = "{name}"\nkind = "file"\npath = "{path}"\ninterval = "{interval}"\nbatch = {batch}\njitter = 0\n'


def write_posts(path: Path, start: int, count: int) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for i in range(start, start + count):
            post = {"id": f"p{i}", "text": f"冰箱门第{i}次掉了", "source": "weibo", "likes": i}
            handle.write(json.dumps(post, ensure_ascii=False) + "\n")


@pytest.fixture
def daemon_factory(tmp_path):
    made = []

    def make(feeds_toml: str) -> Daemon:
        config = write_config(tmp_path / "config", feeds_toml)
        daemon = Daemon(DaemonOptions(config_dir=config, db_path=tmp_path / "t.db", store_only=True, env={}))
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        if daemon.scheduler is not None and daemon.scheduler.running:
            daemon.shutdown()


def test_run_once_fetches_every_enabled_feed_and_exits(daemon_factory, tmp_path):
    inbox = tmp_path / "in.jsonl"
    write_posts(inbox, 0, 3)
    toml = (
        file_feed(inbox)
        + file_feed(tmp_path / "missing.jsonl", name="broken")
        + file_feed(inbox, name="off").replace('kind = "file"', 'kind = "file"\nenabled = false')
    )
    daemon = daemon_factory(toml)
    assert daemon.run(once=True) == 1  # one feed failed
    assert daemon.db["posts"].count == 3
    assert load_state(daemon.db, "broken").error_streak == 1
    assert load_state(daemon.db, "off").last_run_at is None


def test_each_enabled_feed_gets_a_job_with_max_instances_one_and_coalescing(daemon_factory, tmp_path):
    daemon = daemon_factory(
        file_feed(tmp_path / "a.jsonl", "a") + file_feed(tmp_path / "b.jsonl", "b", interval="5m")
    )
    daemon.start()
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    assert {"feed:a", "feed:b", "control", "tick"} <= set(jobs)
    for name in ("feed:a", "feed:b"):
        assert jobs[name].max_instances == 1 and jobs[name].coalesce is True
        assert jobs[name].misfire_grace_time == 120


def test_pause_resume_and_run_now_reach_the_running_daemon_through_the_database(daemon_factory, tmp_path):
    daemon = daemon_factory(file_feed(tmp_path / "a.jsonl", "a"))
    daemon.start()
    # The commands come from another process (the CLI, the dashboard): another connection, never the daemon's.
    cli_db = open_db(tmp_path / "t.db")
    wait_for(lambda: load_state(cli_db, "a").last_run_at is not None)  # the run at start is over
    job = daemon.scheduler.get_job("feed:a")
    request_command(cli_db, "a", "pause", datetime.now(UTC))
    daemon._control()
    assert job.next_run_time is None or daemon.scheduler.get_job("feed:a").next_run_time is None
    assert load_state(daemon.db, "a").paused == 1
    assert daemon.runner.run("a").status == "skipped"
    request_command(cli_db, "a", "run-now", datetime.now(UTC))
    daemon._control()
    row = list(daemon.db.query("select result from feed_commands order by id desc limit 1"))[0]
    assert row["result"] == "paused: resume it first"
    ran = threading.Event()
    daemon.scheduler.add_listener(lambda event: event.job_id == "feed:a" and ran.set(), EVENT_JOB_EXECUTED)
    request_command(cli_db, "a", "resume", datetime.now(UTC))
    request_command(cli_db, "a", "run-now", datetime.now(UTC))
    daemon._control()
    assert load_state(daemon.db, "a").paused == 0
    assert ran.wait(10), "run-now did not run the feed"
    assert load_state(daemon.db, "a").last_run_at is not None
    # next run times are recorded for `tingfeng schedule list`
    assert load_state(daemon.db, "a").next_run_at is not None


def test_a_feed_paused_before_start_stays_paused(daemon_factory, tmp_path):
    from monitor.feeds.store import set_paused
    from monitor.store import open_db

    set_paused(open_db(tmp_path / "t.db"), "a", True)
    daemon = daemon_factory(file_feed(tmp_path / "a.jsonl", "a"))
    daemon.start()
    assert daemon.scheduler.get_job("feed:a").next_run_time is None


def test_reload_with_an_invalid_config_keeps_the_running_one(daemon_factory, tmp_path, caplog):
    daemon = daemon_factory(file_feed(tmp_path / "a.jsonl", "a"))
    daemon.start()
    (tmp_path / "config" / "feeds.toml").write_text('[[feeds]]\nname = "a"\nkind = "rss"\n', encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="monitor.daemon"):
        assert daemon.reload() is False
    assert "reload failed, keeping the running configuration" in caplog.text
    assert "url" in caplog.text
    assert [f.name for f in daemon.feeds.feeds] == ["a"]
    assert daemon.scheduler.get_job("feed:a") is not None


def test_reload_adds_removes_and_reschedules_feeds(daemon_factory, tmp_path):
    daemon = daemon_factory(file_feed(tmp_path / "a.jsonl", "a") + file_feed(tmp_path / "b.jsonl", "b"))
    daemon.start()
    write_config(
        tmp_path / "config",
        file_feed(tmp_path / "b.jsonl", "b", interval="2m") + file_feed(tmp_path / "c.jsonl", "c"),
    )
    assert daemon.reload() is True
    ids = {job.id for job in daemon.scheduler.get_jobs() if job.id.startswith("feed:")}
    assert ids == {"feed:b", "feed:c"}
    assert daemon.paces["b"].base == 120
    assert daemon.runner.config.feed("c").name == "c"


def push_feeds(tmp_path: Path, *names: str, port: int = 0) -> str:
    feeds = "".join(
        f'[[feeds]]\nname = "{name}"\nkind = "push"\ntoken_file = "{tmp_path / name}.token"\ninterval = "1h"\n'
        for name in names
    )
    return f"[push]\nport = {port}\n\n" + feeds


def test_reload_rotates_push_tokens_and_serves_new_push_feeds_without_a_restart(daemon_factory, tmp_path):
    import httpx

    (tmp_path / "partner.token").write_text("old-token\n", encoding="utf-8")
    daemon = daemon_factory(push_feeds(tmp_path, "partner"))
    daemon.start()
    url = daemon.push.url
    body = json.dumps({"id": "x1", "text": "冰箱门关不上"}, ensure_ascii=False).encode()

    def post(feed: str, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return httpx.post(f"{daemon.push.url}/push/{feed}", content=body, headers=headers).status_code

    assert post("partner", "old-token") == 202
    (tmp_path / "partner.token").write_text("new-token\n", encoding="utf-8")
    (tmp_path / "crm.token").write_text("crm-token\n", encoding="utf-8")
    write_config(tmp_path / "config", push_feeds(tmp_path, "partner", "crm"))
    assert daemon.reload() is True
    assert daemon.push.url == url  # same endpoint, new settings
    assert post("partner", "old-token") == 401
    assert post("partner", "new-token") == 202
    assert post("crm", "crm-token") == 202

    write_config(tmp_path / "config", file_feed(tmp_path / "a.jsonl", "a"))
    assert daemon.reload() is True
    assert daemon.push is None  # no push feed left: the endpoint is closed
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/push/partner", content=body)


def test_a_reload_whose_push_port_is_taken_keeps_the_daemon_running(daemon_factory, tmp_path, caplog):
    import socket

    (tmp_path / "partner.token").write_text("token\n", encoding="utf-8")
    daemon = daemon_factory(push_feeds(tmp_path, "partner") + file_feed(tmp_path / "a.jsonl", "a"))
    daemon.start()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        write_config(
            tmp_path / "config",
            push_feeds(tmp_path, "partner", port=port) + file_feed(tmp_path / "a.jsonl", "a"),
        )
        assert daemon.reload() is True  # the rest of the new configuration is in force
    assert daemon.push is None
    assert "push endpoint could not start" in caplog.text
    assert daemon.scheduler.get_job("feed:a") is not None


def test_a_demo_feed_added_by_a_reload_waits_for_a_restart_and_says_so(daemon_factory, tmp_path, caplog):
    (tmp_path / "partner.token").write_text("token\n", encoding="utf-8")
    daemon = daemon_factory(file_feed(tmp_path / "a.jsonl", "a"))
    daemon.start()
    demo = '[[feeds]]\nname = "demo"\nkind = "demo"\n'
    write_config(tmp_path / "config", push_feeds(tmp_path, "partner") + demo)
    with caplog.at_level(logging.WARNING, logger="monitor.daemon"):
        assert daemon.reload() is True
    assert daemon.push is not None  # push changes apply at once
    assert daemon.demo is None and "demo feed (demo) takes effect at the next restart" in caplog.text


# -- real processes ----------------------------------------------------------------------------------------


def start_daemon(config: Path, db: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "run",
            "--store-only",
            "--config",
            str(config),
            "--db",
            str(db),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)  # waiting for another process, not testing timing
    raise AssertionError("condition not reached in time")


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_sigterm_finishes_in_flight_work_and_exits_cleanly(tmp_path):
    inbox = tmp_path / "in.jsonl"
    write_posts(inbox, 0, 50)
    # Polled every 1–2 s whatever adaptive pacing makes of the empty runs between the two batches of posts.
    config = write_config(
        tmp_path / "config",
        file_feed(inbox, interval="1s", batch=10).replace(
            'interval = "1s"', 'interval = "1s"\nmin_interval = "1s"\nmax_interval = "2s"'
        ),
    )
    db = tmp_path / "t.db"
    process = start_daemon(config, db)
    try:
        wait_for(lambda: count(db, "select count(*) from posts") == 50)
        process.send_signal(signal.SIGHUP)  # an unchanged config reloads fine
        (config / "feeds.toml").write_text("[[feeds]]\nname = 1\n", encoding="utf-8")
        process.send_signal(signal.SIGHUP)  # an invalid one is refused; the daemon keeps running
        write_posts(inbox, 50, 5)
        wait_for(lambda: count(db, "select count(*) from posts") == 55)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    except AssertionError as exc:
        process.kill()
        log = process.communicate()[1]
        raise AssertionError(f"the daemon did not store the posts in time; its log:\n{log}") from exc
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "reload failed, keeping the running configuration" in stderr
    assert "stopped cleanly" in stderr
    assert "feed drop: ok" in stderr  # one log line per fetch
    assert count(db, "select count(*) from feed_daemon where stopped_at is not null") == 1


@pytest.mark.slow
def test_kill_9_resumes_every_feed_from_its_cursor_without_loss_or_doubling(tmp_path):
    inbox = tmp_path / "in.jsonl"
    write_posts(inbox, 0, 6_000)
    server = FixtureServer()

    def api(hit):
        cursor = hit.query.get("cursor", "c0")
        index = int(cursor[1:])
        items = [{"id": f"j{index}-{k}", "text": f"第{index}页投诉{k}", "likes": k} for k in range(20)]
        following = f"c{index + 1}" if index + 1 < 30 else ""
        return Reply(body=json.dumps({"items": items, "next": following}).encode(), delay=0.05)

    server.routes["/api"] = api
    toml = (
        "[http]\nper_host_rate = 1000\n"
        + file_feed(inbox, batch=100)
        + (
            f'[[feeds]]\nname = "api"\nkind = "json"\nurl = "{server.url("/api")}"\nitems = "items"\n'
            'next_cursor = "next"\nresume = true\nmax_pages = 100\ninterval = "1h"\njitter = 0\n'
            'fields = { id = "id", text = "text", likes = "likes" }\n'
        )
    )
    config = write_config(tmp_path / "config", toml)
    db = tmp_path / "t.db"
    try:
        process = start_daemon(config, db)
        wait_for(
            lambda: (
                count(db, "select count(*) from posts where source = 'weibo'") >= 300
                and count(db, "select count(*) from posts where source = 'api'") >= 100
            )
        )
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        stored_file = count(db, "select count(*) from posts where source = 'weibo'")
        stored_api = count(db, "select count(*) from posts where source = 'api'")
        assert stored_file < 6_000 and stored_api < 600, "killed too late to test resuming"
        hits_before = len(server.hits_for("/api"))
        process = start_daemon(config, db, "--once")
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    finally:
        server.close()
    # The file feed resumed at its byte offset, the API at its stored cursor: nothing missing, nothing twice.
    assert count(db, "select count(*) from posts where source = 'weibo'") == 6_000
    assert count(db, "select count(*) from observations where source = 'weibo'") == 6_000
    assert count(db, "select count(*) from posts where source = 'api'") == 600
    assert count(db, "select count(*) from observations where source = 'api'") == 600
    resumed_at = server.hits_for("/api")[hits_before].query.get("cursor")
    assert resumed_at == f"c{stored_api // 20}"


def test_the_running_monitor_serves_the_dashboard_and_keeps_running_when_its_port_is_taken(
    tmp_path, capsys, caplog
):
    import socket

    import httpx

    from monitor.web.store import verify_login

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(tmp_path / "config", file_feed(tmp_path / "in.jsonl"))
    (config / "monitor.toml").write_text(f"[web]\nport = {port}\n", encoding="utf-8")
    daemon = Daemon(
        DaemonOptions(config_dir=config, db_path=tmp_path / "t.db", store_only=True, env={}, web=True)
    )
    daemon.start()
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/incidents", timeout=5).status_code in (302, 303, 401)
        # A first run makes the dashboard user and tells the terminal its password, not the log.
        first = capsys.readouterr().err
        password = first.split("first password ")[1].split()[0]
        assert verify_login(daemon.db, "admin", password)
        assert password not in caplog.text
        # A second monitor on the same port cannot serve the dashboard, but it still runs its feeds.
        second = Daemon(
            DaemonOptions(config_dir=config, db_path=tmp_path / "u.db", store_only=True, env={}, web=True)
        )
        second.start()
        assert second.web is None and second.scheduler.running
        second.shutdown()
    finally:
        daemon.shutdown()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
