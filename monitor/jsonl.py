"""Reading posts from JSONL: every bad line is reported with its file and line number, then skipped."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from monitor.errors import InputError
from monitor.post import Post

logger = logging.getLogger(__name__)


@dataclass
class ReadReport:
    """What reading skipped, so the caller can tell the user and set the exit status."""

    read: int = 0
    skipped: list[InputError] = field(default_factory=list)

    def note(self, error: InputError) -> None:
        self.skipped.append(error)
        logger.warning("skipped %s", error)


def open_input(path: str | Path | None) -> tuple[str, IO[bytes]]:
    """``-`` or ``None`` means standard input; returns (display name, binary stream)."""
    if path is None or str(path) == "-":
        return "<stdin>", sys.stdin.buffer
    try:
        return str(path), open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=str(path)) from None


def _decoded_lines(name: str, stream: IO[bytes], report: ReadReport) -> Iterator[tuple[int, str, Any]]:
    """Yield (line number, the line as text, its decoded JSON) for each good line."""
    for line_no, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.note(InputError(f"invalid UTF-8 at byte {exc.start}", file=name, line=line_no))
            continue
        try:
            data = _loads(text)
        except json.JSONDecodeError as exc:
            report.note(
                InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=name, line=line_no)
            )
            continue
        except RecursionError:
            report.note(InputError("JSON nested too deeply", file=name, line=line_no))
            continue
        yield line_no, text, data


_raw_decode = json.JSONDecoder().raw_decode
_JSON_SPACE = " \t\n\r"


def _loads(text: str) -> Any:
    """``json.loads(text)``, a little faster for a line that starts with its value (they all do).

    ``json.loads`` skips the whitespace around the value with two regular-expression matches; a line is decoded
    first and what follows the value checked by hand. Anything else goes the standard way, errors included.
    """
    try:
        data, end = _raw_decode(text)
    except (ValueError, RecursionError):
        return json.loads(text)
    if end != len(text) and text[end:].strip(_JSON_SPACE):
        return json.loads(text)
    return data


def read_posts(path: str | Path | None, report: ReadReport) -> Iterator[tuple[int, dict, Post]]:
    """Yield (line number, raw object, Post) for every valid post in a JSONL file or stdin."""
    name, stream = open_input(path)
    try:
        for line_no, text, data in _decoded_lines(name, stream, report):
            try:
                # Strict UTF-8 decoding lets no lone surrogate through: only a "\\u" escape can make one.
                post = Post.from_dict(data, surrogates_possible="\\u" in text)
            except InputError as exc:
                report.note(InputError(str(exc), file=name, line=line_no))
                continue
            for problem in post.problems:
                logger.warning("%s:%d: kept post %r, ignored %s", name, line_no, post.id, problem)
            report.read += 1
            yield line_no, data, post
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if report.read == 0 and not report.skipped:
        logger.warning("%s: no posts (empty input)", name)
