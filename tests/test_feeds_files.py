"""File feeds: JSONL read incrementally, resumed from the stored cursor through the runner."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.feeds.config import FeedsConfig
from monitor.feeds.fetch import FetchContext
from monitor.feeds.runner import FeedRunner, StoreOnly
from monitor.feeds.store import load_state, update_state
from monitor.store import open_db

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
NOW = datetime(2025, 11, 23, 4, 30, tzinfo=UTC)


def make_runner(tmp_path: Path, path: Path, **feed) -> FeedRunner:
    config = FeedsConfig.model_validate({"feeds": [{"name": "f", "kind": "file", "path": str(path), **feed}]})
    db = open_db(tmp_path / "t.db")
    return FeedRunner(
        config, FetchContext(config=config, base_dir=tmp_path), StoreOnly(db), clock=lambda: NOW
    )


def age(path: Path, seconds: float = 60) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def post_ids(db) -> list[str]:
    return [row["id"] for row in db.query("select id from posts order by id")]


def test_reads_valid_lines_reports_bad_ones_and_resumes_after_the_last(tmp_path, caplog):
    path = tmp_path / "in.jsonl"
    shutil.copy(FIXTURES / "posts.jsonl", path)
    runner = make_runner(tmp_path, path)
    first = runner.run("f")
    assert first.status == "ok" and first.items == 3
    assert post_ids(runner.db) == ["f1", "f2", "f3"]
    assert any(f"{path}:3: not valid JSON" in note for note in first.notes)
    assert any(f"{path}:4: missing required field 'id'" in note for note in first.notes)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"id":"f4","text":"门又坏了","source":"weibo"}\n')
    second = runner.run("f")
    assert second.items == 1
    assert post_ids(runner.db) == ["f1", "f2", "f3", "f4"]
    assert (
        load_state(runner.db, "f").cursor
        == f'{{"files": {{"in.jsonl": {{"offset": {path.stat().st_size}, "line": 6}}}}}}'
    )


def test_a_line_still_being_written_waits_for_its_newline(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id":"a","text":"一"}\n{"id":"b","text":"二', encoding="utf-8")
    runner = make_runner(tmp_path, path)
    assert runner.run("f").items == 1
    with path.open("a", encoding="utf-8") as handle:
        handle.write('"}\n')
    assert runner.run("f").items == 1
    assert post_ids(runner.db) == ["a", "b"]


def test_an_unterminated_last_line_of_a_settled_file_is_read(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id":"a","text":"一"}\n{"id":"b","text":"二"}', encoding="utf-8")
    age(path)
    runner = make_runner(tmp_path, path)
    assert runner.run("f").items == 2


def test_invalid_utf8_line_is_skipped_with_its_line_number(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id":"a","text":"\xff\xfe"}\n{"id":"b","text":"ok"}\n')
    runner = make_runner(tmp_path, path)
    result = runner.run("f")
    assert post_ids(runner.db) == ["b"]
    assert any(":1: invalid UTF-8" in note for note in result.notes)


def test_a_folder_is_read_file_by_file_and_a_rotated_file_again(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"id":"a1","text":"一"}\n', encoding="utf-8")
    (folder / "b.jsonl").write_text('{"id":"b1","text":"二"}\n{"id":"b2","text":"三"}\n', encoding="utf-8")
    (folder / "ignore.txt").write_text("not posts\n", encoding="utf-8")
    runner = make_runner(tmp_path, folder, batch=1)
    result = runner.run("f")
    assert (result.items, result.pages) == (3, 3)
    (folder / "b.jsonl").write_text('{"id":"b9","text":"新"}\n', encoding="utf-8")  # rotated: shorter
    result = runner.run("f")
    assert result.items == 1 and "shrank" in result.notes[0]
    assert post_ids(runner.db) == ["a1", "b1", "b2", "b9"]


def test_a_missing_path_is_a_failed_run_with_a_reason(tmp_path):
    runner = make_runner(tmp_path, tmp_path / "nowhere.jsonl")
    result = runner.run("f")
    assert (result.status, result.reason) == ("error", "not_found")
    state = load_state(runner.db, "f")
    assert state.error_streak == 1 and state.last_error.startswith("not_found")


@pytest.mark.parametrize("source", [None, "crawler"])
def test_posts_without_a_source_take_the_feeds(tmp_path, source):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id":"a","text":"一"}\n', encoding="utf-8")
    runner = make_runner(tmp_path, path, **({"source": source} if source else {}))
    runner.run("f")
    assert [row["source"] for row in runner.db.query("select source from posts")] == [source or "file"]


def test_every_observation_of_a_post_in_one_batch_is_kept(tmp_path):
    # An export that logs a post each time its counts were read: one batch, three points of its history.
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps(
            {"id": "p", "text": "冰箱门关不上", "reposts": n, "observed_at": f"2025-11-23T0{hour}:00:00Z"}
        )
        for hour, n in ((1, 10), (2, 250), (3, 4000))
    ]
    lines.append(lines[-1])  # the same observation twice is one observation
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = make_runner(tmp_path, path)
    result = runner.run("f")
    assert result.items == 3
    history = [
        (row["observed_at"][:13], row["reposts"])
        for row in runner.db.query("select observed_at, reposts from observations order by observed_at")
    ]
    assert history == [("2025-11-23T01", 10), ("2025-11-23T02", 250), ("2025-11-23T03", 4000)]
    assert runner.db.execute("select reposts from posts where id = 'p'").fetchone()[0] == 4000


def test_a_run_keeps_the_next_run_time_the_scheduler_recorded_while_it_ran(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id":"a","text":"一"}\n', encoding="utf-8")
    runner = make_runner(tmp_path, path)
    store = runner.sink

    class ControlLoopMeanwhile:
        db = store.db

        def process(self, posts, now=None, tags=None, *, extra_writes=None):
            # The daemon's control loop records the next run time from another connection mid-run.
            other = open_db(tmp_path / "t.db")
            update_state(other, "f", next_run_at="2025-11-23T05:30:00+00:00")
            other.close()
            return store.process(posts, now, tags, extra_writes=extra_writes)

    runner.sink = ControlLoopMeanwhile()
    assert runner.run("f").status == "ok"
    assert load_state(runner.db, "f").next_run_at == "2025-11-23T05:30:00+00:00"
