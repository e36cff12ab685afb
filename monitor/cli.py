"""The ``tingfeng`` command (also ``python -m monitor``): thin commands composing the pipeline's steps."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from monitor.cli_options import config_option, db_option, load, store_options
from monitor.errors import ConfigError, InputError, MonitorError

logger = logging.getLogger(__name__)

EXIT_SKIPPED = 1
EXIT_USER_ERROR = 2
EXIT_DATABASE = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="tingfeng")
def cli(verbose: int) -> None:
    """听风 Tingfeng: hear a complaint before it spreads.

    Fetches posts, classifies their sentiment and escalation risk, groups complaints into incidents and
    alerts the PR team. Start with `tingfeng demo` (an offline replay of the 2011 fridge-door case).
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("jieba").setLevel(max(level, logging.WARNING))
    # httpx logs every request URL at INFO: robot webhooks carry their token in the URL. Never log those.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


@cli.command()
@click.argument("input_path", metavar="INPUT", required=False, default="-")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Where to write the classified posts (JSONL; default: standard output).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Model directory (default: the model promoted in the database, else the configured one, else the "
    "shipped default).",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Posts classified per batch.",
)
@store_options
def classify(
    input_path: str,
    output: str,
    model_path: Path | None,
    batch: int,
    db_path: Path | None,
    config_dir: Path | None,
) -> None:
    """Add sentiment and escalation to each post of INPUT (JSONL; `-` for standard input).

    Posts are written back in the same order with `sentiment`, `sentiment_scores`, `escalation` and
    `escalation_score` added (CONTRACT.md §2). Bad lines are reported with their line number and skipped.
    The model is the one the monitor itself uses: promoted in the database's registry, else `model` in
    monitor.toml, else the shipped default; `--model` overrides them.
    """
    from classifiers import load_model
    from monitor.jsonl import ReadReport, read_posts
    from monitor.normalize import normalize_text
    from monitor.registry import promoted_model_in

    if model_path is None:
        config, database = load(config_dir, db_path)
        promoted = promoted_model_in(database)
        if promoted is not None:
            version, model_path = promoted
            click.echo(f"using model {version}, promoted in {database} (--model to choose another)", err=True)
        elif config.monitor.model:
            model_path = config.resolve(config.monitor.model)
    model = load_model(model_path)
    report = ReadReport()
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
    pending: list[dict] = []

    def flush() -> None:
        predictions = model.predict([normalize_text(item["text"]) for item in pending])
        for item, p in zip(pending, predictions, strict=True):
            item["sentiment"] = p.sentiment
            item["sentiment_scores"] = p.sentiment_scores
            item["escalation"] = p.escalation
            item["escalation_score"] = p.escalation_score
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        pending.clear()

    try:
        for _line_no, data, _post in read_posts(input_path, report):
            pending.append(data)
            if len(pending) >= batch:
                flush()
        flush()
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    _finish_reading(report)


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="SQLite database to write (created if absent; a rerun resumes).",
)
@click.option(
    "--alerts",
    "alerts_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="JSONL file to write, one line per alert notification.",
)
@config_option
def replay(input_path: Path, db_path: Path, alerts_path: Path, config_dir: Path | None) -> None:
    """Run the whole pipeline over INPUT on a simulated clock (CONTRACT.md §3).

    The clock is each line's `observed_at`, else its `created_at`. Nothing is sent to real channels unless
    the configuration says so. A replay that was interrupted resumes where it stopped when run again.
    """
    from monitor.replay import replay as run_replay

    report = run_replay(input_path, db_path, alerts_path, config_dir=config_dir)
    click.echo(
        f"replayed {report.observations} observations "
        f"({'resumed after line ' + str(report.resumed_from) + ', ' if report.resumed_from else ''}"
        f"{len(report.notifications)} notifications) into {db_path}; alerts in {alerts_path}",
        err=True,
    )
    _finish_reading(report.read)


