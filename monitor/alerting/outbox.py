"""Sending the outbox: every due message, with retries and backoff, exactly once per idempotency key.

A message is sent at least once: if the process dies between a receiver accepting it and the row being marked
sent, it is sent again with the same idempotency key (``Idempotency-Key`` header, email ``Message-ID``), which
receivers use to drop the duplicate. After ``delivery.max_attempts`` failures it moves to the dead letters.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO

import httpx
import sqlite_utils

from monitor.alerting import receivers, store
from monitor.alerting.config import AlertingConfig, DeliveryConfig
from monitor.errors import DeliveryError

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class DeliveryReport:
    """What one ``deliver_due`` pass did, by outbox id."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"sent {len(self.sent)}, retrying {len(self.retrying)}, dead {len(self.dead)}"


def backoff(attempts: int, delivery: DeliveryConfig) -> timedelta:
    """Wait after the ``attempts``-th failure: doubling from ``backoff_initial``, capped at ``backoff_max``."""
    return min(delivery.backoff_initial * (2 ** max(attempts - 1, 0)), delivery.backoff_max)


def deliver_due(
    db: sqlite_utils.Database,
    config: AlertingConfig,
    *,
    http: httpx.Client,
    now: datetime,
    smtp: receivers.SmtpFactory | None = None,
    console: TextIO | None = None,
    limit: int | None = None,
) -> DeliveryReport:
    """Send every pending outbox message due by ``now``, oldest first; each outcome is committed at once."""
    store.migrations.apply(db)
    report = DeliveryReport()
    rows = list(
        db.query(
            # Times carry their offset (a post's +08:00, the daemon's UTC): compare instants, not strings.
            "select * from alerting_outbox where status = 'pending' and julianday(next_attempt_at) <= julianday(?) "
            "order by julianday(created_at), id" + (f" limit {int(limit)}" if limit else ""),
            [store.iso(now)],
        )
    )
    names = {receiver.name: receiver for receiver in config.receivers}
    timeout = config.delivery.timeout.total_seconds()
    for row in rows:
        attempts = row["attempts"] + 1
        receiver = names.get(row["receiver"])
        try:
            if receiver is None:
                raise DeliveryError("no longer in alerting.toml", receiver=row["receiver"], retryable=False)
            receivers.send(
                receiver,
                json.loads(row["payload"]),
                http=http,
                now=now,
                smtp=smtp,
                console=console,
                timeout=timeout,
            )
        except DeliveryError as exc:
            _failed(db, row, attempts, str(exc), exc.retryable, config.delivery, now, report)
            continue
        with db.atomic():
            db["alerting_outbox"].update(
                row["id"],
                {
                    "status": "sent",
                    "attempts": attempts,
                    "last_attempt_at": store.iso(now),
                    "sent_at": store.iso(now),
                },
            )
        report.sent.append(row["id"])
    if rows:
        logger.info("outbox: %s", report)
    return report


def _failed(db, row, attempts, error, retryable, delivery, now, report) -> None:
    if retryable and attempts < delivery.max_attempts:
        retry_at = now + backoff(attempts, delivery)
        with db.atomic():
            db["alerting_outbox"].update(
                row["id"],
                {
                    "attempts": attempts,
                    "last_attempt_at": store.iso(now),
                    "last_error": error,
                    "next_attempt_at": store.iso(retry_at),
                },
            )
        logger.warning("outbox %s: attempt %d failed (%s); retry at %s", row["id"], attempts, error, retry_at)
        report.retrying.append(row["id"])
        return
    with db.atomic():
        db["alerting_dead_letters"].insert(
            {
                "id": row["id"],
                "receiver": row["receiver"],
                "group_key": row["group_key"],
                "created_at": row["created_at"],
                "attempts": attempts,
                "last_error": error,
                "died_at": store.iso(now),
                "payload": row["payload"],
            },
            replace=True,
        )
        db.execute("delete from alerting_outbox where id = ?", [row["id"]])
    logger.error("outbox %s: gave up after %d attempts (%s)", row["id"], attempts, error)
    report.dead.append(row["id"])


def requeue_dead(db: sqlite_utils.Database, dead_id: str, now: datetime) -> bool:
    """Put a dead letter back in the outbox for a fresh round of attempts; False if there is no such letter."""
    rows = list(db.query("select * from alerting_dead_letters where id = ?", [dead_id]))
    if not rows:
        return False
    row = rows[0]
    with db.atomic():
        db["alerting_outbox"].upsert(
            {
                "id": row["id"],
                "receiver": row["receiver"],
                "group_key": row["group_key"],
                "created_at": row["created_at"],
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": store.iso(now),
                "last_error": row["last_error"],
                "payload": row["payload"],
            },
            pk="id",
        )
        db.execute("delete from alerting_dead_letters where id = ?", [dead_id])
    return True
