"""The dashboard's reads on a store built for the purpose: page cursors and their edges, search paths, the
incidents list's hourly growth, the feed choices and the incremental counts behind /metrics."""

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.config import load_config
from monitor.errors import InputError
from monitor.store import open_db
from monitor.web import create_app, read
from monitor.web.metrics import RowCounts
from monitor.web.store import connect

TOKEN = "t0ken-for-scripts-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def add_posts(path: Path, posts: list[dict]) -> None:
    """Posts (and a classification each) written with plain SQL, as the pipeline stores them."""
    db = open_db(path)
    with db.conn:
        for post in posts:
            row = {"source": "weibo", "feed": "weibo-search", "author": "用户", "likes": 0, **post}
            row.setdefault("first_seen_at", row.get("created_at"))
            row.setdefault("last_seen_at", row["first_seen_at"])
            sentiment = row.pop("sentiment", "negative")
            names = list(row)
            db.conn.execute(
                f"insert into posts ({', '.join(names)}) values ({', '.join('?' * len(names))})",
                [row[n] for n in names],
            )
            db.conn.execute(
                "insert into classifications (source, post_id, model_version, sentiment, escalation, classified_at)"
                " values (?, ?, 'm1', ?, 'low', ?)",
                [row["source"], row["id"], sentiment, row["first_seen_at"]],
            )
    db.close()


def numbered(
    n: int, *, start: datetime = T0, step: timedelta = timedelta(minutes=1), text: str = "冰箱门坏了"
):
    return [
        {"id": f"p{i:04d}", "text": f"{text} {i}", "created_at": (start + i * step).isoformat()}
        for i in range(n)
    ]


def walk(db, page: int, **filters) -> list[list[str]]:
    """Every page of a search, following the cursors: the post ids of each page."""
    pages, before = [], ""
    while True:
        rows = read.search_posts(db, **filters, limit=page + 1, before=before)
        pages.append([row["id"] for row in rows[:page]])
        before = read.next_cursor(rows, page)
        if before is None:
            return pages
        assert len(pages) < 1000, "the cursor does not advance"


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "read.db"


def test_cursor_pages_visit_every_post_once_newest_first(store):
    add_posts(store, numbered(123))
    db = connect(store)
    pages = walk(db, 50)
    assert [len(p) for p in pages] == [50, 50, 23]
    ids = [i for page in pages for i in page]
    assert ids == [f"p{i:04d}" for i in range(122, -1, -1)]


def test_a_last_page_exactly_full_has_no_next_page(store):
    add_posts(store, numbered(100))
    db = connect(store)
    assert [len(p) for p in walk(db, 50)] == [50, 50]  # no third, empty page
    assert walk(connect(store), 50, q="没有这个词") == [[]]


def test_posts_of_the_same_second_are_split_across_pages_without_loss_or_repeat(store):
    same = (T0 + timedelta(hours=5)).isoformat()
    add_posts(
        store,
        numbered(30) + [{"id": f"tie{i:02d}", "text": f"同一秒 {i}", "created_at": same} for i in range(25)],
    )
    db = connect(store)
    pages = walk(db, 10)
    ids = [i for page in pages for i in page]
    assert len(ids) == len(set(ids)) == 55
    assert ids[:25] == [f"tie{i:02d}" for i in range(24, -1, -1)]  # ties newest row first, over 3 pages


def test_time_zones_are_compared_as_instants_not_as_text(store):
    add_posts(
        store,
        [
            # 20:00 in Beijing is 12:00 UTC: older than 13:00 UTC although its text sorts later.
            {"id": "beijing", "text": "北京时间的帖子", "created_at": "2026-11-01T20:00:00+08:00"},
            {"id": "utc", "text": "世界时的帖子", "created_at": "2026-11-01T13:00:00+00:00"},
            {
                "id": "seen-only",
                "text": "只有抓取时间",
                "created_at": None,
                "first_seen_at": "2026-11-01T11:30:00+00:00",
            },
        ],
    )
    assert [p for page in walk(connect(store), 1) for p in page] == ["utc", "beijing", "seen-only"]


