"""The model registry over the core ``models`` table: versions, metrics, data hashes, promotions, rollbacks.

``model_events`` (this area's migration set ``tingfeng.analyst``) keeps the history: each registration,
promotion (forced or not, refused or not, with the comparison behind it), rollback and baseline, with who and
why. The active model is the one row of ``models`` with ``active = 1``; the promotions form a stack that
``rollback`` pops. The first promotion puts the model in use before it (the configured or shipped default)
at the bottom, so a rollback can always return to it.

``promote`` refuses a candidate that is worse than the active model, beyond ``TOLERANCE`` and beyond noise,
on macro-F1 or the key class's F1 of any held-out set (the analysts' held-out slice included), unless
forced with a reason. The running pipeline picks up a promotion through ``refresh_classifier``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils
from sqlite_utils import Migrations

from monitor.errors import InputError, ModelError
from monitor.labels import default_labeller, label_counts, training_labels
from monitor.store import iso

if TYPE_CHECKING:  # the store applies this module's migrations: keep numpy and the model off its import path
    from classifiers import Classifier
    from monitor import evaluation

logger = logging.getLogger(__name__)

migrations = Migrations("tingfeng.analyst")

TOLERANCE = 0.01  # how much worse (absolute F1) a candidate may be on any held-out set before promote refuses
ACTIVATING = ("baseline", "promote")


@migrations()
def m001_model_events(db: sqlite_utils.Database) -> None:
    db["model_events"].create(
        {
            "id": int,
            "at": str,
            "action": str,  # register | baseline | promote | refused | rollback
            "version": str,
            "previous_version": str,
            "by": str,
            "reason": str,
            "forced": int,
            "details": str,  # JSON: the comparison behind a promotion or refusal
        },
        pk="id",
        defaults={"forced": 0},
    )
    db["model_events"].create_index(["version"])


class PromotionRefused(ModelError):
    """The candidate is worse than the active model on a held-out set; ``regressions`` says where."""

    def __init__(self, version: str, regressions: list[str], comparison: evaluation.Comparison):
        self.version = version
        self.regressions = regressions
        self.comparison = comparison
        super().__init__(
            f"refusing to promote {version}: worse than {comparison.current} on "
            + "; ".join(regressions)
            + " (promote --force --reason '...' to override)"
        )


@dataclass
class Promotion:
    """What ``promote`` or ``rollback`` did."""

    version: str
    previous: str | None
    forced: bool = False
    comparison: evaluation.Comparison | None = None


# ---- reading ---------------------------------------------------------------------------------------------


def active_version(db: sqlite_utils.Database) -> str | None:
    """The active model's version, or None when the registry has none (the configured model is used)."""
    row = db.execute("select version from models where active = 1 limit 1").fetchone()
    return row[0] if row else None


def active_model_path(db: sqlite_utils.Database) -> Path | None:
    """The active model's directory, or None when the registry has no active model."""
    row = db.execute("select path from models where active = 1 limit 1").fetchone()
    return _located(_db_dir(db), row[0]) if row else None


def promoted_model_in(db_path: Path) -> tuple[str, Path] | None:
    """The version and directory of the model promoted in the database file at ``db_path``, if any.

    Reads without creating or migrating anything: a missing file, or one without a registry, gives None.
    """
    if not Path(db_path).is_file():
        return None
    try:
        connection = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
        try:
            row = connection.execute("select version, path from models where active = 1 limit 1").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return (row[0], _located(Path(db_path).resolve().parent, row[1])) if row else None


def get(db: sqlite_utils.Database, version: str) -> dict[str, Any]:
    """The registry row of ``version`` (metrics and data hashes parsed); ``ModelError`` if unknown."""
    rows = list(db.query("select * from models where version = ?", [version]))
    if not rows:
        raise ModelError(f"no model version {version!r} in the registry (see `tingfeng model list`)")
    return _parsed(rows[0], _db_dir(db))


