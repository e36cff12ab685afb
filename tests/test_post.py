from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.errors import InputError
from monitor.post import Post


def test_from_dict_reads_every_contract_field_and_keeps_unknown_ones():
    post = Post.from_dict(
        {
            "id": "4623",
            "text": "冰箱门关不上",
            "source": "weibo",
            "url": "https://m.weibo.cn/detail/4623",
            "author": "老罗",
            "author_followers": 1_200_000,
            "author_verified": True,
            "created_at": "2011-09-27T10:00:00+08:00",
            "observed_at": "2011-09-27T12:00:00+08:00",
            "reposts": 3,
            "comments": 4,
            "likes": 5,
            "brand": "西门子",
            "pic_num": 2,
        }
    )
    assert post.key == ("weibo", "4623")
    assert post.created_at == datetime(2011, 9, 27, 2, tzinfo=UTC)
    assert post.seen_at == datetime(2011, 9, 27, 12, tzinfo=timezone(timedelta(hours=8)))
    assert post.extra == {"brand": "西门子", "pic_num": 2}
    assert post.to_dict()["pic_num"] == 2
    assert post.to_dict()["created_at"] == "2011-09-27T10:00:00+08:00"


def test_defaults_source_and_accepts_integer_ids():
    post = Post.from_dict({"id": 42, "text": "hi"})
    assert post.key == ("replay", "42")
    assert post.seen_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "x"}, "missing required field 'id'"),
        ({"id": "1"}, "missing required field 'text'"),
        ({"id": "1", "text": 5}, "field 'text' must be a string"),
        ({"id": " ", "text": "x"}, "field 'id' is empty"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_invalid_posts_say_which_field_is_wrong(data, message):
    with pytest.raises(InputError, match=message):
        Post.from_dict(data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reposts", "many", "field 'reposts' must be an integer"),
        ("likes", -1, "must not be negative"),
        ("author_verified", "yes", "must be true or false"),
        ("created_at", "昨天 10:00", "not an ISO-8601 time"),
        ("author", 123, "field 'author' must be a string"),
    ],
)
def test_a_bad_optional_field_is_ignored_and_reported_but_the_post_is_kept(field, value, message):
    post = Post.from_dict({"id": "1", "text": "冰箱门关不上", "likes": 3, field: value})
    assert post.text == "冰箱门关不上"
    assert getattr(post, field) is None
    assert [p for p in post.problems if message in p]
    # The raw value is not lost: it stays with the post's other fields.
    assert post.to_dict()[field] == value


@pytest.mark.parametrize(
    "data",
    [
        {"id": "1", "text": "冰箱\ud800"},
        {"id": "1", "text": "冰箱", "brand": {"name": ["海尔", "\udfff"]}},
        {"id": "1", "text": "冰箱", "\ud800key": 1},
    ],
)
def test_a_lone_surrogate_anywhere_in_the_post_rejects_it(data):
    with pytest.raises(InputError, match="lone surrogate"):
        Post.from_dict(data)


def test_nested_unicode_extra_fields_are_kept():
    post = Post.from_dict({"id": "1", "text": "冰箱", "tags": ["海尔", {"城市": "青岛"}], "score": 1.5})
    assert post.extra == {"tags": ["海尔", {"城市": "青岛"}], "score": 1.5}
