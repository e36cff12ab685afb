"""The dashboard's own tables: scrypt password hashes, the initial password, the session secret, notes."""

import pytest

from monitor.errors import InputError
from monitor.web.app import prepare_db
from monitor.web.store import (
    add_note,
    check_password,
    ensure_initial_password,
    hash_password,
    notes,
    session_secret,
    set_password,
    verify_login,
)


@pytest.fixture
def db(fresh_db):
    prepare_db(fresh_db)
    return fresh_db


def test_a_password_is_stored_salted_and_hashed_never_in_clear(db):
    set_password(db, "admin", "correct horse battery")
    stored = db["web_users"].get("admin")["password_hash"]
    assert "correct horse" not in stored
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_login(db, "admin", "correct horse battery")
    assert not verify_login(db, "admin", "correct horse batterY")
    assert not verify_login(db, "nobody", "correct horse battery")


def test_the_same_password_hashes_differently_each_time():
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second
    assert check_password("same password", first) and check_password("same password", second)


def test_an_unreadable_hash_refuses_the_login_instead_of_crashing():
    assert not check_password("anything", "md5$deadbeef")
    assert not check_password("anything", "scrypt$x$y")


def test_a_short_password_is_refused(db):
    with pytest.raises(InputError, match="at least 8"):
        set_password(db, "admin", "short")


def test_the_initial_password_comes_from_the_environment_only_once(db):
    assert not ensure_initial_password(db, None)
    assert ensure_initial_password(db, "first password")
    # A later, different environment value does not overwrite a password set since.
    assert not ensure_initial_password(db, "second password")
    assert verify_login(db, "admin", "first password")
    assert not verify_login(db, "admin", "second password")


def test_the_session_secret_is_made_once_and_kept(db, db_path):
    secret = session_secret(db)
    assert len(secret) >= 40
    assert session_secret(db) == secret
    from monitor.web.store import connect

    assert session_secret(connect(db_path)) == secret


def test_notes_are_kept_in_order_and_empty_ones_refused(db):
    add_note(db, "inc-1", "ana", "已联系客服")
    add_note(db, "inc-1", "bo", "  媒体已询问  ")
    add_note(db, "inc-2", "ana", "别的事件")
    assert [(n["author"], n["text"]) for n in notes(db, "inc-1")] == [
        ("ana", "已联系客服"),
        ("bo", "媒体已询问"),
    ]
    with pytest.raises(InputError):
        add_note(db, "inc-1", "ana", "   ")
