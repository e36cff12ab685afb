"""The Alerter: folds detection's AlertEvents into alert state, and writes every notification due to the outbox.

All state is in the database; each ``submit``/``flush`` runs in one transaction, so a crash leaves either all of
its notifications in the outbox or none, and a restarted process carries on from the same timers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlite_utils

from monitor.alerting import store
from monitor.alerting.config import AlertingConfig
from monitor.alerting.dispatch import Alert, Dispatch, Group, Timers, flush_group, new_group
from monitor.alerting.message import describe_changes
from monitor.alerting.mute import Inhibitor, inhibited, silenced_by
from monitor.alerting.route import Route, build_route
from monitor.events import AlertEvent

logger = logging.getLogger(__name__)

CONTRACT_FIELDS = (
    "alert_id",
    "incident_id",
    "severity",
    "status",
    "fired_at",
    "title",
    "summary",
    "post_ids",
    "reasons",
)


@dataclass(frozen=True, slots=True)
class Notification:
    """One incident told to one receiver at one moment (a row of CONTRACT.md §3, plus where it went)."""

    alert_id: str
    incident_id: str
    severity: str
    status: str
    fired_at: datetime
    title: str
    summary: str
    post_ids: list[str]
    reasons: list[str]
    receiver: str
    kind: str
    group_key: str
    outbox_id: str
    changes: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)

    def to_contract(self) -> dict[str, Any]:
        """The contract's fields (in its order), then receiver, kind and changes."""
        row = {name: getattr(self, name) for name in CONTRACT_FIELDS}
        row["fired_at"] = store.iso(self.fired_at)
        row.update(receiver=self.receiver, kind=self.kind, changes=list(self.changes))
        return row


def _digest(*parts: str, size: int = 16) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:size]


