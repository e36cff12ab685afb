from datetime import UTC, datetime

import pytest

from monitor.errors import StoreError
from monitor.normalize import normalize
from monitor.post import Post
from monitor.store import open_db, save_post, save_posts, stats

NOW = datetime(2011, 9, 27, 10, tzinfo=UTC)
LATER = datetime(2011, 9, 27, 11, tzinfo=UTC)


def _save(db, data):
    post = Post.from_dict(data)
    return save_post(db, post, normalize(post.text), now=NOW)


def test_open_db_uses_wal_and_records_migrations(fresh_db):
    assert fresh_db.journal_mode == "wal"
    applied = [row["name"] for row in fresh_db["_sqlite_migrations"].rows]
    assert applied[0] == "m001_core"


def test_a_post_seen_again_is_updated_never_duplicated_and_its_history_kept(fresh_db):
    first = _save(
        fresh_db, {"id": "1", "text": "门关不上", "reposts": 3, "created_at": "2011-09-27T10:00:00+08:00"}
    )
    again = _save(
        fresh_db,
        {
            "id": "1",
            "text": "门关不上",
            "reposts": 300,
            "likes": 9,
            "observed_at": "2011-09-27T14:00:00+08:00",
        },
    )
    assert (first.is_new, again.is_new, again.text_changed) == (True, False, False)
    rows = list(fresh_db["posts"].rows)
    assert len(rows) == 1
    assert (rows[0]["reposts"], rows[0]["likes"]) == (300, 9)
    assert rows[0]["created_at"] == "2011-09-27T10:00:00+08:00"
    history = [
        (r["observed_at"], r["reposts"]) for r in fresh_db["observations"].rows_where(order_by="observed_at")
    ]
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
    hits = [
        row["text"] for row in fresh_db.query("select text from posts_fts where posts_fts match '冰箱门'")
    ]
    assert hits == ["西门子冰箱门关不上"]


def test_an_unopenable_database_is_a_clear_store_error(tmp_path):
    not_a_db = tmp_path / "x.db"
    not_a_db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        open_db(not_a_db)


def test_a_batch_saves_what_saving_one_post_at_a_time_saves(tmp_path):
    lines = [
        {
            "id": "1",
            "text": "门关不上",
            "author": "甲",
            "reposts": 3,
            "created_at": "2011-09-27T10:00:00+08:00",
        },
        {"id": "2", "text": "冰箱很好", "likes": 1, "created_at": "2011-09-27T10:05:00+08:00"},
        {"id": "1", "text": "门关不上了", "reposts": 30, "observed_at": "2011-09-27T12:00:00+08:00"},
        {"id": "1", "text": "门关不上了", "likes": 5, "observed_at": "2011-09-27T11:00:00+08:00"},
        {"id": "0", "text": "早就存了", "likes": 2, "observed_at": "2011-09-27T12:30:00+08:00"},
    ]
    posts = [Post.from_dict(line) for line in lines]
    one, batch = open_db(tmp_path / "one.db"), open_db(tmp_path / "batch.db")
    for db in (one, batch):
        _save(db, {"id": "0", "text": "早就存了", "author": "乙", "likes": 1})
    singles = [save_post(one, post, normalize(post.text), now=NOW) for post in posts]
    batched = save_posts(batch, [(post, normalize(post.text), NOW, None) for post in posts])
    flags = [(saved.is_new, saved.text_changed) for saved in batched]
    assert flags == [(s.is_new, s.text_changed) for s in singles]
    assert flags == [(True, True), (True, True), (False, True), (False, False), (False, False)]
    for table in ("posts", "observations"):
        assert list(batch.query(f"select * from {table} order by rowid")) == list(
            one.query(f"select * from {table} order by rowid")
        )
    post = next(batch["posts"].rows_where("id = '1'"))
    assert (post["text"], post["author"], post["reposts"], post["likes"]) == ("门关不上了", "甲", 30, 5)
    assert post["last_seen_at"] == "2011-09-27T12:00:00+08:00"
    hits = [
        row["id"]
        for row in batch.query(
            "select id from posts where rowid in (select rowid from posts_fts where posts_fts match '门关不上了')"
        )
    ]
    assert hits == ["1"]


