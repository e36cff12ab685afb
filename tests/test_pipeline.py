"""The pipeline's transactions: what it holds in memory never runs ahead of the database, and restarts resume."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from classifiers import Prediction
from monitor.config import load_config
from monitor.jsonl import ReadReport, read_posts
from monitor.pipeline import Pipeline
from monitor.scenarios import scenario_path
from monitor.store import open_db

ROOT = Path(__file__).resolve().parent.parent
COMPLAINT = (
    "关不上",
    "關不上",
    "投诉",
    "投訴",
    "气死",
    "氣死",
    "坏了",
    "壞了",
    "问题",
    "問題",
    "同款",
    "一样",
    "一樣",
)
THREAT = ("12315", "消协", "消協", "媒体", "媒體", "曝光", "律师", "律師", "起诉", "維權", "维权")


class KeywordClassifier:
    """A stand-in for the model (the pipeline takes any object with ``version`` and ``predict``)."""

    version = "test-keywords"

    def predict(self, texts: list[str]) -> list[Prediction]:
        out = []
        for text in texts:
            if any(word in text for word in COMPLAINT):
                high = any(word in text for word in THREAT)
                scores = {"negative": 0.9, "neutral": 0.07, "positive": 0.03}
                out.append(Prediction("negative", scores, "high" if high else "medium", 0.9 if high else 0.5))
            else:
                scores = {"negative": 0.1, "neutral": 0.8, "positive": 0.1}
                out.append(Prediction("neutral", scores, "low", 0.1))
        return out


@pytest.fixture(scope="module")
def fridge_posts():
    return [post for _, _, post in read_posts(scenario_path("fridge"), ReadReport())][:1200]


def pipeline(path: Path) -> Pipeline:
    return Pipeline(load_config(ROOT / "config"), open_db(path), KeywordClassifier(), mode="replay")


def run(pipe: Pipeline, posts, size: int = 200) -> list[dict]:
    notes = []
    for start in range(0, len(posts), size):
        notes += [n.to_contract() for n in pipe.process(posts[start : start + size]).notifications]
    return notes


def rows(path: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    tables = ["posts", "observations", "classifications", "incidents", "incident_posts", "incident_history"]
    tables += ["alerts", "alerting_alerts", "alerting_groups", "alerting_outbox", "detector_state"]
    out = {table: sorted(map(repr, conn.execute(f"select * from {table}").fetchall())) for table in tables}
    conn.close()
    return out


def plain(state) -> dict:
    return json.loads(json.dumps(state))


def test_a_restarted_pipeline_resumes_detection_exactly_where_it_committed(tmp_path, fridge_posts):
    first = pipeline(tmp_path / "t.db")
    notes = run(first, fridge_posts[:800])
    assert notes, "the fridge case should have alerted by now"
    clusters = first.detector.clusters
    stored = first.db.execute(
        "select count(*) from detector_state where name like 'default/cluster/%'"
    ).fetchone()
    assert stored[0] == len(clusters) > 0
    copy = sqlite3.connect(tmp_path / "restart.db")
    first.db.conn.backup(copy)
    copy.close()
    again = pipeline(tmp_path / "restart.db")
    assert plain(again.detector.state()) == plain(first.detector.state())
    # The two carry on alike: same notifications, and in the end the same rows.
    assert run(again, fridge_posts[800:]) == run(first, fridge_posts[800:])
    assert rows(tmp_path / "restart.db") == rows(tmp_path / "t.db")


def test_each_incident_is_stored_as_its_state_in_json_even_as_members_are_seen_again(tmp_path, fridge_posts):
    pipe = pipeline(tmp_path / "t.db")
    run(pipe, fridge_posts[:1200], size=100)  # members written once, reused, and some engagement updated
    stored = dict(
        pipe.db.execute("select name, state from detector_state where name like 'default/cluster/%'")
    )
    expected = {
        "default/cluster/" + c["id"]: json.dumps(c, ensure_ascii=False)
        for c in pipe.detector.state()["clusters"]
    }
    assert stored == expected
    assert any(m[10] > 0 for c in pipe.detector.state()["clusters"] for m in c["members"])


def test_detector_state_kept_in_one_row_still_loads(tmp_path, fridge_posts):
    pipe = pipeline(tmp_path / "t.db")
    run(pipe, fridge_posts[:600])
    state = pipe.detector.state()
    pipe.db.execute("delete from detector_state")
    pipe.db.execute(
        "insert into detector_state (name, state, updated_at) values ('default', ?, '')", [json.dumps(state)]
    )
    pipe.db.conn.commit()
    assert plain(pipeline(tmp_path / "t.db").detector.state()) == plain(state)


def test_a_batch_that_fails_leaves_memory_as_the_database_has_it(tmp_path, fridge_posts):
    def fail(db):
        raise RuntimeError("disk full")

    pipe = pipeline(tmp_path / "t.db")
    notes = run(pipe, fridge_posts[:600])
    with pytest.raises(RuntimeError):
        pipe.process(fridge_posts[600:800], extra_writes=fail)
    notes += run(pipe, fridge_posts[600:])
    clean = pipeline(tmp_path / "clean.db")
    assert notes == run(clean, fridge_posts)
    assert rows(tmp_path / "t.db") == rows(tmp_path / "clean.db")


def test_a_resolve_asked_from_the_dashboard_is_applied_by_the_running_pipeline(tmp_path, fridge_posts):
    pipe = pipeline(tmp_path / "a.db")
    pipe.process(fridge_posts)
    firing = pipe.db.execute(
        "select incident_id from alerting_alerts where status = 'firing' and severity = 'critical' limit 1"
    ).fetchone()
    assert firing, "the fridge case should have a firing incident by now"
    incident_id = firing[0]
    pipe.db["incident_commands"].insert(
        {"incident_id": incident_id, "action": "resolve", "requested_by": "pr-lead", "requested_at": "x"}
    )
    later = fridge_posts[-1].seen_at + timedelta(minutes=1)
    notes = pipe.tick(later) + pipe.finish(later)
    assert any(n.incident_id == incident_id and n.status == "resolved" for n in notes)
    status, result = pipe.db.execute(
        "select i.status, c.result from incidents i join incident_commands c on c.incident_id = i.id where i.id = ?",
        [incident_id],
    ).fetchone()
    assert (status, result) == ("resolved", "resolved")
    # Applied once: the next minute does not resolve it again.
    assert not [n for n in pipe.tick(later + timedelta(minutes=1)) if n.incident_id == incident_id]


def test_a_writer_holding_the_database_makes_the_pipeline_wait_not_fail(tmp_path, fridge_posts):
    import threading
    import time

    pipe = pipeline(tmp_path / "a.db")
    pipe.process(fridge_posts[:50])
    other = sqlite3.connect(tmp_path / "a.db", check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release():
        time.sleep(1.0)
        other.execute("COMMIT")
        released.set()

    threading.Thread(target=release).start()
    result = pipe.process(fridge_posts[50:100])
    assert released.is_set() and result.saved == 50
    other.close()


def test_a_post_dated_decades_ahead_runs_on_the_clock_so_far(tmp_path, fridge_posts):
    import time

    from monitor.post import Post

    pipe = pipeline(tmp_path / "a.db")
    future = Post.from_dict(
        {"id": "f", "text": "海尔冰箱门又掉了", "created_at": "2099-01-01T00:00:00+08:00"}
    )
    started = time.monotonic()
    # In one batch with 2011 posts, as a replay reads it: the 2099 date must not drag the timers to 2099.
    pipe.process([*fridge_posts[:300], future, *fridge_posts[300:400]])
    assert time.monotonic() - started < 60
    stamp = pipe.db.execute("select classified_at from classifications where post_id = 'f'").fetchone()[0]
    assert stamp.startswith("2011-09")


def test_replaying_a_finished_replay_again_changes_no_stored_row(tmp_path):
    from monitor.replay import replay

    source = scenario_path("noise_day")
    replay(source, tmp_path / "x.db", tmp_path / "x.jsonl")

    def rows():
        conn = sqlite3.connect(tmp_path / "x.db")
        try:
            tables = [
                name
                for (name,) in conn.execute("select name from sqlite_master where type = 'table'")
                if name != "replay_progress" and not name.startswith("posts_fts")
            ]
            return {table: sorted(conn.execute(f"select * from [{table}]").fetchall()) for table in tables}
        finally:
            conn.close()

    before = rows()
    again = replay(source, tmp_path / "x.db", tmp_path / "x.jsonl")
    assert again.observations == 0
    after = rows()
    assert before["detector_state"]  # the detector's state is stored
    assert {t for t in before if before[t] != after[t]} == set()


def test_a_replay_whose_model_cannot_load_says_so_and_stores_nothing(tmp_path):
    import shutil

    from monitor.errors import ModelError
    from monitor.replay import replay

    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.skops").write_bytes(b"not a model")
    monitor_toml = config / "monitor.toml"
    monitor_toml.write_text(
        f'model = "{broken}"\n' + monitor_toml.read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(ModelError, match="broken-model"):
        replay(scenario_path("noise_day"), tmp_path / "x.db", None, config_dir=config)
    conn = sqlite3.connect(tmp_path / "x.db")
    try:
        assert conn.execute("select count(*) from posts").fetchone() == (0,)
        assert conn.execute("select count(*) from replay_progress").fetchone() == (0,)
    finally:
        conn.close()
