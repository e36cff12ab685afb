"""Analysts' labels in the ``labels`` table: add, import, export, and turn alert feedback into labels.

A label is one person's answer for one text and one task (``sentiment``: negative / neutral / positive,
``escalation``: low / medium / high). When the same text is labelled again for a task, the latest label wins.
A fixed slice of the labelled texts (chosen by a hash of the text, so it never moves as labels grow) is held
out: ``training_labels`` never returns it and ``holdout_labels`` returns only it, for evaluation.

Alert feedback becomes escalation labels: a false alarm says its evidence posts are ``low``; a confirmed
incident says they are at least ``medium``. The dashboard may also write ``task = "alert"`` rows
(``false_alarm`` / ``confirmed``); they count the same way unless the text has its own escalation label.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.errors import InputError
from monitor.normalize import normalize_text
from monitor.store import iso

logger = logging.getLogger(__name__)

SENTIMENTS = ("negative", "neutral", "positive")
ESCALATIONS = ("low", "medium", "high")
ALERT_VERDICTS = ("false_alarm", "confirmed")
TASKS: dict[str, tuple[str, ...]] = {
    "sentiment": SENTIMENTS,
    "escalation": ESCALATIONS,
    "alert": ALERT_VERDICTS,
}
# Names people write in spreadsheets, mapped to the stored ones.
ALIASES = {
    "neg": "negative",
    "负面": "negative",
    "负": "negative",
    "neu": "neutral",
    "中性": "neutral",
    "pos": "positive",
    "正面": "positive",
    "正": "positive",
    "低": "low",
    "中": "medium",
    "高": "high",
    "误报": "false_alarm",
    "false-alarm": "false_alarm",
    "确认": "confirmed",
}
# One labelled text in HOLDOUT_EVERY is held out for evaluation and never trained on.
HOLDOUT_EVERY = 5
EXPORT_COLUMNS = ("id", "source", "post_id", "text", "task", "label", "labeller", "origin", "created_at")


@dataclass
class ImportReport:
    """What an import did: labels added, exact repeats skipped, bad rows (with their line numbers)."""

    added: int = 0
    repeated: int = 0
    bad: list[InputError] = field(default_factory=list)


def default_labeller() -> str:
    """Who is labelling: ``$TINGFENG_USER``, else the login name."""
    try:
        return os.environ.get("TINGFENG_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def canonical(task: str, label: str) -> str:
    """The stored name of ``label`` for ``task``; raises ``InputError`` when it is not one of the task's."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r} (expected one of: {', '.join(TASKS)})")
    value = ALIASES.get(label.strip().lower(), label.strip().lower())
    if value not in TASKS[task]:
        raise InputError(f"unknown {task} label {label!r} (expected one of: {', '.join(TASKS[task])})")
    return value