def test_cursor_pages_of_a_search_and_of_a_filter_match_one_big_page(store):
    posts = numbered(90)
    for i, post in enumerate(posts):
        post["sentiment"] = "positive" if i % 3 == 0 else "negative"
        if i % 2:
            post["text"] = f"空调漏水了 {i}"
    add_posts(store, posts)
    db = connect(store)
    for filters in ({"q": "空调漏水"}, {"sentiment": "positive"}, {"q": "空调漏水", "sentiment": "positive"}):
        everything = [row["id"] for row in read.search_posts(db, **filters, limit=500)]
        assert everything
        for drive_limit in (0, 10_000):  # posts read newest first, or picked by the full-text index
            paged = walk(db, 7, **filters, fts_drive_limit=drive_limit)
            assert [i for page in paged for i in page] == everything, (filters, drive_limit)


def test_a_short_word_alone_looks_only_among_the_newest_posts(store):
    add_posts(
        store,
        [
            {"id": "old", "text": "门坏了：老帖子", "created_at": T0.isoformat()},
            *numbered(20, start=T0 + timedelta(days=1), text="别的内容"),
        ],
    )
    db = connect(store)
    assert [r["id"] for r in read.search_posts(db, q="门坏", short_word_window=10)] == []
    assert [r["id"] for r in read.search_posts(db, q="门坏", short_word_window=100)] == ["old"]
    # With a word the full-text index can use, every post is searched.
    assert [r["id"] for r in read.search_posts(db, q="门坏 老帖子", short_word_window=10)] == ["old"]
    # A date range moves the window back to that range.
    day = T0.date().isoformat()
    assert [r["id"] for r in read.search_posts(db, q="门坏", since=day, until=day, short_word_window=1)] == [
        "old"
    ]


@pytest.mark.parametrize("cursor", ["nonsense", "2026-11-01 00:00:00", "2026-13-45 00:00:00~5", "~x"])
def test_a_bad_cursor_is_refused_clearly(store, cursor):
    add_posts(store, numbered(3))
    with pytest.raises(InputError, match="cursor"):
        read.search_posts(connect(store), before=cursor)


@pytest.fixture
def client(store):
    open_db(store).close()
    app = create_app(load_config(), store, environ={"TINGFENG_API_TOKEN": TOKEN})
    return TestClient(app, base_url="http://127.0.0.1:8642")


def test_the_api_pages_by_next_until_null(store, client):
    add_posts(store, numbered(45))
    seen, url = [], "/api/posts?limit=20"
    while url:
        answer = client.get(url, headers=AUTH).json()
        seen += [p["id"] for p in answer["posts"]]
        url = f"/api/posts?limit=20&before={answer['next']}" if answer["next"] else None
    assert seen == [f"p{i:04d}" for i in range(44, -1, -1)]
    # The old offset paging still answers the same posts.
    assert [
        p["id"] for p in client.get("/api/posts?limit=20&offset=40", headers=AUTH).json()["posts"]
    ] == seen[40:]
    bad = client.get("/api/posts?before=garbage", headers=AUTH)
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]


def test_the_posts_page_next_link_keeps_the_filters_and_ends(store, client):
    add_posts(store, numbered(120, text="洗衣机漏水"))
    html = client.get("/posts?q=洗衣机漏水", headers=AUTH).text
    shown = []
    for _ in range(5):
        shown += re.findall(r"洗衣机漏水</mark> (\d+)", html)
        found = re.search(r'href="\?([^"]*)">下一页', html)
        if not found:
            break
        link = found.group(1).replace("&amp;", "&")
        assert "q=" in link and "before=" in link
        html = client.get("/posts?" + link, headers=AUTH).text
        assert "« 最新" in html
    assert shown == [str(i) for i in range(119, -1, -1)]
    # An old page= link still shows the right page.
    assert (
        re.findall(r"洗衣机漏水</mark> (\d+)", client.get("/posts?q=洗衣机漏水&page=3", headers=AUTH).text)[0]
        == "19"
    )


