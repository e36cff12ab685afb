"""`tingfeng web passwd` sets a login that the dashboard accepts; a bad password is one clear line."""

import subprocess
import sys

from monitor.web.store import connect, verify_login


def run(*args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_passwd_creates_a_user_the_dashboard_accepts(db_path):
    result = run(
        "web", "--db", str(db_path), "passwd", "--user", "ana", "--password-stdin", stdin="a long password\n"
    )
    assert result.returncode == 0, result.stderr
    assert "password set for 'ana'" in result.stderr
    db = connect(db_path)
    assert verify_login(db, "ana", "a long password")
    assert not verify_login(db, "ana", "a long password\n")


def test_a_too_short_password_is_one_line_and_exit_2(db_path):
    result = run("web", "--db", str(db_path), "passwd", "--password-stdin", stdin="short\n")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: password too short: at least 8 characters"
