"""How far a complaint has spread: the usual level, sliding windows of voices, and the severity they reach.

Each author counts once per window, weighed as a *voice*: one for anybody, more for a large reach, a verified
or media account, or a post that threatens to take it further. Growth compares the authors in a window with
what the usual level of complaints (learned per feed/brand and per incident) would put there.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
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


def decayed(tally: list[float], now: float, half_life_h: float) -> float:
    """A ``[count, as of]`` tally's count at ``now``, forgetting with the half-life."""
    if now > tally[1]:
        return tally[0] * math.exp(-LN2 * (now - tally[1]) / HOUR / half_life_h)
    return tally[0]


def tally_add(tally: list[float], now: float, half_life_h: float, n: float = 1.0) -> None:
    """Bring a ``[count, as of]`` tally forward to ``now`` and add ``n``."""
    tally[0] = decayed(tally, now, half_life_h) + n
    tally[1] = max(tally[1], now)


def surge_start(
    times: list[float],
    now: float,
    min_before: int,
    min_after: int,
    ratio: float,
    min_later: int | None = None,
) -> float | None:
    """When the surge of an incident that was something else before began: the first post of the authors who
    came at least ``ratio`` times as fast as those before them, or None when it began with its first author.

    ``times`` are the authors' arrivals, sorted. The split is the most likely change of a Poisson rate, read from
    the gaps between arrivals (and the open gap to ``now``): at least ``min_before`` authors before it and
    ``min_after`` from it on (a group of everyday talk a storm overran is told from the storm's first post, not
    the grumble of days before). Within a surge found so, a later one again ``ratio`` times as fast, clearly so
    (a likelihood gain of at least ``_LATER_GAIN``) and with at least ``min_later`` authors (default
    ``min_after``), is where it began (an afternoon's weather delays, then the evening's cancellations).
    """
    start, lo = None, 0
    while True:
        least, after = (0.0, min_after) if start is None else (_LATER_GAIN, min_later or min_after)
        found = _change(times, lo, now, min_before, after, ratio, least)
        if found is None:
            return start
        lo = found
        start = times[found]


_LATER_GAIN = 3.0


def _change(
    times: list[float], lo: int, now: float, min_before: int, min_after: int, ratio: float, least: float
) -> int | None:
    """The index in ``times[lo:]`` of the most likely change to a rate ``ratio`` times as fast (see surge_start):
    the gaps up to the change against those after it, each side's rate its gaps' count over their span."""
    n = len(times) - lo
    if n < max(min_before, 1) + max(min_after, 2) or now <= times[lo]:
        return None
    gaps = n - 1  # between the n arrivals; the open gap to now counts as time without one
    whole = gaps * math.log(gaps / (now - times[lo]))
    best, best_gain = None, least
    for i in range(max(min_before, 1), n - max(min_after, 2) + 1):
        before, after = times[lo + i] - times[lo], now - times[lo + i]
        if before <= 0 or after <= 0:
            continue
        rate_before, rate_after = i / before, (gaps - i) / after
        if rate_after < ratio * rate_before:
            continue
        gain = i * math.log(rate_before) + (gaps - i) * math.log(rate_after) - whole
        if gain > best_gain:
            best, best_gain = lo + i, gain
    return best


