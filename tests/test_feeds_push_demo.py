"""Push feeds (POST to the daemon, stored before the 202) and the offline demo feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from monitor.feeds.config import FeedsConfig, HttpSettings
from monitor.feeds.demo import AcceleratedClock, DemoServer
from monitor.feeds.fetch import FetchContext
from monitor.feeds.http import HttpFetcher, build_client
from monitor.feeds.push import PushServer, parse_body
from monitor.feeds.runner import FeedRunner, StoreOnly
from monitor.feeds.store import ensure_tables, load_state
from monitor.store import open_db

NOW = datetime(2025, 11, 23, 4, 30, tzinfo=UTC)


@pytest.fixture
def push(tmp_path):
    config = FeedsConfig.model_validate(
        {"feeds": [{"name": "partner", "kind": "push", "token_env": "PUSH_TOKEN"}]}
    )
    db = open_db(tmp_path / "t.db")
    ensure_tables(db)
    context = FetchContext(config=config, env={"PUSH_TOKEN": "s3cret"}, db=db)
    server = PushServer(
        open_db(tmp_path / "t.db"), config.feeds, context, host="127.0.0.1", port=0, max_bytes=10_000
    )
    server.start()
    runner = FeedRunner(config, context, StoreOnly(db), clock=lambda: NOW)
    yield server, runner
    server.stop()


def post(server, body: bytes | str, token: str | None = "s3cret", feed: str = "partner") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.url}/push/{feed}", content=body, headers=headers)


def test_pushed_posts_are_stored_then_drained_into_the_pipeline_once(push):
    server, runner = push
    batch = [
        {"id": "a", "text": "冰箱门掉了"},
        {"id": "b", "text": "售后不理", "likes": 3},
        {"text": "no id"},
    ]
    response = post(server, json.dumps(batch, ensure_ascii=False).encode())
    assert response.status_code == 202
    assert response.json()["accepted"] == 2
    assert response.json()["rejected"][0]["index"] == 2
    assert runner.db["push_inbox"].count == 2  # durable before the 202
    assert (
        post(server, '{"id":"c","text":"一条"}\n{"id":"d","text":"两条"}\n'.encode()).json()["accepted"] == 2
    )
    result = runner.run("partner")
    assert result.items == 4
    assert sorted(row["id"] for row in runner.db.query("select id from posts")) == ["a", "b", "c", "d"]
    assert [row["source"] for row in runner.db.query("select distinct source from posts")] == ["partner"]
    assert runner.run("partner").items == 0  # nothing twice
    assert load_state(runner.db, "partner").since_id is not None


def test_push_refuses_bad_tokens_unknown_feeds_and_empty_batches(push):
    server, _ = push
    assert post(server, b'{"id":"a","text":"x"}', token="wrong").status_code == 401
    assert post(server, b'{"id":"a","text":"x"}', token=None).status_code == 401
    assert post(server, b'{"id":"a","text":"x"}', feed="other").status_code == 404
    bad = post(server, b"not json")
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["rejected"][0]["error"]
    assert post(server, b"x" * 20_000).status_code == 413


def test_parse_body_reports_invalid_utf8():
    accepted, rejected = parse_body(b'{"id":"a","text":"\xff"}', "p")
    assert accepted == [] and "not UTF-8" in rejected[0]["error"]


def test_a_push_feed_without_a_token_is_refused_by_config():
    with pytest.raises(ValueError, match="token_env or token_file"):
        FeedsConfig.model_validate({"feeds": [{"name": "p", "kind": "push"}]})


# -- the demo ----------------------------------------------------------------------------------------------


def test_accelerated_clock_runs_speed_times_faster():
    ticks = [100.0]
    clock = AcceleratedClock(NOW, 600, monotonic=lambda: ticks[0])
    ticks[0] += 2.5
    assert clock.now() == NOW + timedelta(seconds=1500)


def test_demo_serves_only_what_is_due_and_the_feed_resumes_from_its_cursor(tmp_path):
    server = DemoServer("fridge", speed=600)
    first_clock = server.lines[0]["clock"]
    ticks = [0.0]
    server.clock = AcceleratedClock(first_clock, 600, monotonic=lambda: ticks[0])
    assert len(server.page(0)["items"]) == 1  # only lines at the very first instant
    ticks[0] = 6 * 3600 / 600  # six simulated hours later
    page = server.page(0)
    due = [line for line in server.lines if line["clock"] <= first_clock + timedelta(hours=6)]
    assert len(page["items"]) == min(len(due), 200)
    server.start()
    try:
        config = FeedsConfig.model_validate({"feeds": [{"name": "demo", "kind": "demo"}]})
        settings = HttpSettings(per_host_rate=1000)
        context = FetchContext(
            http=HttpFetcher(build_client(settings), settings), config=config, demo_urls={"demo": server.url}
        )
        runner = FeedRunner(
            config,
            context,
            StoreOnly(open_db(tmp_path / "t.db")),
            clock=lambda: NOW,
            post_clock=server.clock.now,
        )
        result = runner.run("demo")
        assert result.status == "ok" and result.items == len(due)
        assert load_state(runner.db, "demo").cursor == str(len(due))
        assert runner.run("demo").items == 0  # the simulated clock has not moved
    finally:
        server.stop()
    resumed = DemoServer("fridge", speed=600, resume_from=len(due))
    assert resumed.clock.start == server.lines[len(due)]["clock"] - timedelta(minutes=1)
    resumed.httpd.server_close()


def test_a_reload_during_a_push_request_does_not_drop_the_request(push):
    """A SIGHUP that removes the feed while an authorised request's body is still arriving: the request is
    answered under the configuration it arrived with, not cut off without a reply."""
    server, runner = push

    class ReloadAfterLookup(dict):
        def get(self, key, default=None):
            value = super().get(key, default)
            server.reconfigure([], runner.context)  # the reload lands while the body is being read
            return value

    server.tokens = ReloadAfterLookup(server.tokens)
    response = post(server, '{"id":"a","text":"冰箱门掉了"}'.encode())
    assert response.status_code == 202
    assert runner.db["push_inbox"].count == 1
    assert post(server, b'{"id":"b","text":"x"}').status_code == 404  # the reload took effect after