def test_search_follows_edited_text_and_ignores_count_updates(fresh_db):
    _save(fresh_db, {"id": "1", "text": "西门子冰箱门关不上", "reposts": 1})
    _save(
        fresh_db,
        {"id": "1", "text": "西门子冰箱门关不上", "reposts": 9, "observed_at": "2011-09-28T10:00:00+08:00"},
    )
    search = "select count(*) from posts_fts where posts_fts match ?"
    assert fresh_db.execute(search, ["冰箱门"]).fetchone()[0] == 1
    _save(fresh_db, {"id": "1", "text": "西门子洗衣机漏水", "observed_at": "2011-09-29T10:00:00+08:00"})
    assert fresh_db.execute(search, ["冰箱门"]).fetchone()[0] == 0
    assert fresh_db.execute(search, ["洗衣机"]).fetchone()[0] == 1


def test_posts_written_outside_save_posts_are_still_searchable(fresh_db):
    _save(fresh_db, {"id": "1", "text": "西门子冰箱门关不上"})
    fresh_db.execute(
        "insert into posts (source, id, text, author) values ('weibo', '2', '洗衣机漏水了', '丙')"
    )
    search = "select count(*) from posts_fts where posts_fts match ?"
    assert fresh_db.execute(search, ["冰箱门"]).fetchone()[0] == 1
    assert fresh_db.execute(search, ["洗衣机"]).fetchone()[0] == 1
    assert fresh_db.execute("select count(*) from posts_fts_deferred").fetchone()[0] == 0


def test_a_batch_saved_in_a_transaction_is_searchable_once_and_leaves_direct_inserts_indexed(fresh_db):
    conn = fresh_db.conn
    search = "select count(*) from posts_fts where posts_fts match ?"
    conn.execute("BEGIN IMMEDIATE")
    _save(fresh_db, {"id": "1", "text": "西门子冰箱门关不上"})
    conn.execute("COMMIT")
    conn.execute("BEGIN IMMEDIATE")
    _save(fresh_db, {"id": "2", "text": "空调漏水一整夜"})
    conn.execute("ROLLBACK")
    conn.execute("insert into posts (source, id, text, author) values ('weibo', '3', '洗衣机漏水了', '丙')")
    conn.commit()
    assert fresh_db.execute(search, ["冰箱门"]).fetchone()[0] == 1
    assert fresh_db.execute(search, ["空调漏"]).fetchone()[0] == 0
    assert fresh_db.execute(search, ["洗衣机"]).fetchone()[0] == 1
    assert fresh_db.execute("select count(*) from posts_fts").fetchone()[0] == 2


def test_a_first_start_that_fails_midway_leaves_no_half_made_store(tmp_path, monkeypatch):
    import sqlite3

    import monitor.incidents
    import monitor.store_schema

    def fail(db):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(monitor.store_schema, "MIGRATIONS", ())  # made by running the migrations
    monkeypatch.setattr(monitor.incidents.migrations, "apply", fail)
    path = tmp_path / "new.db"
    with pytest.raises(StoreError, match="disk I/O error"):
        open_db(path)
    conn = sqlite3.connect(path)
    assert conn.execute("select count(*) from sqlite_master").fetchone() == (0,)  # not even the core tables
    conn.close()
    monkeypatch.undo()
    db = open_db(path)  # the next start makes the whole store
    assert {"posts", "incidents", "alerting_outbox"} <= set(db.table_names())
    db.close()


def _schema_and_rows(db):
    """Everything of a store but its pages' places and the migrations' times."""
    schema = db.execute("select type, name, tbl_name, sql from sqlite_master order by rowid").fetchall()
    rows = {
        name: db.execute(f"select * from [{name}]").fetchall()
        for kind, name, *_ in schema
        if kind == "table" and name != "_sqlite_migrations"
    }
    applied = db.execute("select id, migration_set, name from _sqlite_migrations order by id").fetchall()
    pragmas = [db.execute(f"pragma {name}").fetchone() for name in ("user_version", "application_id")]
    return schema, rows, applied, pragmas


