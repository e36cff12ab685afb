"""The pipeline: store → classify → detect → alert, on an injected clock.

The replay and the daemon both drive it. One call to ``process`` is one transaction: the posts, their
classifications, the incidents they changed, the notifications they caused and the detector's state land
together or not at all, so a run killed at any point resumes without loss or doubling.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
from monitor.errors import StoreError
from monitor.events import AlertEvent
from monitor.incidents import save_incidents, saved_revisions
from monitor.normalize import normalize_once
from monitor.post import Post
from monitor.registry import active_model_path, promoted_model_in, refresh_classifier
from monitor.store import iso, open_db, save_classifications, save_posts, write_transaction

logger = logging.getLogger(__name__)

DETECTOR_STATE = "default"
# Each incident's part of the detector state is a row of its own (name: prefix + cluster id), rewritten only
# when it changed; the ``default`` row keeps the rest and the clusters' ids in order.
CLUSTER_STATE = DETECTOR_STATE + "/cluster/"
TICK_EVERY = timedelta(minutes=1)
# A post dated further ahead of the clock so far than this (a broken clock, a typo'd year) runs on the clock
# so far instead: one post "from 2099" must not drag every incident and alert timer decades ahead. Generous,
# because a quiet feed can go weeks without a post.
MAX_AHEAD = timedelta(days=60)


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
        classifier: Classifier | Future[Classifier],
        *,
        on_notification: Callable[[Notification], None] | None = None,
        mode: str = "live",
    ) -> None:
        """``mode="replay"`` holds notifications in the outbox unless the config sends replays for real."""
        self.config = config
        self.db = db
        # A Future while the model still unpacks (see open): the first classification waits for it.
        self._classifier = classifier
        state, self._stored_clusters, self._stored_state = _load_state(db)
        self.detector = Detector(config.detection, state)
        # Incident id -> history entries this process has stored (the rest are written with the next save).
        self._history_saved: dict[str, int] = {}
        # Cluster id -> member key -> (its state's values, their JSON): see _cluster_json.
        self._member_json: dict[str, dict[str, tuple[tuple, str]]] = {}
        self.alerter = Alerter(config.alerting, db, mode=mode)
        self.on_notification = on_notification
        # Called with the detector's events as they are handed to alerting, while the detector still holds what
        # caused them (the early-warning benchmark reads each incident's posts at the moment it fired).
        self.on_events: Callable[[list[AlertEvent]], None] | None = None
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
        """Load config, open the database and start loading the model: the registry's promoted one, else the
        configured one, else the shipped default (``classifier`` waits for it, and raises its ``ModelError``)."""
        config = load_config(config_dir)
        path = Path(db_path if db_path is not None else config.resolve(config.monitor.database))
        promoted = promoted_model_in(path)  # read-only: the store is not opened (nor migrated) yet
        model_path = promoted[1] if promoted is not None else None
        if model_path is None and config.monitor.model:
            model_path = config.resolve(config.monitor.model)
        # Unpacking the model (zlib, numpy) runs mostly outside the GIL: in a thread, it overlaps opening the store
        # and reading and storing the first batch; the first classification waits for it (and raises its error).
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tingfeng-model")
        try:
            model = pool.submit(load_model, model_path)
            db = open_db(path)
            # The store, now open, has the last word: the read-only look may have been kept out by a lock, or a
            # model promoted in between.
            active = active_model_path(db)
            if active is not None and (model_path is None or active.resolve() != Path(model_path).resolve()):
                model.cancel()
                model = pool.submit(load_model, active)
        finally:
            pool.shutdown(wait=False)
        return cls(config, db, model, **kwargs)

    @property
    def classifier(self) -> Classifier:
        if isinstance(self._classifier, Future):
            self._classifier = self._classifier.result()
        return self._classifier

    @classifier.setter
    def classifier(self, classifier: Classifier) -> None:
        self._classifier = classifier

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
        with _COLLECTOR_PAUSED, self._transaction():
            batch = []
            clock_so_far = self._last_tick
            for post in posts:
                clock = _bounded_clock(post, fallback, clock_so_far)
                clock_so_far = max(clock_so_far or clock, clock)
                batch.append((post, normalize_once(post.text), clock, _tags_for(post, tags)))
            stored = save_posts(self.db, batch)
            saved = [
                (item, clock, post_tags) for item, (_, _, clock, post_tags) in zip(stored, batch, strict=True)
            ]
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
        with self._transaction():
            notifications = self._apply_commands(now)
            notifications += self._advance(now, force=True)
            notifications += self._settle()
            self._persist()
        self._announce(notifications)
        return notifications

    def _apply_commands(self, now: datetime) -> list[Notification]:
        """Apply what people asked of incidents (the dashboard's "resolve") to the live detector."""
        notifications: list[Notification] = []
        pending = self.db.execute(
            "select id, incident_id, action, requested_by from incident_commands where done_at is null order by id"
        ).fetchall()
        for command_id, incident_id, action, requested_by in pending:
            if action == "resolve":
                events = self.detector.resolve(incident_id, now, requested_by or "unknown")
                notifications += self._submit(events, now) if events else []
                result = "resolved" if events else "nothing to resolve"
            else:
                result = f"unknown action {action!r}"
                logger.warning("incident command %s: %s", command_id, result)
            self.db.execute(
                "update incident_commands set done_at = ?, result = ? where id = ?",
                (iso(now), result, command_id),
            )
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

    def _classify(self, items: list) -> dict[Any, Any]:
        version = self.classifier.version
        todo = []
        out: dict[Any, Any] = {}
        stored = _stored_predictions(
            self.db, {item.post.key for item, _ in items if not item.text_changed}, version
        )
        for item, clock in items:
            key = item.post.key
            if key in out:
                continue
            if not item.text_changed:
                known = stored.get(key)
                if known is not None:
                    out[key] = known
                    continue
            todo.append((key, item.normalized.text_norm, clock))
            out[key] = None
        if todo:
            predictions = self.classifier.predict([text for _, text, _ in todo])
            save_classifications(
                self.db,
                (
                    (
                        source,
                        post_id,
                        version,
                        p.sentiment,
                        p.sentiment_scores["negative"],
                        p.sentiment_scores["neutral"],
                        p.sentiment_scores["positive"],
                        p.escalation,
                        p.escalation_score,
                        iso(clock),
                    )
                    for ((source, post_id), _, clock), p in zip(todo, predictions, strict=True)
                ),
            )
            for (key, _, _), p in zip(todo, predictions, strict=True):
                out[key] = p
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
        if self.on_events is not None:
            self.on_events(events)
        return self._settle() + self.alerter.submit(events, now)

    def _settle(self) -> list[Notification]:
        """Run the alert flush that _advance put off."""
        if self._flush_at is None:
            return []
        at, self._flush_at = self._flush_at, None
        return self.alerter.flush(at)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        last_tick = self._last_tick
        try:
            with self._write_lock():
                yield
        except BaseException:
            # Rolled back: what detection and alerting hold in memory must not run ahead of the database.
            state, self._stored_clusters, self._stored_state = _load_state(self.db)
            self.detector = Detector(self.config.detection, state)
            self.alerter.forget()
            self._history_saved.clear()
            self._last_tick = last_tick
            self._flush_at = None
            raise

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """One transaction that takes SQLite's write lock up front (see ``monitor.store.write_transaction``)."""
        with write_transaction(self.db):
            yield

    def _persist(self) -> None:
        known = saved_revisions(self.db)
        incidents = self.detector.incidents(saved={cid: revision for cid, (revision, _) in known.items()})
        save_incidents(self.db, incidents, known, self._history_saved)
        state, changed = self.detector.changed_state()
        updated_at = iso(self._last_tick or datetime.now(UTC))
        self._save_clusters(state["clusters"], changed, updated_at)
        text = _state_json(state)
        if text != self._stored_state:  # unchanged (a rerun of a finished replay): its updated_at stays too
            _save_state(self.db, DETECTOR_STATE, text, updated_at)
            self._stored_state = text

    def _save_clusters(self, ids: list[str], changed: dict[str, dict[str, Any]], updated_at: str) -> None:
        """Write the clusters whose state changed since stored, delete the rows of those gone.

        ``changed`` holds the states of the clusters that may have changed (the detector keeps track); the rest
        are as stored.
        """
        stored = self._stored_clusters
        for cid, cluster in changed.items():
            text = self._cluster_json(cluster)
            if stored.get(cid) != text:
                _save_state(self.db, CLUSTER_STATE + cid, text, updated_at)
                stored[cid] = text
        gone = stored.keys() - set(ids)
        for cid in gone:
            del stored[cid]
            self._member_json.pop(cid, None)
        if gone:
            self.db.conn.executemany(
                "delete from detector_state where name = ?", [(CLUSTER_STATE + cid,) for cid in sorted(gone)]
            )

    def _cluster_json(self, cluster: dict[str, Any]) -> str:
        """``_state_json(cluster)``, with each member's part written once and reused while it stays the same.

        A big incident's members are most of its state, and it is saved again after every batch it grew in.
        """
        if list(cluster)[-2:] != ["members", "windows"]:
            return _state_json(cluster)
        before = self._member_json.get(cluster["id"], {})
        parts = self._member_json[cluster["id"]] = {}
        members = []
        for row in cluster["members"]:
            values = tuple(row)
            known = before.get(row[0])
            if known is None or known[0] != values:
                known = (values, _state_json(row))
            parts[row[0]] = known
            members.append(known[1])
        head = _state_json(
            {name: value for name, value in cluster.items() if name not in ("members", "windows")}
        )
        return (
            f'{head[:-1]}, "members": [{", ".join(members)}], "windows": {_state_json(cluster["windows"])}}}'
        )

    def _announce(self, notifications: list[Notification]) -> None:
        if self.on_notification is None:
            return
        for notification in notifications:
            self.on_notification(notification)


class _CollectorPause:
    """Holds Python's cyclic garbage collector off while any thread is inside (re-entrant, thread-safe).

    A batch allocates hundreds of thousands of short-lived containers (rows, features, window events), which ran
    the collector about a hundred times per 3,000 posts, and once a full collection: a walk over every object of
    the process (the model, scikit-learn's and SciPy's modules, the detector's state), 50-120 ms, a tenth of a
    replay. Reference counting frees a batch's garbage as it goes; the few cycles wait for the batch to end.
    A collector disabled by someone else stays disabled.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if not self._inside:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._inside += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._inside -= 1
            if not self._inside and self._was_enabled:
                gc.enable()


# One for the process: the collector is process-wide state.
_COLLECTOR_PAUSED = _CollectorPause()


def _bounded_clock(post: Post, fallback: datetime, clock_so_far: datetime | None) -> datetime:
    """The post's own time, unless it lies far ahead of the clock so far (then the clock so far)."""
    seen = post.seen_at or fallback
    reference = clock_so_far or datetime.now(UTC)
    if seen <= reference + MAX_AHEAD:
        return seen
    logger.warning("post %s/%s is dated %s, far ahead of the clock: using %s", *post.key, seen, reference)
    return reference


def _tags_for(post: Post, tags: dict[str, str] | None) -> dict[str, str]:
    out = {"source": post.source, "feed": post.source}
    if tags:
        out.update(tags)
    for name in ("feed", "brand"):
        value = post.extra.get(name)
        if isinstance(value, str) and value:
            out[name] = value
    return out


def _stored_predictions(
    db: sqlite_utils.Database, keys: set[tuple[str, str]], version: str
) -> dict[tuple[str, str], Prediction]:
    """The stored predictions of model ``version`` for those of the posts ``keys`` it has classified."""
    out = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 400):
        chunk = ordered[start : start + 400]
        # A join with the keys: "(source, post_id) in (values ...)" reads every classification.
        rows = db.execute(
            f"with k (source, post_id) as (values {', '.join(['(?, ?)'] * len(chunk))}) "
            "select c.source, c.post_id, sentiment, p_negative, p_neutral, p_positive, escalation, escalation_score "
            "from k join classifications c on c.source = k.source and c.post_id = k.post_id "
            "and c.model_version = ?",
            [*(part for key in chunk for part in key), version],
        ).fetchall()
        for source, post_id, sentiment, negative, neutral, positive, escalation, score in rows:
            out[(source, post_id)] = Prediction(
                sentiment=sentiment,
                sentiment_scores={"negative": negative, "neutral": neutral, "positive": positive},
                escalation=escalation,
                escalation_score=score,
            )
    return out


