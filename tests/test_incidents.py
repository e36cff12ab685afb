"""Saving incidents: the migration set and save_incidents, on real SQLite files."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import sqlite_utils

from monitor.incidents import migrations, save_incidents

sys.path.insert(0, str(Path(__file__).parent))
from test_detect import T0, Feed, echo_burst  # noqa: E402


def fresh_db(path: Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    migrations.apply(db)
    return db


def test_migrations_extend_the_core_tables_when_they_exist(tmp_path):
    from monitor.store import migrations as core

    db = sqlite_utils.Database(tmp_path / "t.db")
    core.apply(db)
    migrations.apply(db)
    assert {"peak_severity", "revision", "post_ids", "stats"} <= set(db["incidents"].columns_dict)
    assert {"author", "similarity"} <= set(db["incident_posts"].columns_dict)
    assert db["incident_history"].exists()


def test_saved_incident_rows_members_and_history(tmp_path):
    db = fresh_db(tmp_path / "t.db")
    feed = Feed()
    echo_burst(feed, T0, 6)
    assert save_incidents(db, feed.detector.incidents()) == 1
    row = next(db["incidents"].rows)
    assert row["severity"] == "warning" and row["n_posts"] == 6 and row["status"] == "growing"
    assert json.loads(row["post_ids"])[0] == "p1"
    assert [r["post_id"] for r in db.query("select post_id from incident_posts order by added_at")] == [
        f"p{i}" for i in range(1, 7)
    ]
    history = [(r["status"], r["severity"]) for r in db.query("select * from incident_history order by seq")]
    assert history == [("new", None), ("growing", None), (None, "watch"), (None, "warning")]


def test_saving_again_writes_only_what_changed(tmp_path):
    db = fresh_db(tmp_path / "t.db")
    feed = Feed()
    echo_burst(feed, T0, 6)
    save_incidents(db, feed.detector.incidents())
    assert save_incidents(db, feed.detector.incidents()) == 0
    echo_burst(feed, T0 + timedelta(hours=2), 3)
    feed.tick(T0 + timedelta(days=4))
    assert save_incidents(db, feed.detector.incidents()) == 1
    row = next(db["incidents"].rows)
    assert row["status"] == "resolved" and row["n_posts"] == 9 and row["resolved_at"]
    assert db["incident_posts"].count == 9


def test_history_written_in_steps_is_the_history_written_at_once(tmp_path):
    steps, once = fresh_db(tmp_path / "steps.db"), fresh_db(tmp_path / "once.db")
    feed = Feed()
    written: dict[str, int] = {}
    echo_burst(feed, T0, 3)
    save_incidents(steps, feed.detector.incidents(), history_saved=written)
    echo_burst(feed, T0 + timedelta(hours=1), 4)
    feed.tick(T0 + timedelta(days=4))
    save_incidents(steps, feed.detector.incidents(), history_saved=written)
    save_incidents(once, feed.detector.incidents())
    query = "select * from incident_history order by incident_id, seq"
    assert list(steps.query(query)) == list(once.query(query))
    assert [r["status"] for r in steps.query(query)][-1] == "resolved"
    assert written == {incident_id: len(rows) for incident_id, rows in _histories(steps).items()}


def _histories(db) -> dict[str, list]:
    out: dict[str, list] = {}
    for row in db.query("select incident_id, seq from incident_history"):
        out.setdefault(row["incident_id"], []).append(row["seq"])
    return out