class Rate:
    """An event rate that forgets with a half-life, starting from a prior (events per hour).

    It also tallies its events by kind (a complaint's kinds of fault), on the same clock: a kind's rate is its
    tally plus a prior of its own, forgotten as the rate's prior is (``prior_weight``: 1 at first), over the
    same hours.
    """

    __slots__ = ("count", "hours", "last", "prior_weight", "kinds")

    def __init__(
        self,
        count: float,
        hours: float,
        last: float | None,
        prior_weight: float,
        kinds: dict[str, list[float]],
    ):
        self.count = count
        self.hours = hours
        self.last = last
        self.prior_weight = prior_weight
        self.kinds = kinds

    @classmethod
    def prior(cls, per_day: float, days: float) -> Rate:
        return cls(per_day * days, days * 24.0, None, 1.0, {})

    def _advance(self, now: float, half_life_h: float) -> None:
        if self.last is not None and now > self.last:
            elapsed = (now - self.last) / HOUR
            keep = math.exp(-LN2 * elapsed / half_life_h)
            # Hours decay like counts, but the elapsed time itself is added (mostly undecayed).
            self.count *= keep
            self.prior_weight *= keep
            self.hours = self.hours * keep + half_life_h / LN2 * (1 - keep)
        if self.last is None or now > self.last:
            self.last = now

    def add(self, now: float, half_life_h: float, n: float = 1.0, kinds: Iterable[str] = ()) -> None:
        self._advance(now, half_life_h)
        self.count += n
        for kind in kinds:
            tally_add(self.kinds.setdefault(kind, [0.0, now]), now, half_life_h, n)

    def per_hour(self, now: float, half_life_h: float) -> float:
        self._advance(now, half_life_h)
        return self.count / self.hours if self.hours > 0 else 0.0

    def kind_per_hour(self, kind: str, prior_count: float, now: float, half_life_h: float) -> float:
        """The rate of events of one kind, with a prior of ``prior_count`` events (weighed as the rate's)."""
        self._advance(now, half_life_h)
        tally = self.kinds.get(kind)
        count = decayed(tally, now, half_life_h) if tally is not None else 0.0
        return (count + prior_count * self.prior_weight) / self.hours if self.hours > 0 else 0.0

    def to_state(self) -> list:
        return [self.count, self.hours, self.last, self.prior_weight, self.kinds]

    @classmethod
    def from_state(cls, state: list) -> Rate:
        return cls(*state)

    @classmethod
    def from_v2_state(cls, state: list, half_life_h: float, prior_h: float) -> Rate:
        """A rate saved before kinds were tallied (``[count, hours, last]``): none tallied yet, and the prior's
        weight worked out from the hours, which ``_advance`` moves from ``prior_h`` toward ``half_life_h / LN2``
        by the same factor as it forgets the prior."""
        count, hours, last = state
        steady = half_life_h / LN2
        weight = (steady - hours) / (steady - prior_h) if steady != prior_h else 0.0
        return cls(count, hours, last, min(1.0, max(0.0, weight)), {})


class Rhythm:
    """The daily rhythm of posting, learned from every new post: how much of a day's activity falls in a span.

    People post little at 4 a.m. and most in the evening, so twelve evening hours hold far more than half a day's
    complaints. A brand's usual level is a rate per *activity hour* (a day holds 24 of them, spread as people
    post): the complaints a window would usually see are the rate times the activity hours in it. Until a whole
    day has been seen, every hour counts as one. The profile is worked out again at each new hour from the hours
    before it, smoothed toward an even day by one day's average count per hour.
    """

    __slots__ = ("counts", "first_hour", "hour", "pending", "_cum")

    def __init__(
        self,
        counts: list[float] | None = None,
        first_hour: int | None = None,
        hour: int = -1,
        pending: float = 0.0,
    ):
        self.counts = counts if counts is not None else [0.0] * 24
        self.first_hour = first_hour  # hours since the epoch of the first post seen
        self.hour = hour  # the hour being counted (hours since the epoch)
        self.pending = pending  # posts in that hour, not yet in ``counts``
        self._cum: list[float] | None = None

    def post(self, now: float) -> None:
        hour = int(now // HOUR)
        if hour != self.hour:
            if self.hour >= 0 and self.pending:
                self.counts[self.hour % 24] += self.pending
                self._cum = None
            if self.first_hour is None:
                self.first_hour = hour
            self.hour, self.pending = hour, 0.0
        self.pending += 1.0

    def _profile(self) -> list[float] | None:
        """Activity hours before each hour of the day (25 values), or None while the day is not yet seen."""
        if self._cum is None:
            if self.first_hour is None or self.hour - self.first_hour < 24:
                return None
            counts = self.counts
            total = sum(counts)
            days = (self.hour - self.first_hour) / 24.0
            even = total / 24.0 / days
            scale = 24.0 / (total + 24.0 * even)
            cum = [0.0]
            for n in counts:
                cum.append(cum[-1] + (n + even) * scale)
            self._cum = cum
        return self._cum

    def hours(self, start: float, end: float) -> float:
        """Activity hours from ``start`` to ``end`` (equal to clock hours before a whole day is seen)."""
        if end <= start:
            return 0.0
        cum = self._profile()
        if cum is None:
            return (end - start) / HOUR
        return _activity(cum, end) - _activity(cum, start)

    def to_state(self) -> list:
        return [self.counts, self.first_hour, self.hour, self.pending]

    @classmethod
    def from_state(cls, state: list) -> Rhythm:
        return cls(*state)


def _activity(cum: list[float], t: float) -> float:
    """Activity hours from the epoch to ``t``."""
    hours = t / HOUR
    whole = math.floor(hours)
    day, hour = divmod(whole, 24)
    return day * 24.0 + cum[hour] + (cum[hour + 1] - cum[hour]) * (hours - whole)


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