def list_models(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every registered version, newest first."""
    where = _db_dir(db)
    return [_parsed(row, where) for row in db.query("select * from models order by created_at desc, version")]


def history(db: sqlite_utils.Database, version: str | None = None) -> list[dict[str, Any]]:
    """The registry's events, oldest first (for one version, or all)."""
    where, args = ("where version = ? or previous_version = ?", [version, version]) if version else ("", [])
    return list(db.query(f"select * from model_events {where} order by id", args))


def _parsed(row: dict[str, Any], db_dir: Path | None) -> dict[str, Any]:
    row = dict(row)
    if row.get("path"):
        row["path"] = str(_located(db_dir, row["path"]))
    for name in ("metrics", "data_hashes"):
        try:
            row[name] = json.loads(row[name]) if row.get(name) else {}
        except ValueError:
            row[name] = {}
    return row


def resolve(db: sqlite_utils.Database, name: str | os.PathLike[str]) -> Path:
    """A model named by registry version or by directory path."""
    text = str(name)
    row = db.execute("select path from models where version = ?", [text]).fetchone()
    if row:
        return _located(_db_dir(db), row[0])
    path = Path(text)
    if path.exists():
        return path
    raise ModelError(f"{text!r} is neither a registered model version nor a model directory")


# A model directory beside the database (var/models next to var/tingfeng.db) is stored relative to the
# database's folder, so moving or restoring that folder elsewhere keeps the registry working.


def _db_dir(db: sqlite_utils.Database) -> Path | None:
    row = db.execute("pragma database_list").fetchone()
    return Path(row[2]).resolve().parent if row and row[2] else None


def _stored(db: sqlite_utils.Database, path: Path) -> str:
    where = _db_dir(db)
    if where is not None and path.is_relative_to(where):
        return path.relative_to(where).as_posix()
    return str(path)


def _located(db_dir: Path | None, stored: str) -> Path:
    path = Path(stored)
    return path if path.is_absolute() or db_dir is None else db_dir / path


# ---- writing ---------------------------------------------------------------------------------------------


def register(
    db: sqlite_utils.Database,
    path: str | os.PathLike[str],
    *,
    by: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    notes: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Add the model at ``path`` (loaded once, to check it is safe and whole) and return its row.

    Registering a version again updates its path, metrics and notes and keeps its promotion state.
    """
    from classifiers import load_model

    path = Path(path).resolve()
    classifier = load_model(path)
    meta = classifier.metadata
    row = {
        "version": classifier.version,
        "path": _stored(db, path),
        "metrics": json.dumps(dict(metrics if metrics is not None else meta.get("metrics") or {})),
        "data_hashes": json.dumps(meta.get("data_sha256") or {}, sort_keys=True),
    }
    notes = notes if notes is not None else meta.get("notes")
    if notes is not None:
        row["notes"] = notes
    stamp = iso(now or datetime.now(UTC))
    with db.atomic():
        if db.execute("select 1 from models where version = ?", [row["version"]]).fetchone():
            db["models"].update(row["version"], row)
        else:
            db["models"].insert({**row, "created_at": stamp, "active": 0})
        _event(db, "register", row["version"], by=by, at=stamp, reason=notes)
    return get(db, classifier.version)


def promote(
    db: sqlite_utils.Database,
    version: str,
    *,
    by: str | None = None,
    force: bool = False,
    reason: str = "",
    tolerance: float = TOLERANCE,
    current_path: str | os.PathLike[str] | None = None,
    data_root: Path | None = None,
    escalation_test: Path | None = None,
    now: datetime | None = None,
) -> Promotion:
    """Make ``version`` the active model after comparing it with the active one on every held-out set.

    With no active model yet, ``current_path`` (the configured model; default: the shipped one) is what it
    is compared with, and becomes the bottom of the rollback stack. Raises ``PromotionRefused`` when the
    candidate is worse beyond ``tolerance`` and noise, unless ``force`` (which needs a ``reason``).
    """
    from classifiers import DEFAULT_MODEL_DIR
    from monitor import evaluation

    by = by or default_labeller()
    if force and not reason.strip():
        raise InputError("a forced promotion needs a reason (--reason)")
    candidate = get(db, version)
    current_version = active_version(db)
    if current_version == version:
        raise ModelError(f"{version} is already the active model")
    stamp = iso(now or datetime.now(UTC))
    baseline = None
    if current_version is None:
        baseline = register(
            db, current_path or DEFAULT_MODEL_DIR, by=by, notes="in use before the first promotion"
        )
        current_version = baseline["version"]
        if current_version == version:
            raise ModelError(f"{version} is already the model in use")
    current = get(db, current_version)
    comparison = evaluation.compare(
        *_evaluate_pair(db, Path(current["path"]), Path(candidate["path"]), data_root, escalation_test)
    )
    regressions = comparison.regressions(tolerance)
    details = json.dumps(
        {"tolerance": tolerance, "regressions": regressions, "comparison": comparison.summary()},
        ensure_ascii=False,
    )
    with db.atomic():
        if regressions and not force:
            _event(
                db,
                "refused",
                version,
                previous=current_version,
                by=by,
                at=stamp,
                reason=reason,
                details=details,
            )
        else:
            if baseline is not None:
                _event(
                    db,
                    "baseline",
                    current_version,
                    by=by,
                    at=stamp,
                    reason="in use before the first promotion",
                )
            _activate(db, version, by=by, at=stamp)
            _event(
                db,
                "promote",
                version,
                previous=current_version,
                by=by,
                at=stamp,
                reason=reason,
                forced=bool(regressions),
                details=details,
            )
    if regressions and not force:
        raise PromotionRefused(version, regressions, comparison)
    logger.info(
        "promoted %s (was %s) by %s%s", version, current_version, by, " (forced)" if regressions else ""
    )
    return Promotion(version, current_version, forced=bool(regressions), comparison=comparison)


def rollback(
    db: sqlite_utils.Database, *, by: str | None = None, reason: str = "", now: datetime | None = None
) -> Promotion:
    """Make the version that was active before the current one active again."""
    stack = _stack(db)
    if len(stack) < 2:
        raise ModelError("nothing to roll back to: no earlier promoted version")
    current, target = stack[-1], stack[-2]
    path = Path(get(db, target)["path"])
    if not path.exists():
        raise ModelError(f"cannot roll back to {target}: its model directory {path} is gone")
    stamp = iso(now or datetime.now(UTC))
    by = by or default_labeller()
    with db.atomic():
        _activate(db, target, by=by, at=stamp)
        _event(db, "rollback", target, previous=current, by=by, at=stamp, reason=reason)
    logger.info("rolled back from %s to %s by %s", current, target, by)
    return Promotion(target, current)


def _stack(db: sqlite_utils.Database) -> list[str]:
    stack: list[str] = []
    for row in db.query(
        "select action, version from model_events where action in ('baseline', 'promote', 'rollback') order by id"
    ):
        if row["action"] == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(row["version"])
    return stack


def _activate(db: sqlite_utils.Database, version: str, *, by: str, at: str) -> None:
    db.execute("update models set active = 0 where active = 1")
    # Why lives in model_events (with the comparison); notes keep what the model was trained on.
    db.execute(
        "update models set active = 1, promoted_at = ?, promoted_by = ? where version = ?", [at, by, version]
    )


def _event(
    db: sqlite_utils.Database,
    action: str,
    version: str,
    *,
    by: str | None,
    at: str,
    previous: str | None = None,
    reason: str | None = None,
    forced: bool = False,
    details: str | None = None,
) -> None:
    db["model_events"].insert(
        {
            "at": at,
            "action": action,
            "version": version,
            "previous_version": previous,
            "by": by or default_labeller(),
            "reason": reason or None,
            "forced": int(forced),
            "details": details,
        }
    )


def _evaluate_pair(
    db: sqlite_utils.Database,
    current: Path,
    candidate: Path,
    data_root: Path | None,
    escalation_test: Path | None,
) -> tuple[evaluation.Evaluation, evaluation.Evaluation]:
    from classifiers import load_model
    from monitor import evaluation

    sets = evaluation.heldout(db, data_root=data_root, escalation_test=escalation_test)
    return evaluation.evaluate(load_model(current), sets), evaluation.evaluate(load_model(candidate), sets)


# ---- training --------------------------------------------------------------------------------------------


def train(
    db: sqlite_utils.Database,
    models_dir: str | os.PathLike[str],
    *,
    use_pool: bool = True,
    seed: int = 0,
    progress=None,
    by: str | None = None,
    name: str = "analyst",
    labels: Iterable[Mapping[str, Any]] | None = None,
    data_root: Path | None = None,
    escalation_train: Path | None = None,
    escalation_test: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Train on the analysts' labels (all but the held-out slice) plus, optionally, the public pool.

    The model lands in ``models_dir/VERSION``, is scored on every held-out set and registered (not
    promoted). ``progress(stage, done, total)`` sees the classifier's five stages and then ``evaluate``.
    """
    from classifiers import load_model
    from classifiers.model import METADATA_FILE
    from classifiers.train import train_model
    from monitor import evaluation

    rows = list(training_labels(db) if labels is None else labels)
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    scratch = models_dir / f".training-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        train_model(
            scratch,
            extra_labels=rows or None,
            seed=seed,
            use_pool=use_pool,
            progress=progress,
            name=name,
            data_root=data_root,
            escalation_train=escalation_train,
            evaluate=False,
        )
        classifier = load_model(scratch)
        if progress:
            progress("evaluate", 5, 6)
        sets = evaluation.heldout(db, data_root=data_root, escalation_test=escalation_test, public=True)
        metrics = evaluation.evaluate(classifier, sets).metrics()
        meta_file = scratch / METADATA_FILE
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta["metrics"] = metrics
        counts = label_counts(rows)
        meta["notes"] = (
            f"{counts['sentiment']} sentiment and {counts['escalation']} escalation analyst labels"
            + (" + public pool" if use_pool else " (no public pool)")
            + f", seed {seed}"
        )
        meta_file.write_text(
            json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        final = models_dir / classifier.version
        # The version hashes the data, parameters and seed: an existing directory holds the same model.
        shutil.rmtree(final, ignore_errors=True)
        scratch.rename(final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if progress:
        progress("done", 6, 6)
    return register(db, final, by=by, metrics=metrics, now=now)


# ---- the running pipeline ---------------------------------------------------------------------------------


def refresh_classifier(pipeline: Any) -> bool:
    """Swap ``pipeline.classifier`` for the registry's active model when its version changed.

    Cheap when nothing changed (one indexed query), so the pipeline calls it on every tick. A model that
    fails to load is logged and the running one kept.
    """
    from classifiers import load_model

    version = active_version(pipeline.db)
    current: Classifier | None = getattr(pipeline, "classifier", None)
    if version is None or (current is not None and current.version == version):
        return False
    path = active_model_path(pipeline.db)
    try:
        classifier = load_model(path)
    except ModelError as exc:
        logger.error("cannot switch to the promoted model %s: %s", version, exc)
        return False
    if classifier.version != version:
        logger.error(
            "not switching: %s holds model %s, the registry says %s", path, classifier.version, version
        )
        return False
    pipeline.classifier = classifier
    logger.info("switched the classifier from %s to %s", current.version if current else None, version)
    return True
