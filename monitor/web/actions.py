"""What a person can do from the dashboard or the API: each action is one small function over the database.

The pages' forms and the JSON API call the same functions through ``ACTIONS``. Where another area owns the
state (alerting's acks and silences, the feeds' pause flag and commands, the model registry), the action calls
that area's function; ``resolve`` and ``false_alarm`` write the incidents' and labels' tables directly and say why.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from monitor.errors import InputError, MonitorError
from monitor.web import read
from monitor.web.store import add_note

logger = logging.getLogger(__name__)

MAX_SILENCE_HOURS = 24 * 30
FEED_COMMANDS = {"pause": "pause", "resume": "resume", "run": "run-now"}


class NotFound(InputError):
    """The thing an action names does not exist."""


@dataclass(slots=True)
class Context:
    """Who acts and when: every action records both."""

    user: str
    now: datetime
    feeds: frozenset[str] = frozenset()  # the configured feeds' names


@dataclass(frozen=True, slots=True)
class Action:
    """A state-changing operation on one kind of target (an incident, a feed, a model, a silence)."""

    target: str
    run: Callable[..., dict[str, Any]]
    message: str  # shown to the person after it succeeds (Chinese)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _incident(db: sqlite_utils.Database, incident_id: str) -> dict[str, Any]:
    rows = (
        list(db.query("select * from incidents where id = ?", [incident_id]))
        if read.has_table(db, "incidents")
        else []
    )
    if not rows:
        raise NotFound(f"no incident {incident_id!r}")
    return rows[0]


# Incidents -----------------------------------------------------------------------------------------------


def acknowledge(
    db: sqlite_utils.Database, incident_id: str, ctx: Context, comment: str = ""
) -> dict[str, Any]:
    """Acknowledge the incident at its current severity: repeats stop until the severity changes."""
    from monitor.alerting.store import ack_incident

    _incident(db, incident_id)
    severity = ack_incident(db, incident_id, ctx.now, by=ctx.user, comment=comment.strip()[:500])
    if severity is None:
        raise InputError(f"incident {incident_id!r} has not alerted yet: there is nothing to acknowledge")
    return {"incident_id": incident_id, "acked": True, "severity": severity}


def unacknowledge(db: sqlite_utils.Database, incident_id: str, ctx: Context) -> dict[str, Any]:
    from monitor.alerting.store import unack_incident

    _incident(db, incident_id)
    if not unack_incident(db, incident_id):
        raise InputError(f"incident {incident_id!r} is not acknowledged")
    return {"incident_id": incident_id, "acked": False}


def silence(
    db: sqlite_utils.Database, incident_id: str, ctx: Context, hours: float | str = 2, comment: str = ""
) -> dict[str, Any]:
    """Mute the incident's notifications for ``hours`` (matcher ``incident_id="ID"``)."""
    from monitor.alerting.matchers import Matcher
    from monitor.alerting.store import add_silence

    _incident(db, incident_id)
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        raise InputError(f"silence duration must be a number of hours, got {hours!r}") from None
    if not 0 < hours <= MAX_SILENCE_HOURS:
        raise InputError(f"silence duration must be between 0 and {MAX_SILENCE_HOURS} hours, got {hours:g}")
    made = add_silence(
        db,
        [str(Matcher("incident_id", "=", incident_id))],
        starts_at=ctx.now,
        ends_at=ctx.now + timedelta(hours=hours),
        created_by=ctx.user,
        comment=comment.strip()[:500] or "从看板静默",
    )
    return {"incident_id": incident_id, "silence_id": made.id, "hours": hours}


def expire_silence(db: sqlite_utils.Database, silence_id: str, ctx: Context) -> dict[str, Any]:
    """End a silence now (kept for the record, as Alertmanager expires rather than deletes)."""
    from monitor.alerting.store import expire_silence as expire

    if not expire(db, silence_id, ctx.now):
        raise NotFound(f"no active silence {silence_id!r}")
    return {"silence_id": silence_id, "expired": True}


def resolve(db: sqlite_utils.Database, incident_id: str, ctx: Context) -> dict[str, Any]:
    """Close the incident by hand.

    The row shows it at once; the running pipeline applies the request to its detector within a minute
    (``incident_commands``), which sends the resolved notice and reopens the incident if it flares again.
    """
    _incident(db, incident_id)
    stamp = _iso(ctx.now)
    db["incident_commands"].insert(
        {"incident_id": incident_id, "action": "resolve", "requested_by": ctx.user, "requested_at": stamp}
    )
    columns = db["incidents"].columns_dict
    values: dict[str, Any] = {"status": "resolved", "updated_at": stamp}
    if "resolved_at" in columns:
        values["resolved_at"] = stamp
    db["incidents"].update(incident_id, values)
    add_note(db, incident_id, ctx.user, "手动标记为已解决")
    return {"incident_id": incident_id, "status": "resolved"}


def note(db: sqlite_utils.Database, incident_id: str, ctx: Context, text: str = "") -> dict[str, Any]:
    _incident(db, incident_id)
    note_id = add_note(db, incident_id, ctx.user, text)
    return {"incident_id": incident_id, "note_id": note_id}


