"""RSS / Atom / RSSHub feeds against a local server serving recorded documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fixtures.feeds.server import FixtureServer, Reply, fixture

from monitor.feeds.config import FeedsConfig, HttpSettings
from monitor.feeds.fetch import FetchContext, fetch_pages
from monitor.feeds.http import FetchError, HostLimits, HttpFetcher, build_client
from monitor.feeds.store import FeedState

NOW = datetime(2025, 11, 23, 4, 30, tzinfo=UTC)
RSS = "application/rss+xml; charset=utf-8"


@pytest.fixture
def server():
    s = FixtureServer()
    yield s
    s.close()


def context_for(server, feeds) -> FetchContext:
    config = FeedsConfig.model_validate({"feeds": feeds})
    settings = HttpSettings(timeout=2, retries=0, per_host_rate=1000)
    http = HttpFetcher(build_client(settings), settings, limits=HostLimits(4, 1000), sleep=lambda s: None)
    return FetchContext(http=http, config=config, env={})


def fetch(server, path, reply, state=None, **feed):
    server.routes[path] = reply
    spec = {"name": "r", "kind": "rss", "url": server.url(path), **feed}
    context = context_for(server, [spec])
    return list(fetch_pages(context.config.feeds[0], context, state or FeedState("r"), NOW))


def test_rsshub_weibo_keyword_route_gives_author_text_time_and_link(server):
    pages = fetch(
        server, "/weibo/keyword/x", Reply(body=fixture("rsshub_weibo_keyword.xml"), content_type=RSS)
    )
    posts = pages[0].posts
    assert [p.id for p in posts] == [
        "https://weibo.com/6012345678/O8aBcD1eF",
        "https://weibo.com/3312345678/O8aBcD1eI",
    ]
    first = posts[0]
    assert first.author == "冰箱受害者小王"
    assert (
        first.text == "新买的海尔冰箱门一周就关不严了[怒]，客服电话打了三次没人管，再不处理我就去#12315#投诉"
    )
    assert first.created_at == datetime(2025, 11, 23, 4, 5, tzinfo=UTC)
    assert first.url == "https://weibo.com/6012345678/O8aBcD1eF"
    assert (first.reposts, first.author_followers) == (None, None)  # RSSHub carries no counts
    assert first.source == "rss" and first.observed_at == NOW
    # double-escaped "&amp;amp;" reads as "&"
    assert posts[1].text == "海尔冰箱真心好用，静音又省电&保鲜效果不错"


def test_rsshub_user_route_takes_author_from_the_author_element(server):
    pages = fetch(server, "/weibo/user/1", Reply(body=fixture("rsshub_weibo_user.xml"), content_type=RSS))
    [post] = pages[0].posts
    assert post.author == "海尔"
    assert post.text.startswith("关于近期用户反映的冰箱门问题")


def test_atom_entries_join_title_and_summary(server):
    pages = fetch(
        server, "/news.atom", Reply(body=fixture("atom_news.xml"), content_type="application/atom+xml")
    )
    first, second = pages[0].posts
    assert first.id == "tag:news.example.cn,2025:1001"
    assert (
        first.text
        == "多地消费者投诉冰箱门脱落 市场监管部门介入调查\n近日，多名消费者在社交平台反映某品牌冰箱门频繁脱落，售后“推诿”。"
    )
    assert first.author == "本报记者 李明"
    assert first.created_at == datetime(2025, 11, 23, 1, 40, tzinfo=UTC)
    assert second.created_at == datetime(2025, 11, 12, 8, 0, tzinfo=UTC)  # only <updated>


def test_broken_feed_is_read_leniently_and_says_so(server):
    pages = fetch(server, "/bbs", Reply(body=fixture("rss_broken.xml"), content_type="text/xml"))
    posts = pages[0].posts
    # The edited item shares its link with the first: one post, the last version kept.
    assert sorted(p.id for p in posts)[0] == "http://bbs.example.cn/t/88001"
    assert len(posts) == 2
    by_id = {p.id: p for p in posts}
    assert "已编辑" in by_id["http://bbs.example.cn/t/88001"].text
    no_link = next(p for p in posts if p.id.startswith("sha1:"))
    assert no_link.text.startswith("晒晒我的新冰箱")
    assert no_link.created_at is None
    assert any("malformed feed" in note for note in pages[0].notes)
    assert any("duplicate id" in note for note in pages[0].notes)


def test_malformed_xml_that_is_no_feed_fails_with_parse_error(server):
    with pytest.raises(FetchError) as caught:
        fetch(server, "/bad", Reply(body=fixture("malformed.xml"), content_type=RSS))
    assert caught.value.reason == "parse_error"


def test_an_html_error_page_with_200_is_not_a_feed(server):
    with pytest.raises(FetchError) as caught:
        fetch(server, "/x", Reply(body=fixture("nginx_error.html"), content_type="text/html"))
    assert caught.value.reason == "parse_error"
    assert "text/html" in str(caught.value)


def test_missing_content_type_still_parses(server):
    pages = fetch(server, "/x", Reply(body=fixture("atom_news.xml"), content_type=None))
    assert len(pages[0].posts) == 2


def test_etag_is_sent_back_and_304_gives_an_empty_not_modified_page(server):
    def answer(hit):
        if hit.headers.get("if-none-match") == '"abc"':
            return Reply(304, content_type=None)
        return Reply(body=fixture("atom_news.xml"), content_type=RSS, headers={"ETag": '"abc"'})

    first = fetch(server, "/f", answer)
    assert first[0].advance["etag"] == '"abc"'
    second = fetch(server, "/f", answer, state=FeedState("r", etag='"abc"'))
    assert second[0].not_modified and second[0].posts == []


def test_keywords_and_exclude_filter_posts(server):
    pages = fetch(
        server,
        "/k",
        Reply(body=fixture("rsshub_weibo_keyword.xml"), content_type=RSS),
        keywords=["冰箱 投诉"],
        exclude=["广告"],
    )
    assert [p.author for p in pages[0].posts] == ["冰箱受害者小王"]
