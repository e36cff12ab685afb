"""CONTRACT.md §2 and §3, to the letter, through `python -m monitor` as users and scripts call it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.scenarios import scenario_path

POSTS = [
    {
        "id": "1",
        "text": "西门子冰箱门关不上，客服还说是我不会用，我要去12315投诉！",
        "author": "甲",
        "author_followers": 300,
    },
    {
        "id": "2",
        "text": "新买的冰箱很好用，推荐！",
        "source": "weibo",
        "likes": 3,
        "extra_field": {"kept": True},
    },
    {"id": "3", "text": "這台冰箱門關不上，氣死了", "created_at": "2011-09-27T10:00:00+08:00"},
]
ALERT_FIELDS = {
    "alert_id",
    "incident_id",
    "severity",
    "status",
    "fired_at",
    "title",
    "summary",
    "post_ids",
    "reasons",
}


def _monitor(*args, stdin: str | None = None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


def _jsonl(lines) -> str:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def test_classify_adds_the_contract_fields_in_order_from_stdin_to_stdout():
    result = _monitor("classify", stdin=_jsonl(POSTS))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [post["id"] for post in out] == ["1", "2", "3"]
    for original, post in zip(POSTS, out, strict=True):
        assert {k: post[k] for k in original} == original
        assert post["sentiment"] in ("negative", "neutral", "positive")
        assert set(post["sentiment_scores"]) == {"negative", "neutral", "positive"}
        assert sum(post["sentiment_scores"].values()) == pytest.approx(1.0, abs=1e-6)
        assert post["escalation"] in ("low", "medium", "high")
        assert 0.0 <= post["escalation_score"] <= 1.0
    assert out[0]["sentiment"] == "negative" and out[0]["escalation"] == "high"
    assert out[1]["sentiment"] == "positive" and out[1]["escalation"] == "low"


def test_classify_file_to_file_skips_bad_lines_with_their_numbers(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(_jsonl(POSTS[:1]) + "{broken\n" + '{"id": "x"}\n' + _jsonl(POSTS[1:]), encoding="utf-8")
    result = _monitor("classify", str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.returncode == 1
    assert f"{source}:2: not valid JSON" in result.stderr
    assert f"{source}:3: missing required field 'text'" in result.stderr
    assert "Traceback" not in result.stderr
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [post["id"] for post in out] == ["1", "2", "3"]


def _table_rows(db: Path) -> dict[str, list]:
    conn = sqlite3.connect(db)
    tables = ["posts", "observations", "classifications", "incidents", "incident_posts", "alerts"]
    rows = {t: sorted(map(repr, conn.execute(f"select * from {t}").fetchall())) for t in tables}
    conn.close()
    return rows


@pytest.fixture(scope="module")
def fridge_replay(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fridge")
    result = _monitor(
        "replay", str(scenario_path("fridge")), "--db", str(tmp / "a.db"), "--alerts", str(tmp / "a.jsonl")
    )
    assert result.returncode == 0, result.stderr
    return tmp


def test_replay_writes_contract_alert_lines_in_simulated_time_order(fridge_replay):
    lines = [
        json.loads(line) for line in (fridge_replay / "a.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert lines, "the fridge case must alert"
    assert len({line["alert_id"] for line in lines}) == len(lines)
    for line in lines:
        assert set(line) >= ALERT_FIELDS
        assert line["severity"] in ("watch", "warning", "critical")
        assert line["status"] in ("firing", "resolved")
        assert isinstance(line["post_ids"], list) and all(isinstance(p, str) for p in line["post_ids"])
        assert isinstance(line["reasons"], list) and line["reasons"]
        assert line["title"] and line["summary"]
    times = [line["fired_at"] for line in lines]
    assert times == sorted(times)
    assert any(line["severity"] == "critical" for line in lines)


def test_replaying_the_same_file_twice_leaves_the_same_rows(fridge_replay):
    db = fridge_replay / "a.db"
    before = _table_rows(db)
    alerts_before = (fridge_replay / "a.jsonl").read_text(encoding="utf-8")
    result = _monitor(
        "replay", str(scenario_path("fridge")), "--db", str(db), "--alerts", str(fridge_replay / "a.jsonl")
    )
    assert result.returncode == 0, result.stderr
    assert _table_rows(db) == before
    assert (fridge_replay / "a.jsonl").read_text(encoding="utf-8") == alerts_before


def test_a_replay_killed_half_way_finishes_with_nothing_missing_or_doubled(fridge_replay, tmp_path):
    db, alerts = tmp_path / "k.db", tmp_path / "k.jsonl"
    args = [
        sys.executable,
        "-m",
        "monitor",
        "replay",
        str(scenario_path("fridge")),
        "--db",
        str(db),
        "--alerts",
        str(alerts),
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            conn = sqlite3.connect(db, timeout=1)
            row = conn.execute("select max(lines_done) from replay_progress").fetchone()
            conn.close()
            done = row[0] or 0
        except sqlite3.Error:
            done = 0
        if done > 0:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert done > 0, "the replay should have committed a batch before being killed"
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    whole = _table_rows(fridge_replay / "a.db")
    resumed = _table_rows(db)
    for table in ("posts", "observations", "classifications"):
        assert resumed[table] == whole[table], table
    assert len(resumed["alerts"]) == len(whole["alerts"])
    full_lines = (fridge_replay / "a.jsonl").read_text(encoding="utf-8").splitlines()
    resumed_lines = alerts.read_text(encoding="utf-8").splitlines()
    strip = lambda line: {k: v for k, v in json.loads(line).items() if k != "alert_id"}  # noqa: E731
    assert [strip(line) for line in resumed_lines] == [strip(line) for line in full_lines]