def false_alarm(
    db: sqlite_utils.Database, incident_id: str, ctx: Context, comment: str = ""
) -> dict[str, Any]:
    """A false alarm: each evidence post becomes an ``alert`` label for analysts, and repeats stop."""
    _incident(db, incident_id)
    posts = list(
        db.query(
            "select p.source, p.id, p.text from incident_posts ip join posts p"
            " on p.source = ip.source and p.id = ip.post_id where ip.incident_id = ?",
            [incident_id],
        )
    )
    rows = [
        {
            "source": post["source"],
            "post_id": post["id"],
            "text": post["text"],
            "task": "alert",
            "label": "false_alarm",
            "labeller": ctx.user,
            "origin": f"alert-feedback:{incident_id}",
            "created_at": _iso(ctx.now),
        }
        for post in posts
    ]
    db["labels"].insert_all(rows)
    if read.ack(db, incident_id) is None:
        with contextlib.suppress(InputError):  # an incident that never alerted has no repeats to stop
            acknowledge(db, incident_id, ctx, comment="误报")
    add_note(db, incident_id, ctx.user, "标记为误报" + (f"：{comment.strip()}" if comment.strip() else ""))
    return {"incident_id": incident_id, "labels": len(rows)}


# Labels -------------------------------------------------------------------------------------------------


def label(
    db: sqlite_utils.Database,
    target: str,
    ctx: Context,
    task: str = "sentiment",
    label: str = "",
    source: str = "",
    post_id: str = "",
) -> dict[str, Any]:
    """Label one post for ``task`` (``target`` is ``source:id``, or give ``source`` and ``post_id``)."""
    if not post_id:
        source, _, post_id = target.partition(":")
    if task not in read.TASK_LABELS:
        raise InputError(f"unknown task {task!r} (expected one of: {', '.join(read.TASK_LABELS)})")
    if label not in read.TASK_LABELS[task]:
        raise InputError(
            f"unknown {task} label {label!r} (expected one of: {', '.join(read.TASK_LABELS[task])})"
        )
    rows = list(db.query("select text from posts where source = ? and id = ?", [source, post_id]))
    if not rows:
        raise NotFound(f"no post {source}:{post_id}")
    label_id = (
        db["labels"]
        .insert(
            {
                "source": source,
                "post_id": post_id,
                "text": rows[0]["text"],
                "task": task,
                "label": label,
                "labeller": ctx.user,
                "origin": "web",
                "created_at": _iso(ctx.now),
            }
        )
        .last_pk
    )
    return {"label_id": label_id, "source": source, "post_id": post_id, "task": task, "label": label}


# Feeds --------------------------------------------------------------------------------------------------


def _feed_command(command: str) -> Callable[..., dict[str, Any]]:
    def run(db: sqlite_utils.Database, feed: str, ctx: Context) -> dict[str, Any]:
        from monitor.feeds.store import ensure_tables, request_command, set_paused

        known = {row["feed"] for row in db.query("select feed from feed_state")}
        if feed not in known and feed not in ctx.feeds:
            raise NotFound(f"no feed {feed!r}")
        ensure_tables(db)
        # The flag is the state's one home and takes effect even with no daemon running; the command tells a
        # running daemon to reschedule now.
        if command in ("pause", "resume"):
            set_paused(db, feed, command == "pause")
        command_id = request_command(db, feed, FEED_COMMANDS[command], ctx.now)
        return {"feed": feed, "command": FEED_COMMANDS[command], "command_id": command_id}

    run.__doc__ = f"{command} the feed"
    return run


# Models -------------------------------------------------------------------------------------------------


def promote(
    db: sqlite_utils.Database, version: str, ctx: Context, force: str = "", reason: str = ""
) -> dict[str, Any]:
    """Promote a model version through the registry (issue 8); refused when the registry is not there."""
    registry = _registry()
    result = registry.promote(db, version, by=ctx.user, force=bool(force), reason=reason)
    return {"version": version, "promoted": True, "result": _plain(result)}


def rollback(db: sqlite_utils.Database, target: str, ctx: Context, reason: str = "") -> dict[str, Any]:
    registry = _registry()
    result = registry.rollback(db, by=ctx.user, reason=reason)
    return {"rolled_back": True, "result": _plain(result)}


def _registry() -> Any:
    """The model registry (``monitor.registry``): promote refuses a worse candidate unless forced."""
    from monitor import registry

    return registry


def registry_available() -> bool:
    try:
        _registry()
    except MonitorError:
        return False
    return True


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


ACTIONS: dict[str, Action] = {
    "ack": Action("incident", acknowledge, "已确认：同级别不再重复提醒"),
    "unack": Action("incident", unacknowledge, "已取消确认"),
    "silence": Action("incident", silence, "已静默"),
    "resolve": Action("incident", resolve, "已标记为解决"),
    "note": Action("incident", note, "备注已添加"),
    "false-alarm": Action("incident", false_alarm, "已标记为误报，证据帖已进入分析员的标注"),
    "label": Action("post", label, "已标注"),
    "pause": Action("feed", _feed_command("pause"), "已暂停"),
    "resume": Action("feed", _feed_command("resume"), "已恢复"),
    "run": Action("feed", _feed_command("run"), "已请求立即运行"),
    "expire": Action("silence", expire_silence, "静默已结束"),
    "promote": Action("model", promote, "模型已上线"),
    "rollback": Action("model", rollback, "已回滚到上一个模型"),
}


def perform(
    db: sqlite_utils.Database, name: str, target: str, ctx: Context, params: dict[str, Any]
) -> dict[str, Any]:
    """Run action ``name`` on ``target`` in one transaction; only the parameters it takes are passed."""
    action = ACTIONS[name]
    accepted = list(inspect.signature(action.run).parameters)[3:]  # after (db, target, ctx)
    kwargs = {key: params[key] for key in accepted if key in params}
    with db.atomic():
        result = action.run(db, target, ctx, **kwargs)
    logger.info("web action %s on %s %r by %s", name, action.target, target, ctx.user)
    return result
