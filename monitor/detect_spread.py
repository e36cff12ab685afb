"""How far a complaint has spread: the usual level, sliding windows of voices, and the severity they reach.

Each author counts once per window, weighed as a *voice*: one for anybody, more for a large reach, a verified
or media account, or a post that threatens to take it further. Growth compares the authors in a window with
what the usual level of complaints (learned per feed/brand and per incident) would put there.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from monitor.detect_config import SEVERITY_LEVELS, DetectionConfig, LevelRule

HOUR = 3600.0
LN2 = math.log(2)


def rank(severity: str | None) -> int:
    """0 for none, then watch < warning < critical."""
    return SEVERITY_LEVELS.index(severity) + 1 if severity in SEVERITY_LEVELS else 0


def voice(config: DetectionConfig, followers: int, verified: bool, high: bool) -> float:
    """How much one author's post weighs: one, plus reach and verification, times escalation."""
    spread = config.spread
    weight = 1.0 + spread.reach_weight * math.log10(max(1.0, followers / spread.reach_unit))
    if verified:
        weight += spread.verified_bonus
    if high:
        weight *= spread.high_escalation_factor
    return weight


class Rate:
    """An event rate that forgets with a half-life, starting from a prior (events per hour)."""

    __slots__ = ("count", "hours", "last")

    def __init__(self, count: float, hours: float, last: float | None):
        self.count = count
        self.hours = hours
        self.last = last

    @classmethod
    def prior(cls, per_day: float, days: float) -> Rate:
        return cls(per_day * days, days * 24.0, None)

    def _advance(self, now: float, half_life_h: float) -> None:
        if self.last is not None and now > self.last:
            elapsed = (now - self.last) / HOUR
            keep = math.exp(-LN2 * elapsed / half_life_h)
            # Hours decay like counts, but the elapsed time itself is added (mostly undecayed).
            self.count *= keep
            self.hours = self.hours * keep + half_life_h / LN2 * (1 - keep)
        if self.last is None or now > self.last:
            self.last = now

    def add(self, now: float, half_life_h: float, n: float = 1.0) -> None:
        self._advance(now, half_life_h)
        self.count += n

    def per_hour(self, now: float, half_life_h: float) -> float:
        self._advance(now, half_life_h)
        return self.count / self.hours if self.hours > 0 else 0.0

    def to_state(self) -> list:
        return [self.count, self.hours, self.last]

    @classmethod
    def from_state(cls, state: list) -> Rate:
        return cls(*state)


class Window:
    """Distinct authors and their summed voices over the last ``hours``."""

    __slots__ = ("span", "events", "counts", "voices")

    def __init__(self, hours: float):
        self.span = hours * HOUR
        # [t, author] pairs, oldest first: kept as the lists the state holds, so a snapshot only copies the deque.
        self.events: deque[list] = deque()
        self.counts: dict[str, int] = {}
        self.voices = 0.0

    def add(self, t: float, author: str, voice_of: dict[str, float]) -> None:
        self.events.append([t, author])
        n = self.counts.get(author, 0)
        if n == 0:
            self.voices += voice_of[author]
        self.counts[author] = n + 1

    def raise_voice(self, author: str, delta: float) -> None:
        if author in self.counts:
            self.voices += delta

    def expire(self, now: float, voice_of: dict[str, float]) -> None:
        horizon = now - self.span
        events, counts = self.events, self.counts
        while events and events[0][0] < horizon:
            _, author = events.popleft()
            n = counts[author] - 1
            if n:
                counts[author] = n
            else:
                del counts[author]
                self.voices -= voice_of[author]
        if not counts:
            self.voices = 0.0

    @property
    def authors(self) -> int:
        return len(self.counts)

    def to_state(self) -> list:
        return [list(self.events), self.voices]

    @classmethod
    def from_state(cls, hours: float, state: list) -> Window:
        window = cls(hours)
        for t, author in state[0]:
            window.events.append([t, author])
            window.counts[author] = window.counts.get(author, 0) + 1
        window.voices = state[1]
        return window


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and one is made per rule per post.
@dataclass(slots=True)
class LevelReading:
    """One severity rule's window, read at a moment."""

    level: str
    rule: LevelRule
    authors: int
    voices: float
    expected: float
    growth: float

    @property
    def met(self) -> bool:
        rule = self.rule
        return (
            self.authors >= rule.min_authors
            and self.voices >= rule.min_voices
            and self.growth >= rule.min_growth
        )


def read_level(level: str, rule: LevelRule, window: Window, rate_per_hour: float) -> LevelReading:
    """Compare a window's authors with what the usual rate would put in it."""
    expected = rate_per_hour * rule.window_hours
    growth = window.authors / (expected + 1.0)
    return LevelReading(level, rule, window.authors, window.voices, expected, growth)