class Alerter:
    """Routing, grouping, inhibition, silences and acks over the database ``db``, on an injected clock.

    ``mode="replay"`` writes outbox rows as ``held`` (recorded, never sent) unless ``delivery.send_on_replay``.
    """

    def __init__(
        self, config: AlertingConfig, db: sqlite_utils.Database, *, mode: Literal["live", "replay"] = "live"
    ) -> None:
        self.config = config
        self.db = db
        self.route: Route = build_route(config.route)
        self.inhibitors = [Inhibitor.from_config(rule) for rule in config.inhibit_rules]
        self.hold = mode == "replay" and not config.delivery.send_on_replay
        # The earliest group timer, once known: flush() is called for every minute of the clock and must be
        # free when nothing is due. Anything that can move a timer (submit, a flush that ran) forgets it.
        self._next_due: datetime | None = None
        store.migrations.apply(db)

    # -- public -----------------------------------------------------------------------------------------------

    def submit(self, events: list[AlertEvent], now: datetime) -> list[Notification]:
        """Take detection's events at ``now``; returns the notifications due (already in the outbox)."""
        self._next_due = None
        with self.db.atomic():
            notes = self._flush(now, inclusive=False)
            alerts = store.load_alerts(self.db)
            groups = store.load_groups(self.db)
            for event in events:
                alert = Alert.from_event(
                    event, alerts.get(event.incident_id), now, self._evidence(event.post_ids)
                )
                alerts[alert.incident_id] = alert
                store.save_alert(self.db, alert)
                self._place(alert, groups, now)
            for group in groups.values():
                store.save_group(self.db, group)
            notes += self._flush(now, inclusive=True)
        return notes

    def flush(self, now: datetime) -> list[Notification]:
        """Run every group timer due by ``now``; returns the notifications due (already in the outbox)."""
        if self._next_due is not None and now < self._next_due:
            return []
        with self.db.atomic():
            return self._flush(now, inclusive=True)

    def contract_log(self) -> list[dict[str, Any]]:
        """Every notification recorded so far, as ``to_contract()`` gave it, in the order they were made."""
        rows = self.db.query("select * from alerts where kind is not null order by rowid")
        return [
            {
                **{name: row[name] for name in CONTRACT_FIELDS},
                "post_ids": json.loads(row["post_ids"] or "[]"),
                "reasons": json.loads(row["reasons"] or "[]"),
                "receiver": row["receiver"],
                "kind": row["kind"],
                "changes": json.loads(row["changes"] or "[]"),
            }
            for row in rows
        ]

    def routes_for(self, labels: dict[str, str]) -> list[Route]:
        """The routes an alert with ``labels`` would take (``alerts test-route``)."""
        return self.route.match(labels)

    # -- internals --------------------------------------------------------------------------------------------

    def _place(self, alert: Alert, groups: dict[str, Group], now: datetime) -> None:
        """Put the alert into the groups its labels route to, and take it out of those it no longer routes to."""
        keys = set()
        for route in self.route.match(alert.labels):
            key = route.group_key(alert.labels)
            keys.add(key)
            group = groups.get(key)
            if group is None:
                if alert.status != "firing":
                    continue
                group = new_group(
                    key, route.id, route.receiver, route.group_labels(alert.labels), now, self._timers(route)
                )
                groups[key] = group
            group.members.setdefault(alert.incident_id, None)
        for key, group in groups.items():
            if key not in keys and alert.incident_id in group.members:
                # It moved (e.g. its severity now routes elsewhere): this receiver hears no more about it.
                del group.members[alert.incident_id]

    def _timers(self, route: Route) -> Timers:
        return Timers(route.group_wait, route.group_interval, route.repeat_interval)

    def _flush(self, now: datetime, *, inclusive: bool) -> list[Notification]:
        groups = store.load_groups(self.db)
        due = [g for g in groups.values() if g.next_flush_at < now or (inclusive and g.next_flush_at == now)]
        if not due:
            self._next_due = min((g.next_flush_at for g in groups.values()), default=None)
            return []
        self._next_due = None
        alerts = store.load_alerts(self.db)
        silences = store.load_silences(self.db)
        acks = store.load_acks(self.db)
        firing = {a.incident_id: a.labels for a in alerts.values() if a.status == "firing"}

        def muted(alert: Alert, at: datetime) -> bool:
            if silenced_by(silences, alert.labels, at):
                return True
            return alert.status == "firing" and inhibited(
                alert.incident_id, alert.labels, firing, self.inhibitors
            )

        def acked(alert: Alert) -> bool:
            return acks.get(alert.incident_id) == alert.severity

        dispatches: list[Dispatch] = []
        for group in due:
            route = self.route.find(group.route_id)
            if route is None or route.receiver != group.receiver:
                # The config changed under this group: drop it; its alerts are re-grouped on their next event.
                store.delete_group(self.db, group.key)
                continue
            timers = self._timers(route)
            send_resolved = self.config.receiver(group.receiver).send_resolved
            while group.next_flush_at < now or (inclusive and group.next_flush_at == now):
                group, dispatch = flush_group(
                    group,
                    alerts,
                    group.next_flush_at,
                    timers,
                    muted=muted,
                    acked=acked,
                    send_resolved=send_resolved,
                    growth_factor=self.config.growth_factor,
                )
                if dispatch is not None:
                    dispatches.append(dispatch)
                if not group.members:
                    break
            if group.members:
                store.save_group(self.db, group)
            else:
                store.delete_group(self.db, group.key)
        dispatches.sort(key=lambda d: (d.at, d.receiver, d.group_key))
        notes: list[Notification] = []
        for dispatch in dispatches:
            notes.extend(self._record(dispatch))
        return notes

    def _record(self, dispatch: Dispatch) -> list[Notification]:
        """Write one dispatch: its notifications (``alerts`` rows) and its message (one outbox row)."""
        at = store.iso(dispatch.at)
        outbox_id = _digest(dispatch.group_key, at, *(e.alert.incident_id for e in dispatch.entries), size=24)
        notes = []
        payload_notes = []
        for entry in dispatch.entries:
            alert = entry.alert
            changes = describe_changes(entry.previous, alert.snapshot(dispatch.at))
            note = Notification(
                alert_id=_digest(dispatch.group_key, at, alert.incident_id),
                incident_id=alert.incident_id,
                severity=alert.severity,
                status=alert.status,
                fired_at=dispatch.at,
                title=alert.title,
                summary=alert.summary,
                post_ids=list(alert.post_ids),
                reasons=list(alert.reasons),
                receiver=dispatch.receiver,
                kind=entry.kind,
                group_key=dispatch.group_key,
                outbox_id=outbox_id,
                changes=changes,
                labels=dict(alert.labels),
                stats=dict(alert.stats),
            )
            notes.append(note)
            payload_notes.append(
                {
                    **note.to_contract(),
                    "labels": note.labels,
                    "stats": note.stats,
                    "evidence": alert.evidence[: self.config.evidence_posts],
                    "link": f"{self.config.dashboard_url.rstrip('/')}/incidents/{alert.incident_id}",
                }
            )
            self.db["alerts"].insert(
                {
                    **{name: getattr(note, name) for name in CONTRACT_FIELDS},
                    "fired_at": at,
                    "post_ids": json.dumps(note.post_ids, ensure_ascii=False),
                    "reasons": json.dumps(note.reasons, ensure_ascii=False),
                    "receiver": note.receiver,
                    "kind": note.kind,
                    "group_key": note.group_key,
                    "outbox_id": outbox_id,
                    "changes": json.dumps(changes, ensure_ascii=False),
                    "labels": json.dumps(note.labels, ensure_ascii=False, sort_keys=True),
                },
                ignore=True,
            )
        payload = {
            "id": outbox_id,
            "receiver": dispatch.receiver,
            "group_key": dispatch.group_key,
            "group_labels": dispatch.group_labels,
            "fired_at": at,
            "notifications": payload_notes,
        }
        self.db["alerting_outbox"].insert(
            {
                "id": outbox_id,
                "receiver": dispatch.receiver,
                "group_key": dispatch.group_key,
                "created_at": at,
                "status": "held" if self.hold else "pending",
                "attempts": 0,
                "next_attempt_at": at,
                "payload": json.dumps(payload, ensure_ascii=False),
            },
            ignore=True,
        )
        logger.info("notify %s: %s (%d alerts)", dispatch.receiver, dispatch.group_key, len(notes))
        return notes

    def _evidence(self, post_ids: list[str]) -> list[dict[str, Any]]:
        """The evidence posts' text, author and link, when the post store has them."""
        wanted = post_ids[: self.config.evidence_posts]
        if not wanted or not self.db["posts"].exists():
            return [{"id": pid} for pid in wanted]
        out = []
        for pid in wanted:
            source, _, bare = pid.partition(":") if ":" in pid else ("", "", pid)
            rows = list(
                self.db.query(
                    "select source, id, text, url, author, author_followers from posts "
                    "where id = ? and (? = '' or source = ?) limit 1",
                    [bare, source, source],
                )
            )
            if not rows and source:  # an id that merely contains a colon
                rows = list(
                    self.db.query(
                        "select source, id, text, url, author, author_followers from posts where id = ? limit 1",
                        [pid],
                    )
                )
            out.append(rows[0] if rows else {"id": pid})
        return out
