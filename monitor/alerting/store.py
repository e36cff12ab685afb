"""Alerting's tables (migration set ``tingfeng.alerting``) and the reads and writes of its state.

Tables: ``alerting_alerts`` (latest state per incident), ``alerting_groups`` (aggregation groups and their
timers), ``alerting_outbox`` (every message, written before it is sent), ``alerting_dead_letters`` (messages
that failed their last attempt), ``alerting_silences``, ``alerting_acks``; and extra columns on the core
``alerts`` table, which holds one row per notification (CONTRACT.md §3).
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import datetime
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from monitor.alerting.dispatch import Alert, Group, Snapshot, stored_json
from monitor.alerting.matchers import parse_matchers
from monitor.alerting.mute import Silence
from monitor.store import iso as _iso
from monitor.store import migrations as core
from monitor.store import upsert_sql

migrations = Migrations("tingfeng.alerting")

EXTRA_NOTIFICATION_COLUMNS = {"kind": str, "group_key": str, "outbox_id": str, "changes": str, "labels": str}


@migrations()
def m001_alerting(db: sqlite_utils.Database) -> None:
    # The notification log extends the core `alerts` table: make sure it exists (a bare database, a tool).
    core.apply(db)
    for name, kind in EXTRA_NOTIFICATION_COLUMNS.items():
        if name not in db["alerts"].columns_dict:
            db["alerts"].add_column(name, kind)
    db["alerts"].create_index(["fired_at"], if_not_exists=True)
    db["alerting_alerts"].create(
        {
            "incident_id": str,
            "severity": str,
            "status": str,
            "labels": str,
            "title": str,
            "summary": str,
            "post_ids": str,
            "reasons": str,
            "stats": str,
            "evidence": str,
            "starts_at": str,
            "updated_at": str,
            "ends_at": str,
        },
        pk="incident_id",
    )
    db["alerting_groups"].create(
        {
            "key": str,
            "route_id": str,
            "receiver": str,
            "labels": str,
            "created_at": str,
            "next_flush_at": str,
            "last_notified_at": str,
            "members": str,
        },
        pk="key",
    )
    db["alerting_groups"].create_index(["next_flush_at"])
    db["alerting_outbox"].create(
        {
            "id": str,
            "receiver": str,
            "group_key": str,
            "created_at": str,
            "status": str,  # pending | sent | held (written by a replay that sends nothing)
            "attempts": int,
            "next_attempt_at": str,
            "last_attempt_at": str,
            "last_error": str,
            "sent_at": str,
            "payload": str,
        },
        pk="id",
        defaults={"attempts": 0, "status": "pending"},
    )
    db["alerting_outbox"].create_index(["status", "next_attempt_at"])
    db["alerting_dead_letters"].create(
        {
            "id": str,
            "receiver": str,
            "group_key": str,
            "created_at": str,
            "attempts": int,
            "last_error": str,
            "died_at": str,
            "payload": str,
        },
        pk="id",
    )
    db["alerting_silences"].create(
        {
            "id": str,
            "matchers": str,
            "starts_at": str,
            "ends_at": str,
            "created_by": str,
            "comment": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db["alerting_acks"].create(
        {"incident_id": str, "severity": str, "acked_at": str, "acked_by": str, "comment": str},
        pk="incident_id",
    )


# A flush formats and reads back the same few moments many times over (a tick's time for the timers, the
# records, the snapshots and the groups): each is formatted and parsed once. Moments are immutable, so the same
# text may give the same moment; a moment's text is kept with the moment itself, so that its id is never taken
# for that of another object.
_FORMATTED: dict[int, tuple[datetime, str]] = {}


def iso(moment: datetime) -> str:
    """``monitor.store.iso``, formatted once for a moment formatted lately."""
    known = _FORMATTED.get(id(moment))
    if known is not None and known[0] is moment:
        return known[1]
    if len(_FORMATTED) >= 512:
        _FORMATTED.clear()
    text = _iso(moment)
    _FORMATTED[id(moment)] = (moment, text)
    return text


@functools.lru_cache(maxsize=512)
def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# The types json.loads gives back as they were given (bool is an int, but json.loads keeps it a bool).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _read_back(value: Any, encoded: str | None = None) -> Any:
    """What the store reads back of ``value`` (``encoded``: as ``stored_json`` wrote it), without decoding a list or a
    flat dict of plain values: saving and reading back only sorts a dict's keys."""
    if type(value) is list and all(type(item) in _PLAIN for item in value):
        return list(value)
    if type(value) is dict and all(type(k) is str and type(v) in _PLAIN for k, v in value.items()):
        return dict(sorted(value.items()))  # sort_keys wrote them in this order
    return json.loads(stored_json(value) if encoded is None else encoded)


