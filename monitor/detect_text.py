"""What detection reads in a post's text: similarity features, brand names, and keywords for titles.

Features are Chinese character bigrams plus Latin words: they match across wordings and need no word segmenter.
Their weights come from how rare each feature is among all posts seen so far (inverse document frequency), so
words every post shares ("我家", a product line's name) count little and the words of a fault count much.
"""

from __future__ import annotations

import math
import re
from collections import Counter, deque
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat
from operator import add, mul, sub

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]+|[0-9]{2,}[a-z]*")
# Function words that say nothing about a fault; bigrams made only of them are dropped.
_FILLER = set("的了是我也都就还又在和与及这那个吗吧呢啊呀哦嘛么有没不很太真好")
_TITLE_STOP = {
    "我家", "我们", "你们", "他们", "大家", "自己", "一个", "这个", "那个", "什么", "怎么", "现在", "已经",
    "还是", "就是", "真的", "没有", "不是", "一下", "一样", "同款", "问题", "也是", "可以", "今天", "昨天",
}  # fmt: skip


# Characters that negate the word right after them.
_NEGATIONS = "不没无未"
# A fault family's feature: one shared feature for every wording of the fault ("滴水", "漏水" → "§漏水").
FAULT_MARK = "§"
# A companion family's feature ("打不通", "坐席忙" → "¤客服"): a plain word, never a kind of fault.
COMPANION_MARK = "¤"
_MARKS = FAULT_MARK + COMPANION_MARK
# Features made only of function words, left out.
_FILLER_FEATURES = frozenset(_FILLER) | frozenset(a + b for a in _FILLER for b in _FILLER)
# log(n + 1) for the document frequencies most features have, worked out once (the same values math.log gives).
_LOG1P = [math.log(n + 1) for n in range(4096)]