def test_a_new_store_is_made_from_the_schema_snapshot_exactly_as_its_migrations_make_it(tmp_path):
    import sqlite_utils

    from monitor import store_schema
    from monitor.store import migrate, schema_snapshot, write_transaction

    migrated = sqlite_utils.Database(tmp_path / "migrated.db")
    with write_transaction(migrated):
        migrate(migrated)
    assert schema_snapshot(migrated) == (store_schema.MIGRATIONS, store_schema.STATEMENTS), (
        "monitor/store_schema.py is out of date: python -m monitor.store_schema"
    )
    snapshot = open_db(tmp_path / "snapshot.db")
    # One moment for all: made in one go, not migration by migration.
    assert len(snapshot.execute("select distinct applied_at from _sqlite_migrations").fetchall()) == 1
    assert _schema_and_rows(snapshot) == _schema_and_rows(migrated)
    # And it works as one: a post saved is found by full-text search, its sort key set.
    _save(snapshot, {"id": "1", "text": "冰箱门关不上", "created_at": "2011-09-27T10:00:00+08:00"})
    assert snapshot.execute("select sort_at from posts").fetchone() == ("2011-09-27 02:00:00",)
    assert snapshot.execute("select rowid from posts_fts where posts_fts match '冰箱门'").fetchall() == [(1,)]
    migrated.close()
    snapshot.close()


def test_a_snapshot_missing_a_migration_is_not_used(tmp_path, monkeypatch):
    from monitor import store_schema

    expected = _schema_and_rows(open_db(tmp_path / "current.db"))
    monkeypatch.setattr(store_schema, "MIGRATIONS", store_schema.MIGRATIONS[:-1])
    monkeypatch.setattr(store_schema, "STATEMENTS", ("create table wrong (a)",))
    db = open_db(tmp_path / "new.db")
    assert _schema_and_rows(db) == expected
    db.close()


def test_a_new_store_whose_snapshot_fails_midway_is_left_empty(tmp_path, monkeypatch):
    import sqlite3

    from monitor import store_schema

    monkeypatch.setattr(store_schema, "STATEMENTS", (*store_schema.STATEMENTS, "create table posts (a)"))
    path = tmp_path / "new.db"
    with pytest.raises(StoreError, match="already exists"):
        open_db(path)
    conn = sqlite3.connect(path)
    assert conn.execute("select count(*) from sqlite_master").fetchone() == (0,)
    conn.close()


def test_a_store_from_before_the_sort_key_migrates_and_pages_its_posts_newest_first(tmp_path):
    import sqlite_utils

    from monitor import store
    from monitor.web import read
    from monitor.web import store as web_store

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    store.migrations.apply(old, stop_before="m007_posts_sort_key")
    web_store.migrations.apply(old, stop_before="m003_feed_index_on_sort_key")
    old["posts"].insert_all(
        [
            {"source": "weibo", "id": "a", "text": "冰箱门关不上", "created_at": "2011-09-27T10:00:00+08:00"},
            {
                "source": "weibo",
                "id": "b",
                "text": "冰箱门又坏了",
                "first_seen_at": "2011-09-27T03:00:00+00:00",
            },
        ]
    )
    old.close()
    db = open_db(path)
    rows = {r["id"]: r["sort_at"] for r in db.query("select id, sort_at from posts")}
    assert rows == {"a": "2011-09-27 02:00:00", "b": "2011-09-27 03:00:00"}
    _save(
        db,
        {"id": "c", "source": "weibo", "text": "洗衣机漏水了", "created_at": "2011-09-27T12:00:00+08:00"},
    )
    indexes = {
        row["name"]: row["sql"]
        for row in db.query("select name, sql from sqlite_master where type = 'index'")
    }
    assert "sort_at" in indexes["posts_newest"] and "sort_at" in indexes["posts_feed_newest"]
    assert not any("datetime(coalesce" in (sql or "") for sql in indexes.values())
    assert "idx_posts_created_at" not in indexes and "idx_posts_author" not in indexes
    assert [r["id"] for r in read.search_posts(db, q="冰箱门")] == ["b", "a"]
    assert [r["id"] for r in read.search_posts(db)] == ["c", "b", "a"]


