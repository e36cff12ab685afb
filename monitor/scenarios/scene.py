"""The building blocks of a scenario recipe: background streams, an incident's waves, decoys, ground truth.

A recipe (see ``recipes.py``) creates a :class:`Scene`, adds background, incidents and decoys, and asks for
the lines and the truth. Everything random comes from the scene's one seeded generator, in a fixed order, so
the same seed gives byte-identical files.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.scenarios.phrasebank import PhraseBank, add_typos, clip, vary_punctuation
from monitor.scenarios.timeline import CST, Author, AuthorPool, Timeline

# How much engagement each kind of post draws, relative to its author's reach.
HEAT = {
    "seed": 12.0,
    "complaint": 1.6,
    "echo": 0.5,
    "repost": 0.6,
    "escalation": 3.0,
    "media": 5.0,
    "kol": 5.0,
    "denial_reaction": 1.2,
    "onlooker": 0.6,
}
# Kinds of incident post that are often reposts of an earlier incident post, and how often.
REPOSTING = {"repost": 1.0, "echo": 0.3, "denial_reaction": 0.3, "onlooker": 0.25, "kol": 0.3}
# Kinds of incident post a bystander writing in the other script may add (reposts and short reactions).
ALT_KINDS = ("echo", "repost", "onlooker")
BRAND_KINDS = ("praise", "question", "chatter", "ad", "giveaway", "mild_brand_grumble")
EVERYDAY_KINDS = ("grumble", "daily", "unrelated_news")


@dataclass(frozen=True)
class Quoted:
    """An earlier incident post, as a later repost quotes it."""

    id: str
    author: str
    text: str
    root: str | None  # the original post it reposts, None for an original post


@dataclass
class BrandSpec:
    """A brand as the background talks about it."""

    name: str
    products: list[str]
    official: str
    feed: str


@dataclass
class Wave:
    """One burst of an incident: ``posts`` posts after ``at`` hours, gamma-shaped, of the given kinds."""

    at: float
    posts: int
    mix: dict[str, float]
    shape: float = 1.5
    scale: float = 5.0


@dataclass
class Scripted:
    """A post written at a fixed time by a fixed author (the seed's follow-ups, a brand statement)."""

    at: float
    author: Author
    text: str
    part_of_incident: bool = True
    heat: float = 1.0


@dataclass
class IncidentPlan:
    id: str
    brand: str
    product: str
    fault: str
    bank: PhraseBank
    feed: str
    waves: list[Wave]
    scripted: list[Scripted] = field(default_factory=list)
    topic_after: float | None = None  # hours after which people start tagging #topic#
    limit: int = 140
    traditional: bool = False
    # Another bank (e.g. Simplified reposts of a Traditional incident) and the share of posts written from it.
    alt_bank: PhraseBank | None = None
    alt_share: float = 0.0
    # Which feed fetched a post, from its text and the id of the post it reposts (None for an original post),
    # when not all of them come from ``feed``: a keyword search only finds the posts that carry its word.
    route: Callable[[str, str | None], str] | None = None


class Scene:
    """One scenario under construction."""

    def __init__(
        self,
        name: str,
        seed: int,
        start: datetime,
        days: float,
        bank: PhraseBank,
        authors: int,
        era: str = "modern",
    ):
        self.name = name
        self.rng = random.Random(zlib.crc32(f"{name}:{seed}".encode()))
        self.start = start
        self.days = days
        self.end = start + timedelta(days=days)
        self.bank = bank
        self.era = era  # "2011" or "modern": which slang and typos people use
        self.timeline = Timeline(self.rng, start, self.end)
        self.pool = AuthorPool(self.rng, bank, authors)
        self.incidents: list[dict[str, Any]] = []
        self.decoys: list[dict[str, Any]] = []
        self.media = [
            self.pool.special(name, self._reach(200_000, 6_000_000), True, "media")
            for name in bank.slots["media_name"]
        ]
        self.kols = [
            self.pool.special(name, self._reach(300_000, 4_000_000), True, "kol")
            for name in bank.slots["kol_name"]
        ]
        self.news_accounts = [
            self.pool.special(name, self._reach(50_000, 2_000_000), True, "media")
            for name in self.rng.sample(bank.slots["news_account"], 4)
        ]
        self._officials: dict[str, Author] = {}

    def _reach(self, low: int, high: int) -> int:
        return int(low * (high / low) ** self.rng.random())

    def official(self, name: str) -> Author:
        """The brand's own verified account."""
        if name not in self._officials:
            self._officials[name] = self.pool.special(name, self._reach(80_000, 900_000), True, "official")
        return self._officials[name]

    # --- text -------------------------------------------------------------------------------------------

    def finish(
        self,
        text: str,
        mood: str,
        *,
        limit: int = 140,
        traditional: bool = False,
        typo_rate: float = 0.06,
        bank: PhraseBank | None = None,
    ) -> str:
        """Give a rendered text the surface of a real post: slips, punctuation, a tag or emoji now and then."""
        rng = self.rng
        text = add_typos(rng, text, typo_rate, "traditional" if traditional else self.era)
        text = vary_punctuation(rng, text)
        if mood and rng.random() < 0.22 and "[" not in text:
            slot = {"angry": "tag_angry", "happy": "tag_happy", "neutral": "tag_neutral", "sad": "tag_sad"}[
                mood
            ]
            if rng.random() < 0.35:
                slot = {"angry": "emoji_angry", "happy": "emoji_happy"}.get(mood, slot)
            text += (bank or self.bank).say(rng, slot)
        return clip(text.strip(), limit)

    def brand_text(
        self, kind: str, brand: BrandSpec, other: BrandSpec, limit: int, bank: PhraseBank, traditional: bool
    ) -> str:
        fixed = {
            "brand": brand.name,
            "brand2": other.name,
            "product": self.rng.choice(brand.products),
            "brand_official": brand.official,
        }
        mood = {"praise": "happy", "mild_brand_grumble": "neutral", "giveaway": "happy"}.get(kind, "neutral")
        typo_rate = 0.0 if kind in ("ad", "giveaway") else 0.06
        text = bank.render(self.rng, "{" + kind + "}", fixed)
        return self.finish(text, mood, limit=limit, typo_rate=typo_rate, traditional=traditional, bank=bank)

    def complaint_text(self, bank: PhraseBank, fixed: dict[str, str]) -> str:
        rng = self.rng
        parts = [bank.say(rng, "complaint_open", fixed) + bank.say(rng, "complaint_core", fixed)]
        if rng.random() < 0.55:
            parts.append(bank.say(rng, "fault_detail", fixed))
        if rng.random() < 0.3:
            parts.append(bank.say(rng, "service_fail", fixed))
        if rng.random() < 0.7:
            parts.append(bank.say(rng, "complaint_feel", fixed))
        text = ""
        for index, part in enumerate(parts):
            text += part if index == 0 else bank.say(rng, "sep") + part
        return text + bank.say(rng, "complaint_close", fixed)

    def escalation_text(self, bank: PhraseBank, fixed: dict[str, str]) -> str:
        rng = self.rng
        text = bank.say(rng, "escalation_lead", fixed)
        if rng.random() < 0.35:
            text += bank.say(rng, "complaint_core", fixed) + bank.say(rng, "sep")
        text += bank.say(rng, "escalation_act", fixed)
        if rng.random() < 0.3:
            again = bank.say(rng, "escalation_act", fixed)
            if again not in text:
                text += bank.say(rng, "sep") + again
        spread = bank.say(rng, "escalation_spread", fixed)
        return text + (bank.say(rng, "end_dot") + spread if spread else "")

    # --- background ---------------------------------------------------------------------------------------

    def background(
        self,
        brands: list[BrandSpec],
        per_day: dict[str, float],
        *,
        limit: int = 140,
        everyday_feed: str = "weibo-timeline",
        news_feed: str = "rss:news",
        bank: PhraseBank | None = None,
        traditional: bool = False,
    ) -> dict[str, list[str]]:
        """Steady streams of brand talk and everyday posts (from ``bank``, else the scene's); ids by kind."""
        bank = bank or self.bank
        ids: dict[str, list[str]] = {kind: [] for kind in per_day}
        day = 0
        while self.start + timedelta(days=day) < self.end:
            low = self.start + timedelta(days=day)
            high = min(self.end, low + timedelta(days=1))
            fraction = (high - low).total_seconds() / 86_400
            for kind, rate in per_day.items():
                count = max(0, round(rate * fraction * self.rng.uniform(0.8, 1.2)))
                for _ in range(count):
                    ids[kind].append(
                        self._background_post(
                            kind,
                            brands,
                            self.timeline.active_time(low, high),
                            limit,
                            everyday_feed,
                            news_feed,
                            bank,
                            traditional,
                        )
                    )
            day += 1
        return ids

    def _background_post(
        self,
        kind: str,
        brands: list[BrandSpec],
        at: datetime,
        limit: int,
        everyday_feed: str,
        news_feed: str,
        bank: PhraseBank,
        traditional: bool,
    ) -> str:
        rng = self.rng
        if kind in BRAND_KINDS:
            brand, other = rng.sample(brands, 2)
            if kind in ("ad",):
                author = self.official(brand.official) if rng.random() < 0.4 else self.pool.pick()
            elif kind == "giveaway":
                author = self.official(brand.official) if rng.random() < 0.5 else self.pool.pick()
            else:
                author = self.pool.pick()
            text = self.timeline.unique_text(
                lambda: self.brand_text(kind, brand, other, limit, bank, traditional)
            )
            heat = 2.0 if kind == "giveaway" else 0.5
            return self.timeline.add(at, author, text, feed=brand.feed, brand=brand.name, heat=heat)
        if kind == "unrelated_news":
            author = rng.choice(self.news_accounts)
            text = self.timeline.unique_text(
                lambda: self.finish(bank.say(rng, kind), "", limit=limit, typo_rate=0.0, bank=bank)
            )
            if rng.random() < 0.3:
                return self.timeline.add(
                    at,
                    author,
                    text,
                    feed=news_feed,
                    brand=None,
                    source="rss",
                    url=f"https://news.example.cn/{at:%Y%m%d}/{rng.randint(10_000, 99_999)}.html",
                )
            return self.timeline.add(at, author, text, feed=everyday_feed, brand=None, heat=0.3)
        mood = {"grumble": "angry", "daily": "happy"}.get(kind, "neutral")
        template = {
            "grumble": "{grumble_lead}{grumble}{grumble_tail}",
            "daily": "{daily_lead}{daily}{daily_tail}",
        }
        text = self.timeline.unique_text(
            lambda: self.finish(
                bank.render(rng, template.get(kind, "{" + kind + "}")),
                mood,
                limit=limit,
                traditional=traditional,
                bank=bank,
            )
        )
        return self.timeline.add(at, self.pool.pick(), text, feed=everyday_feed, brand=None, heat=0.5)

    # --- incidents ------------------------------------------------------------------------------------------

    def incident(self, plan: IncidentPlan) -> dict[str, Any]:
        """Write an incident's posts (scripted and sampled) and return its ground truth."""
        rng = self.rng
        slots: list[tuple[datetime, str, Scripted | None]] = []
        for item in plan.scripted:
            slots.append((self.timeline.hours(item.at).replace(microsecond=0), "scripted", item))
        for wave in plan.waves:
            origin = self.timeline.hours(wave.at)
            kinds = list(wave.mix)
            weights = [wave.mix[kind] for kind in kinds]
            for _ in range(wave.posts):
                at = self.timeline.burst_time(origin, wave.shape, wave.scale)
                if at is not None:
                    slots.append((at, rng.choices(kinds, weights=weights, k=1)[0], None))
        slots.sort(key=lambda slot: slot[0])

        post_ids: list[str] = []
        statements: list[str] = []
        earlier: list[Quoted] = []  # incident posts so far, for reposts
        participants: list[Author] = []
        topic_from = self.timeline.hours(plan.topic_after) if plan.topic_after is not None else None
        for at, kind, item in slots:
            if item is not None:
                feed = plan.route(item.text, None) if plan.route else plan.feed
                post_id = self.timeline.add(
                    at, item.author, item.text, feed=feed, brand=plan.brand, heat=item.heat
                )
                if item.part_of_incident:
                    post_ids.append(post_id)
                    earlier.append(Quoted(post_id, item.author.name, item.text, None))
                else:
                    statements.append(post_id)
                continue
            use_alt = plan.alt_bank is not None and kind in ALT_KINDS and rng.random() < plan.alt_share
            bank = plan.alt_bank if use_alt else plan.bank
            traditional = plan.traditional and not use_alt
            author = self._incident_author(kind, participants)
            topic = bool(topic_from and at >= topic_from and rng.random() < 0.25)
            text = self._incident_text(kind, bank, plan.limit, traditional, topic)
            root = None
            if kind in REPOSTING and earlier and rng.random() < REPOSTING[kind]:
                text, root = self._repost(text, rng.choice(earlier[-40:]), plan.limit)
            post_id = self.timeline.add(
                at,
                author,
                text,
                feed=plan.route(text, root) if plan.route else plan.feed,
                brand=plan.brand,
                heat=HEAT[kind],
                extra={"repost_of": root} if root else None,
            )
            post_ids.append(post_id)
            earlier.append(Quoted(post_id, author.name, text, root))
            if kind in ("complaint", "echo", "escalation") and author.kind == "user":
                participants.append(author)
        first = min(at for at, _, item in slots if item is None or item.part_of_incident)
        truth = {
            "id": plan.id,
            "brand": plan.brand,
            "product": plan.product,
            "fault": plan.fault,
            "post_ids": post_ids,
            "first_post_at": first.isoformat(),
        }
        if statements:
            truth["brand_statement_ids"] = statements
        self.incidents.append(truth)
        return truth

    def _incident_author(self, kind: str, participants: list[Author]) -> Author:
        rng = self.rng
        if kind == "media":
            return rng.choice(self.media)
        if kind == "kol":
            return rng.choice(self.kols)
        if kind == "escalation" and participants and rng.random() < 0.45:
            return rng.choice(participants)  # an owner who complained before now threatens
        return self.pool.fresh()

    def _incident_text(self, kind: str, bank: PhraseBank, limit: int, traditional: bool, topic: bool) -> str:
        rng = self.rng
        fixed: dict[str, str] = {}
        if kind == "complaint":
            text, mood = self.complaint_text(bank, fixed), "angry"
        elif kind == "echo":
            text, mood = bank.say(rng, "echo", fixed), "angry"
            if rng.random() < 0.3:
                text += bank.say(rng, "sep") + bank.say(rng, "fault_detail", fixed)
        elif kind == "escalation":
            text, mood = self.escalation_text(bank, fixed), "angry"
        elif kind == "media":
            text, mood = bank.say(rng, "news_report", fixed), ""
        elif kind == "repost":
            text, mood = bank.say(rng, "repost_comment", fixed), ""
        else:
            text, mood = bank.say(rng, kind, fixed), ("angry" if kind == "denial_reaction" else "neutral")
        if topic and "#" not in text:
            tag = "#" + bank.say(rng, "topic", fixed) + "#"
            text = tag + text if rng.random() < 0.6 else text + " " + tag
        careful = kind in ("media", "kol")  # editors and pundits do not type like the rest of us
        typo_rate = 0.0 if careful else 0.06
        return self.finish(text, mood, limit=limit, traditional=traditional, typo_rate=typo_rate, bank=bank)

    @staticmethod
    def _repost(comment: str, target: Quoted, limit: int) -> tuple[str, str]:
        """A repost as Weibo writes it: the reposter's words, then the chain of earlier reposters' words.

        The original post's own text is not part of the chain (Weibo carries it as ``retweeted_status``), so
        the root's id goes into ``repost_of``.
        """
        if target.root is None:
            return comment, target.id
        return clip(f"{comment}//@{target.author}:{target.text}", limit), target.root

    # --- decoys and truth ------------------------------------------------------------------------------------

    def decoy(self, kind: str, description: str, post_ids: list[str]) -> None:
        self.decoys.append({"kind": kind, "description": description, "post_ids": list(post_ids)})

    def truth(self, description: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": description,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "incidents": self.incidents,
            "decoys": self.decoys,
        }


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    """A time in China Standard Time."""
    return datetime(year, month, day, hour, tzinfo=CST)
