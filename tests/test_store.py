from datetime import UTC, datetime

import pytest

from monitor.errors import StoreError
from monitor.normalize import normalize
from monitor.post import Post
from monitor.store import open_db, save_post, stats

NOW = datetime(2011, 9, 27, 10, tzinfo=UTC)


def _save(db, data):
    post = Post.from_dict(data)
    return save_post(db, post, normalize(post.text), now=NOW)


def test_open_db_uses_wal_and_records_migrations(fresh_db):
    assert fresh_db.journal_mode == "wal"
    applied = [row["name"] for row in fresh_db["_sqlite_migrations"].rows]
    assert applied[0] == "m001_core"


def test_a_post_seen_again_is_updated_never_duplicated_and_its_history_kept(fresh_db):
    first = _save(fresh_db, {"id": "1", "text": "门关不上", "reposts": 3, "created_at": "2011-09-27T10:00:00+08:00"})
    again = _save(
        fresh_db,
        {"id": "1", "text": "门关不上", "reposts": 300, "likes": 9, "observed_at": "2011-09-27T14:00:00+08:00"},
    )
    assert (first.is_new, again.is_new, again.text_changed) == (True, False, False)
    rows = list(fresh_db["posts"].rows)
    assert len(rows) == 1
    assert (rows[0]["reposts"], rows[0]["likes"]) == (300, 9)
    assert rows[0]["created_at"] == "2011-09-27T10:00:00+08:00"
    history = [(r["observed_at"], r["reposts"]) for r in fresh_db["observations"].rows_where(order_by="observed_at")]
    assert history == [("2011-09-27T10:00:00+08:00", 3), ("2011-09-27T14:00:00+08:00", 300)]


def test_saving_the_same_observation_twice_changes_nothing(fresh_db):
    data = {"id": "1", "text": "门关不上", "reposts": 3, "created_at": "2011-09-27T10:00:00+08:00"}
    _save(fresh_db, data)
    before = stats(fresh_db)
    _save(fresh_db, data)
    assert stats(fresh_db) == before


def test_same_id_from_two_sources_are_two_posts(fresh_db):
    _save(fresh_db, {"id": "1", "text": "a", "source": "weibo"})
    _save(fresh_db, {"id": "1", "text": "b", "source": "rss"})
    assert fresh_db["posts"].count == 2


def test_raw_json_keeps_unknown_fields_and_normalized_fields_are_stored(fresh_db):
    _save(fresh_db, {"id": "1", "text": "氣死 http://t.cn/x //@甲:門壞了", "pic_num": 3})
    row = next(fresh_db["posts"].rows)
    assert '"pic_num": 3' in row["raw"]
    assert row["text_norm"] == "气死"
    assert '"http://t.cn/x"' in row["urls"]


def test_full_text_search_finds_chinese_substrings(fresh_db):
    _save(fresh_db, {"id": "1", "text": "西门子冰箱门关不上"})
    _save(fresh_db, {"id": "2", "text": "今天天气不错"})
    hits = [row["text"] for row in fresh_db.query("select text from posts_fts where posts_fts match '冰箱门'")]
    assert hits == ["西门子冰箱门关不上"]


def test_an_unopenable_database_is_a_clear_store_error(tmp_path):
    not_a_db = tmp_path / "x.db"
    not_a_db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        open_db(not_a_db)
