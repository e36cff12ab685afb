"""Grouping and timing: when a group of alerts is due, and what its notification holds (pure, no I/O).

Alertmanager's aggregation group, on an injected clock: a new group waits ``group_wait`` before its first
notification, then is looked at every ``group_interval``; it notifies when an alert is new, changed severity,
grew by ``growth_factor`` or resolved, and otherwise repeats every ``repeat_interval``. Muted alerts (silenced or
inhibited) are left out; an acknowledged alert stops repeating until its severity changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.events import AlertEvent

# JSON as the store writes it (sorted keys, text not escaped to ASCII); one encoder, made once.
stored_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


class Snapshot(dict):
    """What a receiver was told (see ``Alert.snapshot``), with its stored JSON once known (``json``).

    A snapshot is never changed once made, so its JSON is worked out at most once, not at every save of its group.
    """

    __slots__ = ("json",)


@dataclass(slots=True)
class Alert:
    """The latest known state of one incident's alert."""

    incident_id: str
    severity: str
    status: str
    labels: dict[str, str]
    title: str
    summary: str
    post_ids: list[str]
    reasons: list[str]
    stats: dict[str, float]
    starts_at: datetime
    updated_at: datetime
    ends_at: datetime | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    # JSON of labels, post_ids, reasons, stats and evidence as the store just wrote them (None: not known), which
    # messages and snapshots reuse. An alert is replaced, never changed in place, so they stay true.
    stored: dict[str, str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_event(
        cls,
        event: AlertEvent,
        previous: Alert | None,
        now: datetime,
        evidence: list[dict[str, Any]] | None = None,
    ) -> Alert:
        """Fold ``event`` into the incident's alert; a firing event after a resolution starts a new episode."""
        labels = {str(k): str(v) for k, v in event.labels.items()}
        labels.update(severity=event.severity, incident_id=event.incident_id)
        fresh = previous is None or (previous.status == "resolved" and event.status == "firing")
        return cls(
            incident_id=event.incident_id,
            severity=event.severity,
            status=event.status,
            labels=labels,
            title=event.title,
            summary=event.summary,
            post_ids=list(event.post_ids),
            reasons=list(event.reasons),
            stats=dict(event.stats),
            starts_at=now if fresh else previous.starts_at,
            updated_at=now,
            ends_at=now if event.status == "resolved" else None,
            evidence=list(evidence or []),
        )

    @property
    def size(self) -> float:
        """The incident's size: its ``posts`` figure, else how many evidence posts it names."""
        return float(self.stats.get("posts", self.stats.get("n_posts", len(self.post_ids))))

    def snapshot(self, at: datetime) -> Snapshot:
        """What a receiver was told: compared with the next state to say what changed.

        Keys in sorted order: of an alert as the store reads it back, this is what the store reads back too.
        """
        moment, size = at.isoformat(), self.size
        snapshot = Snapshot(
            at=moment,
            post_ids=list(self.post_ids),
            severity=self.severity,
            size=size,
            stats=dict(self.stats),
            status=self.status,
        )
        stored = self.stored
        snapshot.json = (
            None
            if stored is None
            else f'{{"at": {stored_json(moment)}, "post_ids": {stored["post_ids"]}, '
            f'"severity": {stored_json(self.severity)}, "size": {stored_json(size)}, '
            f'"stats": {stored["stats"]}, "status": {stored_json(self.status)}}}'
        )
        return snapshot


@dataclass(slots=True)
class Group:
    """An aggregation group: the alerts one route sends to one receiver under one set of group labels."""

    key: str
    route_id: str
    receiver: str
    labels: dict[str, str]
    created_at: datetime
    next_flush_at: datetime
    last_notified_at: datetime | None = None
    # incident id -> snapshot last sent to this receiver (None: not sent yet)
    members: dict[str, dict[str, Any] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Timers:
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta


@dataclass(frozen=True, slots=True)
class Entry:
    """One alert in one dispatched message, and why it is there."""

    alert: Alert
    kind: str  # new | update | repeat | resolved
    previous: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Dispatch:
    """One message due to one receiver for one group at one moment."""

    group_key: str
    route_id: str
    receiver: str
    group_labels: dict[str, str]
    at: datetime
    entries: tuple[Entry, ...]
    snapshots: tuple[Snapshot, ...]  # what each entry tells its receiver: ``entry.alert.snapshot(at)``


def new_group(
    key: str, route_id: str, receiver: str, labels: dict[str, str], now: datetime, timers: Timers
) -> Group:
    """A group created by its first alert at ``now``: first look after ``group_wait``."""
    return Group(key, route_id, receiver, labels, created_at=now, next_flush_at=now + timers.group_wait)


def flush_group(
    group: Group,
    alerts: Mapping[str, Alert],
    at: datetime,
    timers: Timers,
    *,
    muted: Callable[[Alert, datetime], bool],
    acked: Callable[[Alert], bool],
    send_resolved: bool,
    growth_factor: float,
) -> tuple[Group, Dispatch | None]:
    """Look at ``group`` at its tick ``at``: the group afterwards and the message due, if any."""
    entries: list[Entry] = []
    trigger = False
    repeat_due = group.last_notified_at is None or at - group.last_notified_at >= timers.repeat_interval
    for incident_id, last in group.members.items():
        alert = alerts.get(incident_id)
        if alert is None or muted(alert, at):
            continue
        was_firing = last is not None and last["status"] == "firing"
        if alert.status == "resolved":
            if was_firing and send_resolved:
                entries.append(Entry(alert, "resolved", last))
                trigger = True
            continue
        if not was_firing:
            kind = "new"
        elif last["severity"] != alert.severity:
            kind = "update"
        elif acked(alert):
            continue
        elif alert.size >= last["size"] * growth_factor and alert.size > last["size"]:
            kind = "update"
        else:
            kind = "repeat"
        trigger = trigger or kind != "repeat"
        entries.append(Entry(alert, kind, last))
    send = trigger or (repeat_due and any(entry.kind == "repeat" for entry in entries))
    members = dict(group.members)
    snapshots = tuple(entry.alert.snapshot(at) for entry in entries) if send else ()
    for entry, snapshot in zip(entries, snapshots, strict=False):  # none unless sent
        members[entry.alert.incident_id] = snapshot
    # Resolved alerts leave the group once looked at, whether or not a notice went out.
    for incident_id in list(members):
        alert = alerts.get(incident_id)
        if alert is None or alert.status == "resolved":
            del members[incident_id]
    # replace(group, ...), without its look at every field (a flush ticks thousands of groups)
    after = Group(
        group.key,
        group.route_id,
        group.receiver,
        group.labels,
        group.created_at,
        next_flush_at=at + timers.group_interval,
        last_notified_at=at if send else group.last_notified_at,
        members=members,
    )
    if not send:
        return after, None
    dispatch = Dispatch(
        group.key, group.route_id, group.receiver, dict(group.labels), at, tuple(entries), snapshots
    )
    return after, dispatch
