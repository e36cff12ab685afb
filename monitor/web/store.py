"""The dashboard's own tables (migration set ``tingfeng.web``): users, the session secret, incident notes.

Passwords are stored as scrypt hashes with a per-user random salt, in one self-describing string
(``scrypt$n$r$p$salt$hash``) so the cost can be raised later without breaking old hashes. The session
secret is generated once and kept here, so sessions survive a restart and nothing secret lives in config.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from monitor.errors import InputError, StoreError

logger = logging.getLogger(__name__)

migrations = Migrations("tingfeng.web")

DEFAULT_USER = "admin"
MIN_PASSWORD_LENGTH = 8
# scrypt cost: 2**14 * 8 * 128 bytes = 16 MiB of memory and ~50 ms per check on this class of machine.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@migrations()
def m001_web(db: sqlite_utils.Database) -> None:
    db["web_users"].create(
        {"username": str, "password_hash": str, "created_at": str, "updated_at": str},
        pk="username",
    )
    db["web_settings"].create({"key": str, "value": str}, pk="key")
    db["web_notes"].create(
        {"id": int, "incident_id": str, "author": str, "text": str, "created_at": str},
        pk="id",
    )
    db["web_notes"].create_index(["incident_id"])


@migrations()
def m002_dashboard_indexes(db: sqlite_utils.Database) -> None:
    # The posts page filtered by feed read the whole posts_newest index when a feed had few posts (50 s at five
    # million), and /metrics counted posts by feed and classifications by model over the whole tables. The
    # expressions are those of read.search_posts and metrics.StoreCollector.
    db.execute(
        "CREATE INDEX IF NOT EXISTS posts_feed_newest"
        " ON posts (coalesce(feed, source), datetime(coalesce(created_at, first_seen_at)))"
    )
    db.execute("CREATE INDEX IF NOT EXISTS classifications_by_model ON classifications (model_version)")


@migrations()
def m003_feed_index_on_sort_key(db: sqlite_utils.Database) -> None:
    # The core store keeps coalesce(created_at, first_seen_at) in UTC as posts.sort_at (its m007): index that
    # instead of evaluating datetime() for every index entry a save writes.
    db.execute("DROP INDEX IF EXISTS posts_feed_newest")
    db.execute("CREATE INDEX posts_feed_newest ON posts (coalesce(feed, source), sort_at)")


def connect(path: str | Path) -> sqlite_utils.Database:
    """A connection for one request: WAL is already on (``open_db`` set it), so readers never block writers."""
    try:
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    return sqlite_utils.Database(conn)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``password``: ``scrypt$n$r$p$salt_hex$hash_hex``."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=64 * 1024 * 1024,
        dklen=32,
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
            dklen=len(digest_hex) // 2,
        )
    except (ValueError, TypeError):
        logger.warning("unreadable password hash in web_users; refusing the login")
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def set_password(db: sqlite_utils.Database, username: str, password: str) -> None:
    """Create the user or replace its password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    stamp = datetime.now(UTC).isoformat()  # full precision: it also marks sessions from before the change
    existing = list(db.query("select created_at from web_users where username = ?", [username]))
    db["web_users"].upsert(
        {
            "username": username,
            "password_hash": hash_password(password),
            "created_at": existing[0]["created_at"] if existing else stamp,
            "updated_at": stamp,
        },
        pk="username",
    )


def verify_login(db: sqlite_utils.Database, username: str, password: str) -> bool:
    """Whether ``username`` exists and ``password`` is its password."""
    rows = list(db.query("select password_hash from web_users where username = ?", [username]))
    if not rows:
        # Spend the same time as a real check, so a wrong user name is not told apart by timing.
        check_password(password, _dummy_hash())
        return False
    return check_password(password, rows[0]["password_hash"])


def has_users(db: sqlite_utils.Database) -> bool:
    return db["web_users"].count > 0


def ensure_initial_password(db: sqlite_utils.Database, password: str | None) -> bool:
    """Create the default user from ``password`` (from the environment) when no user exists yet."""
    if not password or has_users(db):
        return False
    set_password(db, DEFAULT_USER, password)
    logger.info("created web user %r from the initial-password environment variable", DEFAULT_USER)
    return True


def session_secret(db: sqlite_utils.Database) -> str:
    """The key that signs session cookies: generated on first use and kept in the database."""
    rows = list(db.query("select value from web_settings where key = 'session_secret'"))
    if rows:
        return rows[0]["value"]
    secret = secrets.token_urlsafe(48)
    # insert-or-ignore then read back: two processes starting at once agree on one secret.
    db.execute("insert or ignore into web_settings (key, value) values ('session_secret', ?)", [secret])
    db.conn.commit()
    return next(iter(db.query("select value from web_settings where key = 'session_secret'")))["value"]


def add_note(db: sqlite_utils.Database, incident_id: str, author: str, text: str) -> int:
    """Append a note to an incident; returns its id."""
    text = text.strip()
    if not text:
        raise InputError("a note needs some text")
    return (
        db["web_notes"]
        .insert({"incident_id": incident_id, "author": author, "text": text[:4000], "created_at": now_iso()})
        .last_pk
    )


def notes(db: sqlite_utils.Database, incident_id: str) -> list[dict]:
    return list(
        db.query("select * from web_notes where incident_id = ? order by created_at, id", [incident_id])
    )


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown users' passwords against (as slow as a real check); worked out when first needed,
    not at import: every replay and daemon imports this module for its migrations."""
    return hash_password("tingfeng-dummy-password", salt=b"\0" * 16)
