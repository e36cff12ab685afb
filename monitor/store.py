"""The post store: one SQLite file (WAL), its schema made only by sqlite-utils migrations.

All writes of posts, observations and classifications live here; other areas (incidents, alerting, feeds)
own their own migration sets, registered in ``MIGRATION_SETS`` so that ``open_db`` applies them all. A new store
is made from ``monitor.store_schema``, the schema those migrations make written out (tests hold the two equal).
"""

from __future__ import annotations

import importlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from monitor import store_schema
from monitor.errors import StoreError
from monitor.normalize import Normalized
from monitor.post import Post

logger = logging.getLogger(__name__)


# One encoder for every post's JSON: json.dumps makes a new one at each call given options.
_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode

migrations = Migrations("tingfeng")

# Other areas' migration sets, as "module:attribute", applied after the core set in this order.
MIGRATION_SETS: tuple[str, ...] = (
    "monitor.incidents:migrations",
    "monitor.alerting.store:migrations",
    "monitor.feeds.store:migrations",
    "monitor.web.store:migrations",
    "monitor.registry:migrations",
)


@migrations()
def m001_core(db: sqlite_utils.Database) -> None:
    db["posts"].create(
        {
            "source": str,
            "id": str,
            "text": str,
            "text_norm": str,
            "url": str,
            "author": str,
            "author_followers": int,
            "author_verified": int,
            "created_at": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "reposts": int,
            "comments": int,
            "likes": int,
            "urls": str,
            "mentions": str,
            "repost_chain": str,
            "emoticons": str,
            "feed": str,
            "brand": str,
            "deleted": int,
            "raw": str,
        },
        pk=("source", "id"),
        not_null={"text"},
        defaults={"deleted": 0},
    )
    db["posts"].create_index(["created_at"])
    db["posts"].create_index(["author"])
    db["observations"].create(
        {
            "source": str,
            "post_id": str,
            "observed_at": str,
            "reposts": int,
            "comments": int,
            "likes": int,
        },
        pk=("source", "post_id", "observed_at"),
        foreign_keys=[(("source", "post_id"), "posts", ("source", "id"))],
    )
    db["classifications"].create(
        {
            "source": str,
            "post_id": str,
            "model_version": str,
            "sentiment": str,
            "p_negative": float,
            "p_neutral": float,
            "p_positive": float,
            "escalation": str,
            "escalation_score": float,
            "classified_at": str,
        },
        pk=("source", "post_id", "model_version"),
        foreign_keys=[(("source", "post_id"), "posts", ("source", "id"))],
    )
    db["classifications"].create_index(["sentiment"])
    db["classifications"].create_index(["escalation"])
    db["incidents"].create(
        {
            "id": str,
            "title": str,
            "brand": str,
            "feed": str,
            "status": str,
            "severity": str,
            "score": float,
            "first_post_at": str,
            "last_post_at": str,
            "updated_at": str,
            "n_posts": int,
            "n_authors": int,
            "reach": int,
            "summary": str,
            "reasons": str,
        },
        pk="id",
    )
    db["incident_posts"].create(
        {"incident_id": str, "source": str, "post_id": str, "added_at": str},
        pk=("incident_id", "source", "post_id"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["alerts"].create(
        {
            "alert_id": str,
            "incident_id": str,
            "severity": str,
            "status": str,
            "fired_at": str,
            "title": str,
            "summary": str,
            "post_ids": str,
            "reasons": str,
            "receiver": str,
        },
        pk="alert_id",
    )
    db["alerts"].create_index(["incident_id"])
    db["feed_state"].create(
        {
            "feed": str,
            "cursor": str,
            "since_id": str,
            "etag": str,
            "last_modified": str,
            "last_run_at": str,
            "last_success_at": str,
            "next_run_at": str,
            "error_streak": int,
            "last_error": str,
            "items_last_run": int,
            "paused": int,
        },
        pk="feed",
        defaults={"error_streak": 0, "paused": 0},
    )
    db["labels"].create(
        {
            "id": int,
            "source": str,
            "post_id": str,
            "text": str,
            "task": str,
            "label": str,
            "labeller": str,
            "origin": str,
            "created_at": str,
        },
        pk="id",
    )
    db["labels"].create_index(["source", "post_id", "task"])
    db["models"].create(
        {
            "version": str,
            "path": str,
            "created_at": str,
            "metrics": str,
            "data_hashes": str,
            "active": int,
            "promoted_at": str,
            "promoted_by": str,
            "notes": str,
        },
        pk="version",
        defaults={"active": 0},
    )
    db["replay_progress"].create(
        {"input": str, "sha256": str, "lines_done": int, "updated_at": str},
        pk="input",
    )
    db["detector_state"].create({"name": str, "state": str, "updated_at": str}, pk="name")
    # Chinese has no spaces between words: trigram tokens let any 3+ character substring match.
    db["posts"].enable_fts(["text", "author"], tokenize="trigram", create_triggers=True)


@migrations()
def m002_fts_on_text_changes_only(db: sqlite_utils.Database) -> None:
    # Re-observations update counts on every fetch; re-indexing the text each time cost a third of a post save.
    db.execute('DROP TRIGGER IF EXISTS "posts_au"')
    db.execute(
        'CREATE TRIGGER "posts_au" AFTER UPDATE OF "text", "author" ON "posts" BEGIN\n'
        '  INSERT INTO "posts_fts" ("posts_fts", rowid, "text", "author") '
        'VALUES(\'delete\', old.rowid, old."text", old."author");\n'
        '  INSERT INTO "posts_fts" (rowid, "text", "author") VALUES (new.rowid, new."text", new."author");\n'
        "END"
    )


@migrations()
def m003_incident_commands(db: sqlite_utils.Database) -> None:
    # Requests from people (the dashboard, the CLI) that the running pipeline applies to its detector.
    db["incident_commands"].create(
        {
            "id": int,
            "incident_id": str,
            "action": str,
            "requested_by": str,
            "requested_at": str,
            "done_at": str,
            "result": str,
        },
        pk="id",
    )


@migrations()
def m004_posts_by_id(db: sqlite_utils.Database) -> None:
    # Alerts name their evidence posts by id alone: without this, each lookup read the whole posts table.
    db["posts"].create_index(["id"], if_not_exists=True)


@migrations()
def m005_fts_per_batch(db: sqlite_utils.Database) -> None:
    # FTS5 writes its pending terms out as a new segment at every savepoint, and a trigger runs inside one:
    # indexing each post from its insert trigger made a segment per post, then merged them, which cost most of a
    # batch's save. save_posts indexes a batch's new posts in one statement instead, while a row in
    # posts_fts_deferred (only ever there inside its transaction) tells the trigger to leave them to it; other
    # writers (tools, tests) still have their rows indexed by the trigger.
    db.execute("CREATE TABLE posts_fts_deferred (since INTEGER)")
    db.execute('DROP TRIGGER IF EXISTS "posts_ai"')
    db.execute(
        'CREATE TRIGGER "posts_ai" AFTER INSERT ON "posts" WHEN NOT EXISTS (SELECT 1 FROM posts_fts_deferred) '
        'BEGIN\n  INSERT INTO "posts_fts" (rowid, "text", "author") VALUES (new.rowid, new."text", new."author");\n'
        "END"
    )


@migrations()
def m006_dashboard_indexes(db: sqlite_utils.Database) -> None:
    # The dashboard's newest-posts page and its store clock sorted or scanned the whole posts table (37 s at five
    # million posts). The expressions must stay exactly those of monitor/web/read.py: NEWEST and data_now.
    db.execute(
        "CREATE INDEX IF NOT EXISTS posts_newest ON posts (datetime(coalesce(created_at, first_seen_at)))"
    )
    db.execute("CREATE INDEX IF NOT EXISTS posts_last_seen ON posts (datetime(last_seen_at))")
    # The labelling queue (monitor/queue.py) reads the newest posts by first_seen_at: 11 s at a million posts.
    db.execute("CREATE INDEX IF NOT EXISTS posts_first_seen ON posts (first_seen_at)")


@migrations()
def m007_posts_sort_key(db: sqlite_utils.Database) -> None:
    # The dashboard orders posts by coalesce(created_at, first_seen_at) in UTC. Indexed as datetime(...), that
    # expression was evaluated for every index entry a save wrote: save_posts now stores it once, in sort_at.
    db["posts"].add_column("sort_at", str)
    db.execute("UPDATE posts SET sort_at = datetime(coalesce(created_at, first_seen_at))")
    db.execute("DROP INDEX IF EXISTS posts_newest")
    db.execute("CREATE INDEX posts_newest ON posts (sort_at)")
    # Nothing reads posts by created_at or by author alone (search goes through the full-text index): each was
    # one more B-tree to write for every post.
    db.execute("DROP INDEX IF EXISTS idx_posts_created_at")
    db.execute("DROP INDEX IF EXISTS idx_posts_author")
    # save_posts writes sort_at itself; these keep it right for rows other writers insert or re-date (tools,
    # tests, a monitor of an older version still running beside a newer dashboard). Their conditions make them
    # no-ops for save_posts' own rows.
    db.execute(
        'CREATE TRIGGER "posts_sort_at_ai" AFTER INSERT ON "posts" WHEN new.sort_at IS NULL BEGIN\n'
        "  UPDATE posts SET sort_at = datetime(coalesce(new.created_at, new.first_seen_at)) WHERE rowid = new.rowid;\n"
        "END"
    )
    db.execute(
        'CREATE TRIGGER "posts_sort_at_au" AFTER UPDATE OF created_at, first_seen_at ON "posts" '
        "WHEN new.sort_at IS NOT datetime(coalesce(new.created_at, new.first_seen_at)) BEGIN\n"
        "  UPDATE posts SET sort_at = datetime(coalesce(new.created_at, new.first_seen_at)) WHERE rowid = new.rowid;\n"
        "END"
    )


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the store at ``path`` in WAL mode with every migration applied."""
    path = Path(path)
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.enable_wal()
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        if conn.execute("select count(*) from sqlite_master").fetchone()[0]:
            migrate(db)
        else:
            # A new store is made in one transaction: a failed first start leaves no half-made schema, and the
            # tables are committed once instead of once per migration (a third of the time to open).
            with write_transaction(db):
                if not _create_from_snapshot(db):
                    migrate(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"cannot create database {path}: {exc.strerror or exc}") from exc
    return db


def migrate(db: sqlite_utils.Database) -> None:
    """Apply every pending migration, core first."""
    for migration_set in _migration_sets():
        migration_set.apply(db)


def _migration_sets() -> list[Migrations]:
    """The core migration set, then those of ``MIGRATION_SETS`` in order."""
    sets = [migrations]
    for spec in MIGRATION_SETS:
        module_name, _, attribute = spec.partition(":")
        sets.append(getattr(importlib.import_module(module_name), attribute))
    return sets


def _create_from_snapshot(db: sqlite_utils.Database) -> bool:
    """Make the empty store ``db`` what the migrations would, from ``monitor.store_schema``; False (nothing done)
    when the snapshot does not hold exactly the migrations registered now (True, nothing done, when none is
    pending: another process made the store first).

    Running the migrations costs about 100 million instructions (sqlite-utils looks at the schema again before
    and after each change), two percent of a short replay; the statements they end with, a sixth of that.
    """
    registered = tuple(
        (migration_set.name, migration.name)
        for migration_set in _migration_sets()
        for migration in migration_set.pending(db)
    )
    if not registered:  # another process made it between our look and our write lock
        return True
    if registered != store_schema.MIGRATIONS:
        logger.debug("store schema snapshot out of date: new store made by its migrations")
        return False
    for statement in store_schema.STATEMENTS:
        db.conn.execute(statement)
    applied_at = str(datetime.now(UTC))  # as sqlite-utils records it
    db.conn.executemany(
        f"insert into {Migrations.migrations_table} (migration_set, name, applied_at) values (?, ?, ?)",
        [(set_name, name, applied_at) for set_name, name in registered],
    )
    return True


def schema_snapshot(db: sqlite_utils.Database) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The migrations applied to ``db`` (set, name) in order, and the statements that make its schema again in the
    order SQLite recorded them, for ``monitor.store_schema``. The tables a virtual table keeps for itself (FTS5's)
    are left to it.
    """
    applied = db.execute(
        f"select migration_set, name from {Migrations.migrations_table} order by id"
    ).fetchall()
    own = {name for _, name, kind, *_ in db.execute("pragma table_list").fetchall() if kind == "shadow"}
    statements = db.execute(
        "select name, tbl_name, sql from sqlite_master where sql is not null order by rowid"
    ).fetchall()
    return (
        tuple(map(tuple, applied)),
        tuple(sql for name, table, sql in statements if name not in own and table not in own),
    )


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One transaction that takes SQLite's write lock up front (``BEGIN IMMEDIATE``); nested: a savepoint.

    SQLite's busy timeout does not apply when a read transaction is upgraded to a write, so a deferred BEGIN
    that reads before it writes fails at once ("database is locked") whenever another process (the dashboard,
    the CLI) has written in between.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@dataclass(slots=True)
class SavedPost:
    """What ``save_post`` learned: whether the post was new and whether its text changed."""

    post: Post
    normalized: Normalized
    is_new: bool
    text_changed: bool


def iso(moment: datetime) -> str:
    """The stored form of a time: ISO-8601 with its offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def save_post(
    db: sqlite_utils.Database,
    post: Post,
    normalized: Normalized,
    *,
    now: datetime,
    tags: dict[str, str] | None = None,
) -> SavedPost:
    """Upsert ``post`` and record this observation of its counts; never duplicates a post."""
    return save_posts(db, [(post, normalized, now, tags)])[0]


def save_posts(
    db: sqlite_utils.Database,
    items: Sequence[tuple[Post, Normalized, datetime, dict[str, str] | None]],
) -> list[SavedPost]:
    """``save_post`` for each ``(post, normalized, now, tags)`` in order, in a few statements for the batch.

    A post seen twice in the batch is written once, as the second save would leave it.
    """
    known = _get_many(db, {post.key for post, *_ in items})
    stored = dict(known)
    inserts: dict[tuple[str, str], dict[str, Any]] = {}
    updates: dict[tuple[str, str], dict[str, Any]] = {}
    observations = []
    out = []
    for post, normalized, now, tags in items:
        key = post.key
        # Each time is formatted once, for its column and for raw alike: isoformat() is a tenth of a save.
        created, created_raw = _formatted(post.created_at)
        observed, observed_raw = _formatted(post.observed_at)
        seen = observed or created or iso(now)  # iso(post.seen_at or now)
        existing = known.get(key)
        row = _post_row(
            post, normalized, tags or {}, seen, created, _json(post.to_dict((created_raw, observed_raw)))
        )
        if existing is None:
            row["first_seen_at"] = seen
            inserts[key] = row
            text_changed = True
        else:
            # A re-observation without counts (or author data) must not erase the ones we had.
            for name in _KEEP_IF_MISSING:
                if row[name] is None:
                    row[name] = existing[name]
            if existing["last_seen_at"] and existing["last_seen_at"] > seen:
                row["last_seen_at"] = existing["last_seen_at"]
            text_changed = existing["text"] != post.text
            if key in inserts:
                inserts[key].update(row)
            else:
                updates[key] = row
        known[key] = row
        if post.reposts is not None or post.comments is not None or post.likes is not None:
            observations.append((post.source, post.id, seen, post.reposts, post.comments, post.likes))
        out.append(
            SavedPost(post=post, normalized=normalized, is_new=existing is None, text_changed=text_changed)
        )
    # Plain SQL on the hot path: sqlite-utils' insert() introspects the table on every call.
    conn = db.conn
    if inserts:
        names = list(next(iter(inserts.values())))
        values = itemgetter(*names, "created_at", "first_seen_at")
        conn.execute("insert into posts_fts_deferred (since) values (1)")
        try:
            # sort_at is coalesce(created_at, first_seen_at) as SQLite's datetime() gives it (see m007).
            _insert_rows(
                conn,
                "insert into posts",
                [*names, "sort_at"],
                list(map(values, inserts.values())),
                row_sql=f"({'?, ' * len(names)}datetime(coalesce(?, ?)))",
            )
            _index_text(conn, list(inserts))
        finally:
            conn.execute("delete from posts_fts_deferred")
    # The full-text index follows text and author through a trigger on an update that sets them: set them only
    # where they changed, so that a re-observation's new counts leave the index alone.
    # Likewise the indexed columns a re-observation rarely changes (created_at, which sort_at follows, and feed)
    # are set only where they changed, which spares SQLite rewriting those index entries.
    statements: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for key, row in updates.items():
        before = stored[key]
        skip = _SKIP_ON_UPDATE if _text_edited(row, before) else _SKIP_ON_COUNT_UPDATE
        names = tuple(
            name
            for name in row
            if name not in skip and not (name in _INDEXED_KNOWN and row[name] == before[name])
        )
        statements.setdefault(names, []).append(row)
    for names, rows in statements.items():
        assignments = [f"{n} = :{n}" for n in names]
        if "created_at" in names:
            assignments.append("sort_at = datetime(coalesce(:created_at, first_seen_at))")
        conn.executemany(
            f"update posts set {', '.join(assignments)} where source = :source and id = :id",
            rows,
        )
    if observations:
        _insert_rows(conn, "insert or replace into observations", _OBSERVATION_COLUMNS, observations)
    return out


def _insert_rows(
    conn: sqlite3.Connection, head: str, names: Sequence[str], rows: list[Sequence[Any]], *, row_sql: str = ""
) -> None:
    """``{head} (names) values (row), (row)...`` for ``rows``, many rows a statement; each row's values are bound
    into ``row_sql`` (by default one ``?`` a name).

    Not executemany (one statement a row): a statement that may write more than one row (an insert trigger, a
    replace) first copies each page it changes to a statement journal, a temporary file once it outgrows memory;
    a statement per row copied the same pages again for every row. (Classifications' upsert measured no faster
    this way.) The statements hold a few sizes of rows only, each compiled once per connection: compiling a
    statement of many rows costs more than running it.
    """
    one = row_sql or f"({', '.join('?' * len(names))})"
    start = 0
    for size in _statement_sizes(len(rows)):
        conn.execute(
            f"{head} ({', '.join(names)}) values {', '.join([one] * size)}",
            list(chain.from_iterable(rows[start : start + size])),
        )
        start += size


def _statement_sizes(count: int) -> list[int]:
    """``count`` rows as statements of ``_ROWS_PER_STATEMENT`` rows, then of halves of it down to one row."""
    sizes = [_ROWS_PER_STATEMENT] * (count // _ROWS_PER_STATEMENT)
    size = _ROWS_PER_STATEMENT
    while count % _ROWS_PER_STATEMENT:
        size //= 2
        if count & size:
            sizes.append(size)
            count -= size
    return sizes


def _text_edited(row: dict[str, Any], stored: dict[str, Any]) -> bool:
    return row["text"] != stored["text"] or row["author"] != stored["author"]


def _index_text(conn: sqlite3.Connection, keys: list[tuple[str, str]]) -> None:
    """Add the posts ``keys`` (just inserted, while the insert trigger was deferred) to the full-text index.

    In the order given (that of their rowids): FTS5 starts a new segment whenever a rowid goes down.
    """
    conn.execute(
        f'insert into posts_fts (rowid, "text", "author") select p.rowid, p."text", p."author" from {_KEYS_JOIN}',
        [_json(keys)],
    )


def _post_row(
    post: Post, normalized: Normalized, tags: dict[str, str], seen: str, created: str | None, raw: str
) -> dict[str, Any]:
    return {
        "source": post.source,
        "id": post.id,
        "text": post.text,
        "text_norm": normalized.text_norm,
        "url": post.url,
        "author": post.author,
        "author_followers": post.author_followers,
        "author_verified": None if post.author_verified is None else int(post.author_verified),
        "created_at": created,
        "reposts": post.reposts,
        "comments": post.comments,
        "likes": post.likes,
        "urls": _json_list(normalized.urls),
        "mentions": _json_list(normalized.mentions),
        "repost_chain": _json_list(normalized.repost_chain),
        "emoticons": _json_list(normalized.emoticons),
        "feed": tags.get("feed"),
        "brand": tags.get("brand"),
        "raw": raw,
        "last_seen_at": seen,
    }


def _formatted(moment: datetime | None) -> tuple[str | None, str | None]:
    """``moment`` as stored (``iso``) and as ``Post.to_dict`` writes it, formatted once."""
    if moment is None:
        return None, None
    text = moment.isoformat()
    return (text if moment.tzinfo is not None else iso(moment)), text


def _json_list(items: list[Any]) -> str:
    return _json(items) if items else "[]"


_KEEP_IF_MISSING = (
    "reposts",
    "comments",
    "likes",
    "author_followers",
    "author_verified",
    "url",
    "author",
    "created_at",
    "feed",
    "brand",
)
_KNOWN_COLUMNS = ("source", "id", "text", "last_seen_at", *_KEEP_IF_MISSING)
_SKIP_ON_UPDATE = ("source", "id")
_SKIP_ON_COUNT_UPDATE = ("source", "id", "text", "author")
# Known columns (read back by _get_many) that posts' indexes hold, left out of an update that keeps them.
_INDEXED_KNOWN = ("created_at", "feed")
# The posts whose keys are in a JSON array, bound as one value: one statement for any number of keys, compiled
# once per connection (a statement of hundreds of "(?, ?)" cost more to compile than to run). A join, not
# "(source, id) in (...)": SQLite answers that by reading every post.
_KEYS_JOIN = (
    "json_each(?) k join posts p "
    "on p.source = json_extract(k.value, '$[0]') and p.id = json_extract(k.value, '$[1]')"
)
# A power of two (see _statement_sizes). Fewer rows a statement journal the same index pages more often; more
# rows cost more to compile: measured at 32 to 256 rows, 64 did about the least work of the two.
_ROWS_PER_STATEMENT = 64
_OBSERVATION_COLUMNS = ("source", "post_id", "observed_at", "reposts", "comments", "likes")


def _get_many(db: sqlite_utils.Database, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored columns save_posts needs, for each of ``keys`` already in the posts table."""
    if not keys:
        return {}
    cursor = db.conn.execute(
        f"select {', '.join('p.' + name for name in _KNOWN_COLUMNS)} from {_KEYS_JOIN}", [_json(sorted(keys))]
    )
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in cursor.fetchall():
        record = dict(zip(_KNOWN_COLUMNS, row, strict=True))
        found[(record["source"], record["id"])] = record
    return found


def classified_versions(db: sqlite_utils.Database, key: tuple[str, str]) -> set[str]:
    """Model versions that have already classified the post ``key``."""
    return {
        row["model_version"]
        for row in db.query("select model_version from classifications where source = ? and post_id = ?", key)
    }


def upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """An ``insert`` of ``columns`` (values positional) that updates every other column of the row whose ``key``
    columns match instead (its rowid stays)."""
    updates = ", ".join(f"[{name}] = excluded.[{name}]" for name in columns if name not in key)
    return (
        f"insert into [{table}] ({', '.join(f'[{name}]' for name in columns)}) "
        f"values ({', '.join('?' * len(columns))}) "
        f"on conflict({', '.join(f'[{name}]' for name in key)}) do update set {updates}"
    )


CLASSIFICATION_COLUMNS = (
    "source",
    "post_id",
    "model_version",
    "sentiment",
    "p_negative",
    "p_neutral",
    "p_positive",
    "escalation",
    "escalation_score",
    "classified_at",
)
_UPSERT_CLASSIFICATION = upsert_sql(
    "classifications", CLASSIFICATION_COLUMNS, ("source", "post_id", "model_version")
)


def save_classifications(db: sqlite_utils.Database, rows: Iterable[Sequence[Any]]) -> None:
    """Upsert classification rows (one per post and model version), their values in ``CLASSIFICATION_COLUMNS``'
    order: positional values bind without a dict made and searched by name for every row."""
    db.conn.executemany(_UPSERT_CLASSIFICATION, rows)


def stats(db: sqlite_utils.Database) -> dict[str, int]:
    """Row counts of the main tables, for ``tingfeng db stats``."""
    names = [
        "posts",
        "observations",
        "classifications",
        "incidents",
        "incident_posts",
        "alerts",
        "feed_state",
        "labels",
        "models",
    ]
    return {name: db[name].count for name in names if db[name].exists()}
