"""`tingfeng alerts ...` against a real database file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.alerting import Alerter, load_alerting_config, migrations
from monitor.alerting.cli import alerts
from monitor.errors import InputError
from monitor.events import AlertEvent
from monitor.store import open_db

CONFIG = Path(__file__).resolve().parent.parent / "config"


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "t.db"
    db = open_db(path)
    migrations.apply(db)
    now = datetime.now(UTC)
    Alerter(load_alerting_config(CONFIG), db).submit(
        [
            AlertEvent(
                "inc-7", "critical", "firing", now, "冰箱门脱落", "摘要", ["p1"], ["触达"], {"brand": "acme"}
            ),
        ],
        now,
    )
    return path


def run(*args, db_path=None):
    extra = ["--db", str(db_path)] if db_path else []
    return CliRunner().invoke(alerts, [*args, *extra, "--config", str(CONFIG)], catch_exceptions=True)


def test_every_command_has_help():
    for name, command in alerts.commands.items():
        assert command.help and len(command.help) > 20, name
        result = CliRunner().invoke(alerts, [name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_list_ack_unack(db_path):
    assert "inc-7  critical firing" in run("list", db_path=db_path).output
    assert run("ack", "inc-7", "--by", "li", db_path=db_path).exit_code == 0
    assert "acked" in run("list", db_path=db_path).output
    assert run("unack", "inc-7", db_path=db_path).exit_code == 0
    assert "acked" not in run("list", db_path=db_path).output


def test_ack_unknown_incident_is_a_user_error(db_path):
    result = run("ack", "nope", db_path=db_path)
    assert isinstance(result.exception, InputError) and "no alert for incident 'nope'" in str(
        result.exception
    )


def test_silence_list_expire(db_path):
    result = run(
        "silence",
        'brand="acme"',
        "severity=~warning|critical",
        "--for",
        "2h",
        "--comment",
        "已知",
        db_path=db_path,
    )
    assert result.exit_code == 0, result.output
    silence_id = result.output.split()[1]
    listed = run("silences", db_path=db_path).output
    assert silence_id in listed and 'severity=~"warning|critical"' in listed and "已知" in listed
    assert "silenced" in run("list", db_path=db_path).output
    assert run("expire", silence_id, db_path=db_path).exit_code == 0
    assert "no silences" in run("silences", db_path=db_path).output
    assert isinstance(run("expire", silence_id, db_path=db_path).exception, InputError)


def test_silence_rejects_bad_matchers_and_durations(db_path):
    assert "invalid matcher" in str(run("silence", "brand", db_path=db_path).exception)
    assert "invalid duration" in str(run("silence", 'brand="x"', "--for", "soon", db_path=db_path).exception)


def test_test_route_shows_receivers():
    result = CliRunner().invoke(
        alerts, ["test-route", "severity=critical", "brand=acme", "--config", str(CONFIG)]
    )
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["console", "pager"]
    assert "repeat 1h" in lines[1]


def test_outbox_shows_pending_and_dead(db_path):
    output = run("outbox", db_path=db_path).output
    assert "pending" in output and "冰箱门脱落" in output
    assert "no dead letters" in run("outbox", "--dead", db_path=db_path).output
