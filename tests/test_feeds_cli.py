"""`tingfeng feeds ...`, `tingfeng schedule ...` and `tingfeng run`: help, listing, testing, ops commands."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from monitor.cli import main
from monitor.feeds.cli import feeds, run, schedule
from monitor.feeds.store import load_state
from monitor.store import open_db


def invoke(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def setup(tmp_path):
    inbox = tmp_path / "in.jsonl"
    inbox.write_text(
        '{"id":"a","text":"冰箱门掉了","likes":2}\n{"id":"b","text":"客服不理"}\n', encoding="utf-8"
    )
    config = tmp_path / "config"
    config.mkdir()
    (config / "feeds.toml").write_text(
        f'[[feeds]]\nname = "drop"\nkind = "file"\npath = "{inbox}"\ninterval = "1m"\ntags = {{ brand = "海尔" }}\n'
        f'[[feeds]]\nname = "off"\nkind = "file"\npath = "{inbox}"\nenabled = false\n',
        encoding="utf-8",
    )
    return config, tmp_path / "t.db"


def all_commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from all_commands(command, f"{prefix}{name} ")


def test_every_command_has_help_and_db_config_options_where_they_act_on_state():
    for group in (feeds, schedule):
        assert group.help
        for name, command in all_commands(group):
            assert command.help, f"{name} has no help text"
            options = {opt for param in command.params for opt in getattr(param, "opts", [])}
            assert "--config" in options, name
            if name not in ("test",):
                assert "--db" in options, name
    assert run.help and {"--once", "--for", "--db", "--config"} <= {o for p in run.params for o in p.opts}


def test_feeds_test_shows_posts_and_writes_nothing(capsys, setup):
    config, db = setup
    code, out, err = invoke(capsys, "feeds", "test", "drop", "--config", str(config), "--json")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a", "b"]
    assert "2 post(s) would be stored; nothing was written" in err
    assert not db.exists() and not Path("var/tingfeng.db").with_name("never").exists()


def test_feeds_test_failure_prints_the_reason_and_exits_1(capsys, setup, tmp_path):
    config, _ = setup
    (config / "feeds.toml").write_text(
        f'[[feeds]]\nname = "gone"\nkind = "file"\npath = "{tmp_path / "nope.jsonl"}"\n', encoding="utf-8"
    )
    code, _, err = invoke(capsys, "feeds", "test", "gone", "--config", str(config))
    assert code == 1 and "FAILED (not_found)" in err


def test_unknown_feed_is_one_clear_line(capsys, setup):
    config, db = setup
    code, _, err = invoke(capsys, "schedule", "pause", "nosuch", "--config", str(config), "--db", str(db))
    assert code == 2
    assert err.strip() == "error: no feed named 'nosuch' (configured: drop, off)"


def test_run_once_then_list_shows_health_and_items(capsys, caplog, setup):
    config, db = setup
    code, _, err = invoke(capsys, "run", "--once", "--store-only", "--config", str(config), "--db", str(db))
    assert code == 0, err
    assert "feed drop: ok 2 items (2 new)" in caplog.text  # one line per fetch
    code, out, _ = invoke(capsys, "feeds", "list", "--config", str(config), "--db", str(db), "--json")
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    assert rows["drop"]["health"] == "ok" and rows["drop"]["items_last_run"] == 2
    assert rows["drop"]["tags"] == {"brand": "海尔"}
    assert rows["off"]["health"] == "disabled"
    code, out, _ = invoke(capsys, "feeds", "list", "--config", str(config), "--db", str(db))
    assert "drop" in out and "every 60s" in out and "brand=海尔" in out


def test_pause_and_resume_are_recorded_for_the_daemon(capsys, setup):
    config, db = setup
    code, out, _ = invoke(capsys, "schedule", "pause", "drop", "--config", str(config), "--db", str(db))
    assert code == 0 and "daemon is not running, it applies at its next start" in out
    assert load_state(open_db(db), "drop").paused == 1
    commands = list(open_db(db).query("select feed, command, done_at from feed_commands"))
    assert commands == [{"feed": "drop", "command": "pause", "done_at": None}]
    code, out, _ = invoke(capsys, "schedule", "list", "--config", str(config), "--db", str(db))
    assert "daemon: not running" in out and "paused" in out
    invoke(capsys, "schedule", "resume", "drop", "--config", str(config), "--db", str(db))
    assert load_state(open_db(db), "drop").paused == 0


def test_disabled_feeds_cannot_be_scheduled(capsys, setup):
    config, db = setup
    code, _, err = invoke(capsys, "schedule", "run-now", "off", "--config", str(config), "--db", str(db))
    assert code == 2 and "disabled" in err
