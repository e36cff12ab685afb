"""Phrase banks: hand-written fragments in ``phrases/*.toml`` and the rules that combine them into posts.

Every table in a bank file maps slot names to lists of fragments. A fragment may name other slots as
``{slot}``; rendering picks one fragment per slot at random (seeded), recursively. Slots that name the subject
of a post (brand, product, fault...) are drawn once per post so a post never switches brand half-way.
"""

from __future__ import annotations

import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

PHRASES_DIR = Path(__file__).parent / "phrases"

_SLOT = re.compile(r"\{(\w+)\}")
_MAX_DEPTH = 8
# Slots drawn once per post: the things a post is about.
STICKY = frozenset(
    {
        "brand",
        "brand2",
        "brand_official",
        "product",
        "product2",
        "model",
        "fault",
        "fault_short",
        "fault_news",
        "duration",
        "money",
        "city",
        "media",
        "store",
        "topic",
        "shop",
        "gift",
        "price",
    }
)

# Common slips of the keyboard and the 2011-era net slang that replaced words on purpose.
TYPOS_SIMPLIFIED = (
    ("的", "滴"),
    ("什么", "神马"),
    ("怎么", "肿么"),
    ("没有", "木有"),
    ("这样", "酱紫"),
    ("觉得", "觉的"),
    ("已经", "以经"),
    ("再也", "在也"),
    ("知道", "造"),
    ("喜欢", "稀饭"),
    ("不知道", "不晓得"),
    ("东西", "东东"),
    ("一样", "一眼"),
    ("谢谢", "3q"),
    ("真的", "真滴"),
    ("厉害", "利害"),
    ("的话", "得话"),
    ("我们", "偶们"),
)
# Today's spellings: slang and the homophones that input methods pick.
TYPOS_MODERN = (
    ("什么", "啥"),
    ("真的", "真滴"),
    ("无语", "无语子"),
    ("这样", "这样子"),
    ("已经", "以经"),
    ("觉得", "觉的"),
    ("知道", "知到"),
    ("怎么", "咋"),
    ("是不是", "是不"),
    ("的", "得"),
    ("在", "再"),
)
TYPOS_TRADITIONAL = (
    ("的", "der"),
    ("什麼", "神馬"),
    ("真的", "真der"),
    ("這樣", "醬"),
    ("已經", "以經"),
    ("再也", "在也"),
    ("怎麼", "怎摸"),
    ("覺得", "覺的"),
    ("謝謝", "3Q"),
)


@dataclass
class PhraseBank:
    """Slot name → fragments, merged from several bank files (later files override earlier ones)."""

    slots: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, *names: str, directory: Path = PHRASES_DIR) -> PhraseBank:
        """Merge ``phrases/<name>.toml`` files, in order."""
        slots: dict[str, list[str]] = {}
        for name in names:
            with (directory / f"{name}.toml").open("rb") as handle:
                data = tomllib.load(handle)
            for table in data.values():
                for slot, fragments in table.items():
                    slots[slot] = [fragments] if isinstance(fragments, str) else list(fragments)
        return cls(slots)

    def with_slots(self, **overrides: list[str] | str) -> PhraseBank:
        """A copy whose named slots are replaced (a plain string becomes a one-fragment slot)."""
        slots = dict(self.slots)
        for name, value in overrides.items():
            slots[name] = [value] if isinstance(value, str) else list(value)
        return PhraseBank(slots)

    def has(self, slot: str) -> bool:
        return slot in self.slots

    def pick(self, rng: random.Random, slot: str) -> str:
        """One raw fragment of ``slot``."""
        return rng.choice(self.slots[slot])

    def render(self, rng: random.Random, template: str, fixed: dict[str, str] | None = None) -> str:
        """Fill every ``{slot}`` of ``template``; ``fixed`` holds (and collects) per-post sticky choices."""
        memo = fixed if fixed is not None else {}
        return self._fill(rng, template, memo, 0)

    def say(self, rng: random.Random, slot: str, fixed: dict[str, str] | None = None) -> str:
        """Render one fragment of ``slot``."""
        return self.render(rng, "{" + slot + "}", fixed)

    def _fill(self, rng: random.Random, template: str, memo: dict[str, str], depth: int) -> str:
        if depth > _MAX_DEPTH or "{" not in template:
            return template

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in memo:
                return memo[name]
            if name not in self.slots:
                raise KeyError(f"phrase bank has no slot {name!r} (in {template!r})")
            value = self._fill(rng, rng.choice(self.slots[name]), memo, depth + 1)
            if name in STICKY:
                memo[name] = value
            return value

        return _SLOT.sub(replace, template)


def add_typos(rng: random.Random, text: str, rate: float, style: str = "2011") -> str:
    """Swap in a typo or net-slang spelling now and then, as people type on phones.

    ``style`` is ``2011`` (that year's net slang), ``modern`` or ``traditional``.
    """
    table = {"2011": TYPOS_SIMPLIFIED, "modern": TYPOS_MODERN, "traditional": TYPOS_TRADITIONAL}[style]
    for right, wrong in table:
        if right in text and rng.random() < rate:
            text = text.replace(right, wrong, 1)
    return text


def vary_punctuation(rng: random.Random, text: str) -> str:
    """Angry and casual writers stretch, drop or halve-width their punctuation."""
    roll = rng.random()
    if roll < 0.15:
        text = text.replace("！", "！！！", 1)
    elif roll < 0.25:
        text = text.replace("！", "!!")
    elif roll < 0.32:
        text = text.replace("？", "？？？", 1)
    elif roll < 0.38:
        text = text.replace("，", ",")
    elif roll < 0.45:
        text = text.replace("。", "。。。", 1)
    elif roll < 0.5:
        text = text.rstrip("。")
    elif roll < 0.55:
        text = text.replace("，", " ")
    return text


def clip(text: str, limit: int) -> str:
    """Cut a post to the platform's length limit the way clients do (no ellipsis)."""
    return text if len(text) <= limit else text[:limit]
