"""JSONL files in the contract's post format (one file, or a folder of them), read incrementally.

The cursor keeps, per file, the byte offset and line number after the last complete line stored, so a restart
reads exactly the lines that came after. A line still being written (no newline yet) waits for the next run,
unless the file has not changed for a while. A file that shrank was rotated or rewritten: read it again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from monitor.errors import InputError
from monitor.feeds.config import FileFeed
from monitor.feeds.fetch import FetchContext, Page
from monitor.feeds.http import FetchError
from monitor.feeds.store import FeedState
from monitor.post import Post

logger = logging.getLogger(__name__)

SETTLE_SECONDS = 10.0  # an unterminated last line older than this is complete after all


def fetch_file(feed: FileFeed, context: FetchContext, state: FeedState, now: datetime) -> Iterator[Page]:
    root = Path(feed.path)
    root = root if root.is_absolute() else context.base_dir / root
    if root.is_dir():
        paths = sorted(p for p in root.rglob(feed.pattern) if p.is_file())
    elif root.is_file():
        paths = [root]
    else:
        raise FetchError(f"no such file or folder: {root}", feed=feed.name, reason="not_found")
    cursor = state.cursor_json().get("files", {})
    for path in paths:
        name = str(path.relative_to(root)) if root.is_dir() else path.name
        start = cursor.get(name, {"offset": 0, "line": 0})
        for posts, position, notes in _read_file(path, feed, start, now):
            cursor = {**cursor, name: position}
            yield Page(posts=posts, advance={"cursor": json.dumps({"files": cursor})}, notes=notes)
            if context.should_stop():
                return


def _read_file(
    path: Path, feed: FileFeed, position: dict[str, int], now: datetime
) -> Iterator[tuple[list[Post], dict[str, int], list[str]]]:
    try:
        stat = path.stat()
        handle = path.open("rb")
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror}", feed=feed.name, reason="io_error") from None
    offset, line_no = position.get("offset", 0), position.get("line", 0)
    notes: list[str] = []
    if stat.st_size < offset:
        notes.append(
            f"{path.name} shrank from {offset:,} to {stat.st_size:,} bytes (rotated?): reading it again"
        )
        offset, line_no = 0, 0
    settled = time.time() - stat.st_mtime > SETTLE_SECONDS
    with handle:
        handle.seek(offset)
        posts: list[Post] = []
        yielded = position.get("offset", 0)
        while True:
            raw = handle.readline()
            if not raw:
                break
            if not raw.endswith(b"\n") and not settled:
                break  # still being written
            offset += len(raw)
            line_no += 1
            post = _parse_line(raw, path, line_no, feed, now, notes)
            if post is not None:
                posts.append(post)
            if len(posts) >= feed.batch:
                yield posts, {"offset": offset, "line": line_no}, notes
                posts, notes, yielded = [], [], offset
        if posts or notes or offset != yielded:
            yield posts, {"offset": offset, "line": line_no}, notes


def _parse_line(
    raw: bytes, path: Path, line_no: int, feed: FileFeed, now: datetime, notes: list[str]
) -> Post | None:
    stripped = raw.strip()
    if not stripped:
        return None
    try:
        data = json.loads(stripped.decode("utf-8"))
        if isinstance(data, dict):
            data.setdefault("source", feed.source or "file")
            data.setdefault("observed_at", now.isoformat())
        return Post.from_dict(data)
    except UnicodeDecodeError as exc:
        problem = f"invalid UTF-8 at byte {exc.start}"
    except ValueError as exc:
        problem = f"not valid JSON ({exc})"
    except InputError as exc:
        problem = str(exc)
    message = f"{path}:{line_no}: {problem}; line skipped"
    logger.warning("feed %s: %s", feed.name, message)
    notes.append(message)
    return None