def test_the_posts_page_says_when_a_short_word_is_searched_among_recent_posts_only(store, client):
    add_posts(store, numbered(3))
    assert "只在最新的" in client.get("/posts?q=冰箱", headers=AUTH).text
    assert "只在最新的" not in client.get("/posts?q=冰箱 冰箱门", headers=AUTH).text


def test_hourly_growth_counts_posts_by_instant_at_the_hour_edges(store):
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    times = {
        "in-last-hour": now - timedelta(minutes=59, seconds=59, microseconds=500_000),
        "edge-exactly-one-hour": now - timedelta(hours=1),  # belongs to the hour before
        "previous-hour-beijing": (now - timedelta(minutes=90)).astimezone(BEIJING),
        "too-old": now - timedelta(hours=2),
        "now": now,
    }
    posts = [{"id": key, "text": key, "created_at": moment.isoformat()} for key, moment in times.items()]
    posts.append(
        {
            "id": "latest-seen",
            "text": "x",
            "created_at": (now - timedelta(days=3)).isoformat(),
            "last_seen_at": now.isoformat(),
        }
    )
    add_posts(store, posts)
    db = open_db(store)
    with db.conn:
        db["incidents"].insert(
            {"id": "inc-1", "status": "growing", "severity": "warning", "updated_at": now.isoformat()}
        )
        db["incident_posts"].insert_all(
            [
                {"incident_id": "inc-1", "source": "weibo", "post_id": key, "added_at": now.isoformat()}
                for key in times
            ]
        )
    rows = read.incidents(connect(store))
    assert (rows[0]["last_hour"], rows[0]["previous_hour"], rows[0]["growth"]) == (2, 2, 1.0)
    assert read.data_now(connect(store)) == now


def test_feed_choices_come_from_config_state_and_recent_posts(store):
    add_posts(
        store,
        [{**p, "id": "o" + p["id"], "feed": "old-feed"} for p in numbered(5)]
        + numbered(5, start=T0 + timedelta(days=1)),
    )
    db = connect(store)
    assert read.feed_names(db, ["configured-feed"]) == ["configured-feed", "old-feed", "weibo-search"]


def test_row_counts_add_new_rows_and_recount_a_replaced_store(tmp_path):
    first = tmp_path / "a.db"
    add_posts(first, numbered(4))
    counts = RowCounts("posts", "coalesce(feed, source)")
    assert counts.read(connect(first)) == {"weibo-search": 4}
    add_posts(first, [{**p, "id": "n" + p["id"], "feed": "rss"} for p in numbered(3)])
    assert counts.read(connect(first)) == {"weibo-search": 4, "rss": 3}
    other = tmp_path / "b.db"
    add_posts(other, numbered(2))
    assert counts.read(connect(other)) == {"weibo-search": 2}


def test_a_short_word_beside_a_common_longer_word_is_looked_for_among_the_newest_posts(store):
    add_posts(
        store,
        [
            {"id": "old", "text": "门坏了：老帖子", "created_at": T0.isoformat()},
            *numbered(20, start=T0 + timedelta(days=1), text="老帖子"),
        ],
    )
    db = connect(store)
    # The longer word finds few posts: the index picks them and the short word is checked on all of them.
    assert [r["id"] for r in read.search_posts(db, q="门坏 老帖子", short_word_window=10)] == ["old"]
    # It finds too many to pick: posts are read newest first, and the short word only among the newest.
    found = read.search_posts(db, q="门坏 老帖子", short_word_window=10, fts_drive_limit=5)
    assert found == []


def test_the_feed_filter_takes_a_post_without_feed_by_its_source(store):
    add_posts(
        store,
        [
            *numbered(3),
            {"id": "r1", "text": "新闻", "source": "rss", "feed": None, "created_at": T0.isoformat()},
        ],
    )
    db = connect(store)
    assert [r["id"] for r in read.search_posts(db, feed="rss")] == ["r1"]
    assert len(read.search_posts(db, feed="weibo-search")) == 3
    assert read.search_posts(db, feed="no-such-feed") == []
