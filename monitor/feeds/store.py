"""Where feeds keep their state: the core ``feed_state`` table plus the feeds' own tables.

``feed_state``  one row per feed: cursor, since_id, ETag / Last-Modified, last run, error streak, paused
``feed_runs``   one row per run (history for health: items per run, empty windows, reasons)
``feed_commands``  ops commands (run-now, pause, resume) written by the CLI, applied by the running daemon
``feed_health`` the health verdict last reported per feed, so an ops alert fires once per change
``push_inbox``  posts received by the push endpoint, stored before the sender gets its 202
``feed_daemon`` the running daemon's pid and heartbeat, so the CLI can tell whether commands will be applied
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from monitor.store import iso

migrations = Migrations("tingfeng.feeds")


@migrations()
def m001_feed_tables(db: sqlite_utils.Database) -> None:
    db["feed_runs"].create(
        {
            "id": int,
            "feed": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "reason": str,
            "message": str,
            "items": int,
            "new": int,
            "pages": int,
            "duration": float,
        },
        pk="id",
    )
    db["feed_runs"].create_index(["feed", "started_at"])
    db["feed_commands"].create(
        {"id": int, "feed": str, "command": str, "requested_at": str, "done_at": str, "result": str},
        pk="id",
    )
    db["feed_health"].create(
        {"feed": str, "status": str, "reason": str, "since": str, "alerted_at": str},
        pk="feed",
    )
    db["push_inbox"].create(
        {"seq": int, "feed": str, "received_at": str, "post": str},
        pk="seq",
    )
    db["push_inbox"].create_index(["feed", "seq"])


@migrations()
def m002_daemon(db: sqlite_utils.Database) -> None:
    db["feed_daemon"].create(
        {"id": int, "pid": int, "started_at": str, "heartbeat_at": str, "config_dir": str, "stopped_at": str},
        pk="id",
    )


@dataclass(slots=True)
class FeedState:
    """A feed's resumable state, one row of ``feed_state``."""

    feed: str
    cursor: str | None = None
    since_id: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_run_at: str | None = None
    last_success_at: str | None = None
    next_run_at: str | None = None
    error_streak: int = 0
    last_error: str | None = None
    items_last_run: int | None = None
    paused: int = 0

    def cursor_json(self) -> dict[str, Any]:
        """The cursor as a JSON object (file feeds keep one offset per file there)."""
        if not self.cursor:
            return {}
        try:
            value = json.loads(self.cursor)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


STATE_FIELDS = tuple(f.name for f in fields(FeedState))
# What a page of a fetch may advance; saved only after that page's posts are stored.
RESUME_FIELDS = ("cursor", "since_id", "etag", "last_modified")


def ensure_tables(db: sqlite_utils.Database) -> None:
    """Apply this module's migrations (``open_db`` does it too once the set is registered)."""
    migrations.apply(db)


def load_state(db: sqlite_utils.Database, feed: str) -> FeedState:
    """The stored state of ``feed``, or a fresh one."""
    rows = list(db.query("select * from feed_state where feed = ?", [feed]))
    if not rows:
        return FeedState(feed=feed)
    row = rows[0]
    return FeedState(**{name: row.get(name) for name in STATE_FIELDS if name in row} | {"feed": feed})


def load_states(db: sqlite_utils.Database) -> dict[str, FeedState]:
    """Every stored feed state by feed name."""
    return {
        row["feed"]: FeedState(**{name: row.get(name) for name in STATE_FIELDS if name in row})
        for row in db.query("select * from feed_state")
    }


def save_state(db: sqlite_utils.Database, state: FeedState) -> None:
    """Upsert the whole state row."""
    row = asdict(state)
    row["error_streak"] = row["error_streak"] or 0
    row["paused"] = int(bool(row["paused"]))
    _upsert_state(db, row)


def update_state(db: sqlite_utils.Database, feed: str, **values: Any) -> None:
    """Set some columns of ``feed``'s row, creating the row if needed."""
    _upsert_state(db, {"feed": feed, **values})


def _upsert_state(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    # Plain SQL: this runs after every page of every feed, and sqlite-utils' upsert introspects the table.
    unknown = set(row) - set(STATE_FIELDS)
    if unknown:
        raise ValueError(f"not feed_state columns: {sorted(unknown)}")
    names = list(row)
    updates = ", ".join(f"[{name}] = excluded.[{name}]" for name in names if name != "feed")
    with db.atomic():  # a savepoint inside a caller's transaction, else its own
        db.execute(
            f"insert into feed_state ({', '.join(f'[{n}]' for n in names)}) values ({', '.join('?' for _ in names)}) "
            f"on conflict(feed) do {'update set ' + updates if updates else 'nothing'}",
            [row[name] for name in names],
        )


def set_paused(db: sqlite_utils.Database, feed: str, paused: bool) -> None:
    update_state(db, feed, paused=int(paused))


def record_run(db: sqlite_utils.Database, run: dict[str, Any], keep: int = 500) -> None:
    """Append one run to ``feed_runs`` and keep only the newest ``keep`` of that feed."""
    with db.atomic():
        db["feed_runs"].insert(run)
        db.execute(
            "delete from feed_runs where feed = ? and id not in "
            "(select id from feed_runs where feed = ? order by id desc limit ?)",
            [run["feed"], run["feed"], keep],
        )


def recent_runs(db: sqlite_utils.Database, feed: str, limit: int = 50) -> list[dict[str, Any]]:
    """The newest runs of ``feed``, newest first."""
    return list(db.query("select * from feed_runs where feed = ? order by id desc limit ?", [feed, limit]))


def request_command(db: sqlite_utils.Database, feed: str, command: str, now: datetime) -> int:
    """Queue an ops command for the running daemon; returns its id."""
    return db["feed_commands"].insert({"feed": feed, "command": command, "requested_at": iso(now)}).last_pk


def pending_commands(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("select * from feed_commands where done_at is null order by id"))


def finish_command(db: sqlite_utils.Database, command_id: int, now: datetime, result: str) -> None:
    db["feed_commands"].update(command_id, {"done_at": iso(now), "result": result})


def heartbeat(db: sqlite_utils.Database, pid: int, now: datetime, **values: Any) -> None:
    """The daemon says it is alive (row id 1: one daemon per database)."""
    db["feed_daemon"].upsert({"id": 1, "pid": pid, "heartbeat_at": iso(now), **values}, pk="id")


def daemon_status(db: sqlite_utils.Database) -> dict[str, Any] | None:
    rows = list(db.query("select * from feed_daemon where id = 1"))
    return rows[0] if rows else None
