"""JSON API feeds described by a field mapping, against a local server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fixtures.feeds.server import FixtureServer, Reply, fixture

from monitor.feeds.config import FeedsConfig, HttpSettings
from monitor.feeds.fetch import FetchContext, fetch_pages
from monitor.feeds.http import FetchError, HostLimits, HttpFetcher, build_client
from monitor.feeds.runner import FeedRunner, StoreOnly
from monitor.feeds.store import FeedState, load_state
from monitor.store import open_db

NOW = datetime(2025, 11, 23, 4, 30, tzinfo=UTC)
MAPPING = {
    "items": "result.data.lists",
    "next_cursor": "result.data.pager.next_cursor",
    "fields": {
        "id": "main.sn",
        "text": "main.summary",
        "url": "main.url",
        "author": "author.title",
        "author_followers": "author.fans",
        "author_verified": "author.verified",
        "created_at": "main.timestamp",
        "likes": "main.upvote_amount",
        "comments": "main.comment_amount",
        "reposts": "main.share_amount",
    },
}


@pytest.fixture
def server():
    s = FixtureServer()
    yield s
    s.close()


def make_context(server, env=None, **feed) -> FetchContext:
    spec = {"name": "tousu", "kind": "json", "url": server.url("/api/complaints"), **MAPPING, **feed}
    config = FeedsConfig.model_validate({"feeds": [spec]})
    settings = HttpSettings(timeout=2, retries=0, per_host_rate=1000)
    http = HttpFetcher(build_client(settings), settings, limits=HostLimits(4, 1000), sleep=lambda s: None)
    return FetchContext(http=http, config=config, env=env or {})


def serve_pages(server, second: Reply | None = None):
    def answer(hit):
        if hit.query.get("cursor") == "c2":
            return second or Reply(body=fixture("json_api_page2.json"))
        return Reply(body=fixture("json_api_page1.json"))

    server.routes["/api/complaints"] = answer


def fetch(server, state=None, env=None, **feed):
    context = make_context(server, env, **feed)
    return list(fetch_pages(context.config.feeds[0], context, state or FeedState("tousu"), NOW))


def test_mapping_reads_every_field_and_follows_the_next_cursor(server):
    serve_pages(server)
    pages = fetch(server)
    assert len(pages) == 2
    first = {p.id: p for p in pages[0].posts}
    a = first["17351234001"]
    assert a.text.startswith("冰箱买了不到一年")
    assert (a.author, a.author_followers, a.author_verified) == ("黑猫用户A", 21000, False)
    assert (a.likes, a.comments, a.reposts) == (13000, 215, 86)
    assert a.created_at == datetime(2025, 11, 23, 4, 0, tzinfo=UTC)
    assert a.source == "tousu"
    assert pages[1].posts[0].created_at == datetime(2025, 11, 22, 4, 0, tzinfo=UTC)  # epoch ms
    assert [hit.query.get("cursor") for hit in server.hits] == [None, "c2"]


def test_duplicate_ids_in_a_page_keep_the_last_and_items_without_id_are_noted(server):
    serve_pages(server)
    page = fetch(server, max_pages=1)[0]
    dup = [p for p in page.posts if p.id == "17351234002"]
    assert len(dup) == 1 and dup[0].likes == 5 and "补充" in dup[0].text
    assert any("duplicate id" in note for note in page.notes)
    assert any("without 'main.sn'" in note for note in page.notes)


def test_wrong_shape_names_the_path_it_expected(server):
    server.routes["/api/complaints"] = Reply(body=fixture("json_wrong_shape.json"))
    with pytest.raises(FetchError) as caught:
        fetch(server)
    assert caught.value.reason == "bad_shape"
    assert "'result.data.lists'" in str(caught.value) and "found dict" in str(caught.value)


def test_items_without_mapped_fields_at_all_is_a_shape_error(server):
    server.routes["/api/complaints"] = Reply(body=b'{"result":{"data":{"lists":[{"x":1},{"y":2}]}}}')
    with pytest.raises(FetchError) as caught:
        fetch(server)
    assert caught.value.reason == "bad_shape"


def test_html_login_page_where_json_was_expected(server):
    server.routes["/api/complaints"] = Reply(
        body=b"<html><head><title>Sign in</title></head><body><form action=/login>...</form></body></html>",
        content_type="text/html",
    )
    with pytest.raises(FetchError) as caught:
        fetch(server)
    assert caught.value.reason == "login_required"


def test_json_under_a_wrong_content_type_is_read_and_noted(server):
    server.routes["/api/complaints"] = Reply(body=fixture("json_api_page2.json"), content_type="text/plain")
    pages = fetch(server, next_cursor=None)
    assert len(pages) == 1 and len(server.hits) == 1  # no cursor mapping: one request
    assert len(pages[0].posts) == 1
    assert "content type 'text/plain'" in pages[0].notes[0]


def test_token_header_comes_from_the_environment(server):
    serve_pages(server)
    fetch(server, env={"TOUSU_TOKEN": "Bearer t0k"}, header_env={"Authorization": "TOUSU_TOKEN"}, max_pages=1)
    assert server.hits[0].headers["authorization"] == "Bearer t0k"
    with pytest.raises(FetchError) as caught:
        fetch(server, env={}, header_env={"Authorization": "TOUSU_TOKEN"})
    assert caught.value.reason == "auth" and "TOUSU_TOKEN" in str(caught.value)


def test_a_secret_header_written_in_the_config_is_refused():
    with pytest.raises(ValueError, match="header_env"):
        FeedsConfig.model_validate(
            {
                "feeds": [
                    {
                        "name": "j",
                        "kind": "json",
                        "url": "http://x/",
                        "headers": {"Authorization": "Bearer 1"},
                    }
                ]
            }
        )


def test_a_failure_on_page_two_keeps_page_one_and_its_cursor(server, tmp_path):
    serve_pages(server, second=Reply(500))
    context = make_context(server, resume=True)
    runner = FeedRunner(context.config, context, StoreOnly(open_db(tmp_path / "t.db")), clock=lambda: NOW)
    result = runner.run("tousu")
    assert (result.status, result.reason, result.items) == ("error", "server_error", 2)
    assert runner.db["posts"].count == 2
    assert load_state(runner.db, "tousu").cursor == "c2"
    # The next run resumes at page two.
    serve_pages(server)
    server.hits.clear()
    result = runner.run("tousu")
    assert result.status == "ok" and server.hits[0].query == {"cursor": "c2"}
    assert runner.db["posts"].count == 3


def test_a_re_observed_post_updates_counts_and_adds_an_observation(server, tmp_path):
    serve_pages(server)
    context = make_context(server, max_pages=1)
    clock = [NOW]
    runner = FeedRunner(
        context.config, context, StoreOnly(open_db(tmp_path / "t.db")), clock=lambda: clock[0]
    )
    runner.run("tousu")
    body = fixture("json_api_page1.json").replace(
        b'"upvote_amount":"1.3\xe4\xb8\x87"', b'"upvote_amount":"1.5\xe4\xb8\x87"'
    )
    assert body != fixture("json_api_page1.json")
    server.routes["/api/complaints"] = Reply(body=body)
    clock[0] = NOW.replace(hour=5)
    runner.run("tousu")
    assert runner.db["posts"].count == 2
    assert runner.db["posts"].get(("tousu", "17351234001"))["likes"] == 15000
    rows = list(
        runner.db.query("select likes from observations where post_id = '17351234001' order by observed_at")
    )
    assert [row["likes"] for row in rows] == [13000, 15000]
