"""The pipeline: store → classify → detect → alert, on an injected clock.

The replay and the daemon both drive it. One call to ``process`` is one transaction: the posts, their
classifications, the incidents they changed, the notifications they caused and the detector's state land
together or not at all, so a run killed at any point resumes without loss or doubling.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from classifiers import Classifier, Prediction, load_model
from monitor.alerting import Alerter, Notification
from monitor.config import Config, load_config
from monitor.detect import Detector, Observation
from monitor.events import AlertEvent
from monitor.incidents import save_incidents
from monitor.normalize import normalize
from monitor.post import Post
from monitor.registry import refresh_classifier
from monitor.registry import refresh_classifier
from monitor.store import iso, open_db, save_classifications, save_post

logger = logging.getLogger(__name__)

DETECTOR_STATE = "default"
TICK_EVERY = timedelta(minutes=1)


@dataclass
class Result:
    """What one ``process`` call did."""

    saved: int = 0
    new: int = 0
    classified: int = 0
    events: list[AlertEvent] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


class Pipeline:
    """Composes the steps; owns no logic of its own beyond ordering and transactions."""

    def __init__(
        self,
        config: Config,
        db: sqlite_utils.Database,
        classifier: Classifier,
        *,
        on_notification: Callable[[Notification], None] | None = None,
        mode: str = "live",
    ) -> None:
        """``mode="replay"`` holds notifications in the outbox unless the config sends replays for real."""
        self.config = config
        self.db = db
        self.classifier = classifier
        self.detector = Detector(config.detection, _load_state(db))
        self.alerter = Alerter(config.alerting, db, mode=mode)
        self.on_notification = on_notification
        self._last_tick: datetime | None = None
        # The clock of the last minute's alert flush, not yet run: see _advance.
        self._flush_at: datetime | None = None

    @classmethod
    def open(
        cls,
        config_dir: str | Path | None = None,
        db_path: str | Path | None = None,
        **kwargs: Any,
    ) -> Pipeline:
        """Load config, open the database and the configured (or default) model."""
        config = load_config(config_dir)
        db = open_db(db_path if db_path is not None else config.resolve(config.monitor.database))
        model_path = config.resolve(config.monitor.model) if config.monitor.model else None
        return cls(config, db, load_model(model_path), **kwargs)

    def process(
        self,
        posts: Sequence[Post],
        now: datetime | None = None,
        tags: dict[str, str] | None = None,
        *,
        extra_writes: Callable[[sqlite_utils.Database], None] | None = None,
    ) -> Result:
        """Store, classify and detect over ``posts``; each post's clock is its own time, else ``now``.

        ``extra_writes`` runs inside the same transaction (the replay records its progress there, a feed
        its cursor), so that progress never runs ahead of what was stored.
        """
        result = Result()
        if not posts and extra_writes is None:
            return result
        fallback = now or datetime.now(UTC)
        with self._transaction():
            saved = []
            for post in posts:
                post_tags = _tags_for(post, tags)
                clock = post.seen_at or fallback
                saved.append((self._save(post, clock, post_tags), clock, post_tags))
            predictions = self._classify([(item, clock) for item, clock, _ in saved])
            result.classified = predictions.pop("_classified")
            for item, clock, post_tags in saved:
                result.saved += 1
                result.new += int(item.is_new)
                result.notifications += self._advance(clock)
                events = self.detector.observe(
                    Observation(
                        post=item.post,
                        text_norm=item.normalized.text_norm,
                        prediction=predictions[item.post.key],
                        now=clock,
                        is_new=item.is_new,
                        tags=post_tags,
                    )
                )
                if events:
                    result.events += events
                    result.notifications += self._submit(events, clock)
            result.notifications += self._settle()
            self._persist()
            if extra_writes is not None:
                extra_writes(self.db)
        self._announce(result.notifications)
        return result

    def tick(self, now: datetime) -> list[Notification]:
        """Let time pass: incident lifecycle (cooling, resolved) and alert timers due by ``now``."""
        refresh_classifier(self)  # a model promoted in the registry takes over without a restart
        refresh_classifier(self)  # a model promoted in the registry takes over without a restart
        with self._transaction():
            notifications = self._advance(now, force=True)
            notifications += self._settle()
            self._persist()
        self._announce(notifications)
        return notifications

    def finish(self, now: datetime, horizon: timedelta = timedelta(minutes=10)) -> list[Notification]:
        """At the end of a replay: send what grouping still holds, as it would within ``horizon``."""
        with self._transaction():
            notifications = self._settle()
            notifications += self.alerter.flush(now + horizon)
        self._announce(notifications)
        return notifications

    def deliver(self, now: datetime, **kwargs: Any) -> Any:
        """Send due notifications from the outbox to the real receivers."""
        from monitor.alerting import deliver_due

        return deliver_due(self.db, self.config.alerting, now=now, **kwargs)

    def _save(self, post: Post, clock: datetime, tags: dict[str, str]):
        return save_post(self.db, post, normalize(post.text), now=clock, tags=tags)

    def _classify(self, items: list) -> dict[Any, Any]:
        version = self.classifier.version
        todo = []
        out: dict[Any, Any] = {}
        for item, clock in items:
            if item.post.key in out:
                continue
            if not item.text_changed:
                known = _stored_prediction(self.db, item.post.key, version)
                if known is not None:
                    out[item.post.key] = known
                    continue
            todo.append((item, clock))
            out[item.post.key] = None
        if todo:
            predictions = self.classifier.predict([item.normalized.text_norm for item, _ in todo])
            save_classifications(
                self.db,
                (
                    {
                        "source": item.post.source,
                        "post_id": item.post.id,
                        "model_version": version,
                        "sentiment": p.sentiment,
                        "p_negative": p.sentiment_scores["negative"],
                        "p_neutral": p.sentiment_scores["neutral"],
                        "p_positive": p.sentiment_scores["positive"],
                        "escalation": p.escalation,
                        "escalation_score": p.escalation_score,
                        "classified_at": iso(clock),
                    }
                    for (item, clock), p in zip(todo, predictions, strict=True)
                ),
            )
            for (item, _), p in zip(todo, predictions, strict=True):
                out[item.post.key] = p
        out["_classified"] = len(todo)
        return out

    def _advance(self, now: datetime, *, force: bool = False) -> list[Notification]:
        if not force and self._last_tick is not None and now - self._last_tick < TICK_EVERY:
            return []
        if self._last_tick is not None and now < self._last_tick:
            # The clock went backwards (a late line, a clock jump): never re-run time already past.
            return []
        self._last_tick = now
        # The alert timers due by ``now`` run lazily, before the next submit and before the transaction commits:
        # one flush over several minutes sends exactly what one flush per minute would (each message at its own
        # group tick, in the same order), without a look at every group every minute.
        self._flush_at = now
        events = self.detector.tick(now)
        return self._submit(events, now) if events else []

    def _submit(self, events: list[AlertEvent], now: datetime) -> list[Notification]:
        return self._settle() + self.alerter.submit(events, now)

    def _settle(self) -> list[Notification]:
        """Run the alert flush that _advance put off."""
        if self._flush_at is None:
            return []
        at, self._flush_at = self._flush_at, None
        return self.alerter.flush(at)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            with self.db.atomic():
                yield
        except BaseException:
            # Rolled back: what detection and alerting hold in memory must not run ahead of the database.
            self.detector = Detector(self.config.detection, _load_state(self.db))
            self.alerter.forget()
            self._flush_at = None
            raise

    def _persist(self) -> None:
        save_incidents(self.db, self.detector.incidents())
        self.db["detector_state"].upsert(
            {
                "name": DETECTOR_STATE,
                "state": json.dumps(self.detector.state(), ensure_ascii=False),
                "updated_at": iso(self._last_tick or datetime.now(UTC)),
            },
            pk="name",
        )

    def _announce(self, notifications: list[Notification]) -> None:
        if self.on_notification is None:
            return
        for notification in notifications:
            self.on_notification(notification)


def _tags_for(post: Post, tags: dict[str, str] | None) -> dict[str, str]:
    out = {"source": post.source, "feed": post.source}
    if tags:
        out.update(tags)
    for name in ("feed", "brand"):
        value = post.extra.get(name)
        if isinstance(value, str) and value:
            out[name] = value
    return out


def _stored_prediction(db: sqlite_utils.Database, key: tuple[str, str], version: str) -> Prediction | None:
    rows = list(
        db.query(
            "select * from classifications where source = ? and post_id = ? and model_version = ?",
            (*key, version),
        )
    )
    if not rows:
        return None
    row = rows[0]
    return Prediction(
        sentiment=row["sentiment"],
        sentiment_scores={
            "negative": row["p_negative"],
            "neutral": row["p_neutral"],
            "positive": row["p_positive"],
        },
        escalation=row["escalation"],
        escalation_score=row["escalation_score"],
    )


def _load_state(db: sqlite_utils.Database) -> dict | None:
    rows = list(db.query("select state from detector_state where name = ?", [DETECTOR_STATE]))
    return json.loads(rows[0]["state"]) if rows else None
