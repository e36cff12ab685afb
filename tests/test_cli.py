"""Every command has help text; user mistakes give one line and a non-zero exit, never a traceback."""

import subprocess
import sys

import click
import pytest

from monitor.cli import cli


def _commands(group: click.Group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


COMMANDS = list(_commands(cli))


def test_there_are_commands_to_check():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"classify", "replay", "demo", "check-config", "db stats"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_text(path, command):
    assert command.help and len(command.help.strip()) > 20, f"tingfeng {' '.join(path)} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in ("help",):
            assert param.help, f"tingfeng {' '.join(path)} {param.opts[0]} has no help text"


def _run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_a_missing_input_file_is_one_line_and_exit_2(tmp_path):
    result = _run(
        "replay", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "x.db"), "--alerts", "a.jsonl"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "nope.jsonl" in result.stderr


def test_db_stats_on_a_missing_database_says_so(tmp_path):
    result = _run("db", "stats", "--db", str(tmp_path / "missing.db"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no such database" in result.stderr


def test_demo_prints_the_fridge_alerts_with_simulated_time_and_where_the_database_is(tmp_path):
    result = _run("demo", "--db", str(tmp_path / "demo.db"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    alerts = [line for line in lines if line.startswith("[2011-09-")]
    assert alerts and any("CRITICAL" in line and "西门子" in line for line in alerts)
    # One line per message the PR team reads: a message to several receivers is not printed twice.
    assert len(alerts) == len(set(alerts))
    assert f"datasette {tmp_path / 'demo.db'}" in result.stdout
    assert (tmp_path / "demo.alerts.jsonl").read_text(encoding="utf-8").count("\n") > len(alerts)


def test_verbose_logging_never_shows_request_urls_that_carry_webhook_tokens(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            self.wfile.write(b"<rss><channel><title>t</title></channel></rss>")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = tmp_path / "config"
        config.mkdir()
        url = f"http://127.0.0.1:{server.server_port}/feed?access_token=SECRET-TOKEN-123"
        (config / "feeds.toml").write_text(
            f'[[feeds]]\nname = "t"\nkind = "rss"\nurl = "{url}"\n', encoding="utf-8"
        )
        result = _run("-vv", "feeds", "test", "t", "--config", str(config))
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert "SECRET-TOKEN-123" not in result.stderr + result.stdout