def data_version(db: sqlite_utils.Database) -> int:
    """SQLite's ``data_version``: it moves whenever another connection commits a change to the file."""
    return db.conn.execute("PRAGMA data_version").fetchone()[0]


def _rows(db: sqlite_utils.Database, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    # Plain SQL: sqlite-utils' table helpers introspect the schema on every call, and these run every minute.
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_alerts(db: sqlite_utils.Database) -> dict[str, Alert]:
    return {row["incident_id"]: _alert(row) for row in _rows(db, "select * from alerting_alerts")}


def _alert(row: dict[str, Any]) -> Alert:
    return Alert(
        incident_id=row["incident_id"],
        severity=row["severity"],
        status=row["status"],
        labels=json.loads(row["labels"]),
        title=row["title"],
        summary=row["summary"],
        post_ids=json.loads(row["post_ids"]),
        reasons=json.loads(row["reasons"]),
        stats=json.loads(row["stats"]),
        starts_at=parse_time(row["starts_at"]),
        updated_at=parse_time(row["updated_at"]),
        ends_at=parse_time(row["ends_at"]),
        evidence=json.loads(row["evidence"] or "[]"),
    )


def save_alert(db: sqlite_utils.Database, alert: Alert) -> Alert:
    """Upsert ``alert``; returns it as the database now holds it (as ``load_alerts`` would read it back)."""
    row = {
        "incident_id": alert.incident_id,
        "severity": alert.severity,
        "status": alert.status,
        "labels": stored_json(alert.labels),
        "title": alert.title,
        "summary": alert.summary,
        "post_ids": stored_json(alert.post_ids),
        "reasons": stored_json(alert.reasons),
        "stats": stored_json(alert.stats),
        "evidence": stored_json(alert.evidence),
        "starts_at": iso(alert.starts_at),
        "updated_at": iso(alert.updated_at),
        "ends_at": iso(alert.ends_at) if alert.ends_at else None,
    }
    _upsert(db, "alerting_alerts", row, "incident_id")
    return Alert(
        incident_id=alert.incident_id,
        severity=alert.severity,
        status=alert.status,
        labels=_read_back(alert.labels, row["labels"]),
        title=alert.title,
        summary=alert.summary,
        post_ids=_read_back(alert.post_ids, row["post_ids"]),
        reasons=_read_back(alert.reasons, row["reasons"]),
        stats=_read_back(alert.stats, row["stats"]),
        starts_at=parse_time(row["starts_at"]),
        updated_at=parse_time(row["updated_at"]),
        ends_at=parse_time(row["ends_at"]),
        evidence=[_read_back(post) for post in alert.evidence],
        stored={name: row[name] for name in ("labels", "post_ids", "reasons", "stats", "evidence")},
    )


def load_groups(db: sqlite_utils.Database) -> dict[str, Group]:
    return {row["key"]: _group(row) for row in _rows(db, "select * from alerting_groups")}


def _group(row: dict[str, Any]) -> Group:
    return Group(
        key=row["key"],
        route_id=row["route_id"],
        receiver=row["receiver"],
        labels=json.loads(row["labels"]),
        created_at=parse_time(row["created_at"]),
        next_flush_at=parse_time(row["next_flush_at"]),
        last_notified_at=parse_time(row["last_notified_at"]),
        members=json.loads(row["members"]),
    )


def save_group(db: sqlite_utils.Database, group: Group) -> Group:
    """Upsert ``group``; returns it as the database now holds it (as ``load_groups`` would read it back)."""
    row = {
        "key": group.key,
        "route_id": group.route_id,
        "receiver": group.receiver,
        "labels": stored_json(group.labels),
        "created_at": iso(group.created_at),
        "next_flush_at": iso(group.next_flush_at),
        "last_notified_at": iso(group.last_notified_at) if group.last_notified_at else None,
        "members": _members_json(group.members),
    }
    _upsert(db, "alerting_groups", row, "key")
    # Read back without decoding what was just encoded: the members' snapshots are in their read-back form
    # already (those of the alerts this module reads back, see Alert.snapshot), only the order of keys is not.
    return Group(
        key=group.key,
        route_id=group.route_id,
        receiver=group.receiver,
        labels=dict(sorted(group.labels.items())),
        created_at=parse_time(row["created_at"]),
        next_flush_at=parse_time(row["next_flush_at"]),
        last_notified_at=parse_time(row["last_notified_at"]),
        members={incident_id: group.members[incident_id] for incident_id in sorted(group.members)},
    )


def _members_json(members: dict[str, Snapshot | dict[str, Any] | None]) -> str:
    """``stored_json(members)``, with each snapshot's JSON worked out once: a group is saved whenever one member changes."""
    parts = []
    for incident_id in sorted(members):  # as sort_keys orders them
        snapshot = members[incident_id]
        if type(snapshot) is Snapshot:
            if snapshot.json is None:
                snapshot.json = stored_json(snapshot)
            text = snapshot.json
        else:
            text = stored_json(snapshot)
        parts.append(f"{stored_json(incident_id)}: {text}")
    return "{" + ", ".join(parts) + "}"


def save_group_timers(db: sqlite_utils.Database, group: Group) -> None:
    """Write only ``group``'s timers: for a group looked at whose members and labels did not change."""
    db.conn.execute(
        "update alerting_groups set next_flush_at = ?, last_notified_at = ? where key = ?",
        [
            iso(group.next_flush_at),
            iso(group.last_notified_at) if group.last_notified_at else None,
            group.key,
        ],
    )


def _upsert(db: sqlite_utils.Database, table: str, row: dict[str, Any], pk: str) -> None:
    """Insert ``row``, or update every column of the row with its primary key (its rowid stays)."""
    db.conn.execute(_upsert_sql(table, tuple(row), pk), list(row.values()))


@functools.cache  # a few tables, always the same columns: the SQL is written once each
def _upsert_sql(table: str, names: tuple[str, ...], pk: str) -> str:
    return upsert_sql(table, names, (pk,))


def insert_ignore_many(
    db: sqlite_utils.Database, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (values in the order of ``columns``), in order, skipping those whose primary key exists."""
    if rows:
        db.conn.executemany(
            f"insert or ignore into [{table}] ({', '.join(f'[{name}]' for name in columns)}) "
            f"values ({', '.join('?' * len(columns))})",
            rows,
        )


def delete_group(db: sqlite_utils.Database, key: str) -> None:
    db.execute("delete from alerting_groups where key = ?", [key])


def load_silences(db: sqlite_utils.Database) -> list[Silence]:
    return [silence_from_row(row) for row in _rows(db, "select * from alerting_silences order by starts_at")]


def silence_from_row(row: dict[str, Any]) -> Silence:
    return Silence(
        id=row["id"],
        matchers=parse_matchers(json.loads(row["matchers"])),
        starts_at=parse_time(row["starts_at"]),
        ends_at=parse_time(row["ends_at"]),
        created_by=row["created_by"] or "",
        comment=row["comment"] or "",
    )


def load_acks(db: sqlite_utils.Database) -> dict[str, str]:
    """incident id -> the severity it was acknowledged at."""
    return dict(db.execute("select incident_id, severity from alerting_acks").fetchall())


def add_silence(
    db: sqlite_utils.Database,
    matchers: list[str],
    *,
    starts_at: datetime,
    ends_at: datetime,
    created_by: str = "",
    comment: str = "",
    silence_id: str | None = None,
) -> Silence:
    """Store a silence (CLI and web); raises ValueError on bad matchers or an empty time range."""
    parsed = parse_matchers(matchers)
    if not parsed:
        raise ValueError("a silence needs at least one matcher")
    if ends_at <= starts_at:
        raise ValueError("a silence must end after it starts")
    silence_id = silence_id or uuid.uuid4().hex[:12]
    db["alerting_silences"].insert(
        {
            "id": silence_id,
            "matchers": stored_json([str(m) for m in parsed]),
            "starts_at": iso(starts_at),
            "ends_at": iso(ends_at),
            "created_by": created_by,
            "comment": comment,
            "created_at": iso(starts_at),
            "updated_at": iso(starts_at),
        }
    )
    return Silence(silence_id, parsed, starts_at, ends_at, created_by, comment)


def expire_silence(db: sqlite_utils.Database, silence_id: str, now: datetime) -> bool:
    """End an active or pending silence at ``now``; False if there is none with that id."""
    with db.atomic():
        cursor = db.execute(
            "update alerting_silences set ends_at = ?, updated_at = ? where id = ? and ends_at > ?",
            [iso(now), iso(now), silence_id, iso(now)],
        )
    return cursor.rowcount > 0


def ack_incident(
    db: sqlite_utils.Database, incident_id: str, now: datetime, *, by: str = "", comment: str = ""
) -> str | None:
    """Acknowledge an incident at its current severity (returned); None if alerting has never seen it."""
    rows = list(db.query("select severity from alerting_alerts where incident_id = ?", [incident_id]))
    if not rows:
        return None
    severity = rows[0]["severity"]
    db["alerting_acks"].upsert(
        {
            "incident_id": incident_id,
            "severity": severity,
            "acked_at": iso(now),
            "acked_by": by,
            "comment": comment,
        },
        pk="incident_id",
    )
    return severity


def unack_incident(db: sqlite_utils.Database, incident_id: str) -> bool:
    """Withdraw an acknowledgement; False if there was none."""
    with db.atomic():
        cursor = db.execute("delete from alerting_acks where incident_id = ?", [incident_id])
    return cursor.rowcount > 0
