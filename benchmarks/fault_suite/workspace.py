"""Where a trial runs: a config directory, secrets in the environment, the monitor as a subprocess, and
plain-SQLite looks at the database it leaves behind."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from monitor.config import DEFAULT_CONFIG_DIR
from monitor.scenarios import scenario_path

ROOT = Path(__file__).resolve().parents[2]
# Distinctive secret values: the security family looks for them in logs, pages and the database.
SECRETS = {
    "TF_FAULTS_WEBHOOK_SECRET": "whsec-TFCANARY-8f3a61c2d9",
    "TINGFENG_WEB_PASSWORD": "pw-TFCANARY-71b0e5aa4c",
    "TINGFENG_API_TOKEN": "api-TFCANARY-c44d2e9f10",
    "TF_FAULTS_PUSH_TOKEN": "push-TFCANARY-5e8b7a3d21",
    "WEIBO_COOKIE": "SUB=cookie-TFCANARY-2d9c41f7e6",
}
WEBHOOK_SECRET = SECRETS["TF_FAULTS_WEBHOOK_SECRET"]


def environment(**extra: str) -> dict[str, str]:
    """The monitor's environment in a trial: ours, the suite's secrets, unbuffered output."""
    return {**os.environ, **SECRETS, "PYTHONUNBUFFERED": "1", **extra}


def alerting_toml(webhook_url: str, *, delivery: str = "") -> str:
    """The shipped route tree, with every receiver turned into a signed webhook to ``webhook_url``."""
    text = (DEFAULT_CONFIG_DIR / "alerting.toml").read_text(encoding="utf-8")
    hook = f'type = "webhook"\nurl = "{webhook_url}"\nsecret_env = "TF_FAULTS_WEBHOOK_SECRET"'
    out, in_receiver, replaced = [], False, 0
    for line in text.splitlines():
        if line.strip() == "[[receivers]]":
            in_receiver = True
        elif in_receiver and line.startswith("type = "):
            line, in_receiver = hook, False
            replaced += 1
        out.append(line)
    if not replaced:
        raise RuntimeError("the shipped alerting.toml has no receiver to turn into a webhook")
    text = "\n".join(out) + "\n"
    if delivery:
        head, _, _ = text.partition("[delivery]")
        text = head + "[delivery]\n" + delivery
    return text


def write_config(
    directory: Path,
    *,
    db: Path,
    webhook_url: str | None = None,
    feeds: str = "",
    delivery: str = "",
    monitor_extra: str = "",
) -> Path:
    """A config directory: the shipped detection rules, ``db`` as the database, optional webhook and feeds."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "detection.toml").write_text(
        (DEFAULT_CONFIG_DIR / "detection.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (directory / "monitor.toml").write_text(f'database = "{db}"\n{monitor_extra}', encoding="utf-8")
    if webhook_url:
        (directory / "alerting.toml").write_text(
            alerting_toml(webhook_url, delivery=delivery), encoding="utf-8"
        )
    (directory / "feeds.toml").write_text(feeds, encoding="utf-8")
    return directory


def file_feed(path: Path, *, name: str = "drop", interval: str = "1h", batch: int = 100) -> str:
    return (
        f'[[feeds]]\nname = "{name}"\nkind = "file"\npath = "{path}"\ninterval = "{interval}"\n'
        f'min_interval = "1s"\njitter = 0\nbatch = {batch}\nadaptive = false\n'
    )


def scenario_lines(name: str, limit: int | None = None) -> list[str]:
    lines = scenario_path(name).read_text(encoding="utf-8").splitlines()
    return lines[:limit] if limit else lines


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def expected_posts(lines: list[str]) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]]]:
    """The (source, id) keys a file of contract posts holds, and its distinct observations (lines with counts)."""
    from monitor.post import Post

    keys, observations = set(), set()
    for line in lines:
        post = Post.from_dict(json.loads(line))
        keys.add(post.key)
        if any(getattr(post, name) is not None for name in ("reposts", "comments", "likes")):
            seen = post.seen_at.isoformat() if post.seen_at else ""
            observations.add((*post.key, seen))
    return keys, observations


def shifted(lines: list[str], end_at: datetime, tz: tzinfo | None = UTC) -> tuple[list[str], timedelta]:
    """The posts moved in time so that the last is seen at ``end_at``, each with an explicit ``observed_at``
    (a live feed would stamp the wall clock), written in ``tz`` (None: each post's own offset)."""
    from monitor.post import Post

    posts = [json.loads(line) for line in lines]
    seen = [Post.from_dict(dict(post)).seen_at for post in posts]
    delta = end_at - max(s for s in seen if s is not None)
    out = []
    for post, when in zip(posts, seen, strict=True):
        if post.get("created_at"):
            post["created_at"] = _in(Post.from_dict(dict(post)).created_at + delta, tz).isoformat()
        if when is not None:
            post["observed_at"] = _in(when + delta, tz).isoformat()
        out.append(json.dumps(post, ensure_ascii=False))
    return out, delta


def _in(moment: datetime, tz: tzinfo | None) -> datetime:
    return moment.astimezone(tz) if tz is not None else moment


# -- the monitor as a subprocess ------------------------------------------------------------------------------


def monitor_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *args]


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen:
    """Start ``args`` with stdout and stderr appended to ``log`` (a file: a pipe could fill and stall it)."""
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            args, cwd=ROOT, env=env or environment(), stdout=handle, stderr=subprocess.STDOUT, **kwargs
        )
    finally:
        handle.close()


def run(args: list[str], log: Path, env: dict[str, str] | None = None, timeout: float = 600, **kwargs) -> int:
    process = spawn(args, log, env, **kwargs)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def kill_9(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


def wait_until(condition, timeout: float = 60.0, every: float = 0.05) -> bool:
    """Poll ``condition`` (another process's progress) until true or ``timeout``; returns whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)  # waiting for another process, not testing timing
    return False


# -- the database, read with plain SQLite ---------------------------------------------------------------------


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def scalar(db: Path, sql: str, params: tuple = (), default: Any = 0) -> Any:
    found = rows(db, sql, params)
    return found[0][0] if found and found[0][0] is not None else default


def integrity(db: Path) -> str:
    """``PRAGMA integrity_check`` of the file: ``ok`` or what is wrong."""
    if not db.exists():
        return "ok"
    conn = sqlite3.connect(db, timeout=30)
    try:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check").fetchall())
    finally:
        conn.close()


def tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])
