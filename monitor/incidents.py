"""Incidents in the database: the columns detection adds, and ``save_incidents`` to write snapshots.

The core migration set (``monitor.store``) creates bare ``incidents`` and ``incident_posts`` tables; the set
here, ``tingfeng.incidents``, adds what detection knows (peak severity, lifecycle times, evidence, stats) and an
``incident_history`` table of lifecycle and severity changes. It also creates the bare tables when run alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from monitor.detect import Incident
from monitor.store import migrations as core
from monitor.store import upsert_sql

migrations = Migrations("tingfeng.incidents")

_DETECTION_COLUMNS: dict[str, Any] = {
    "peak_severity": str,
    "opened_at": str,
    "resolved_at": str,
    "reopened": int,
    "keywords": str,
    "post_ids": str,
    "stats": str,
    "revision": int,
}
_POST_COLUMNS: dict[str, Any] = {"author": str, "similarity": float, "followers": int, "verified": int}


@migrations(name="detection_columns")
def _detection_columns(db: sqlite_utils.Database) -> None:
    # Detection extends the core tables: make sure they exist first (a bare database in a test or a tool).
    core.apply(db)
    incidents = db["incidents"]
    _add_missing(incidents, _DETECTION_COLUMNS)
    posts = db["incident_posts"]
    _add_missing(posts, _POST_COLUMNS)
    db["incident_history"].create(
        {"incident_id": str, "seq": int, "at": str, "status": str, "severity": str, "event": str},
        pk=("incident_id", "seq"),
        foreign_keys=[("incident_id", "incidents", "id")],
        if_not_exists=True,
    )
    incidents.create_index(["severity"], if_not_exists=True)
    incidents.create_index(["status"], if_not_exists=True)


def _add_missing(table: sqlite_utils.db.Table, columns: dict[str, Any]) -> None:
    have = set(table.columns_dict)
    for name, kind in columns.items():
        if name not in have:
            table.add_column(name, kind)


def saved_revisions(db: sqlite_utils.Database) -> dict[str, tuple[int, int]]:
    """Incident id -> (revision, n_posts) as stored."""
    return {row[0]: (row[1], row[2]) for row in db.execute("select id, revision, n_posts from incidents")}


def save_incidents(
    db: sqlite_utils.Database,
    incidents: Iterable[Incident],
    known: dict[str, tuple[int, int]] | None = None,
    history_saved: dict[str, int] | None = None,
) -> int:
    """Upsert incidents changed since they were last saved, their new member posts and history; return how many.

    ``known``: ``saved_revisions(db)``, when the caller has just read it. ``history_saved`` (incident id -> how
    many of its history entries are stored, kept up to date here): history is only ever appended to, so only the
    entries after those are written; without it, all of them are.
    """
    if known is None:
        known = saved_revisions(db)
    # Every table's rows for all the incidents in one executemany each (incidents first, which the others
    # reference), in the order a statement per incident wrote them.
    incident_rows: list[list[Any]] = []
    post_rows: list[tuple[Any, ...]] = []
    history_rows: list[tuple[Any, ...]] = []
    names: list[str] = []
    for incident in incidents:
        revision, stored_posts = known.get(incident.id, (None, 0))
        if revision == incident.revision:
            continue
        row = incident_row(incident)
        names = list(row)
        incident_rows.append(list(row.values()))
        fresh = incident.posts[stored_posts or 0 :] if revision is not None else incident.posts
        post_rows.extend(
            (incident.id, p.source, p.post_id, p.added_at.isoformat(), p.author, p.similarity, p.followers,
             int(p.verified))
            for p in fresh
        )  # fmt: skip
        start = history_saved.get(incident.id, 0) if history_saved is not None and revision is not None else 0
        history_rows.extend(
            (incident.id, seq, entry["at"], entry.get("status"), entry.get("severity"), entry.get("event"))
            for seq, entry in enumerate(incident.history[start:], start)
        )
        if history_saved is not None:
            history_saved[incident.id] = len(incident.history)
    if not incident_rows:
        return 0
    db.conn.executemany(upsert_sql("incidents", names, ("id",)), incident_rows)
    if post_rows:
        db.conn.executemany(
            "insert or ignore into incident_posts "
            "(incident_id, source, post_id, added_at, author, similarity, followers, verified) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)",
            post_rows,
        )
    if history_rows:
        db.conn.executemany(
            "insert or replace into incident_history (incident_id, seq, at, status, severity, event) "
            "values (?, ?, ?, ?, ?, ?)",
            history_rows,
        )
    return len(incident_rows)


def incident_row(incident: Incident) -> dict[str, Any]:
    """The ``incidents`` row of a snapshot (lists and dicts as JSON text)."""
    last_change = incident.history[-1]["at"] if incident.history else incident.last_post_at.isoformat()
    return {
        "id": incident.id,
        "title": incident.title,
        "brand": incident.brand,
        "feed": incident.feed,
        "status": incident.status,
        "severity": incident.severity,
        "score": incident.score,
        "first_post_at": incident.first_post_at.isoformat(),
        "last_post_at": incident.last_post_at.isoformat(),
        "updated_at": max(last_change, incident.last_post_at.isoformat()),
        "n_posts": incident.n_posts,
        "n_authors": incident.n_authors,
        "reach": incident.reach,
        "summary": incident.summary,
        "reasons": _json(incident.reasons),
        "peak_severity": incident.peak_severity,
        "opened_at": incident.opened_at.isoformat(),
        "resolved_at": _iso(incident.resolved_at),
        "reopened": incident.reopened,
        "keywords": _json(incident.keywords),
        "post_ids": _json(incident.post_ids),
        "stats": _json(incident.stats),
        "revision": incident.revision,
    }


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps makes one per call given options


def _json(value: Any) -> str:
    return _ENCODE(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
