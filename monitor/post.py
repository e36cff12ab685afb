"""The post: the unit everything in Tingfeng reads (see CONTRACT.md §1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import attrgetter, is_not
from typing import Any

from monitor.errors import InputError

CONTRACT_FIELDS = (
    "id",
    "text",
    "source",
    "url",
    "author",
    "author_followers",
    "author_verified",
    "created_at",
    "observed_at",
    "reposts",
    "comments",
    "likes",
)
# Every key of every post is looked up here: a set, not a scan of the tuple.
_CONTRACT_NAMES = frozenset(CONTRACT_FIELDS)
COUNT_FIELDS = ("reposts", "comments", "likes")
DEFAULT_SOURCE = "replay"
MAX_TEXT_CHARS = 100_000
MAX_COUNT = 2**63 - 1  # SQLite INTEGER


@dataclass(slots=True)
class Post:
    """A post as seen once: the contract's fields, plus any unknown fields kept in ``extra``."""

    id: str
    text: str
    source: str = DEFAULT_SOURCE
    url: str | None = None
    author: str | None = None
    author_followers: int | None = None
    author_verified: bool | None = None
    created_at: datetime | None = None
    observed_at: datetime | None = None
    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Optional fields that were malformed: ignored (their raw value kept in ``extra``), the post still used.
    problems: list[str] = field(default_factory=list, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        """A post's identity: its source plus its id."""
        return (self.source, self.id)

    @property
    def seen_at(self) -> datetime | None:
        """When this observation happened: ``observed_at``, else ``created_at``."""
        return self.observed_at or self.created_at

    @classmethod
    def from_dict(cls, data: Any, *, surrogates_possible: bool = True) -> Post:
        """Validate a decoded JSON object; raise InputError naming the field that is wrong.

        ``surrogates_possible=False`` skips the lone-surrogate check, for a caller that knows no string in
        ``data`` can hold one (JSON decoded from valid UTF-8 with no ``\\u`` escape in it).
        """
        if not isinstance(data, dict):
            raise InputError(f"expected a JSON object, got {type(data).__name__}")
        for name in ("id", "text"):
            if name not in data or data[name] is None:
                raise InputError(f"missing required field {name!r}")
        if surrogates_possible and _has_lone_surrogate(data):
            # JSON can spell "\ud800"; such a string cannot be stored or sent anywhere.
            raise InputError("holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text")
        post_id = data["id"]
        if isinstance(post_id, bool) or not isinstance(post_id, (str, int)):
            raise InputError(f"field 'id' must be a string, got {type(post_id).__name__}")
        post_id = str(post_id).strip()
        if not post_id:
            raise InputError("field 'id' is empty")
        text = data["text"]
        if not isinstance(text, str):
            raise InputError(f"field 'text' must be a string, got {type(text).__name__}")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(f"field 'text' is {len(text)} characters, over the {MAX_TEXT_CHARS} limit")
        source = data.get("source") or DEFAULT_SOURCE
        if not isinstance(source, str):
            raise InputError(f"field 'source' must be a string, got {type(source).__name__}")
        extra = {k: v for k, v in data.items() if k not in _CONTRACT_NAMES}
        problems: list[str] = []
        values: list[Any] = []
        # A bad optional field ("likes": "1.2万", "created_at": "昨天 10:00") must not lose the post: the
        # field is ignored, its raw value kept among the extra fields, and the reader is told.
        for name, plain, parse in _OPTIONAL:
            value = data.get(name)
            # Most values are already what the field holds (a str, an int in range, a bool): taken as they are.
            if value is None or (type(value) is plain and (plain is not int or 0 <= value <= MAX_COUNT)):
                values.append(value)
                continue
            try:
                values.append(parse(data, name))
            except InputError as exc:
                problems.append(str(exc))
                extra[name] = value
                values.append(None)
        return cls(post_id, text, source, *values, extra, problems)

    def to_dict(self, times: tuple[str | None, str | None] | None = None) -> dict[str, Any]:
        """The contract's JSON form, unknown fields included, ``None`` fields left out.

        ``times``: ``created_at`` and ``observed_at`` as ``isoformat()`` gives them, when the caller has them
        already (the store formats each time once). The dict is built by C-level iteration, not a loop.
        """
        values = _CONTRACT_VALUES(self)
        out: dict[str, Any] = dict(self.extra)
        out.update(compress(zip(CONTRACT_FIELDS, values, strict=True), map(is_not, values, _NONES)))
        created, observed = times or (_isoformat(self.created_at), _isoformat(self.observed_at))
        if created is not None:
            out["created_at"] = created
        if observed is not None:
            out["observed_at"] = observed
        return out


_CONTRACT_VALUES = attrgetter(*CONTRACT_FIELDS)
_NONES = repeat(None)


def _isoformat(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def parse_time(value: str) -> datetime:
    """Parse an ISO-8601 time; a time without an offset is taken as UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any string in ``value`` (keys included, at any depth) cannot be encoded as UTF-8.

    Walks the decoded object instead of encoding all of it to JSON first: a fifth of reading a post.
    """
    if isinstance(value, str):
        return not (value.isascii() or _encodable(value))
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_lone_surrogate(item) for item in value)
    if value is None or isinstance(value, (bool, int, float)):
        return False
    return _has_lone_surrogate(str(value))  # what json.dumps(default=str) would have written


def _optional_str(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"field {name!r} must be a string, got {type(value).__name__}")
    return value


def _optional_count(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"field {name!r} must be an integer, got a boolean")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise InputError(f"field {name!r} must be an integer, got {value!r:.40}")
    if value < 0:
        raise InputError(f"field {name!r} must not be negative, got {value}")
    if value > MAX_COUNT:
        raise InputError(f"field {name!r} is {value}, larger than any real count")
    return value


def _optional_bool(data: dict, name: str) -> bool | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    raise InputError(f"field {name!r} must be true or false, got {value!r:.40}")


def _optional_time(data: dict, name: str) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"field {name!r} must be an ISO-8601 string, got {type(value).__name__}")
    try:
        return parse_time(value)
    except ValueError:
        raise InputError(f"field {name!r} is not an ISO-8601 time: {value!r:.60}") from None


# The optional fields in Post's field order: (name, the type a good value has as it is, else its parser).
_OPTIONAL = (
    ("url", str, _optional_str),
    ("author", str, _optional_str),
    ("author_followers", int, _optional_count),
    ("author_verified", bool, _optional_bool),
    ("created_at", None, _optional_time),
    ("observed_at", None, _optional_time),
    ("reposts", int, _optional_count),
    ("comments", int, _optional_count),
    ("likes", int, _optional_count),
)
