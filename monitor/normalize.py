"""Text normalization: keep the original, derive the form that classification and detection read.

The analysis form is NFKC-folded, converted from Traditional to Simplified Chinese (OpenCC), with URLs,
@mentions and ``//@user:`` repost chains separated out into their own fields. Emoticon tags such as ``[怒]``
and emoji stay in the text as tokens, because they carry sentiment.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import opencc

_URL = re.compile(r"https?://[^\s\u3000-\u303f\uff00-\uffef<>\"']+", re.IGNORECASE)
# A repost chain: "my words //@alice: her words //@bob: his words". The part before the first "//@" is the
# reposter's own text; each link of the chain names who said what.
_CHAIN_LINK = re.compile(r"//\s*@([^:：\s]{1,30})\s*[:：]")
_MENTION = re.compile(r"@([\w\u4e00-\u9fff\-]{1,30})")
_EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z0-9]{1,8}\]")
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff\U0001f900-\U0001f9ff]")
_HTML_TAG = re.compile(r"<[^>]{0,500}>")
# NFKC decomposes and recomposes the whole text as soon as one character needs it, and most posts hold a
# full-width comma. These characters are replaced first by their compatibility decomposition, which leaves
# NFKC's result the same (it decomposes them so anyway) and lets it return at its quick check.
_FOLD_FIRST = tuple((wide, unicodedata.normalize("NFKD", wide)) for wide in "，！：？（）；…℃")


@dataclass(frozen=True, slots=True)
class Normalized:
    """The analysis form of a post's text and what was separated out of it."""

    text_norm: str
    urls: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    repost_chain: list[dict[str, str]] = field(default_factory=list)
    emoticons: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese; Simplified text is returned unchanged."""
    return _t2s().convert(text)


def normalize_text(text: str) -> str:
    """The analysis form of ``text`` alone: NFKC, Simplified, URLs dropped, spaces collapsed.

    Training code and the classifier call this so that they read text exactly as the pipeline stores it.
    """
    return normalize(text).text_norm


def normalize(text: str) -> Normalized:
    """Split ``text`` into its analysis form and the URLs, mentions, repost chain and emoticons in it."""
    for wide, narrow in _FOLD_FIRST:
        text = text.replace(wide, narrow)
    folded = unicodedata.normalize("NFKC", text)
    # Each pattern below runs only on a text holding a character that any match of it needs.
    folded = _HTML_TAG.sub(" ", folded) if "<" in folded else folded
    urls = _URL.findall(folded) if "://" in folded else []
    if urls:
        folded = _URL.sub(" ", folded)
    own, chain = _split_chain(folded)
    # Mentions stay in the analysis text too: "@西门子家电" is often the only place the brand is named.
    mentions = list(dict.fromkeys(_MENTION.findall(folded))) if "@" in folded else []
    analysed = own
    if chain and not analysed.strip():
        # A bare repost ("//@bob: ...") says nothing of its own: analyse what it quotes.
        analysed = " ".join(link["text"] for link in chain)
    # Runs of whitespace collapsed to one space, ends stripped (str.split and re's \s agree on whitespace).
    analysed = to_simplified(" ".join(analysed.split()))
    emoticons = _EMOTICON.findall(folded) if "[" in folded else []
    return Normalized(  # positional arguments: a keyword call builds a dict of them for every post
        analysed,
        urls,
        mentions,
        [{"user": link["user"], "text": to_simplified(link["text"])} for link in chain],
        emoticons + _EMOJI.findall(folded),
    )


# Feeds fetch the same posts again and again for their new counts, and grouping reads a repost's chain and
# mentions again after the pipeline analysed its text: each text is analysed once. Callers share the answer, so
# they must not change it.
normalize_once = lru_cache(maxsize=8192)(normalize)


def _split_chain(text: str) -> tuple[str, list[dict[str, str]]]:
    if "//" not in text:
        return text, []
    links = list(_CHAIN_LINK.finditer(text))
    if not links:
        return text, []
    own = text[: links[0].start()]
    chain = []
    for i, link in enumerate(links):
        end = links[i + 1].start() if i + 1 < len(links) else len(text)
        chain.append({"user": link.group(1), "text": text[link.end() : end].strip()})
    return own, chain
