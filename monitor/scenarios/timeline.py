"""A scenario's timeline: authors with fixed reach, posts on a daily rhythm, engagement that grows and is
re-observed, written out as contract JSONL in time order."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from monitor.scenarios.phrasebank import PhraseBank

CST = timezone(timedelta(hours=8))

# Share of a day's posts written in each hour (China Standard Time): quiet at night, peaks at lunch and late
# evening, as Weibo traffic is.
HOURLY_ACTIVITY = (
    0.45, 0.3, 0.18, 0.1, 0.07, 0.08, 0.18, 0.4, 0.65, 0.85, 0.95, 1.0,
    1.0, 0.9, 0.82, 0.82, 0.85, 0.88, 0.9, 0.98, 1.1, 1.2, 1.15, 0.85,
)  # fmt: skip
_PEAK = max(HOURLY_ACTIVITY)
BRAND_SEARCH = "weibo-search:"  # a keyword search; one for a brand's own name tags what it fetches
_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Author:
    """One account; its reach and verification never change within a scenario."""

    uid: str
    name: str
    followers: int
    verified: bool
    kind: str = "user"  # user, media, kol, official, shop


@dataclass
class Draft:
    """A post before it is written out: its first sighting and how its engagement will grow."""

    id: str
    author: Author
    text: str
    created_at: datetime
    source: str
    feed: str | None
    brand: str | None
    final: tuple[int, int, int]  # reposts, comments, likes when the engagement has run its course
    tau_hours: float
    url: str | None = None
    extra: dict[str, Any] | None = None


class AuthorPool:
    """Ordinary accounts drawn from a realistic reach distribution, plus named special accounts."""

    def __init__(self, rng: random.Random, bank: PhraseBank, size: int):
        self.rng = rng
        self.bank = bank
        self._names: set[str] = set()
        self._uids: set[str] = set()
        self.users = [self._ordinary() for _ in range(size)]
        # A few people post far more than others.
        self._weights = [rng.paretovariate(1.6) for _ in self.users]
        self._fresh_order = list(range(size))
        rng.shuffle(self._fresh_order)

    def _uid(self) -> str:
        while True:
            uid = str(self.rng.randint(1_000_000_000, 7_999_999_999))
            if uid not in self._uids:
                self._uids.add(uid)
                return uid

    def _unique_name(self, name: str) -> str:
        base = name
        while name in self._names:
            name = (
                f"{base}{self.rng.randint(1, 999)}"
                if self.rng.random() < 0.7
                else f"{base}_{self.rng.randint(10, 99)}"
            )
        self._names.add(name)
        return name

    def _ordinary(self) -> Author:
        # Log-normal reach: median about 150, most between tens and a few hundred, a thin tail to tens of
        # thousands.
        followers = int(math.exp(self.rng.gauss(math.log(150), 1.25)))
        followers = max(0, min(followers, 90_000))
        verified = followers > 5_000 and self.rng.random() < 0.3
        name = self._unique_name(self.bank.say(self.rng, "screen_name"))
        return Author(self._uid(), name, followers, verified)

    def special(self, name: str, followers: int, verified: bool, kind: str) -> Author:
        """A named account (media, KOL, brand official, shop)."""
        self._names.add(name)
        return Author(self._uid(), name, followers, verified, kind)

    def pick(self) -> Author:
        """Any ordinary account, the active ones more often."""
        return self.rng.choices(self.users, weights=self._weights, k=1)[0]

    def fresh(self) -> Author:
        """An ordinary account, cycling through everyone before repeating (a new voice)."""
        if not self._fresh_order:
            self._fresh_order = list(range(len(self.users)))
            self.rng.shuffle(self._fresh_order)
        return self.users[self._fresh_order.pop()]

    def mid_size(self, low: int, high: int) -> Author:
        """A new ordinary-looking account with reach between ``low`` and ``high``."""
        followers = int(math.exp(self.rng.uniform(math.log(low), math.log(high))))
        name = self._unique_name(self.bank.say(self.rng, "screen_name"))
        return Author(self._uid(), name, followers, self.rng.random() < 0.5)


@dataclass
class Timeline:
    """Posts of one scenario between ``start`` and ``end``, built by the scenario's recipe."""

    rng: random.Random
    start: datetime
    end: datetime
    drafts: list[Draft] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)
    _texts: set[str] = field(default_factory=set)

    def hours(self, offset: float) -> datetime:
        return self.start + timedelta(hours=offset)

    def active_time(self, low: datetime, high: datetime) -> datetime:
        """A time in [low, high) drawn on the daily rhythm."""
        span = (high - low).total_seconds()
        for _ in range(200):
            at = low + timedelta(seconds=self.rng.uniform(0, span))
            if self.rng.random() * _PEAK < HOURLY_ACTIVITY[at.hour]:
                return at.replace(microsecond=0)
        return low.replace(microsecond=0)

    def burst_time(self, origin: datetime, shape: float, scale_hours: float) -> datetime | None:
        """A time after ``origin`` from a gamma-shaped burst, thinned by the daily rhythm; None past the end."""
        for _ in range(200):
            at = origin + timedelta(hours=self.rng.gammavariate(shape, scale_hours))
            if at >= self.end:
                return None
            if self.rng.random() * _PEAK < HOURLY_ACTIVITY[at.hour]:
                return at.replace(microsecond=0)
        return None

    def unique_text(self, render: Callable[[], str], tries: int = 8) -> str:
        """Render until the text is new; short echoes may still repeat, as they do in life."""
        text = render()
        for _ in range(tries):
            if text not in self._texts:
                break
            text = render()
        self._texts.add(text)
        return text

    def add(
        self,
        at: datetime,
        author: Author,
        text: str,
        *,
        feed: str | None,
        brand: str | None,
        heat: float = 1.0,
        source: str = "weibo",
        url: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Record a post; ``heat`` scales how much engagement it draws for its author's reach."""
        post_id = self._new_id(at)
        self._texts.add(text)
        final = self._engagement(author, heat)
        tau = self.rng.uniform(2.0, 8.0) * (1.5 if heat > 3 else 1.0)
        if url is None and source == "weibo":
            url = f"https://weibo.com/{author.uid}/{_base62(int(post_id))}"
        draft = Draft(post_id, author, text, at, source, feed, brand, final, tau, url, extra)
        self.drafts.append(draft)
        return post_id

    def _new_id(self, at: datetime) -> str:
        # Weibo ids grow with time; keep that so ids sort roughly like their posts.
        while True:
            post_id = str(int(at.timestamp()) * 10_000 + self.rng.randint(0, 9_999) + 2_000_000_000_000_000)
            if post_id not in self._ids:
                self._ids.add(post_id)
                return post_id

    def _engagement(self, author: Author, heat: float) -> tuple[int, int, int]:
        noise = math.exp(self.rng.gauss(0, 0.9))
        reach = author.followers * 0.0015 * heat * noise
        reposts = int(reach) if reach >= 1 else int(self.rng.random() < reach)
        comments = int(reposts * self.rng.uniform(0.4, 1.6) + self.rng.random() * 2 * heat)
        likes = int(reposts * self.rng.uniform(0.8, 3.0) + self.rng.random() * 3 * heat)
        return reposts, comments, likes

    def lines(self) -> list[dict[str, Any]]:
        """Every first sighting and re-observation, in time order, as contract post objects."""
        events: list[tuple[datetime, int, dict[str, Any]]] = []
        seq = 0
        # A brand's own keyword search tags everything it fetches with the brand, as a deployment's feeds.toml
        # would: the posts that use the word in another sense too. Other feeds tag nothing.
        brand_feeds = {
            draft.feed
            for draft in self.drafts
            if draft.brand and draft.feed == f"{BRAND_SEARCH}{draft.brand}"
        }
        for draft in self.drafts:
            delay = timedelta(minutes=self.rng.uniform(1, 20))
            events.append(
                (draft.created_at, seq, self._line(draft, draft.created_at + delay, None, brand_feeds))
            )
            seq += 1
            for observed in self._reobservation_times(draft):
                events.append((observed, seq, self._line(draft, observed, observed, brand_feeds)))
                seq += 1
        events.sort(key=lambda event: (event[0], event[1]))
        return [line for _, _, line in events]

    def _reobservation_times(self, draft: Draft) -> list[datetime]:
        reposts = draft.final[0]
        if reposts < 20 or draft.source != "weibo":  # feeds without counts are not re-observed
            return []
        steps = (1.0, 3.0, 8.0, 20.0, 44.0) if reposts >= 200 else (2.0, 10.0, 30.0)
        times = []
        last = self._counts(draft, draft.created_at + timedelta(minutes=10))
        for step in steps:
            observed = draft.created_at + timedelta(hours=step, minutes=self.rng.randint(0, 40))
            if observed >= self.end:
                break
            counts = self._counts(draft, observed)
            if counts != last:
                times.append(observed.replace(microsecond=0))
                last = counts
        return times

    def _counts(self, draft: Draft, at: datetime) -> tuple[int, ...]:
        elapsed = max(0.0, (at - draft.created_at).total_seconds() / 3600)
        share = 1 - math.exp(-elapsed / draft.tau_hours)
        return tuple(int(total * share) for total in draft.final)

    def _line(
        self, draft: Draft, counted_at: datetime, observed_at: datetime | None, brand_feeds: set[str]
    ) -> dict[str, Any]:
        author = draft.author
        line: dict[str, Any] = {"id": draft.id, "source": draft.source, "text": draft.text}
        if draft.url:
            line["url"] = draft.url
        line["author"] = author.name
        if draft.source == "weibo":
            line["author_followers"] = author.followers
            line["author_verified"] = author.verified
        line["created_at"] = draft.created_at.isoformat()
        if observed_at is not None:
            line["observed_at"] = observed_at.isoformat()
        if draft.source == "weibo":
            reposts, comments, likes = self._counts(draft, counted_at)
            line.update(reposts=reposts, comments=comments, likes=likes)
        if draft.feed:
            line["feed"] = draft.feed
        if draft.feed in brand_feeds:
            line["brand"] = draft.feed.removeprefix(BRAND_SEARCH)
        if draft.extra:
            line.update(draft.extra)
        return line


def _base62(number: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_B62[rest])
    return "".join(reversed(digits)) or "0"


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> None:
    """One compact JSON object per line, UTF-8, ``\\n`` endings (byte-identical on every platform)."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False, separators=(", ", ": ")) + "\n")


def write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
