"""The Alerter: folds detection's AlertEvents into alert state, and writes every notification due to the outbox.

All state is in the database; each ``submit``/``flush`` runs in one transaction, so a crash leaves either all of
its notifications in the outbox or none, and a restarted process carries on from the same timers. Alerts and
groups are also held in memory as a write-through cache (every change is written in the same transaction, in
the form it reads back as), shared by the Alerters of one connection and re-read when another connection has
committed; silences and acks, which operators change from elsewhere, are re-read whenever anything changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlite_utils

from monitor.alerting import store
from monitor.alerting.config import AlertingConfig
from monitor.alerting.dispatch import Alert, Dispatch, Group, Timers, flush_group, new_group
from monitor.alerting.message import describe_changes
from monitor.alerting.mute import Inhibitor, InhibitSources, Silence, silenced_by
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


@dataclass(slots=True)
class _Cache:
    """Alert state as the database held it at ``version`` (``data_version``), plus what this connection wrote."""

    version: int
    alerts: dict[str, Alert]
    groups: dict[str, Group]
    # The earliest group timer, once known: flush() is called for every minute of the clock and must be free
    # when nothing is due. Whatever can move a timer (submit, a flush that ran) sets it again.
    next_due: datetime | None = None
    mutes_key: tuple[int, int] | None = None
    silences: list[Silence] = field(default_factory=list)
    acks: dict[str, str] = field(default_factory=dict)
    # The firing alerts able to inhibit others, per set of inhibit rules, which inhibition asks about every alert
    # a flush looks at: made at first need, then kept up to date by set_alert.
    sources: dict[tuple[Inhibitor, ...], InhibitSources] = field(default_factory=dict)
    generation: int = 0  # moves whenever an alert changes

    def set_alert(self, alert: Alert) -> None:
        before = self.alerts.get(alert.incident_id)
        self.alerts[alert.incident_id] = alert
        self.generation += 1
        for sources in self.sources.values():
            if before is not None and before.status == "firing":
                sources.remove(before.incident_id, before.labels)
            if alert.status == "firing":
                sources.add(alert.incident_id, alert.labels)

    def inhibit_sources(self, rules: tuple[Inhibitor, ...]) -> InhibitSources:
        sources = self.sources.get(rules)
        if sources is None:
            firing = {a.incident_id: a.labels for a in self.alerts.values() if a.status == "firing"}
            sources = self.sources[rules] = InhibitSources.of(rules, firing)
        return sources


@dataclass(frozen=True, slots=True)
class _Encoded:
    """What every message about one alert state says of it, already in JSON (see ``Alerter._encoded``)."""

    alert: Alert
    state: str  # "incident_id": …, "severity": …, "status": …
    text: str  # "title": …, "summary": …, "post_ids": …, "reasons": …
    context: str  # "labels": …, "stats": …, "evidence": …, "link": …
    post_ids: str
    reasons: str
    labels_sorted: str


@dataclass(slots=True)
class _Rows:
    """The rows one flush writes, in order: one statement per table instead of one per row."""

    alerts: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)


_NOTIFICATION_COLUMNS = (*CONTRACT_FIELDS, "receiver", "kind", "group_key", "outbox_id", "changes", "labels")
_OUTBOX_COLUMNS = (
    "id",
    "receiver",
    "group_key",
    "created_at",
    "status",
    "attempts",
    "next_attempt_at",
    "payload",
)


# One cache per database connection, so that two Alerters on one connection never see each other's writes late.
_CACHES: weakref.WeakKeyDictionary[sqlite_utils.Database, _Cache] = weakref.WeakKeyDictionary()


# json.dumps with options makes a new encoder at every call: one each, made once.
_dumps = json.JSONEncoder(ensure_ascii=False).encode
_dumps_sorted = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


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
        self.inhibitors = tuple(Inhibitor.from_config(rule) for rule in config.inhibit_rules)
        self.hold = mode == "replay" and not config.delivery.send_on_replay
        self._routes = {node.id: node for node in self.route.walk()}
        self._send_resolved = {receiver.name: receiver.send_resolved for receiver in config.receivers}
        self._silent = frozenset(receiver.name for receiver in config.receivers if receiver.type == "none")
        self._posts_table = False
        self._encoding: dict[str, _Encoded] = {}
        self._inhibited: tuple[_Cache, int, dict[str, bool]] | None = None
        store.migrations.apply(db)

    # -- public -----------------------------------------------------------------------------------------------

    def submit(self, events: list[AlertEvent], now: datetime) -> list[Notification]:
        """Take detection's events at ``now``; returns the notifications due (already in the outbox)."""
        with self._transaction():
            cache = self._cache()  # read once: within the transaction no other connection commits
            notes = self._flush(cache, now, inclusive=False)
            changed: set[str] = set()
            for event in events:
                alert = Alert.from_event(
                    event, cache.alerts.get(event.incident_id), now, self._evidence(event.post_ids)
                )
                alert = store.save_alert(self.db, alert)
                cache.set_alert(alert)
                changed |= self._place(alert, cache.groups, now)
            for key in changed:
                cache.groups[key] = store.save_group(self.db, cache.groups[key])
            notes += self._flush(cache, now, inclusive=True)
        return notes

    def flush(self, now: datetime) -> list[Notification]:
        """Run every group timer due by ``now``; returns the notifications due (already in the outbox)."""
        in_transaction = self.db.conn.in_transaction
        cache = self._cache()
        if cache.next_due is not None and now < cache.next_due:
            return []
        with self._transaction():
            # Read again only if this began a transaction: within one, no other connection's commit shows.
            return self._flush(cache if in_transaction else self._cache(), now, inclusive=True)

    def forget(self) -> None:
        """Drop the alert state held in memory; the next call reads it from the database again.

        For a caller whose enclosing transaction rolled back after this Alerter wrote inside it.
        """
        _CACHES.pop(self.db, None)

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

    def _place(self, alert: Alert, groups: dict[str, Group], now: datetime) -> set[str]:
        """Put the alert into the groups its labels route to, and take it out of those it no longer routes to.

        Returns the keys of the groups it changed. A route to a receiver of type ``none`` takes the alert (it
        stops there, as any route does) into no group: nobody is told.
        """
        keys = set()
        changed = set()
        for route in self.route.match(alert.labels):
            if route.receiver in self._silent:
                continue
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
                changed.add(key)
            if alert.incident_id not in group.members:
                group.members[alert.incident_id] = None
                changed.add(key)
        for key, group in groups.items():
            if key not in keys and alert.incident_id in group.members:
                # It moved (e.g. its severity now routes elsewhere): this receiver hears no more about it.
                del group.members[alert.incident_id]
                changed.add(key)
        return changed

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All of a call's writes or none: a savepoint in the caller's transaction, else a transaction of its own."""
        conn = self.db.conn
        try:
            if not conn.in_transaction:
                with self.db.atomic():
                    yield
                return
            # One savepoint name for every call: atomic() makes a new one each time, which SQLite compiles anew.
            conn.execute("SAVEPOINT alerting")
            try:
                yield
            except BaseException:
                if conn.in_transaction:  # an error can end the whole transaction, savepoints included
                    conn.execute("ROLLBACK TO SAVEPOINT alerting")
                    conn.execute("RELEASE SAVEPOINT alerting")
                raise
            conn.execute("RELEASE SAVEPOINT alerting")
        except BaseException:
            self.forget()  # what this call changed in memory was rolled back in the database
            raise

    def _cache(self) -> _Cache:
        """The alert state, read from the database at first and again after another connection committed."""
        version = store.data_version(self.db)
        cache = _CACHES.get(self.db)
        if cache is None or cache.version != version:
            cache = _Cache(version, store.load_alerts(self.db), store.load_groups(self.db))
            _CACHES[self.db] = cache
        return cache

    def _mutes(self, cache: _Cache) -> tuple[list[Silence], dict[str, str]]:
        """Silences and acks, re-read when this connection or another has changed anything since."""
        key = (cache.version, self.db.conn.total_changes)
        if cache.mutes_key != key:
            cache.silences = store.load_silences(self.db)
            cache.acks = store.load_acks(self.db)
            cache.mutes_key = key
        return cache.silences, cache.acks

    def _inhibition(self, cache: _Cache) -> dict[str, bool]:
        """Incident id -> whether its firing alert is inhibited, as far as worked out since an alert last changed.

        Inhibition depends only on the alerts: what was worked out holds until one of them changes.
        """
        if (
            self._inhibited is None
            or self._inhibited[0] is not cache
            or self._inhibited[1] != cache.generation
        ):
            self._inhibited = (cache, cache.generation, {})
        return self._inhibited[2]

    def _timers(self, route: Route) -> Timers:
        return Timers(route.group_wait, route.group_interval, route.repeat_interval)

    def _flush(self, cache: _Cache, now: datetime, *, inclusive: bool) -> list[Notification]:
        groups = cache.groups
        due = [g for g in groups.values() if g.next_flush_at < now or (inclusive and g.next_flush_at == now)]
        if not due:
            cache.next_due = min((g.next_flush_at for g in groups.values()), default=None)
            return []
        alerts = cache.alerts
        silences, acks = self._mutes(cache)
        inhibition = self._inhibition(cache)

        def muted(alert: Alert, at: datetime) -> bool:
            if silences and silenced_by(silences, alert.labels, at):
                return True
            if alert.status != "firing" or not self.inhibitors:
                return False
            known = inhibition.get(alert.incident_id)
            if known is None:
                known = cache.inhibit_sources(self.inhibitors).inhibit(alert.incident_id, alert.labels)
                inhibition[alert.incident_id] = known
            return known

        def acked(alert: Alert) -> bool:
            return acks.get(alert.incident_id) == alert.severity

        dispatches: list[Dispatch] = []
        for group in due:
            route = self._routes.get(group.route_id)
            if route is None or route.receiver != group.receiver:
                # The config changed under this group: drop it; its alerts are re-grouped on their next event.
                store.delete_group(self.db, group.key)
                del groups[group.key]
                continue
            timers = self._timers(route)
            send_resolved = self._send_resolved[group.receiver]
            before = group
            while group.next_flush_at < now or (inclusive and group.next_flush_at == now):
                looked_at = group
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
                if dispatch is None and not silences and group.members == looked_at.members:
                    group = _skip_quiet_ticks(looked_at, group, now, inclusive, timers)
            if group.members and group.members == before.members:
                # Looked at, nothing to tell: only its timers moved (most flushes, every group_interval).
                store.save_group_timers(self.db, group)
                groups[group.key] = group
            elif group.members:
                groups[group.key] = store.save_group(self.db, group)
            else:
                store.delete_group(self.db, group.key)
                del groups[group.key]
        cache.next_due = min((g.next_flush_at for g in groups.values()), default=None)
        dispatches.sort(key=lambda d: (d.at, d.receiver, d.group_key))
        notes: list[Notification] = []
        rows = _Rows()
        for dispatch in dispatches:
            notes.extend(self._record(dispatch, rows))
        store.insert_ignore_many(self.db, "alerts", _NOTIFICATION_COLUMNS, rows.alerts)
        store.insert_ignore_many(self.db, "alerting_outbox", _OUTBOX_COLUMNS, rows.outbox)
        return notes

    def _record(self, dispatch: Dispatch, rows: _Rows) -> list[Notification]:
        """One dispatch: its notifications (``alerts`` rows) and its message (one outbox row), added to ``rows``."""
        at = store.iso(dispatch.at)
        at_json, receiver_json = _dumps(at), _dumps(dispatch.receiver)
        outbox_id = _digest(dispatch.group_key, at, *(e.alert.incident_id for e in dispatch.entries), size=24)
        notes = []
        payload_notes = []
        for entry, snapshot in zip(dispatch.entries, dispatch.snapshots, strict=True):
            alert = entry.alert
            parts = self._encoded(alert)
            changes = [] if entry.previous is None else describe_changes(entry.previous, snapshot)
            changes_json = _dumps(changes)
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
            # The payload's notification: to_contract() plus labels, stats, evidence and link, in that order.
            payload_notes.append(
                f'{{"alert_id": {_dumps(note.alert_id)}, {parts.state}, "fired_at": {at_json}, {parts.text}, '
                f'"receiver": {receiver_json}, "kind": {_dumps(note.kind)}, "changes": {changes_json}, '
                f"{parts.context}}}"
            )
            rows.alerts.append(
                (
                    note.alert_id,
                    note.incident_id,
                    note.severity,
                    note.status,
                    at,
                    note.title,
                    note.summary,
                    parts.post_ids,
                    parts.reasons,
                    note.receiver,
                    note.kind,
                    note.group_key,
                    outbox_id,
                    changes_json,
                    parts.labels_sorted,
                )
            )
        payload = (
            f'{{"id": {_dumps(outbox_id)}, "receiver": {receiver_json}, "group_key": {_dumps(dispatch.group_key)}, '
            f'"group_labels": {_dumps(dispatch.group_labels)}, "fired_at": {at_json}, '
            f'"notifications": [{", ".join(payload_notes)}]}}'
        )
        status = "held" if self.hold else "pending"
        rows.outbox.append((outbox_id, dispatch.receiver, dispatch.group_key, at, status, 0, at, payload))
        logger.info("notify %s: %s (%d alerts)", dispatch.receiver, dispatch.group_key, len(notes))
        return notes

    def _encoded(self, alert: Alert) -> _Encoded:
        """``alert``'s parts of a message in JSON, encoded once per alert state (a digest repeats every member)."""
        known = self._encoding.get(alert.incident_id)
        if known is not None and known.alert is alert:  # alert states are replaced, never changed in place
            return known
        evidence = alert.evidence[: self.config.evidence_posts]
        if alert.stored is not None:
            # As the store just wrote them: its dicts are read back in sorted key order, so it is the same text.
            labels = labels_sorted = alert.stored["labels"]
            post_ids, reasons, stats = (
                alert.stored["post_ids"],
                alert.stored["reasons"],
                alert.stored["stats"],
            )
            evidence_json = (
                alert.stored["evidence"] if len(evidence) == len(alert.evidence) else _dumps(evidence)
            )
        else:
            labels, labels_sorted = _dumps(alert.labels), _dumps_sorted(alert.labels)
            post_ids, reasons, stats = _dumps(alert.post_ids), _dumps(alert.reasons), _dumps(alert.stats)
            evidence_json = _dumps(evidence)
        link = f"{self.config.dashboard_url.rstrip('/')}/incidents/{alert.incident_id}"
        known = _Encoded(
            alert=alert,
            state=f'"incident_id": {_dumps(alert.incident_id)}, "severity": {_dumps(alert.severity)}, '
            f'"status": {_dumps(alert.status)}',
            text=f'"title": {_dumps(alert.title)}, "summary": {_dumps(alert.summary)}, '
            f'"post_ids": {post_ids}, "reasons": {reasons}',
            context=f'"labels": {labels}, "stats": {stats}, "evidence": {evidence_json}, "link": {_dumps(link)}',
            post_ids=post_ids,
            reasons=reasons,
            labels_sorted=labels_sorted,
        )
        self._encoding[alert.incident_id] = known
        return known

    def _evidence(self, post_ids: list[str]) -> list[dict[str, Any]]:
        """The evidence posts' text, author and link, when the post store has them."""
        wanted = post_ids[: self.config.evidence_posts]
        if wanted and not self._posts_table:
            self._posts_table = self.db["posts"].exists()  # asked until it exists: tables are not dropped
        if not wanted or not self._posts_table:
            return [{"id": pid} for pid in wanted]
        splits = [pid.partition(":") if ":" in pid else ("", "", pid) for pid in wanted]
        # Each bare id, and a whole id with a colon for when no post has its bare id under its source.
        names = sorted({bare for _, _, bare in splits} | {pid for pid in wanted if ":" in pid})
        # One query for them all. A query per id with "limit 1" gave the first row of the posts(id) index, which
        # holds an id's rows in rowid order: the same row is taken here.
        cursor = self.db.conn.execute(
            "select rowid, source, id, text, url, author, author_followers from posts "
            f"where id in ({', '.join('?' * len(names))})",
            names,
        )
        columns = [column[0] for column in cursor.description[1:]]
        found: dict[str, list[tuple[Any, ...]]] = {}
        for row in sorted(cursor.fetchall()):
            found.setdefault(row[2], []).append(row[1:])
        out = []
        for pid, (source, _, bare) in zip(wanted, splits, strict=True):
            row = next((r for r in found.get(bare, ()) if not source or r[0] == source), None)
            if row is None and source:  # an id that merely contains a colon
                row = next(iter(found.get(pid, ())), None)
            out.append(dict(zip(columns, row, strict=True)) if row else {"id": pid})
        return out