@cli.command()
@click.option("--scenario", default=None, help="Scenario to replay (default: fridge). See --list.")
@click.option("--list", "list_only", is_flag=True, help="List the built-in scenarios and exit.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database to write (default: var/demo-SCENARIO.db, recreated each run).",
)
@config_option
def demo(scenario: str | None, list_only: bool, db_path: Path | None, config_dir: Path | None) -> None:
    """Replay a built-in scenario and print each alert as it fires, with its simulated time."""
    from monitor.scenarios import DEFAULT_SCENARIO, SCENARIOS, load_truth, scenario_path

    if list_only:
        for name in SCENARIOS:
            click.echo(f"{name:12} {load_truth(name).get('description', '')}")
        return
    name = scenario or DEFAULT_SCENARIO
    if name not in SCENARIOS:
        raise InputError(f"unknown scenario {name!r} (built-in: {', '.join(SCENARIOS)})")
    from monitor.config import load_config
    from monitor.replay import replay as run_replay

    config = load_config(config_dir)
    db_path = db_path or config.resolve(f"var/demo-{name}.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    alerts_path = db_path.with_suffix(".alerts.jsonl")
    tz = ZoneInfo(config.monitor.timezone)
    click.echo(f"听风 demo: replaying scenario '{name}' ({load_truth(name).get('description', '')})\n")

    shown: dict[tuple, datetime] = {}
    quiet = {"watch": 0, "repeat": 0}

    def show(line: dict) -> None:
        # One line per message the PR team would read: the same message to several receivers is one line,
        # watch-level digests and reminders are counted, not printed.
        if line["severity"] == "watch":
            quiet["watch"] += 1
            return
        if line.get("kind") == "repeat":
            quiet["repeat"] += 1
            return
        at = datetime.fromisoformat(line["fired_at"])
        key = (line["incident_id"], line.get("kind"), line["severity"], line["status"])
        if key in shown and at - shown[key] < timedelta(minutes=10):
            return  # the same message to another receiver (the pager waits less than the chat channel)
        shown[key] = at
        fired = at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        colour = {"critical": "red", "warning": "yellow"}.get(line["severity"], "cyan")
        status = "RESOLVED" if line["status"] == "resolved" else line["severity"].upper()
        kind = {"new": "新告警", "update": "更新", "resolved": "已平息"}.get(line.get("kind", ""), "")
        click.echo(
            f"[{fired}] " + click.style(f"{status:8}", fg=colour, bold=True) + f" {kind:3} {line['title']}"
        )
        if line["status"] == "firing":
            for reason in line.get("reasons", [])[:3]:
                click.echo(f"           · {reason}")

    report = run_replay(
        scenario_path(name), db_path, alerts_path, config_dir=config_dir, on_notification=show
    )
    click.echo(
        f"\n{report.observations} post observations; {len(report.notifications)} notifications in all "
        f"({quiet['watch']} watch-level digest entries and {quiet['repeat']} reminders not shown)."
        f"\nDatabase: {db_path}   Alerts: {alerts_path}"
        f"\nBrowse it: datasette {db_path}   or: sqlite3 {db_path} 'select * from incidents'"
        f"\nSee it in the dashboard: TINGFENG_WEB_PASSWORD=... tingfeng web --db {db_path}"
    )


@cli.command("check-config")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def check_config(directory: Path | None) -> None:
    """Validate every config file in DIRECTORY (default: the shipped config/); exit 2 on errors."""
    from monitor.config import load_config

    config = load_config(directory)
    click.echo(f"{config.dir}: configuration OK")


@cli.group()
def db() -> None:
    """Inspect the post store."""


@db.command("stats")
@db_option
@config_option
def db_stats(db_path: Path | None, config_dir: Path | None) -> None:
    """Row counts of the store's tables and its size on disk."""
    from monitor.store import open_db, stats

    _, path = load(config_dir, db_path)
    if not path.exists():
        raise InputError("no such database (run a replay or the monitor first)", file=str(path))
    counts = stats(open_db(path))
    width = max(len(name) for name in counts)
    for name, count in counts.items():
        click.echo(f"{name:{width}}  {count:>10,}")
    click.echo(f"{'file size':{width}}  {path.stat().st_size:>10,} bytes")


def _finish_reading(report) -> None:
    if report.skipped:
        click.echo(f"warning: skipped {len(report.skipped)} bad line(s); see messages above", err=True)
        sys.exit(EXIT_SKIPPED)


def main(argv: list[str] | None = None) -> None:
    """Entry point: our errors become one clear line and a non-zero exit, never a traceback."""
    try:
        cli.main(args=argv, prog_name="tingfeng", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except sqlite3.OperationalError as exc:
        # A full disk or a lock held too long: nothing committed is lost; a rerun resumes.
        click.echo(f"error: database: {exc} (nothing committed was lost; run the command again)", err=True)
        sys.exit(EXIT_DATABASE)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)


def _register_area_commands() -> None:
    # Each area keeps its commands beside its code; the top-level group only gathers them.
    from monitor.alerting.cli import alerts
    from monitor.analyst_cli import label, model
    from monitor.feeds.cli import feeds, run, schedule
    from monitor.web.cli import web

    for command in (alerts, web, feeds, run, schedule, label, model):
        cli.add_command(command)


_register_area_commands()
