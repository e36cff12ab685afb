"""``tingfeng alerts ...``: look at alerts, acknowledge them, silence them, test routes, inspect the outbox.

Thin commands over the alerting tables; the clock is read here (the entry point), never in the logic.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.alerting import store
from monitor.alerting.config import format_duration, parse_duration
from monitor.alerting.matchers import split_matchers
from monitor.alerting.outbox import requeue_dead
from monitor.cli_options import config_option, load, store_options
from monitor.errors import InputError


def _open(db_path: Path | None, config_dir: Path | None):
    from monitor.store import open_db

    _, path = load(config_dir, db_path)
    return open_db(path)


def _now() -> datetime:
    return datetime.now(UTC)


def _short(value: str | None, width: int) -> str:
    value = value or ""
    return value if len(value) <= width else value[: width - 1] + "…"


@click.group("alerts")
def alerts() -> None:
    """Alerts: list, acknowledge, silence, test routes, and inspect the delivery outbox."""


@alerts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include resolved alerts.")
@store_options
def list_alerts(show_all: bool, db_path: Path | None, config_dir: Path) -> None:
    """List current alerts (one per incident) with their ack and silence state."""
    db = _open(db_path, config_dir)
    acks = store.load_acks(db)
    silences = store.load_silences(db)
    now = _now()
    rows = store.load_alerts(db).values()
    shown = 0
    for alert in sorted(rows, key=lambda a: a.updated_at, reverse=True):
        if alert.status == "resolved" and not show_all:
            continue
        flags = []
        if acks.get(alert.incident_id) == alert.severity:
            flags.append("acked")
        if any(s.mutes(alert.labels, now) for s in silences):
            flags.append("silenced")
        click.echo(
            f"{alert.incident_id}  {alert.severity:<8} {alert.status:<8} {store.iso(alert.updated_at)}  "
            f"{_short(alert.title, 40)}  {' '.join(flags)}".rstrip()
        )
        shown += 1
    if not shown:
        click.echo("no alerts" + ("" if show_all else " firing (use --all for resolved ones)"))


@alerts.command()
@click.argument("incident_id")
@click.option("--by", "by", default="", help="Who acknowledges (shown in `alerts list`).")
@click.option("--comment", default="", help="Why, for the rest of the team.")
@store_options
def ack(incident_id: str, by: str, comment: str, db_path: Path | None, config_dir: Path) -> None:
    """Acknowledge INCIDENT_ID: no more repeats until its severity changes."""
    db = _open(db_path, config_dir)
    severity = store.ack_incident(db, incident_id, _now(), by=by, comment=comment)
    if severity is None:
        raise InputError(f"no alert for incident {incident_id!r} (see `tingfeng alerts list --all`)")
    click.echo(f"acknowledged {incident_id} at severity {severity}")


@alerts.command()
@click.argument("incident_id")
@store_options
def unack(incident_id: str, db_path: Path | None, config_dir: Path) -> None:
    """Withdraw the acknowledgement of INCIDENT_ID: repeats resume."""
    db = _open(db_path, config_dir)
    if not store.unack_incident(db, incident_id):
        raise InputError(f"incident {incident_id!r} is not acknowledged")
    click.echo(f"unacknowledged {incident_id}")


@alerts.command()
@click.argument("matchers", nargs=-1, required=True)
@click.option("--for", "duration", default="2h", show_default=True, help="How long, e.g. 30m, 2h, 1d.")
@click.option("--comment", default="", help="Why (shown in `alerts silences`).")
@click.option("--by", "by", default="", help="Who silences.")
@store_options
def silence(
    matchers: tuple[str, ...], duration: str, comment: str, by: str, db_path: Path | None, config_dir: Path
) -> None:
    """Silence alerts matching every one of MATCHERS (e.g. brand="acme" severity=~"warning|watch")."""
    try:
        length = parse_duration(duration)
        if length.total_seconds() <= 0:
            raise ValueError("--for must be longer than 0s")
        db = _open(db_path, config_dir)
        now = _now()
        made = store.add_silence(
            db, list(matchers), starts_at=now, ends_at=now + length, created_by=by, comment=comment
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    click.echo(
        f"silence {made.id} until {store.iso(made.ends_at)}: {', '.join(str(m) for m in made.matchers)}"
    )


@alerts.command()
@click.option("--all", "show_all", is_flag=True, help="Include expired silences.")
@store_options
def silences(show_all: bool, db_path: Path | None, config_dir: Path) -> None:
    """List silences (active and pending; --all for expired ones too)."""
    db = _open(db_path, config_dir)
    now = _now()
    shown = 0
    for item in store.load_silences(db):
        if item.ends_at <= now and not show_all:
            continue
        state = "active" if item.active(now) else "expired" if item.ends_at <= now else "pending"
        click.echo(
            f"{item.id}  {state:<7} until {store.iso(item.ends_at)}  {', '.join(str(m) for m in item.matchers)}"
            + (f"  # {item.comment}" if item.comment else "")
        )
        shown += 1
    if not shown:
        click.echo("no silences")


@alerts.command()
@click.argument("silence_id")
@store_options
def expire(silence_id: str, db_path: Path | None, config_dir: Path) -> None:
    """End the silence SILENCE_ID now."""
    db = _open(db_path, config_dir)
    if not store.expire_silence(db, silence_id, _now()):
        raise InputError(f"no active silence {silence_id!r} (see `tingfeng alerts silences --all`)")
    click.echo(f"expired {silence_id}")


@alerts.command("test-route")
@click.argument("labels", nargs=-1)
@config_option
def test_route(labels: tuple[str, ...], config_dir: Path | None) -> None:
    """Show which receivers an alert with LABELS (name=value ...) would reach, like `amtool config routes test`."""
    values: dict[str, str] = {}
    for text in labels:
        for part in split_matchers(text):
            name, sep, value = part.partition("=")
            if not sep or not name.strip():
                raise InputError(f"invalid label {part!r}: expected name=value")
            values[name.strip()] = value.strip().strip("\"'")
    config = load(config_dir, None)[0].alerting
    from monitor.alerting.route import build_route

    for route in build_route(config.route).match(values):
        if config.receiver(route.receiver).type == "none":
            click.echo(f"{route.receiver}  (route {route.id}; a receiver of type none: nobody is told)")
            continue
        click.echo(
            f"{route.receiver}  (route {route.id}; group_by {','.join(route.group_by) or '-'}; "
            f"wait {format_duration(route.group_wait)}, interval {format_duration(route.group_interval)}, "
            f"repeat {format_duration(route.repeat_interval)})"
        )


@alerts.command()
@click.option("--dead", is_flag=True, help="Show dead letters (messages that failed their last attempt).")
@click.option("--sent", is_flag=True, help="Also show messages already sent.")
@click.option("--requeue", "requeue_id", default=None, help="Put dead letter ID back in the outbox.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="Most rows to show.")
@store_options
def outbox(
    dead: bool, sent: bool, requeue_id: str | None, limit: int, db_path: Path | None, config_dir: Path
) -> None:
    """Show the delivery outbox: pending (and held) messages, or with --dead the dead letters."""
    db = _open(db_path, config_dir)
    if requeue_id:
        if not requeue_dead(db, requeue_id, _now()):
            raise InputError(f"no dead letter {requeue_id!r} (see `tingfeng alerts outbox --dead`)")
        click.echo(f"requeued {requeue_id}")
        return
    if dead:
        rows = list(db.query("select * from alerting_dead_letters order by died_at desc limit ?", [limit]))
        for row in rows:
            click.echo(
                f"{row['id']}  {row['receiver']}  died {row['died_at']} after {row['attempts']} attempts: "
                f"{row['last_error']}"
            )
        if not rows:
            click.echo("no dead letters")
        return
    where = "" if sent else "where status != 'sent'"
    rows = list(db.query(f"select * from alerting_outbox {where} order by created_at desc limit ?", [limit]))
    for row in rows:
        titles = [n["title"] for n in json.loads(row["payload"])["notifications"]]
        error = f"  last error: {row['last_error']}" if row["last_error"] and row["status"] != "sent" else ""
        click.echo(
            f"{row['id']}  {row['status']:<7} {row['receiver']}  {row['created_at']}  attempts {row['attempts']}"
            f"  {_short('; '.join(titles), 50)}{error}"
        )
    if not rows:
        click.echo("outbox is empty" if sent else "nothing waiting to be sent")
