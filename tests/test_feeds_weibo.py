"""The Weibo mobile API fetcher against a local server serving recorded responses and Weibo's failure modes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fixtures.feeds.server import FixtureServer, Reply, fixture

from monitor.feeds.config import FeedsConfig, HttpSettings
from monitor.feeds.fetch import FetchContext, fetch_pages
from monitor.feeds.fields import CST, html_to_text, parse_count, parse_time
from monitor.feeds.http import FetchError, HostLimits, HttpFetcher, build_client
from monitor.feeds.runner import FeedRunner, StoreOnly
from monitor.feeds.store import FeedState, load_state
from monitor.store import open_db

NOW = datetime(2025, 11, 23, 12, 30, tzinfo=CST)
API = "/api/container/getIndex"


@pytest.fixture
def server():
    s = FixtureServer()
    yield s
    s.close()


def make_context(server, env=None, **feed) -> FetchContext:
    spec = {"name": "wb", "kind": "weibo", "keywords": ["海尔 冰箱"], "base_url": server.url(""), **feed}
    config = FeedsConfig.model_validate({"feeds": [spec]})
    settings = HttpSettings(timeout=2, retries=0, per_host_rate=1000)
    http = HttpFetcher(build_client(settings), settings, limits=HostLimits(4, 1000), sleep=lambda s: None)
    return FetchContext(
        http=http, config=config, env=env if env is not None else {"WEIBO_COOKIE": "SUB=_2A25abc"}
    )


def fetch(server, state=None, env=None, **feed):
    context = make_context(server, env, **feed)
    return list(fetch_pages(context.config.feeds[0], context, state or FeedState("wb"), NOW))


def json_reply(name: str, **kwargs) -> Reply:
    return Reply(body=fixture(name), **kwargs)


def serve_search(server):
    def answer(hit):
        return json_reply(
            "weibo_search_page2.json" if hit.query.get("page") == "2" else "weibo_search_page1.json"
        )

    server.routes[API] = answer
    server.routes["/statuses/extend"] = json_reply("weibo_extend.json")


def test_search_reads_cards_and_nested_card_groups(server):
    serve_search(server)
    pages = fetch(server, max_pages=1, long_text=False)
    ids = [p.id for p in pages[0].posts]
    assert ids == ["5012345678901234", "5012345670000001", "3362211111111111", "5012345678900000"]
    hit = server.hits_for(API)[0]
    assert hit.query == {"containerid": "100103type=61&q=海尔 冰箱", "page_type": "searchall"}
    assert hit.headers["cookie"] == "SUB=_2A25abc"


def test_post_fields_string_counts_relative_dates_and_html(server):
    serve_search(server)
    posts = {p.id: p for p in fetch(server, max_pages=1, long_text=False)[0].posts}
    angry = posts["5012345678901234"]
    assert (
        angry.text
        == "新买的海尔冰箱门一周就关不严了[怒]，客服电话打了三次没人管，再不处理我就去#12315#投诉 @海尔"
    )
    assert angry.created_at == NOW - timedelta(minutes=5)
    assert (angry.author, angry.author_followers, angry.author_verified) == ("冰箱受害者小王", 326, False)
    assert (angry.reposts, angry.comments, angry.likes) == (3, 12, 8)
    assert angry.url.endswith("/detail/5012345678901234")
    assert angry.source == "weibo" and angry.observed_at == NOW
    repost = posts["5012345670000001"]
    assert (repost.reposts, repost.comments, repost.likes) == (12000, 3000, 1000000)
    assert repost.author_followers == 12000 and repost.author_verified is True
    assert repost.created_at == datetime(2025, 11, 22, 12, 0, tzinfo=CST)
    assert (
        repost.text
        == "转发这条微博@消费者权益观察//@原帖作者:海尔冰箱门反复掉落，售后推诿，已向市场监管局反映"
    )
    assert repost.extra["retweeted"]["id"] == "5011111111111111"
    old = posts["3362211111111111"]
    assert old.created_at == datetime(2011, 9, 27, 10, 0, tzinfo=CST)
    assert old.author_followers == 300_000_000
    assert posts["5012345678900000"].created_at == datetime(2025, 9, 27, 0, 0, tzinfo=CST)
    assert posts["5012345678900000"].text == "海尔冰箱真心好用，静音又省电&保鲜效果不错"


def test_long_text_is_fetched_in_full(server):
    serve_search(server)
    posts = {p.id: p for p in fetch(server, max_pages=1)[0].posts}
    assert posts["3362211111111111"].text.endswith("已经联系了律师，准备起诉。")
    assert "全文" not in posts["3362211111111111"].text
    assert server.hits_for("/statuses/extend")[0].query == {"id": "3362211111111111"}


def test_long_text_failure_keeps_the_short_text(server):
    serve_search(server)
    server.routes["/statuses/extend"] = Reply(500)
    posts = {p.id: p for p in fetch(server, max_pages=1)[0].posts}
    assert posts["3362211111111111"].text.endswith("让更多人看到这个品牌的售后")


def test_pages_follow_until_max_pages_and_since_id_advances(server):
    serve_search(server)
    pages = fetch(server, max_pages=2, long_text=False)
    assert len(pages) == 2
    assert [hit.query.get("page") for hit in server.hits_for(API)] == [None, "2"]
    assert pages[-1].advance == {"since_id": "5012345678901234"}
    # the re-observed post on page 2 carries its higher counts
    assert next(p for p in pages[1].posts if p.id == "5012345678901234").comments == 20


def test_a_page_reaching_known_posts_ends_the_run(server):
    serve_search(server)
    pages = fetch(server, state=FeedState("wb", since_id="5012345670000000"), max_pages=5, long_text=False)
    assert len(pages) == 1


def test_user_timeline_uses_the_users_container(server):
    server.routes[API] = json_reply("weibo_user_timeline.json")
    pages = fetch(server, mode="user", uid="1234567890", keywords=[], max_pages=1)
    assert server.hits[0].query == {"containerid": "1076031234567890"}
    first = pages[0].posts[0]
    assert first.author == "海尔" and first.author_followers == 2_153_000 and first.comments == 11000


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            Reply(body=fixture("weibo_login_wall.html"), content_type="text/html; charset=utf-8"),
            "login_required",
        ),
        (Reply(body=fixture("weibo_risk.html"), content_type="text/html"), "risk_control"),
        (json_reply("weibo_captcha.json"), "risk_control"),
        (json_reply("weibo_ok0_frequent.json"), "api_error"),
        (json_reply("weibo_wrong_shape.json"), "bad_shape"),
        (Reply(body=b'{"ok":1,"data":{"cards":[', content_type="application/json"), "parse_error"),
        (Reply(418, b"", "text/html"), "blocked"),
        (Reply(432, b"", "text/html"), "blocked"),
        (Reply(body=b'["not", "an", "object"]'), "bad_shape"),
    ],
)
def test_failures_that_look_like_success_are_errors_not_empty_results(server, reply, reason):
    server.routes[API] = reply
    with pytest.raises(FetchError) as caught:
        fetch(server, max_pages=1)
    assert caught.value.reason == reason


def test_login_wall_served_under_json_content_type_is_still_recognised(server):
    server.routes[API] = Reply(body=fixture("weibo_login_wall.html"), content_type="application/json")
    with pytest.raises(FetchError) as caught:
        fetch(server, max_pages=1)
    assert caught.value.reason == "login_required"
    assert "cookie" in str(caught.value)


def test_a_redirect_to_the_passport_login_is_a_login_wall(server):
    server.routes[API] = Reply(302, headers={"Location": server.url("/signin/login")}, content_type=None)
    server.routes["/signin/login"] = Reply(body=fixture("weibo_login_wall.html"), content_type="text/html")
    with pytest.raises(FetchError) as caught:
        fetch(server, max_pages=1)
    assert caught.value.reason == "login_required"


def test_no_results_message_is_an_empty_page(server):
    server.routes[API] = json_reply("weibo_empty.json")
    pages = fetch(server, max_pages=3)
    assert len(pages) == 1 and pages[0].posts == []
    assert "这里还没有内容" in pages[0].notes[0]


def test_invalid_utf8_in_a_post_is_replaced_and_noted(server):
    body = fixture("weibo_user_timeline.json").replace("双十一".encode(), b"\xff\xfe\xfd")
    server.routes[API] = Reply(body=body)
    pages = fetch(server, mode="user", uid="1234567890", keywords=[], max_pages=1)
    assert any("invalid UTF-8" in note for note in pages[0].notes)
    assert "\ufffd" in pages[0].posts[1].text


def test_cookie_comes_from_a_secret_file_when_no_env(server, tmp_path):
    (tmp_path / "cookie.txt").write_text("SUB=from-file\n", encoding="utf-8")
    server.routes[API] = json_reply("weibo_empty.json")
    context = make_context(server, env={}, cookie_file=str(tmp_path / "cookie.txt"))
    list(fetch_pages(context.config.feeds[0], context, FeedState("wb"), NOW))
    assert server.hits[0].headers["cookie"] == "SUB=from-file"


def test_a_cookie_in_the_config_file_is_refused():
    with pytest.raises(ValueError, match="cookie"):
        FeedsConfig.model_validate(
            {"feeds": [{"name": "w", "kind": "weibo", "keywords": ["x"], "cookie": "SUB=1"}]}
        )


def test_login_wall_makes_the_feed_unhealthy_at_once_and_raises_an_ops_alert(server, tmp_path):
    server.routes[API] = Reply(body=fixture("weibo_login_wall.html"), content_type="text/html")
    context = make_context(server, max_pages=1)
    alerts = []
    runner = FeedRunner(
        context.config,
        context,
        StoreOnly(open_db(tmp_path / "t.db")),
        clock=lambda: NOW.astimezone(UTC),
        ops_alert=lambda event: alerts.append(event) or [],
    )
    result = runner.run("wb")
    assert (result.status, result.reason) == ("error", "login_required")
    assert result.health.status == "failing"
    [event] = alerts
    assert event.labels["kind"] == "ops" and event.labels["feed"] == "wb" and event.status == "firing"
    assert "login_required" in event.summary
    runner.run("wb")
    assert len(alerts) == 1  # still failing: no repeat
    server.routes[API] = json_reply("weibo_empty.json")
    runner.run("wb")
    assert [e.status for e in alerts] == ["firing", "resolved"]
    assert load_state(runner.db, "wb").error_streak == 0


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        (12, 12),
        ("12", 12),
        ("1.2万", 12000),
        ("100万+", 1_000_000),
        ("3亿", 300_000_000),
        ("", None),
        ("很多", None),
        (-1, None),
        (True, None),
    ],
)
def test_parse_count(raw, count):
    assert parse_count(raw) == count


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("刚刚", NOW),
        ("30秒前", NOW - timedelta(seconds=30)),
        ("5分钟前", NOW - timedelta(minutes=5)),
        ("2小时前", NOW - timedelta(hours=2)),
        ("昨天 12:00", datetime(2025, 11, 22, 12, 0, tzinfo=CST)),
        ("今天 08:15", datetime(2025, 11, 23, 8, 15, tzinfo=CST)),
        ("09-27", datetime(2025, 9, 27, tzinfo=CST)),
        ("12-31", datetime(2024, 12, 31, tzinfo=CST)),
        ("2024-02-29", datetime(2024, 2, 29, tzinfo=CST)),
        ("Sun Sep 27 10:00:00 +0800 2011", datetime(2011, 9, 27, 10, 0, tzinfo=CST)),
        ("2025-11-22T18:30:00+08:00", datetime(2025, 11, 22, 18, 30, tzinfo=CST)),
        (1763870400, datetime(2025, 11, 23, 4, 0, tzinfo=UTC)),
        (1763870400000, datetime(2025, 11, 23, 4, 0, tzinfo=UTC)),
        ("02-30", None),
        ("某天", None),
    ],
)
def test_parse_time_resolves_relative_forms_in_china_time(raw, expected):
    assert parse_time(raw, NOW) == expected


def test_html_to_text_keeps_emoticons_and_line_breaks():
    markup = '太差了<span class="url-icon"><img alt="[怒]" src="x.png" /></span><br />第二行 <a href="/n/x">@某人</a>&amp;'
    assert html_to_text(markup) == "太差了[怒]\n第二行 @某人&"
