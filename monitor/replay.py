"""The contract's replay (CONTRACT.md §3): a file of posts through the whole pipeline on a simulated clock.

Progress is recorded per input file (by its SHA-256) in the same transaction as the posts, so a replay that
is killed resumes where the last batch committed, and replaying a finished file again changes nothing. The
ALERTS file is rewritten from the database at start and appended after each commit, so it always holds
exactly the notifications the database holds, in order.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from monitor.errors import InputError
from monitor.jsonl import ReadReport, read_posts
from monitor.pipeline import Pipeline
from monitor.post import Post
from monitor.store import iso

logger = logging.getLogger(__name__)


@dataclass
class ReplayReport:
    """What a replay did, for the CLI's summary and the benchmarks."""

    lines_done: int = 0
    resumed_from: int = 0
    observations: int = 0
    notifications: list[dict[str, Any]] = field(default_factory=list)
    read: ReadReport = field(default_factory=ReadReport)
    first_time: datetime | None = None
    last_time: datetime | None = None


def replay(
    input_path: str | Path,
    db_path: str | Path,
    alerts_path: str | Path | None,
    *,
    config_dir: str | Path | None = None,
    on_notification: Callable[[dict[str, Any]], None] | None = None,
    pipeline: Pipeline | None = None,
) -> ReplayReport:
    """Replay ``input_path`` into ``db_path``, writing one contract line per notification to ``alerts_path``."""
    input_path = Path(input_path)
    if not input_path.is_file():
        raise InputError("no such file", file=str(input_path))
    digest = _sha256(input_path)
    key = str(input_path.resolve())
    report = ReplayReport()
    out: IO[str] | None = None

    def emit(notification) -> None:
        line = notification.to_contract()
        report.notifications.append(line)
        if out is not None:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        if on_notification is not None:
            on_notification(line)

    pipe = pipeline or Pipeline.open(config_dir, db_path, mode="replay")
    progress = _progress(pipe, key, digest)
    report.resumed_from = progress
    if alerts_path is not None:
        out = open(alerts_path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        for line in pipe.alerter.contract_log():
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()
    batch: list[Post] = []
    batch_end = progress
    batch_size = pipe.config.monitor.replay_batch

    def commit(lines_done: int) -> None:
        result = pipe.process(
            batch,
            extra_writes=lambda db: db["replay_progress"].upsert(
                {
                    "input": key,
                    "sha256": digest,
                    "lines_done": lines_done,
                    "updated_at": iso(datetime.now(UTC)),
                },
                pk="input",
            ),
        )
        report.observations += result.saved
        for notification in result.notifications:
            emit(notification)
        if out is not None:
            out.flush()
        batch.clear()

    try:
        for line_no, _data, post in read_posts(input_path, report.read):
            # Lines done before count for the clock too: a replay killed after its last batch committed but
            # before finish() did must still finish when run again.
            if post.seen_at is not None:
                report.first_time = report.first_time or post.seen_at
                report.last_time = post.seen_at
            if line_no <= progress:
                continue
            batch.append(post)
            batch_end = line_no
            if len(batch) >= batch_size:
                commit(batch_end)
        # Count trailing bad or blank lines as done too, so a rerun does not report them twice.
        commit(max(batch_end, _line_count(input_path)))
        if report.last_time is not None:
            for notification in pipe.finish(report.last_time):
                emit(notification)
    finally:
        if out is not None:
            out.close()
    report.lines_done = max(batch_end, progress)
    return report


def _progress(pipe: Pipeline, key: str, digest: str) -> int:
    rows = list(pipe.db.query("select sha256, lines_done from replay_progress where input = ?", [key]))
    if rows and rows[0]["sha256"] == digest:
        return rows[0]["lines_done"]
    return 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _line_count(path: Path) -> int:
    with open(path, "rb") as stream:
        return sum(1 for _ in stream)