# One encoder for all: json.dumps makes a new one at every call given options.
_STATE_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def _state_json(state: Any) -> str:
    # The state is a tree (no cycles to look for), and big: skipping the check saves a tenth of the time.
    return _STATE_ENCODER(state)


def _save_state(db: sqlite_utils.Database, name: str, text: str, updated_at: str) -> None:
    """Upsert one detector_state row."""
    db.execute(
        "insert into detector_state (name, state, updated_at) values (?, ?, ?) "
        "on conflict(name) do update set state = excluded.state, updated_at = excluded.updated_at",
        [name, text, updated_at],
    )


def _load_state(db: sqlite_utils.Database) -> tuple[dict | None, dict[str, str], str | None]:
    """The detector's state (None if there is none yet), its clusters' parts as stored (JSON) by cluster id, and
    its own row's JSON."""
    rows = db.execute(
        "select name, state from detector_state where name = ? or name like ?",
        [DETECTOR_STATE, CLUSTER_STATE + "%"],  # the prefix holds no LIKE wildcard
    ).fetchall()
    parts = dict(rows)
    own = parts.get(DETECTOR_STATE)
    if own is None:
        return None, {}, None
    state = json.loads(own)
    clusters = state.get("clusters")
    if not (isinstance(clusters, list) and all(isinstance(cid, str) for cid in clusters)):
        return state, {}, None  # one row holds it all (written before clusters had rows of their own)
    stored = {}
    for cid in clusters:
        text = parts.get(CLUSTER_STATE + cid)
        if text is None:
            raise StoreError(f"detector state: no row {CLUSTER_STATE + cid!r} in table detector_state")
        stored[cid] = text
    return {**state, "clusters": [json.loads(stored[cid]) for cid in clusters]}, stored, own
