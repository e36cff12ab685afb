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
