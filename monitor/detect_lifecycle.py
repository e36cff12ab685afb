"""Lifecycle: new → growing → cooling → resolved, reopened when it flares again; and manual resolution.

Pure functions over one ``Cluster`` and a clock. ``advance`` says what time alone does to an incident (cools it,
resolves it, or forgets a candidate nobody joined); ``resolve`` and ``reopen`` make the transitions; a resolved
incident keeps taking its similar posts quietly, and ``flares`` says when those new posts are enough to reopen
it: ``lifecycle.reopen_severity`` after it went quiet by itself, ``lifecycle.manual_reopen_severity`` after a
person marked it resolved (so a handful of late echoes does not undo their decision).
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.detect_cluster import Cluster, windows
from monitor.detect_config import DetectionConfig
from monitor.detect_spread import HOUR, rank

FORGET, RESOLVE = "forget", "resolve"


def set_status(c: Cluster, status: str, now: float, event: str | None = None) -> None:
    """Move ``c`` to ``status`` and record it in its history."""
    if c.status != status or event:
        c.status = status
        entry = {"at": iso(now), "status": status}
        if event:
            entry["event"] = event
        c.history.append(entry)
        c.revision += 1


def advance(config: DetectionConfig, c: Cluster, now: float) -> tuple[str | None, float | None]:
    """What time alone does to ``c`` at ``now`` (FORGET, RESOLVE or None) and when to look again."""
    life = config.lifecycle
    keep_days = config.grouping.reopen_within_days * 24 * HOUR
    if c.status == "resolved":
        forget_at = (c.resolved_at or now) + keep_days
        if now >= forget_at and now - c.last_post >= life.resolve_after_hours * HOUR:
            return FORGET, None
        return None, max(forget_at, c.last_post + life.resolve_after_hours * HOUR)
    quiet = now - c.last_post
    listed = c.ever_alerted or len(c.author_first) >= life.list_min_authors
    limit = life.resolve_after_hours if c.ever_alerted else life.candidate_ttl_hours
    if quiet >= limit * HOUR:
        return (RESOLVE if listed else FORGET), None
    if quiet >= life.cooling_after_hours * HOUR and c.status != "cooling":
        set_status(c, "cooling", now)
    target = limit if c.status == "cooling" else life.cooling_after_hours
    return None, c.last_post + target * HOUR


def resolve(config: DetectionConfig, c: Cluster, now: float, by: str | None = None) -> None:
    """Mark ``c`` resolved; ``by`` names the person who did it by hand (None: it went quiet)."""
    set_status(c, "resolved", now, event=f"resolved by {by}" if by else None)
    c.resolved_at = now
    c.manual = {"at": now, "by": by, "authors": len(c.author_first)} if by else None
    c.severity = None
    c.fast_post = None  # a big voice already handled does not count again
    # The windows restart: a flare is measured by what comes after, not by what was already handled.
    c.windows = windows(config)
    c.velocity = []


def flares(config: DetectionConfig, c: Cluster, level: str | None) -> bool:
    """Whether new posts in a resolved ``c`` reaching ``level`` reopen it."""
    life = config.lifecycle
    need = life.manual_reopen_severity if c.manual else life.reopen_severity
    return rank(level) >= rank(need)


def reopen(c: Cluster, now: float) -> None:
    """``c`` flares again after it was resolved."""
    c.reopened += 1
    c.opened = now
    c.resolved_at = None
    c.manual = None
    c.notified_authors = 0
    c.notified_at = None
    set_status(c, "growing", now, event="reopened")


def times(c: Cluster, key: str, values: tuple[str, ...]) -> list[float]:
    """When ``c``'s history recorded one of ``values`` under ``key`` ("status": "resolved"; "severity": ...)."""
    return [datetime.fromisoformat(h["at"]).timestamp() for h in c.history if h.get(key) in values]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()