def features(
    text: str,
    strip: tuple[str, ...] | re.Pattern | Blank = (),
    faults: tuple[str, ...] = (),
    companions: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """The distinct similarity features of an analysed text (``text_norm``), leaving out ``strip`` names.

    ``faults`` (fault families the text names) and ``companions`` (companion families) are added as one feature
    each.
    """
    # Brand names are left out: every complaint about a brand shares them, whatever its fault.
    lowered = text.lower()
    if not isinstance(strip, tuple):
        lowered = strip.sub(" ", lowered)
    else:
        for name in strip:
            if name in lowered:
                lowered = lowered.replace(name, " ")
    out: set[str] = {FAULT_MARK + family for family in faults}
    if companions:
        out.update([COMPANION_MARK + family for family in companions])
    for run in _CJK_RUN.findall(lowered):
        out.update(map(add, run, run[1:]))  # its bigrams, pairing each character with the next
        # Single characters too: "门关不上" and "门合不拢" share no bigram, but share 门.
        out.update(run)
    out -= _FILLER_FEATURES
    out.update(_LATIN_WORD.findall(lowered))
    # Sorted, so that sums over features (and so every decision) come out the same in every process.
    return tuple(sorted(out))


class Vocabulary:
    """Document frequencies of features over every post seen, giving each feature its rarity weight."""

    def __init__(self, limit: int, df: dict[str, int] | None = None, docs: int = 0):
        self.limit = limit
        # A Counter, whose update counts a post's features in C (a dict in the state like any other).
        self.df: Counter[str] = Counter(df) if df is not None else Counter()
        self.docs = docs
        self._log_docs = math.log(docs + 1)

    def add(self, feats: tuple[str, ...]) -> None:
        """Count one more post holding ``feats``."""
        self.df.update(feats)
        self.docs += 1
        self._log_docs = math.log(self.docs + 1)
        if len(self.df) > self.limit:
            self._prune()

    def weight(self, feat: str) -> float:
        """Inverse document frequency of ``feat`` (rare features weigh more)."""
        n = self.df.get(feat, 0)
        return self._log_docs - (_LOG1P[n] if n < 4096 else math.log(n + 1)) + 1.0

    def weights(self, feats: Sequence[str]) -> dict[str, float]:
        """Weights of several features at once."""
        return dict(zip(feats, self.weight_list(feats), strict=True))

    def weight_list(self, feats: Sequence[str]) -> list[float]:
        """The weights of ``feats``, in order: the same floats as ``weight`` gives."""
        # Built with map over C functions (dict.get, list indexing, float subtraction), not a Python step per
        # feature: incidents' profiles have hundreds of features and are weighed again as the counts move.
        top = self._log_docs + 1.0
        try:
            return list(map(sub, repeat(top), map(_LOG1P.__getitem__, map(self.df.get, feats, repeat(0)))))
        except IndexError:  # a feature in more than 4095 posts
            return [top - math.log(n + 1) for n in map(self.df.get, feats, repeat(0))]

    def weighted_square_sum(self, counts: dict[str, int], weights: Sequence[float] | None = None) -> float:
        """The sum of ``(weight * count) ** 2`` over ``counts`` (feature -> count), in its order (``weights``:
        ``weight_list(counts)``, when known)."""
        if weights is None:
            weights = self.weight_list(counts)
        return sum(map(pow, map(mul, weights, counts.values()), repeat(2)))

    def _prune(self) -> None:
        # Forget the features seen once: they are most of the table and weigh the same as unseen ones.
        self.df = Counter({feat: n for feat, n in self.df.items() if n > 1})
        if len(self.df) > self.limit:
            self.df = Counter({feat: n // 2 for feat, n in self.df.items() if n > 3})

    def to_state(self) -> dict:
        """A JSON-serialisable snapshot."""
        return {"docs": self.docs, "df": self.df}

    @classmethod
    def from_state(cls, limit: int, state: dict) -> Vocabulary:
        """Restore a snapshot made by ``to_state``."""
        return cls(limit, state["df"], int(state["docs"]))


class StormWords:
    """The words of a storm: features many complaint authors used lately, far more often than they usually appear.

    A storm's posts tell one story in many words ("老用户比新用户贵", "会员越开越贵", "同一个行程我的最贵"): two of them
    share few features, and those they share ("贵", "老用户") are not rare, people use them every day, so the rarity
    weights make little of them. What marks them is that many people use them at once. A feature in the complaints of
    at least ``min_authors`` authors within ``window`` seconds, ``ratio`` times as many as its share of every post
    read puts there, weighs ``weight`` times its rarity where the grouper asks (``Grouper.best_match`` for posts
    naming no brand, ``Grouper.storm_similarity``). A feature is looked at again whenever its authors change (one
    joins, or leaves the window), against the posts read by then.
    """

    def __init__(self, window: float, min_authors: int, ratio: float, weight: float):
        self.window = window
        self.min_authors = min_authors
        self.ratio = ratio
        self.weight = weight
        # (t, author, features, posts the vocabulary had read) of the complaints within the window, oldest first.
        self.recent: deque[tuple[float, str, tuple[str, ...], int]] = deque()
        # Feature -> author -> their complaints within the window.
        self._authors: dict[str, dict[str, int]] = {}
        self.weights: dict[str, float] = {}  # storm word -> its weight factor

    def add(self, t: float, author: str, feats: tuple[str, ...], vocab: Vocabulary) -> None:
        """Count a complaint's features (``vocab`` has read the post) and forget those older than the window."""
        authors = self._authors
        fewer: list[str] = []  # storm words an author left
        start = t - self.window
        recent = self.recent
        while recent and recent[0][0] < start:
            _, who, old, _ = recent.popleft()
            for feat in old:
                tally = authors[feat]
                left = tally[who] - 1
                if left:
                    tally[who] = left
                    continue
                del tally[who]
                if not tally:
                    del authors[feat]
                if feat in self.weights:
                    fewer.append(feat)
        recent.append((t, author, feats, vocab.docs))
        self._settle(fewer + self._count(author, feats), vocab)

    def weigh(self, feats: Sequence[str], weights: Sequence[float]) -> list[float]:
        """``weights`` (the rarity weights of ``feats``, in order) with the storm words weighed up."""
        return list(map(mul, weights, map(self.weights.get, feats, repeat(1.0))))

    def _count(self, author: str, feats: tuple[str, ...]) -> list[str]:
        """Count ``author``'s complaint; the features it gave at least ``min_authors`` authors."""
        authors = self._authors
        enough = self.min_authors
        crowded = []
        for feat in feats:
            tally = authors.get(feat)
            if tally is None:
                authors[feat] = {author: 1}
                if enough <= 1:
                    crowded.append(feat)
            elif author in tally:
                tally[author] += 1
            else:
                tally[author] = 1
                if len(tally) >= enough:
                    crowded.append(feat)
        return crowded

    def _settle(self, feats: list[str], vocab: Vocabulary) -> None:
        """Whether each of ``feats`` (their authors changed) is a storm word now."""
        if not feats:
            return
        # The posts read within the window, near enough: since the oldest complaint in it.
        posts = vocab.docs - self.recent[0][3] + 1 if self.recent else 0
        docs = vocab.docs or 1
        df = vocab.df
        weights = self.weights
        for feat in feats:
            if feat[0] in _MARKS:
                continue  # a kind of fault, or a companion, is one feature for all its words already
            tally = self._authors.get(feat)
            n = len(tally) if tally else 0
            hot = n >= self.min_authors and n * docs >= self.ratio * posts * (df.get(feat, 0) + 1)
            if hot and feat not in weights:
                weights[feat] = self.weight
            elif not hot and feat in weights:
                del weights[feat]

    def to_state(self) -> dict:
        """A JSON-serialisable snapshot: the complaints within the window, and the storm words in their order."""
        return {"recent": [[t, author, list(feats), docs] for t, author, feats, docs in self.recent],
                "words": list(self.weights)}  # fmt: skip

    def restore(self, state: dict) -> None:
        """Take back a ``to_state`` snapshot (the storm words as they were: a word is looked at again only when
        its authors change, against the posts read by then)."""
        for t, author, feats, docs in state.get("recent", ()):
            feats = tuple(feats)
            self.recent.append((t, author, feats, docs))
            self._count(author, feats)
        self.weights = dict.fromkeys(state.get("words", ()), self.weight)


class Lexicon:
    """Fault words by family, and complaint language (``grouping.fault_terms`` and ``reaction_terms``)."""

    def __init__(
        self, fault_terms: dict[str, list[str]], reaction_terms: list[str], companions: tuple[str, ...] = ()
    ):
        self._family = {
            word.strip().lower(): family
            for family, words in fault_terms.items()
            for word in words
            if word.strip()
        }
        self._companions = frozenset(companions)
        self._faults = alternation(self._family)
        self.reactions = tuple(sorted({w.strip().lower() for w in reaction_terms if w.strip()}, key=_longest))
        self._reactions = alternation(self.reactions)

    def faults(self, lowered: str) -> tuple[str, ...]:
        """The fault families a lower-cased text names, sorted (companion families left out)."""
        return self.read(lowered)[0]

    def read(self, lowered: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The fault families a lower-cased text names, and the companion families it names, each sorted."""
        if self._faults is None:
            return (), ()
        found = self._fault_words(lowered)
        if not found:
            return (), ()
        families = {self._family[word] for word in found}
        companions = families & self._companions
        return tuple(sorted(families - companions)), tuple(sorted(companions))

    def _fault_words(self, lowered: str) -> list[str]:
        """The fault words a text holds, but those right after a negation ("不过敏", "没漏水": a launch's "敏感肌也
        不过敏" names no fault); words that are negated faults themselves ("不制冷", "没到账") match whole.

        A negated word is passed over as a look-behind would (the search goes on from its next character), but the
        pattern stays a plain alternation of literals, which the regex engine scans for several times faster.
        """
        search = self._faults.search
        found = []
        match = search(lowered)
        while match is not None:
            start = match.start()
            if start and lowered[start - 1] in _NEGATIONS:
                match = search(lowered, start + 1)
                continue
            found.append(match.group())
            match = search(lowered, match.end())
        return found

    def terms(self, families) -> tuple[str, ...]:
        """The words of ``families``, longest first."""
        wanted = set(families)
        return tuple(sorted((w for w, f in self._family.items() if f in wanted), key=_longest))

    def reacts(self, lowered: str) -> bool:
        """Whether a lower-cased text holds complaint language (threats, calls to repost, answers to a brand)."""
        return self._reactions is not None and self._reactions.search(lowered) is not None


def alternation(words) -> re.Pattern | None:
    """One pattern matching any of ``words`` literally, longest first (None when there are none)."""
    ordered = sorted(set(words), key=_longest)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


class Blank:
    """Blanks words out of texts as ``alternation(words).sub`` does, for ``shared`` (one such pattern) and a few
    ``own`` words: each place takes the longest word found there, then the text goes on after it.

    One pattern of the words many brands share, compiled once, serves every brand: a pattern per brand, with its
    own name among them, cost a millisecond to compile for each brand seen.
    """

    __slots__ = ("shared", "own")

    def __init__(self, shared: re.Pattern, own: tuple[str, ...]):
        self.shared = shared
        self.own = own

    def sub(self, repl: str, text: str) -> str:
        """``text`` with each word found replaced by ``repl``."""
        own = [word for word in self.own if word in text]
        if not own:
            return self.shared.sub(repl, text)
        out = []
        at = 0
        while True:
            found = self.shared.search(text, at)
            start, end = found.span() if found is not None else (len(text), -1)
            for word in own:
                where = text.find(word, at)
                if where >= 0 and (where < start or where == start and where + len(word) > end):
                    start, end = where, where + len(word)
            if end < 0:
                out.append(text[at:])
                return "".join(out)
            out.append(text[at:start])
            out.append(repl)
            at = end


def _longest(word: str) -> tuple[int, str]:
    return (-len(word), word)


class BrandMatcher:
    """Finds which configured brand a text names (Simplified, Traditional or English aliases)."""

    def __init__(self, brands: dict[str, list[str]]):
        pairs = [(alias.strip().lower(), brand) for brand, aliases in brands.items() for alias in aliases]
        # Longest alias first, so "西门子家电" wins over "西门子" when both are configured.
        self._aliases = sorted(pairs, key=lambda pair: -len(pair[0]))
        self.names: tuple[str, ...] = tuple(alias for alias, _ in self._aliases)

    def canonical(self, name: str) -> str:
        """The configured brand that ``name`` is an alias of, else ``name`` itself."""
        lowered = name.strip().lower()
        for alias, brand in self._aliases:
            if alias == lowered:
                return brand
        return name

    def find(self, *texts: str) -> str | None:
        """The brand named earliest-configured-longest in any of ``texts``, else None."""
        for text in texts:
            lowered = text.lower()
            for alias, brand in self._aliases:
                if alias in lowered:
                    return brand
        return None


_WORD_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z0-9]+")
_GAP = (
    3  # characters allowed between two title words joined into one phrase ("冰箱" + "关不上": "冰箱门关不上")
)


def phrases(
    texts: list[str],
    vocab: Vocabulary,
    strip: tuple[str, ...] = (),
    limit: int = 2,
    terms: tuple[tuple[str, ...], ...] = (),
) -> list[str]:
    """The words that say what ``texts`` share, most telling first, joined as they are written.

    A word (``rjieba``) counts by the share of texts using it times its rarity in everything the detector has
    read (the weights of its bigrams), so a fault's words ("关不上", "黑屏", "漏水") beat template words every
    complaint uses. The best word is joined with the next best when the texts write them close together, in
    the texts' own order and wording ("冰箱门关不上", "热水器漏水").

    ``terms`` (per kind of fault, its lower-case words: ("扣了两次", "转账处理中", ...)) give one word per kind, as
    the texts write it most ("扣了两次"; with a second wording half as common, both: "扣了两次、处理中"),
    supported by every text naming that kind in any wording and counting double: a title that names the fault
    is what its reader needs, and a segmenter cuts such phrases apart.
    """
    docs = [_strip_names(text, strip) for text in texts if text]
    if not docs:
        return []
    support: Counter[str] = Counter()
    for doc in docs:
        support.update(_title_words(doc))
    faulty = _fault_words(docs, terms, support) if terms else set()
    need = max(2, math.ceil(0.1 * len(docs))) if len(docs) > 2 else 1
    scored = []
    for word, n in support.items():
        if n < need or word in _TITLE_STOP or word.isascii() and not _is_model(word.lower()):
            continue
        lowered = word.lower()
        pairs = [lowered[i : i + 2] for i in range(len(lowered) - 1)]
        boost = 2.0 if word in faulty else 1.0
        scored.append((boost * n / len(docs) * sum(vocab.weight(p) for p in pairs) / len(pairs), word))
    scored.sort(key=lambda item: (-item[0], item[1]))
    words: list[str] = []
    for value, word in scored:
        if words and value < 0.5 * scored[0][0]:
            break
        if not any(word in other or other in word for other in words):
            words.append(word)
        if len(words) == limit + 1:
            break
    if not words:
        return []
    head = words[0]
    for other in words[1:]:
        span = _joined(docs, head, other)
        if span:
            return [span]
    chosen = words[:limit]

    def position(word: str) -> float:
        spots = [doc.find(word) / len(doc) for doc in docs if word in doc]
        return sum(spots) / len(spots) if spots else 1.0

    return sorted(chosen, key=position)


def _fault_words(docs: list[str], terms: tuple[tuple[str, ...], ...], support: Counter[str]) -> set[str]:
    """Add one word per kind of fault the docs name to ``support`` (see ``phrases``); return those words."""
    lowered = [doc.lower() for doc in docs]
    out: set[str] = set()
    for family in terms:
        forms: Counter[str] = Counter()
        naming = 0
        for doc, low in zip(docs, lowered, strict=True):
            found = [(at, t) for t in family if (at := low.find(t)) >= 0]
            if found:
                naming += 1
                at, t = min(found, key=lambda hit: (hit[0], -len(hit[1])))
                forms[doc[at : at + len(t)]] += 1
        if not naming:
            continue
        ranked = sorted(forms.items(), key=lambda item: -item[1])  # stable: the earlier text first on ties
        word = ranked[0][0]
        if len(ranked) > 1 and 2 * ranked[1][1] >= ranked[0][1] and ranked[1][1] >= 2:
            word = f"{word}、{ranked[1][0]}"
        support[word] = max(support.get(word, 0), naming)
        out.add(word)
    return out


@lru_cache(maxsize=4096)
def _title_words(doc: str) -> frozenset[str]:
    """The words of one text that may go into a title (an incident's texts are read again as it grows)."""
    import rjieba

    return frozenset(w for w in rjieba.cut(doc) if len(w) >= 2 and _WORD_RUN.fullmatch(w))


def _joined(docs: list[str], a: str, b: str) -> str | None:
    """The commonest way the texts write ``a`` and ``b`` close together (either order), if at least twice."""
    spans: Counter[str] = Counter()
    for doc in docs:
        spans.update(set(_near(doc, a, b)))
    if not spans:
        return None
    span, n = spans.most_common(1)[0]
    return span if n >= 2 else None


# What may stand between two title words joined into one phrase: anything but spaces and sentence punctuation.
_PUNCTUATION = frozenset("，。！？,.!?")


def _near(doc: str, a: str, b: str) -> list[str]:
    """Where ``doc`` writes ``a`` and ``b`` at most ``_GAP`` characters apart, in either order, left to right.

    What ``re.findall`` gives for ``a[^\\s，。！？,.!?]{0,3}?b|b[^\\s，。！？,.!?]{0,3}?a``, without compiling a
    pattern per pair of words (titles ask for hundreds of pairs, and such a pattern takes a millisecond).
    """
    out = []
    at = 0
    while True:
        found = [p for p in (doc.find(a, at), doc.find(b, at)) if p >= 0]
        if not found:
            return out
        start = min(found)
        end = _near_end(doc, start, a, b) if doc.startswith(a, start) else None
        if end is None and doc.startswith(b, start):
            end = _near_end(doc, start, b, a)
        if end is None:
            at = start + 1
        else:
            out.append(doc[start:end])
            at = end


def _near_end(doc: str, start: int, first: str, then: str) -> int | None:
    """The end of ``first`` at ``start``, then at most ``_GAP`` gap characters (fewest first), then ``then``."""
    at = start + len(first)
    for gap in range(_GAP + 1):
        if doc.startswith(then, at + gap):
            return at + gap + len(then)
        if gap == _GAP or at + gap >= len(doc):
            return None
        char = doc[at + gap]
        if char in _PUNCTUATION or char.isspace():
            return None
    return None


def _strip_names(text: str, strip: tuple[str, ...]) -> str:
    lowered = text.lower()
    out = text
    for name in strip:
        at = lowered.find(name)
        while at >= 0:
            out = out[:at] + " " * len(name) + out[at + len(name) :]
            lowered = lowered[:at] + " " * len(name) + lowered[at + len(name) :]
            at = lowered.find(name)
    return out


def _is_model(word: str) -> bool:
    return bool(re.fullmatch(r"[a-z]*\d+[a-z0-9-]*|[a-z]{2,}", word))
