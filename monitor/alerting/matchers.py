"""Label matchers in Alertmanager's syntax: ``name="value"``, ``name!="value"``, ``name=~"re"``, ``name!~"re"``.

Regular expressions are anchored (the whole value must match), as in Alertmanager. A label that is absent
matches as the empty string, so ``brand!="x"`` matches an alert without a brand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_MATCHER = re.compile(
    r"""^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^"'\s,{}]*)\s*$"""
)
OPERATORS = ("=", "!=", "=~", "!~")


@dataclass(frozen=True, slots=True)
class Matcher:
    """One condition on one label."""

    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this matcher."""
        actual = str(labels.get(self.name, ""))
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = self._regex is not None and self._regex.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def parse_matcher(text: str) -> Matcher:
    """Parse ``name="value"`` (or ``!=``, ``=~``, ``!~``); raises ValueError saying what was expected."""
    found = _MATCHER.match(text)
    if found is None:
        raise ValueError(
            f'invalid matcher {text!r}: expected name="value", name!="value", name=~"regex" or name!~"regex"'
        )
    name, op, value = found["name"], found["op"], found["value"]
    if value.startswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    elif value.startswith("'"):
        value = value[1:-1]
    regex = None
    if op in ("=~", "!~"):
        try:
            regex = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression in matcher {text!r}: {exc}") from None
    return Matcher(name, op, value, regex)


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    """Parse several matchers; a single string may hold a comma-separated list, optionally in braces."""
    out: list[Matcher] = []
    for text in texts:
        out.extend(parse_matcher(part) for part in split_matchers(text))
    return tuple(out)


def split_matchers(text: str) -> list[str]:
    """Split ``{a="1", b=~"x,y"}`` into its matchers, respecting quotes."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    parts, current, quote, escaped = [], [], "", False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quote == '"':
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == ",":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part for part in (p.strip() for p in parts) if part]


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether every matcher matches (an empty list matches everything)."""
    return all(matcher.matches(labels) for matcher in matchers)
