"""Reading post fields out of what platforms send: counts, times, HTML text. Pure functions, no I/O."""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from monitor.post import Post

logger = logging.getLogger(__name__)

CST = timezone(timedelta(hours=8), "CST")

_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(万|亿|千|w|W|k|K)?\s*\+?\s*$")
_MULTIPLIERS = {
    None: 1,
    "万": 10_000,
    "w": 10_000,
    "W": 10_000,
    "亿": 100_000_000,
    "千": 1000,
    "k": 1000,
    "K": 1000,
}


def parse_count(value: object) -> int | None:
    """An engagement count as platforms write it: ``12``, ``"12"``, ``"1.2万"``, ``"100万+"``, ``"3亿"``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value >= 0 and value == value else None
    if not isinstance(value, str):
        return None
    match = _COUNT.match(value.replace(",", ""))
    if not match:
        return None
    return int(round(float(match.group(1)) * _MULTIPLIERS[match.group(2)]))


_MINUTES_AGO = re.compile(r"^(\d+)\s*分钟前$")
_HOURS_AGO = re.compile(r"^(\d+)\s*小时前$")
_SECONDS_AGO = re.compile(r"^(\d+)\s*秒前$")
_DAY_TIME = re.compile(r"^(昨天|今天|前天)\s*(\d{1,2}):(\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_time(value: object, now: datetime) -> datetime | None:
    """A post time in any form Weibo and JSON APIs use, resolved against ``now`` in China Standard Time.

    ``"Sun Sep 27 10:00:00 +0800 2011"``, ISO-8601, epoch seconds or milliseconds, RFC 2822, and the
    relative forms ``"刚刚"``, ``"5分钟前"``, ``"2小时前"``, ``"昨天 12:00"``, ``"09-27"`` (this year).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    local_now = now.astimezone(CST)
    if text in ("刚刚", "刚才"):
        return local_now
    for pattern, unit in ((_SECONDS_AGO, "seconds"), (_MINUTES_AGO, "minutes"), (_HOURS_AGO, "hours")):
        match = pattern.match(text)
        if match:
            return local_now - timedelta(**{unit: int(match.group(1))})
    match = _DAY_TIME.match(text)
    if match:
        days = {"今天": 0, "昨天": 1, "前天": 2}[match.group(1)]
        day = (local_now - timedelta(days=days)).date()
        return datetime(day.year, day.month, day.day, int(match.group(2)), int(match.group(3)), tzinfo=CST)
    match = _MONTH_DAY.match(text)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        hour, minute = int(match.group(3) or 0), int(match.group(4) or 0)
        try:
            moment = datetime(local_now.year, month, day, hour, minute, tzinfo=CST)
        except ValueError:
            return None
        # "12-31" read on 1 January is last year's.
        return moment.replace(year=local_now.year - 1) if moment > local_now + timedelta(days=1) else moment
    match = _FULL_DATE.match(text)
    if match:
        parts = [int(p or 0) for p in match.groups()]
        try:
            return datetime(*parts[:3], parts[3], parts[4], parts[5], tzinfo=CST)
        except ValueError:
            return None
    try:
        return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=CST)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        return None


class _TextExtractor(HTMLParser):
    """Weibo / RSS post HTML to text: emoticon images become their ``[怒]`` alt text, ``<br>`` a newline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            if alt.startswith("[") and alt.endswith("]"):
                self.parts.append(alt)
        elif tag in ("p", "div") and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


_FULL_TEXT_LINK = re.compile(r"\s*(\.\.\.|…)?\s*全文\s*$")
_BLANK_LINES = re.compile(r"[ \t]*\n[ \t\n]*")


def html_to_text(markup: str) -> str:
    """Visible text of a post's HTML; entities decoded (twice-escaped ones too), the "全文" link dropped."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    if "&" in text:  # double-escaped entities, common in RSS
        text = html.unescape(text)
    text = _FULL_TEXT_LINK.sub("", text)
    return _BLANK_LINES.sub("\n", text).strip()


def dedupe(posts: list[Post]) -> tuple[list[Post], int]:
    """Keep one post per key and observation time; returns how many were dropped.

    A page that lists one post twice at the same moment (a pinned post, a retried page) keeps the last copy,
    which carries the freshest counts. Copies stamped with different ``observed_at`` times (a JSONL log of
    re-observations) are each an observation of their own: all of them are kept, so the post's engagement
    history loses none of its points.
    """
    by_key: dict[tuple[str, str, datetime | None], Post] = {}
    for post in posts:
        key = (*post.key, post.observed_at)
        by_key.pop(key, None)
        by_key[key] = post
    return list(by_key.values()), len(posts) - len(by_key)


def keep(post: Post, keywords: list[str], exclude: list[str]) -> bool:
    """Whether a post passes a feed's keyword filters (any keyword, no excluded word; case-insensitive)."""
    text = post.text.lower()
    if exclude and any(word.lower() in text for word in exclude):
        return False
    if not keywords:
        return True
    return any(all(part.lower() in text for part in word.split()) for word in keywords)
