"""Feed health: is a feed working? Pure functions over its state and recent runs.

A feed is ``failing`` after ``error_streak`` failed runs in a row, or at once when the failure needs a human
(an expired cookie, a login wall, risk control, refused credentials); it is ``quiet`` when it used to bring
posts but has brought none for ``empty_window``. Either raises an ops alert (labels ``kind=ops``), routed apart
from PR alerts; the alert resolves when the feed is healthy again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.events import AlertEvent
from monitor.feeds.config import HealthSettings
from monitor.feeds.store import FeedState
from monitor.post import parse_time

# Failures that retrying will not fix: someone has to renew a cookie or solve a challenge.
NEEDS_HUMAN = {"login_required", "risk_control", "auth", "config"}
UNHEALTHY = {"failing", "quiet"}


@dataclass(frozen=True, slots=True)
class Health:
    """A feed's health verdict: ``ok``, ``new``, ``paused``, ``failing`` or ``quiet``, and why."""

    status: str
    reason: str = ""

    @property
    def unhealthy(self) -> bool:
        return self.status in UNHEALTHY


def assess(state: FeedState, runs: list[dict[str, Any]], now: datetime, settings: HealthSettings) -> Health:
    """The health of one feed from its state and its runs (newest first)."""
    if state.paused:
        return Health("paused", "paused by an operator")
    if not runs and not state.last_run_at:
        return Health("new", "no run yet")
    last_reason = runs[0].get("reason") if runs else None
    if state.error_streak and (state.error_streak >= settings.error_streak or last_reason in NEEDS_HUMAN):
        return Health(
            "failing", f"{state.error_streak} failed run(s) in a row: {state.last_error or last_reason}"
        )
    window_start = now - timedelta(seconds=settings.empty_window)
    in_window = [
        run for run in runs if _time(run.get("started_at")) and _time(run["started_at"]) >= window_start
    ]
    older = [run for run in runs if run not in in_window]
    ever_had_items = any((run.get("items") or 0) > 0 for run in older)
    if ever_had_items and len(in_window) >= 2 and not any((run.get("items") or 0) > 0 for run in in_window):
        hours = settings.empty_window / 3600
        return Health(
            "quiet", f"no posts in the last {hours:g}h ({len(in_window)} runs), though it used to bring some"
        )
    return Health("ok")


def ops_event(
    feed: str, health: Health, now: datetime, settings: HealthSettings, tags: dict[str, str] | None = None
) -> AlertEvent:
    """The ops alert for a feed's health change: firing when it turns unhealthy, resolved when it recovers."""
    firing = health.unhealthy
    title = f"采集源 {feed} {'异常' if firing else '已恢复'}" + (f"：{health.status}" if firing else "")
    labels = {"kind": "ops", "feed": feed, "health": health.status, "severity": settings.severity}
    labels.update({k: v for k, v in (tags or {}).items() if k not in labels})
    return AlertEvent(
        incident_id=f"ops-feed-{feed}",
        severity=settings.severity,
        status="firing" if firing else "resolved",
        at=now,
        title=title,
        summary=health.reason or "feed is healthy again",
        reasons=[health.reason] if health.reason else [],
        labels=labels,
    )


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None