def _skip_quiet_ticks(
    looked_at: Group, group: Group, now: datetime, inclusive: bool, timers: Timers
) -> Group:
    """``group`` moved past the ticks due by ``now`` at which it would again send nothing.

    ``group`` is what a tick of ``looked_at`` that sent nothing and left its members as they were gave. Without
    silences (the only mute that depends on the time) and with the alerts fixed for the flush, each later tick
    sees the same members and differs only in whether a repeat is due, which once due stays due: nothing is sent
    before the first tick with a repeat due, and nothing ever if one was due already. Returns the group as those
    ticks, run one by one, would leave it.
    """
    start, interval = group.next_flush_at, timers.group_interval
    if interval <= timedelta(0):
        return group
    last = looked_at.last_notified_at
    if last is None or looked_at.next_flush_at - last >= timers.repeat_interval:
        first_send = None  # a repeat was due and nothing was sent: no repeat entries, nothing to send
    else:
        short = timers.repeat_interval - (start - last)
        first_send = 0 if short <= timedelta(0) else -(-short // interval)
    span = now - start
    if span < timedelta(0) or (span == timedelta(0) and not inclusive):
        return group
    # The last tick due by ``now``: at or before it when inclusive, strictly before it otherwise.
    last_due = span // interval if inclusive else -(-span // interval) - 1
    ticks = first_send if first_send is not None and first_send <= last_due else last_due + 1
    return replace(group, next_flush_at=start + ticks * interval) if ticks else group