def is_holdout(text: str) -> bool:
    """Whether a labelled text belongs to the held-out slice (stable: decided by the text alone)."""
    digest = hashlib.sha256(normalize_text(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % HOLDOUT_EVERY == 0


def add_label(
    db: sqlite_utils.Database,
    *,
    task: str,
    label: str,
    text: str | None = None,
    source: str | None = None,
    post_id: str | None = None,
    labeller: str | None = None,
    origin: str = "cli",
    now: datetime | None = None,
) -> int:
    """Store one label and return its id; a stored post may be named by ``source`` and ``post_id``."""
    value = canonical(task, label)
    if text is None:
        if not (source and post_id):
            raise InputError("a label needs a text, or the source and id of a stored post")
        row = db.execute("select text from posts where source = ? and id = ?", [source, post_id]).fetchone()
        if row is None:
            raise InputError(f"no stored post {source}:{post_id}")
        text = row[0]
    if not text.strip():
        raise InputError("a label needs a non-empty text")
    return (
        db["labels"]
        .insert(
            {
                "source": source,
                "post_id": post_id,
                "text": text,
                "task": task,
                "label": value,
                "labeller": labeller or default_labeller(),
                "origin": origin,
                "created_at": iso(now or datetime.now(UTC)),
            }
        )
        .last_pk
    )


# ---- import / export --------------------------------------------------------------------------------------


def _format(path: Path, fmt: str | None) -> str:
    fmt = fmt or {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}.get(
        path.suffix.lower(), ""
    )
    if fmt not in ("csv", "jsonl"):
        raise InputError("cannot tell the format: name the file .csv or .jsonl", file=str(path))
    return fmt


def _rows(path: Path, fmt: str) -> Iterator[tuple[int, Any]]:
    """(line number, row) for every row; a JSONL line that is not an object comes back as an InputError."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
    with handle:
        if fmt == "csv":
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, row
            return
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield line_no, InputError(f"not valid JSON: {exc.msg}", file=str(path), line=line_no)
                continue
            if not isinstance(row, dict):
                yield line_no, InputError("expected a JSON object", file=str(path), line=line_no)
                continue
            yield line_no, row


def _labels_in_row(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(task, label) pairs of one row: long form (``task``, ``label``) or wide (``sentiment``, ``escalation``)."""
    if row.get("task"):
        return [(str(row["task"]).strip(), str(row.get("label") or ""))]
    pairs = [(task, str(row[task])) for task in ("sentiment", "escalation") if row.get(task)]
    if not pairs:
        raise InputError("no label: give task and label, or sentiment and/or escalation")
    return pairs


def import_labels(
    db: sqlite_utils.Database,
    path: str | Path,
    *,
    labeller: str | None = None,
    fmt: str | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import labels from CSV or JSONL (by suffix, or ``fmt``); bad rows are reported and skipped.

    A row has ``text`` (or ``source`` and ``post_id`` of a stored post) and either ``task`` + ``label`` or
    ``sentiment`` / ``escalation`` columns. ``labeller``, ``origin`` and ``created_at`` in the file are kept.
    A label already stored (same text, task, label and labeller) is not stored twice.
    """
    path = Path(path)
    fmt = _format(path, fmt)
    report = ImportReport()
    stamp = iso(now or datetime.now(UTC))
    who = labeller or default_labeller()
    seen = {
        (r["text"], r["task"], r["label"], r["labeller"])
        for r in db.query("select text, task, label, labeller from labels")
    }
    pending = []
    for line_no, row in _rows(path, fmt):
        if isinstance(row, InputError):
            report.bad.append(row)
            continue
        try:
            pairs = [(task, canonical(task, label)) for task, label in _labels_in_row(row)]
            text = row.get("text")
            source, post_id = row.get("source") or None, row.get("post_id") or None
            if not text and source and post_id:
                found = db.execute(
                    "select text from posts where source = ? and id = ?", [source, str(post_id)]
                ).fetchone()
                text = found[0] if found else None
            if not isinstance(text, str) or not text.strip():
                raise InputError("no text (and no stored post by source and post_id)")
        except InputError as exc:
            report.bad.append(InputError(str(exc), file=str(path), line=line_no))
            continue
        for task, label in pairs:
            who_here = row.get("labeller") or who
            key = (text, task, label, who_here)
            if key in seen:
                report.repeated += 1
                continue
            seen.add(key)
            pending.append(
                {
                    "source": source,
                    "post_id": None if post_id is None else str(post_id),
                    "text": text,
                    "task": task,
                    "label": label,
                    "labeller": who_here,
                    "origin": row.get("origin") or f"import:{path.name}",
                    "created_at": row.get("created_at") or stamp,
                }
            )
    with db.atomic():
        db["labels"].insert_all(pending)
    report.added = len(pending)
    for error in report.bad:
        logger.warning("%s", error)
    return report


def export_labels(
    db: sqlite_utils.Database, path: str | Path, *, task: str | None = None, fmt: str | None = None
) -> int:
    """Write every label (or one task's) to CSV or JSONL, oldest first; returns how many."""
    path = Path(path)
    fmt = _format(path, fmt)
    rows = list(iter_labels(db, task=task))
    with path.open("w", encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


def iter_labels(db: sqlite_utils.Database, *, task: str | None = None) -> Iterator[dict[str, Any]]:
    """Stored labels, oldest first."""
    where, args = ("where task = ?", [task]) if task else ("", [])
    columns = ", ".join(EXPORT_COLUMNS)
    yield from db.query(f"select {columns} from labels {where} order by created_at, id", args)


# ---- alert feedback ---------------------------------------------------------------------------------------


def labels_from_feedback(
    db: sqlite_utils.Database,
    incident_id: str,
    verdict: str,
    *,
    labeller: str | None = None,
    now: datetime | None = None,
) -> int:
    """Label an incident's evidence posts from an analyst's verdict; returns how many labels were added.

    ``false_alarm``: each post's escalation is ``low``. ``confirmed``: ``high`` where the latest
    classification said high, else ``medium``.
    """
    verdict = canonical("alert", verdict)
    posts = list(
        db.query(
            """
            select p.source, p.id, p.text, (
                select escalation from classifications c
                where c.source = p.source and c.post_id = p.id order by classified_at desc limit 1
            ) as escalation
            from incident_posts ip join posts p on p.source = ip.source and p.id = ip.post_id
            where ip.incident_id = ? order by ip.added_at, p.id
            """,
            [incident_id],
        )
    )
    if not posts:
        raise InputError(f"incident {incident_id!r} has no evidence posts (is the id right?)")
    stamp = iso(now or datetime.now(UTC))
    rows = [
        {
            "source": post["source"],
            "post_id": post["id"],
            "text": post["text"],
            "task": "escalation",
            "label": "low"
            if verdict == "false_alarm"
            else ("high" if post["escalation"] == "high" else "medium"),
            "labeller": labeller or default_labeller(),
            "origin": f"alert-feedback:{incident_id}:{verdict}",
            "created_at": stamp,
        }
        for post in posts
    ]
    with db.atomic():
        db["labels"].insert_all(rows)
    return len(rows)


# ---- the labels training and evaluation read -------------------------------------------------------------


def resolved_labels(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """One row per labelled text: ``{"text", "sentiment", "escalation"}`` (None where unlabelled).

    The latest label per text and task wins; ``alert`` verdicts fill escalation where no escalation label
    exists (false alarm → low, confirmed → medium).
    """
    latest: dict[tuple[str, str], str] = {}
    verdicts: dict[str, str] = {}
    texts: dict[str, str] = {}
    for row in db.query("select text, task, label from labels order by created_at, id"):
        key = normalize_text(row["text"] or "")
        if not key:
            continue
        texts.setdefault(key, row["text"])
        if row["task"] in ("sentiment", "escalation"):
            latest[(key, row["task"])] = row["label"]
        elif row["task"] == "alert":
            verdicts[key] = row["label"]
    out = []
    for key, text in texts.items():
        sentiment = latest.get((key, "sentiment"))
        escalation = latest.get((key, "escalation"))
        if escalation is None and key in verdicts:
            escalation = "low" if verdicts[key] == "false_alarm" else "medium"
        if sentiment in SENTIMENTS or escalation in ESCALATIONS:
            out.append(
                {
                    "text": text,
                    "sentiment": sentiment if sentiment in SENTIMENTS else None,
                    "escalation": escalation if escalation in ESCALATIONS else None,
                }
            )
    return out


def training_labels(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The labels a model may learn from: everything but the held-out slice."""
    return [row for row in resolved_labels(db) if not is_holdout(row["text"])]


def holdout_labels(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The held-out slice of the analysts' labels: evaluation only, never trained on."""
    return [row for row in resolved_labels(db) if is_holdout(row["text"])]


def label_counts(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many texts carry a sentiment and an escalation label."""
    rows = list(rows)
    return {task: sum(1 for row in rows if row.get(task)) for task in ("sentiment", "escalation")}