def test_sort_at_follows_a_created_at_learned_later_and_posts_written_by_other_tools(fresh_db):
    _save(fresh_db, {"id": "1", "text": "门关不上", "observed_at": "2011-09-27T10:00:00+08:00"})
    _save(fresh_db, {"id": "1", "text": "门关不上", "created_at": "2011-09-27T09:00:00+08:00"})
    fresh_db.execute(
        "insert into posts (source, id, text, created_at) values ('weibo', '2', '洗衣机漏水了', '2011-09-27T12:00:00Z')"
    )
    # A writer that re-dates a post, and one that inserts while save_posts' deferral row is there (a monitor of
    # the version before sort_at, running beside a dashboard that migrated the store).
    fresh_db.execute("update posts set created_at = '2011-09-28T08:00:00+08:00' where id = '1'")
    with fresh_db.conn:
        fresh_db.execute("insert into posts_fts_deferred (since) values (1)")
        fresh_db.execute(
            "insert into posts (source, id, text, first_seen_at) values ('weibo', '3', '空调漏水', '2011-09-29T00:00:00Z')"
        )
        fresh_db.execute("delete from posts_fts_deferred")
    rows = dict(fresh_db.execute("select id, sort_at from posts").fetchall())
    assert rows == {"1": "2011-09-28 00:00:00", "2": "2011-09-27 12:00:00", "3": "2011-09-29 00:00:00"}


def test_raw_is_the_post_as_to_dict_gives_it_whatever_fields_it_has(fresh_db):
    import json

    posts = [
        Post.from_dict(
            {"pic_num": 3, "id": "1", "text": "门关不上", "likes": "1.2万", "author_verified": True}
        ),
        Post.from_dict(
            {
                "id": "2",
                "text": '引号"和\\反斜杠',
                "created_at": "2011-09-27T10:00:00+08:00",
                "observed_at": "2011-09-27T11:00:00Z",
                "reposts": 0,
            }
        ),
        # Times without an offset: stored as UTC, kept in raw as given.
        Post(
            id="3", text="冰箱", created_at=datetime(2011, 9, 27, 10), observed_at=datetime(2011, 9, 27, 11)
        ),
        Post(
            id="4", text="冰箱", extra={"likes": 7, "tags": ["a"]}, likes=8, created_at=datetime(2011, 9, 27)
        ),
    ]
    save_posts(fresh_db, [(post, normalize(post.text), NOW, None) for post in posts])
    rows = {row["id"]: row for row in fresh_db.query("select * from posts")}
    for post in posts:
        assert rows[post.id]["raw"] == json.dumps(post.to_dict(), ensure_ascii=False)
    assert (rows["3"]["created_at"], rows["3"]["last_seen_at"]) == (
        "2011-09-27T10:00:00+00:00",
        "2011-09-27T11:00:00+00:00",
    )


def test_batches_of_any_size_store_and_index_every_post(fresh_db):
    for size, start in ((1, 0), (150, 1), (64, 151), (127, 215)):
        posts = [
            Post(id=str(i), text=f"冰箱{i:04d}号", reposts=i, created_at=NOW)
            for i in range(start, start + size)
        ]
        save_posts(fresh_db, [(post, normalize(post.text), NOW, None) for post in posts])
    # 42 seen again with new counts, among 58 new posts.
    again = [
        Post(id=str(i), text=f"冰箱{i:04d}号", reposts=i + 1, observed_at=LATER) for i in range(300, 400)
    ]
    save_posts(fresh_db, [(post, normalize(post.text), NOW, None) for post in again])
    assert fresh_db.execute("select count(*), sum(reposts) from posts").fetchone() == (
        400,
        sum(range(400)) + 100,
    )
    assert fresh_db.execute("select count(*) from observations").fetchone() == (342 + 100,)
    search = "select count(*) from posts_fts where posts_fts match ?"
    assert [fresh_db.execute(search, [f"{i:04d}号"]).fetchone()[0] for i in (0, 1, 150, 214, 341, 399)] == [
        1
    ] * 6
