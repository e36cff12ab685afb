"""Grouping: which incident a complaint belongs to, and when two incidents are one.

A post joins an incident, in this order of trust:
1. **link**: it reposts a member (``repost_of``, as Weibo's ``retweeted_status`` gives it), or quotes or mentions a
   member's author (``//@alice:``, ``@alice``);
2. **words**: its words are like the incident's (cosine over rarity-weighted character bigrams, see
   ``detect_text``; complaint language such as "维权" or "求扩散" is left out), among the incidents of the same
   brand;
3. **fault**: it names the same kind of fault (``grouping.fault_terms``: "滴水" and "漏水" are one) as an incident
   of the same brand, however differently the rest is worded;
4. **author**: its author already complained in one of the brand's incidents (a follow-up, a threat);
5. **reaction**: it names no fault of its own ("+1", "支持维权", "不存在质量问题？") and its brand has an incident
   people are talking about (alerted, or several authors joining right now): reactions belong to what they
   react to, they do not found incidents of their own;
otherwise it opens a new incident. Incidents of one brand whose word profiles converge, or which name the same
kind of fault, are merged, so that one fault gives one incident; two faults keep apart because their fault words
differ (two incidents naming different kinds of fault are never merged).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import mul, neg
from typing import Any

from monitor.detect_cluster import HOW_ECHO, HOW_LINK, HOW_SURGE, HOW_TEXT, Cluster, Member
from monitor.detect_config import DetectionConfig
from monitor.detect_spread import HOUR, rank
from monitor.detect_text import (
    FAULT_MARK,
    Blank,
    BrandMatcher,
    Lexicon,
    StormWords,
    Vocabulary,
    alternation,
    features,
)
from monitor.normalize import normalize_once, to_simplified
from monitor.post import Post

_WARNING = rank("warning")
_MERGE_TERMS = 32  # an incident's heaviest words through which merge partners are found
_MATCH_TERMS = 24  # a post's heaviest words through which the incidents it may join are found


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and one is made per post read.
@dataclass(slots=True)
class Reading:
    """What grouping reads in one post, once: its features, the text they came from, the faults it names."""

    feats: tuple[str, ...]
    text: str
    faults: tuple[str, ...]
    echo: bool  # says "me too"
    reaction: bool  # names no fault of its own: an echo, complaint language, or too short to say much


@functools.lru_cache(maxsize=65536)
def _account_name(name: str) -> str:
    """An account name as compared: Simplified, trimmed, lower-case."""
    return to_simplified(name).strip().lower()


class Grouper:
    """The indexes behind grouping: words per brand, authors per brand, posts; all rebuilt from clusters."""

    def __init__(
        self,
        config: DetectionConfig,
        clusters: dict[str, Cluster],
        vocab: Vocabulary,
        touched: set[str] | None = None,
        first_times: Callable[[Cluster], list[float]] | None = None,
        storm: StormWords | None = None,
    ):
        self.config = config
        self.storm = storm  # the words of a storm now (the detector counts them), if it weighs them
        # An incident's authors' first posts in it, sorted (the detector keeps them as authors join).
        self.first_times = first_times or _sorted_first_times
        self.clusters = clusters
        self.vocab = vocab
        self.touched = touched if touched is not None else set()  # ids of clusters changed here (their norm)
        self.brands = BrandMatcher({name: spec.aliases for name, spec in config.brands.items()})
        self.index: dict[str, dict[str, set[str]]] = {}  # brand -> feature -> cluster ids
        self.authors: dict[str, dict[str, str]] = {}  # brand -> author -> their latest cluster id
        self.post_index: dict[str, str] = {}  # member key -> cluster id
        self.brand_ids: dict[str, set[str]] = {}  # brand -> ids of its incidents (not merged away)
        # Ids of the incidents naming no brand that would have warned (``mark_storm``; some may be stale).
        self.storms: set[str] = set()
        self._strip: dict[str, tuple[str, ...]] = {}
        self._strip_re: dict[str, re.Pattern | Blank] = {}
        self._shared_strip: re.Pattern | None = None
        self._markers = tuple(marker.lower() for marker in config.grouping.echo_markers)
        self._echo_re = alternation(self._markers)
        suffixes = sorted(
            {to_simplified(w).strip().lower() for w in config.grouping.official_suffixes} - {""}
        )
        # Longest first, so "官方微博" is read as one word; the brand's name followed by none of them is fine too.
        alternatives = "|".join(re.escape(w) for w in sorted(suffixes, key=len, reverse=True))
        self._official_suffix = re.compile(f"(?:{alternatives})*" if alternatives else "")
        self._official_names: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
        self.lexicon = Lexicon(
            config.grouping.fault_terms,
            config.grouping.reaction_terms,
            tuple(config.grouping.companion_faults),
        )

    # -- reading a post -------------------------------------------------------------------------------
    def brand_of(self, post: Post, text_norm: str, tags: Mapping[str, str]) -> str:
        """The brand a post is about: its feed's tag, else a configured alias in its text, else ""."""
        tagged = tags.get("brand")
        if tagged:
            return self.brands.canonical(tagged)
        return self.brands.find(text_norm, post.text) or ""

    def strip_for(self, brand: str) -> tuple[str, ...]:
        """Names left out of similarity features: every configured alias, and the brand's own name."""
        strip = self._strip.get(brand)
        if strip is None:
            own = {brand.lower(), to_simplified(brand).lower()} if brand else set()
            strip = self._strip[brand] = tuple(sorted(set(self.brands.names) | own, key=lambda s: -len(s)))
        return strip

    def read(self, post: Post, text_norm: str, brand: str) -> Reading:
        """Read a post once: features, the text they came from (a short repost reads what it quotes), faults."""
        grouping = self.config.grouping
        text = text_norm
        quoted = ""
        if "//@" in post.text and len(text) < grouping.echo_max_chars:
            quoted = " ".join(link["text"] for link in normalize_once(post.text).repost_chain).strip()
            text = f"{text} {quoted}".strip()
        lowered = text.lower()
        own = text_norm.lower()
        feats, faults = self._words(lowered, brand)
        echo = self.is_echo(own)
        # A short repost of a post no incident holds (a member's repost is linked before this is read) is about
        # what it quotes: "尖叫！为了她办了张卡//@明星: 新广告片来啦" reacts to an advert, not to the brand's incident.
        reaction = (
            not faults
            and not quoted
            and (echo or len(own) <= grouping.echo_max_chars or self.lexicon.reacts(own))
        )
        return Reading(feats, text, faults, echo, reaction)

    def _words(self, lowered: str, brand: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A lower-cased text's similarity features under ``brand`` and the kinds of fault it names."""
        faults, companions = self.lexicon.read(lowered)
        # A companion ("打不通") is a word of its own only in a post naming no kind of fault.
        return features(lowered, self._stripper(brand), faults, () if faults else companions), faults

    def _stripper(self, brand: str) -> re.Pattern | Blank:
        """Names and complaint language left out of a brand's posts' similarity features."""
        stripper = self._strip_re.get(brand)
        if stripper is None:
            shared = self._shared_strip
            if shared is None:
                words = (*self.brands.names, *self.lexicon.reactions, *self.config.grouping.mood_terms)
                shared = self._shared_strip = alternation(words) or re.compile("(?!)")
            # A brand named only by its feed (no configured alias) also leaves its own name out.
            own = tuple(
                sorted(set(self.strip_for(brand)) - set(self.brands.names) - set(self.lexicon.reactions))
            )
            stripper = self._strip_re[brand] = Blank(shared, own) if own else shared
        return stripper

    def is_official(self, brand: str, post: Post) -> bool:
        """Whether a post comes from the brand's own account: verified, and either listed among the brand's
        ``official_accounts`` or named the brand plus only official words ("海尔官方微博", "西门子家电").

        A verified account that merely contains the brand's name ("苹果日报", "海尔冰箱受害者") is not the
        brand: its posts are complaints and news like anyone's.
        """
        if not brand or not post.author_verified or not post.author:
            return False
        author = _account_name(post.author)
        names, accounts = self._official_names.get(brand) or self._official_names_of(brand)
        if author in accounts:
            return True
        suffix = self._official_suffix
        return any(author.startswith(name) and suffix.fullmatch(author[len(name) :]) for name in names)

    def _official_names_of(self, brand: str) -> tuple[tuple[str, ...], frozenset[str]]:
        spec = self.config.brands.get(brand)
        names = {_account_name(n) for n in (brand, *(spec.aliases if spec is not None else ()))} - {""}
        accounts = frozenset(_account_name(a) for a in (spec.official_accounts if spec is not None else ()))
        self._official_names[brand] = (tuple(names), accounts)
        return self._official_names[brand]

    def statement_about(self, brand: str, reading: Reading, now: float) -> str | None:
        """The brand's warned incident its own statement is about: the one naming its kind of fault, else the
        one people are talking about."""
        cid, _ = self.about_warned(brand, reading, now)
        if cid is None and not reading.faults:
            cid = self.reacted_to(brand, now)
        return cid

    def attach(self, c: Cluster, key: str, limit: int = 50) -> None:
        """Keep a brand's statement beside ``c`` (not a member): its reposts then join ``c``."""
        if len(c.context) < limit:
            c.context.append(key)
            self.post_index[key] = c.id
            self.touched.add(c.id)

    def is_echo(self, text_norm: str) -> bool:
        """Whether a text says "me too" ("我家也是", "同款同样问题", "+1")."""
        return self._echo_re is not None and self._echo_re.search(text_norm.lower()) is not None

    # -- matching -------------------------------------------------------------------------------------
    def linked(self, brand: str, post: Post, now: float) -> str | None:
        """The incident this post reposts (``repost_of``), or whose author it quotes or mentions."""
        window = self.config.grouping.match_window_hours * HOUR
        original = post.extra.get("repost_of")
        if isinstance(original, str | int) and original != "":
            cid = self.post_index.get(f"{post.source}\x1f{original}")
            live = self._live(cid, now, window)
            if live is not None:
                return live
        if "@" not in post.text:
            return None
        authors = self.authors.get(brand)
        if not authors:
            return None
        parsed = normalize_once(post.text)
        for name in [link["user"] for link in parsed.repost_chain] + parsed.mentions:
            live = self._live(authors.get(name), now, window)
            if live is not None:
                return live
        return None

    def _live(self, cid: str | None, now: float, window: float) -> str | None:
        c = self.clusters.get(cid) if cid is not None else None
        while c is not None and c.merged_into is not None:
            c = self.clusters.get(c.merged_into)
        if c is None:
            return None
        return c.id if c.status == "resolved" or now - c.last_post <= window else None

    def best_match(
        self, brand: str, feats: tuple[str, ...], now: float, faults: tuple[str, ...] = ()
    ) -> tuple[str, float] | None:
        """The brand's incident whose words are most like ``feats``, if alike enough.

        A post naming ``faults`` never matches a warned incident about other kinds of fault, however alike the
        rest (while an incident forms, its symptoms are still being told: "发烫" and "鼓包" of one phone).
        """
        index = self.index.get(brand)
        if not index or not feats:
            return None
        values = self.vocab.weight_list(feats)
        storm = self.storm if not brand and self.storm is not None and self.storm.weights else None
        extra: dict[str, float] = {}
        if storm is not None:
            # A post naming no brand has only its words to go by, and a storm's are many: they weigh more.
            values = storm.weigh(feats, values)
            extra = self.storm_extra()
        squares = list(map(mul, values, values))
        post_norm2 = sum(squares)
        clusters = self.clusters
        # Candidates share one of the post's heaviest features (an incident alike enough does); their dot
        # products are then taken over all the post's features.
        candidates: set[str] | None = None
        if len(feats) > _MATCH_TERMS:
            heavy = [f for _, f in sorted(zip(map(neg, values), feats, strict=True))[:_MATCH_TERMS]]
            candidates = set()
            for feat in heavy:
                ids = index.get(feat)
                if ids:
                    candidates.update(ids)
        # Each candidate's products weight² · count over the features it holds, in the post's order: one pass
        # over the post's features and the index, rather than a look-up of every feature in every candidate.
        products: defaultdict[str, list[float]] = defaultdict(list)
        for feat, square in zip(feats, squares, strict=True):
            ids = index.get(feat)
            if ids:
                for cid in ids if candidates is None else ids & candidates:
                    products[cid].append(square * clusters[cid].terms[feat])
        if not products:
            return None
        post_norm = math.sqrt(post_norm2)
        grouping = self.config.grouping
        window = grouping.match_window_hours * HOUR
        best: tuple[str, float] | None = None
        short = len(feats) <= grouping.echo_max_features
        for cid, shared in products.items():
            c = clusters[cid]
            if c.status != "resolved" and now - c.last_post > window:
                continue
            known = faults and c.faults and rank(c.peak_severity) >= _WARNING
            if known and not c.main_faults().intersection(faults):
                continue  # a warned incident's fault is known: another kind of fault is another incident
            dot = sum(shared) / c.docs
            score = dot / (post_norm * (self.storm_norm(c, extra) if extra else self.norm(c)))
            if faults and not c.faults and score < grouping.merge_similarity:
                continue  # a kind of fault does not join, on a word or two, a group that names none
            if short and score < grouping.min_similarity:
                # A short echo shares few words; it matches when what it has is typical of the incident.
                contained = _containment(feats, values, post_norm2, c)
                if contained >= grouping.echo_min_containment:
                    score = grouping.min_similarity + (contained - grouping.echo_min_containment) * 0.01
            if score >= grouping.min_similarity and (
                best is None or score > best[1] or score == best[1] and cid < best[0]
            ):
                best = (cid, score)
        return best

    def same_fault(self, brand: str, faults: tuple[str, ...], now: float) -> str | None:
        """The brand's incident that names one of ``faults`` as its own (the most alerted, then the biggest)."""
        index = self.index.get(brand)
        if not index or not faults:
            return None
        window = self.config.grouping.match_window_hours * HOUR
        best, best_key = None, None
        for family in faults:
            for cid in index.get(FAULT_MARK + family, ()):
                c = self.clusters[cid]
                if c.status != "resolved" and now - c.last_post > window or family not in c.main_faults():
                    continue
                key = (rank(c.peak_severity), len(c.author_first), c.last_post, cid)
                if best_key is None or key > best_key:
                    best, best_key = cid, key
        return best

    def reacted_to(self, brand: str, now: float, echo: bool = False) -> str | None:
        """The brand's incident a reaction is about: the one people are talking about now.

        Among the brand's live incidents that warned (for an ``echo``, any that alerted with at least
        ``echo_min_authors`` authors: "me too" says there is something people share, which one account's
        repeated rants are not), or that at least ``echo_min_authors`` authors joined within
        ``echo_window_hours``: the most severe, then the one most authors joined in the last half day, then the
        latest. A plain grumble does not join a mere watch: the brand's everyday chatter would pile onto it.
        """
        least = 1 if echo else _WARNING
        grouping = self.config.grouping
        best, best_key = None, None
        for cid in self.brand_ids.get(brand, ()):
            c = self.clusters[cid]
            quiet = now - c.last_post
            if c.status == "resolved" or quiet > grouping.match_window_hours * HOUR:
                continue
            authors = c.windows["warning"].authors
            since = now - grouping.echo_window_hours * HOUR
            times = self.first_times(c) if c.last_post >= since else ()
            surging = len(times) - bisect_left(times, since) >= grouping.echo_min_authors
            level = rank(c.severity)
            if level < _WARNING and len(c.author_first) < grouping.echo_min_authors:
                level = 0  # a watch about one or two accounts is not yet something others echo
            if level < least and not surging:
                continue
            key = (rank(c.severity), authors, c.last_post, cid)
            if best_key is None or key > best_key:
                best, best_key = cid, key
        return best

    def about_warned(self, brand: str, reading: Reading, now: float) -> tuple[str | None, str]:
        """The brand's warned incident a post that is no complaint still belongs to, and how it joins.

        A post naming one of the incident's kinds of fault joins it without words of its own (a surge: a flat
        report, a news item); one saying "me too" joins as an echo. Only warned incidents take such posts: they
        tell PR people more about a fault they know of, but never make one.
        """
        if reading.faults:
            wanted = set(reading.faults)
            best, best_key = None, None
            for cid in self.brand_ids.get(brand, ()):
                c = self.clusters[cid]
                if rank(c.severity) < _WARNING or c.status == "resolved" or not wanted & c.main_faults():
                    continue
                key = (rank(c.severity), c.windows["warning"].authors, c.last_post, cid)
                if best_key is None or key > best_key:
                    best, best_key = cid, key
            return best, HOW_SURGE
        if reading.echo:
            cid = self.reacted_to(brand, now)
            if cid is not None and rank(self.clusters[cid].severity) >= _WARNING:
                return cid, HOW_ECHO
        return None, HOW_SURGE

    def folds_into(self, c: Cluster, now: float) -> Cluster | None:
        """The brand's warned incident that ``c``, a group naming no fault of its own, is a reaction to.

        Threats and answers to a brand's statement share their words and can group on their own; when such a
        group would warn, PR people must see it in the thread they already have (the most severe, then busiest).
        """
        if not c.brand or c.main_faults():
            return None
        best, best_key = None, None
        for cid in self.brand_ids.get(c.brand, ()):
            o = self.clusters[cid]
            if cid == c.id or o.status == "resolved" or rank(o.severity) < rank("warning"):
                continue
            if now - o.last_post > self.config.grouping.match_window_hours * HOUR:
                continue
            key = (rank(o.severity), o.windows["warning"].authors, o.last_post, cid)
            if best_key is None or key > best_key:
                best, best_key = o, key
        return best

    def talked_about(self, c: Cluster, now: float) -> Cluster | None:
        """The brand's warned incident that ``c``, about to warn, reads like what its people are saying now: its
        words against those of the incident's posts within ``grouping.storm_window_hours`` (``merge_similarity``,
        as two groups that merge; plain rarity weights: a product's words are storm words of every storm about
        it), unless they name different kinds of fault.

        A storm is told in many ways; a phrase many repeat ("刚加完班回来，家门进不去了") can gather a group of its
        own, unlike the warned incident's whole profile (a day of its words) but like its last hours. PR people
        must see it in the thread they already have.
        """
        if not c.brand:
            return None
        grouping = self.config.grouping
        since = now - grouping.storm_window_hours * HOUR
        faults = c.main_faults()
        best, best_sim = None, 0.0
        for cid in sorted(self.brand_ids.get(c.brand, ())):
            o = self.clusters[cid]
            if cid == c.id or o.status == "resolved" or rank(o.severity) < _WARNING or o.last_post < since:
                continue
            theirs = o.main_faults()
            if faults and theirs and not faults & theirs:
                continue  # two kinds of fault are two incidents
            lately: dict[str, int] = {}
            for key, feats in o.recent.items():
                if o.members[key].t >= since:
                    for feat in feats:
                        lately[feat] = lately.get(feat, 0) + 1
            sim = self.profile_similarity(c.terms, lately, storm=False) if lately else 0.0
            if sim >= grouping.merge_similarity and sim > best_sim:
                best, best_sim = o, sim
        return best

    def place(
        self, brand: str, post: Post, author: str, reading: Reading, now: float
    ) -> tuple[str | None, float, str]:
        """Where a complaint goes: (incident id or None for a new one, similarity, how it joined)."""
        echo = reading.echo
        cid = self.linked(brand, post, now)
        if cid is not None:
            return cid, 0.0, HOW_LINK
        window = self.config.grouping.match_window_hours * HOUR
        if brand and reading.reaction:
            # No fault of its own: a follow-up of its author, else a reaction to what the brand's people are
            # talking about; only when there is none can its words say where it goes.
            cid = self._live(self.authors.get(brand, {}).get(author), now, window) or self.reacted_to(
                brand, now, echo=echo
            )
            if cid is not None:
                return cid, 0.0, HOW_ECHO if echo else HOW_SURGE
        best = self.best_match(brand, reading.feats, now, reading.faults)
        if best is not None:
            return best[0], best[1], HOW_ECHO if echo else HOW_TEXT
        if brand and reading.faults:
            # The same kind of fault of the same brand, however it is worded ("滴水" / "漏水").
            cid = self.same_fault(brand, reading.faults, now)
            if cid is not None:
                return cid, 0.0, HOW_ECHO if echo else HOW_TEXT
        if brand and echo:
            # "Me too": an echo of what the brand's people are talking about, unless that is a warned incident
            # about another kind of fault (a forming incident's symptoms are still being told).
            cid = self.reacted_to(brand, now, echo=True)
            if cid is not None:
                c = self.clusters[cid]
                theirs = c.main_faults()
                if rank(c.severity) < _WARNING or not theirs or theirs.intersection(reading.faults):
                    return cid, 0.0, HOW_ECHO
        # The same author again (a follow-up, a threat after no answer) belongs to their incident.
        cid = self._live(self.authors.get(brand, {}).get(author), now, window)
        if cid is not None:
            return cid, 0.0, HOW_TEXT
        return None, 1.0, HOW_TEXT

    # -- bookkeeping ----------------------------------------------------------------------------------
    def new_id(self, key: str) -> str:
        return "inc-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]

    @staticmethod
    def homes(c: Cluster) -> tuple[str, ...]:
        """The brands under which ``c`` is found: its own, and for a brand's incident that holds a storm naming no
        brand (one adopted, see ``Detector._vote_brand``), also none: that storm's next posts still name none."""
        return (c.brand, "") if c.brand and c.brand_votes else (c.brand,)

    def add_member(self, c: Cluster, m: Member) -> None:
        self.post_index[m.key] = c.id
        for home in self.homes(c):
            self.authors.setdefault(home, {})[m.author] = c.id
            self.brand_ids.setdefault(home, set()).add(c.id)

    def add_terms(self, c: Cluster, feats: tuple[str, ...]) -> None:
        """Add one word-matched post's features to the incident's profile."""
        if not feats:
            return
        indexes = [self.index.setdefault(home, {}) for home in self.homes(c)]
        terms = c.terms
        for feat in feats:
            n = terms.get(feat)
            fault = feat[0] == FAULT_MARK
            if n is None:
                if len(terms) >= self.config.grouping.max_terms and not fault:
                    continue
                terms[feat] = n = 0
                for index in indexes:
                    index.setdefault(feat, set()).add(c.id)
            terms[feat] = n + 1
            if fault:
                c.faults[feat[1:]] = n + 1
        c.docs += 1
        if c.docs <= 16 or c.docs % 8 == 0:
            # The norm moves little once an incident has many posts: refreshing it now and then is enough.
            self.refresh_norm(c)

    def norm(self, c: Cluster) -> float:
        """The length of ``c``'s profile, recomputed once the rarity weights have moved (10% more posts read)."""
        if c.norm_at * 1.1 < self.vocab.docs or not c.norm_at:
            self.refresh_norm(c)
        return c.norm

    def storm_norm(self, c: Cluster, extra: Mapping[str, float]) -> float:
        """``norm`` with the storm words weighed up (see ``StormWords``): the few storm words' extra weight
        (``extra``: ``storm_extra()``) added to the length ``norm`` gives."""
        norm = self.norm(c)
        terms = c.terms
        more = sum(x * terms[f] ** 2 for f, x in extra.items() if f in terms)
        if not more:
            return norm
        docs = c.docs or 1
        return math.sqrt((norm * docs) ** 2 + more) / docs

    def storm_extra(self) -> dict[str, float]:
        """Each storm word's extra square weight, weight² · (factor² - 1), for ``storm_norm``."""
        storm = self.storm
        if storm is None or not storm.weights:
            return {}
        words = list(storm.weights)
        factors = storm.weights
        return {
            f: w * w * (factors[f] ** 2 - 1.0)
            for f, w in zip(words, self.vocab.weight_list(words), strict=True)
        }

    def storm_similarity(self, a: Cluster, b: Cluster) -> float:
        """Cosine between two incidents' word profiles with the storm words weighed up (see ``StormWords``)."""
        if self.storm is None or not a.docs or not b.docs:
            return self.similarity(a, b)
        return self.profile_similarity(a.terms, b.terms, self.term_weights(a), self.term_weights(b))

    def refresh_norm(self, c: Cluster) -> None:
        self.touched.add(c.id)
        docs = c.docs or 1
        c.norm = math.sqrt(self.vocab.weighted_square_sum(c.terms, self.term_weights(c))) / docs or 1.0
        c.norm_at = self.vocab.docs

    def term_weights(self, c: Cluster) -> list[float]:
        """The rarity weights of ``c``'s features, in its order."""
        # Kept until a feature is added (only a split removes any, and resets this) or another post is read: a post joining weighs
        # its incident's features for the norm and again for merge partners, and once does.
        at = (self.vocab.docs, len(c.terms))
        if c.weights_at != at:
            c.term_weights = self.vocab.weight_list(c.terms)
            c.weights_at = at
        return c.term_weights

    def weighted(self, c: Cluster) -> dict[str, float]:
        """``c``'s side of a similarity, by feature: weight² · count."""
        terms = c.terms
        squares = map(pow, self.term_weights(c), repeat(2))
        return dict(zip(terms, map(mul, squares, terms.values()), strict=True))

    def similarity(self, a: Cluster, b: Cluster, weighted: Mapping[str, float] | None = None) -> float:
        """Cosine between two incidents' word profiles (``weighted``: ``self.weighted(a)``, when known)."""
        if not a.docs or not b.docs:
            return 0.0
        if weighted is None:
            weighted = self.weighted(a)
        b_terms = b.terms
        # Over the shared features, in the smaller profile's order (counts are never 0): weight² · a · b, with
        # map over C functions rather than a Python step per feature (profiles have hundreds).
        small, large = (a.terms, b_terms) if len(a.terms) <= len(b_terms) else (b_terms, a.terms)
        shared = list(filter(large.__contains__, small))
        dot = sum(map(mul, map(weighted.__getitem__, shared), map(b_terms.__getitem__, shared)))
        return dot / (a.docs * b.docs * self.norm(a) * self.norm(b))

    def merge_partner(self, c: Cluster, now: float) -> Cluster | None:
        """The incident ``c`` should merge with: the brand's most alike above the merge threshold, or, by
        likeness, a storm naming no brand and a brand's incident (see ``_names_storm``).

        Only live incidents sharing a kind of fault or one of ``c``'s heaviest words are compared: one alike
        enough to merge shares some of them, and an incident has hundreds of light words in common with many.
        """
        grouping = self.config.grouping
        indexes = [self.index.get(c.brand, {})]
        others: set[str] = set()
        if grouping.brand_from_likeness:
            # A storm naming no brand may be a brand's incident told without the name (see _names_storm).
            if c.brand:
                others.update(self._live_storms())
            elif c.would_warn:
                indexes.extend(index for brand, index in self.index.items() if brand)
        terms = c.terms
        # Heaviest first: -count · weight, then the feature.
        ranked = sorted(zip(map(mul, map(neg, terms.values()), self.term_weights(c)), terms, strict=True))
        for index in indexes:
            for _, feat in ranked[:_MERGE_TERMS]:
                others.update(index.get(feat, ()))
            for family in c.faults:
                others.update(index.get(FAULT_MARK + family, ()))
        others.discard(c.id)
        window = grouping.match_window_hours * HOUR
        faults = c.main_faults()
        weighted: dict[str, float] | None = None  # c's side of the similarities, worked out when first needed
        best, best_sim = None, 0.0
        for oid in sorted(others):
            o = self.clusters[oid]
            if o.merged_into is not None or now - o.last_post > window:
                continue
            across = self._across(c, o, now)
            if across is None:
                continue
            theirs = o.main_faults()
            if faults and theirs and not faults & theirs:
                continue  # two kinds of fault are two incidents, however alike the rest of their words
            both = c.ever_alerted and o.ever_alerted
            need = grouping.merge_alerted_similarity if both else grouping.merge_similarity
            if across:
                # A storm naming no brand is held at unbranded_max (watch at most): the PR channel knows one side.
                need = grouping.merge_similarity
                sim = self.storm_similarity(c, o)
                if sim < need or sim <= best_sim or not self._names_storm(c, o, now):
                    continue  # alike first: whether one names the storm reads the brand group's last posts
            # The same kind of fault of one brand is one incident, however alike the rest.
            elif faults & theirs:
                sim = need
            else:
                if weighted is None:
                    weighted = self.weighted(c)
                sim = self.similarity(c, o, weighted)
            if sim >= need and sim > best_sim:
                best, best_sim = o, sim
        return best

    def _across(self, c: Cluster, o: Cluster, now: float) -> bool | None:
        """How ``c`` and ``o`` may merge: False as incidents of one brand, True perhaps by likeness across brands
        (if ``_names_storm``), None not at all."""
        if o.brand == c.brand:
            return False
        if c.brand in self.homes(o) or o.brand in self.homes(c):
            # A group naming no brand and a storm a brand took (found under no brand too): parts of one storm, if
            # the group is the storm's own; everyday talk is not the brand's by a word or two.
            return False if self.storm_own(o if not o.brand else c, now) else None
        named, storm = (c, o) if c.brand else (o, c)
        # By likeness only a storm naming no brand, with a brand's incident (merge_partner then asks _names_storm).
        return True if not storm.brand and named.brand and storm.would_warn else None

    def mark_storm(self, c: Cluster) -> None:
        """``c``, naming no brand, would have warned had it named one: a storm (see ``_names_storm``)."""
        c.would_warn = True
        self.storms.add(c.id)

    def _live_storms(self) -> list[str]:
        """The incidents naming no brand that would have warned, still so (the others are let go)."""
        clusters = self.clusters
        for sid in [
            sid
            for sid in self.storms
            if sid not in clusters or clusters[sid].merged_into or clusters[sid].brand
        ]:
            self.storms.discard(sid)
        return list(self.storms)

    def _names_storm(self, a: Cluster, b: Cluster, now: float) -> bool:
        """Whether, of ``a`` and ``b``, one names no brand and may be found to be the other's incident by likeness.

        A storm naming no brand is a brand's when it is alike that brand's incident (``storm_similarity``): most of
        a storm's posts may not name the brand ("打车软件老用户更贵") while one of its first does ("行途的会员越开越
        贵"). Only for a storm that would have warned had it named a brand, and named no other by its reposts; and
        only when the storm is the storm's own (``storm_own``), and so is the brand's incident or a new author
        took a post alike the storm lately (``_joined_lately``): a group of everyday talk is not found to be anyone's by a word or two,
        but the brand's everyday group a storm's post naming the brand just joined is where the storm names it.
        """
        storm, named = (a, b) if not a.brand else (b, a)
        if storm.brand or not named.brand or not storm.would_warn:
            return False
        if storm.brand_votes and set(storm.brand_votes) != {named.brand}:
            return False
        return self.storm_own(storm, now) and (
            self.storm_own(named, now) or self._joined_lately(named, storm, now)
        )

    def _joined_lately(self, c: Cluster, storm: Cluster, now: float) -> bool:
        """Whether a post alike ``storm`` (``grouping.min_similarity``, as a post joining it) joined ``c`` within
        ``grouping.storm_window_hours``: a brand's everyday group a storm's post naming the brand just joined
        ("云帆的开屏广告…", then "我在云帆当了五年会员，第一次在正片前面看到广告") is where the storm names the brand."""
        since = now - self.config.grouping.storm_window_hours * HOUR
        if c.last_post < since:
            return False
        members = c.members
        reads_like = None
        for key, feats in reversed(c.recent.items()):
            if members[key].t < since:
                break
            if reads_like is None:
                reads_like = self._reader(storm)
            if feats and reads_like(feats) >= self.config.grouping.min_similarity:
                return True
        return False

    def _reader(self, c: Cluster) -> Callable[[Sequence[str]], float]:
        """How alike a post's features are to ``c``'s words (cosine, storm words weighed up), ``c``'s side once."""
        terms = c.terms
        weights = self.term_weights(c)
        storm = self.storm
        if storm is not None:
            weights = storm.weigh(list(terms), weights)
        side = {f: w * w * n for (f, n), w in zip(terms.items(), weights, strict=True)}
        length = math.sqrt(sum((w * n) ** 2 for n, w in zip(terms.values(), weights, strict=True))) or 1.0
        vocab = self.vocab

        def reads_like(feats: Sequence[str]) -> float:
            dot = sum(side[f] for f in feats if f in side)
            if not dot:
                return 0.0
            mine = vocab.weight_list(feats)
            if storm is not None:
                mine = storm.weigh(feats, mine)
            return dot / (length * math.sqrt(sum(w * w for w in mine)))

        return reads_like

    def storm_own(self, c: Cluster, now: float) -> bool:
        """Whether ``c`` is a storm's own: fewer than ``severity.watch.min_authors`` of its authors came before the
        warning window, or at least ``grouping.storm_own_share`` of them came within it (talk that was there
        before, overrun by the storm); else it is everyday talk the storm joined."""
        start = now - self.config.severity.warning.window_hours * HOUR
        times = self.first_times(c)
        before = bisect_left(times, start)
        overrun = len(times) - before >= self.config.grouping.storm_own_share * len(times)
        return before < self.config.severity.watch.min_authors or overrun

    def absorb(self, keep: Cluster, gone: Cluster, now: float, fast_rank: Any) -> None:
        """Move everything of ``gone`` into ``keep``; ``gone`` stays only as a pointer."""
        self.unindex(gone)
        had = self.homes(keep)
        for brand, names in gone.brand_votes.items():
            votes = keep.brand_votes.setdefault(brand, [])
            votes.extend(name for name in names if name not in votes)
        homes = self.homes(keep)
        if homes != had:
            self._index(keep)  # a home gained with gone's votes (a storm's "none"): keep's words go there too
        indexes = [self.index.setdefault(home, {}) for home in homes]
        for feat, n in gone.terms.items():
            if feat in keep.terms:
                keep.terms[feat] += n
            elif len(keep.terms) < self.config.grouping.max_terms or feat[0] == FAULT_MARK:
                keep.terms[feat] = n
                for index in indexes:
                    index.setdefault(feat, set()).add(keep.id)
        for family, n in gone.faults.items():
            keep.faults[family] = keep.faults.get(family, 0) + n
        keep.docs += gone.docs
        merged = sorted([*keep.members.values(), *gone.members.values()], key=lambda m: m.t)
        keep.members = {m.key: m for m in merged}
        told = {**keep.recent, **gone.recent}
        keep.recent = {key: told[key] for key in keep.members if key in told}
        authors = [self.authors.setdefault(home, {}) for home in homes]
        for key in gone.context:
            self.post_index[key] = keep.id
        keep.context = keep.context + gone.context
        for m in gone.members.values():
            self.post_index[m.key] = keep.id
            for table in authors:
                table[m.author] = keep.id
            keep.account(m)
        # Each author's first post decided whether they echo: the answer of the side that had it stands.
        for author, first in gone.author_first.items():
            mine = keep.author_first.get(author)
            if mine is None or first < mine:
                if author in gone.echo_authors:
                    keep.echo_authors[author] = 1
                else:
                    keep.echo_authors.pop(author, None)
        for author, v in gone.voice_of.items():
            keep.voice_of[author] = max(v, keep.voice_of.get(author, 0.0))
            keep.author_first[author] = min(gone.author_first[author], keep.author_first.get(author, now))
        keep.created = min(keep.created, gone.created)
        keep.last_post = max(keep.last_post, gone.last_post)
        keep.velocity = sorted(keep.velocity + gone.velocity)
        keep.contrary += gone.contrary
        keep.set_sample_rows(_samples(keep, gone))
        if gone.fast_post is not None and (
            keep.fast_post is None
            or fast_rank(gone.members[gone.fast_post]) > fast_rank(keep.members[keep.fast_post])
        ):
            keep.fast_post = gone.fast_post
        keep.rebuild_windows(self.config, now)
        self.refresh_norm(keep)
        keep.keywords = []
        keep.no_keywords = None  # other samples now, however many
        keep.typical = None
        keep.revision += 1
        gone.merged_into = keep.id

    def surge_profile(self, c: Cluster, since: float) -> tuple[dict[str, int], int] | None:
        """The words (feature -> posts) and word-matched posts that ``c``'s members from ``since`` on added to its
        profile, or None when one of them joined before they were kept (``Cluster.recent``)."""
        recent = c.recent
        terms = c.terms
        counts: dict[str, int] = {}
        docs = 0
        for m in c.members.values():
            if m.t < since:
                continue
            feats = recent.get(m.key)
            if feats is None:
                return None
            if feats:
                docs += 1
                for feat in feats:
                    if feat in terms:
                        counts[feat] = counts.get(feat, 0) + 1
        return counts, docs

    def profile_similarity(
        self,
        a: Mapping[str, int],
        b: Mapping[str, int],
        a_weights: Sequence[float] | None = None,
        b_weights: Sequence[float] | None = None,
        storm: bool = True,
    ) -> float:
        """Cosine between two word profiles (feature -> posts) by rarity weight, the storm words weighed up unless
        not ``storm`` (``a_weights``, ``b_weights``: their rarity weights in their order, when known)."""
        wa = self.vocab.weight_list(list(a)) if a_weights is None else a_weights
        wb = self.vocab.weight_list(list(b)) if b_weights is None else b_weights
        if storm and self.storm is not None:
            wa, wb = self.storm.weigh(list(a), wa), self.storm.weigh(list(b), wb)
        dot = sum(w * w * n * b[f] for (f, n), w in zip(a.items(), wa, strict=True) if f in b)
        norm_a = math.sqrt(sum((w * n) ** 2 for n, w in zip(a.values(), wa, strict=True)))
        norm_b = math.sqrt(sum((w * n) ** 2 for n, w in zip(b.values(), wb, strict=True)))
        return dot / (norm_a * norm_b) if norm_a and norm_b else 0.0

    def typical_sample(self, c: Cluster, told: str) -> str:
        """The sample that reads most like ``c`` (cosine of its words with the incident's, storm words weighed up;
        for an incident naming a kind of fault, of those naming it), ``told`` on a tie (see ``Detector._opener``).
        Looked at again when its samples or its word-matched posts double."""
        key = [told, len(c.samples).bit_length(), c.docs.bit_length(), sorted(c.main_faults())]
        if c.typical is not None and c.typical[0] == key:
            return c.typical[1]
        known = c.sample_feats
        alike = self._reader(c)

        def reads_like(text: str) -> float:
            feats = known.get(text)
            if feats is None:
                feats = known[text] = self._words(text.lower(), c.brand)[0]
            return alike(feats)

        best, best_sim = told, reads_like(told)
        families = self.config.grouping.fault_terms
        words = [w.strip().lower() for f in sorted(c.main_faults()) for w in families.get(f, ()) if w.strip()]
        for text in c.samples:
            if text == told or words and not any(word in text.lower() for word in words):
                continue
            if (sim := reads_like(text)) > best_sim:
                best, best_sim = text, sim
        c.typical = [key, best]
        return best

    def split_off(
        self,
        c: Cluster,
        rest: Cluster,
        since: float,
        counts: dict[str, int],
        before: dict[str, int],
        docs: int,
    ) -> None:
        """Move ``c``'s members from before ``since`` to ``rest`` (new, empty), with the words they added to its
        profile (``before``; the surge's, ``counts`` from ``docs`` posts, stay: ``surge_profile``); the indexes
        follow."""
        self.unindex(c)
        rest.terms = before
        rest.docs = c.docs - docs
        c.terms = {f: counts[f] for f in c.terms if f in counts}
        c.docs = docs
        for part in (c, rest):
            part.faults = {f[1:]: n for f, n in part.terms.items() if f[0] == FAULT_MARK}
        members = list(c.members.values())
        c.members = {m.key: m for m in members if m.t >= since}
        rest.members = {m.key: m for m in members if m.t < since}
        rest.recent = {key: feats for key, feats in c.recent.items() if key in rest.members}
        c.recent = {key: feats for key, feats in c.recent.items() if key in c.members}
        self._index(c)
        self._index(rest)
        staying = {m.author for m in c.members.values()}
        for m in rest.members.values():
            self.post_index[m.key] = rest.id
            if m.author in staying:
                continue  # their follow-ups go with the surge
            moved = False
            for home in self.homes(c):
                if self.authors.get(home, {}).get(m.author) == c.id:
                    del self.authors[home][m.author]
                    moved = True
            if moved:  # an author's latest incident elsewhere stays theirs
                for home in self.homes(rest):
                    self.authors.setdefault(home, {})[m.author] = rest.id
        for part in (c, rest):
            part.weights_at = (-1, 0)
            self.refresh_norm(part)
            part.keywords = []
            part.no_keywords = None
            part.typical = None
            part.revision += 1

    def adopt(self, c: Cluster, brand: str) -> None:
        """``c``, an incident naming no brand that reposts naming ``brand`` joined (``c.brand_votes``), becomes
        ``brand``'s; it is still found under no brand too (``homes``)."""
        c.brand = brand
        c.typical, c.sample_feats = None, {}  # read under no brand's names
        c.brand_votes.setdefault(brand, [])  # what makes it found under no brand too (homes)
        self._index(c)
        authors = self.authors.setdefault(brand, {})
        for author in c.author_first:
            authors.setdefault(author, c.id)

    def _index(self, c: Cluster) -> None:
        """Index ``c`` and its words under each of its homes."""
        for home in self.homes(c):
            self.brand_ids.setdefault(home, set()).add(c.id)
            index = self.index.setdefault(home, {})
            for feat in c.terms:
                index.setdefault(feat, set()).add(c.id)

    def unindex(self, c: Cluster) -> None:
        for home in self.homes(c):
            ids = self.brand_ids.get(home)
            if ids is not None:
                ids.discard(c.id)
            index = self.index.get(home, {})
            for feat in c.terms:
                ids = index.get(feat)
                if ids is not None:
                    ids.discard(c.id)
                    if not ids:
                        del index[feat]

    def forget(self, c: Cluster) -> None:
        """Drop a cluster and every index entry that still points at it."""
        self.unindex(c)
        for key in [*c.members, *c.context]:
            if self.post_index.get(key) == c.id:
                del self.post_index[key]
        for home in self.homes(c):
            authors = self.authors.get(home, {})
            for author in c.author_first:
                if authors.get(author) == c.id:
                    del authors[author]

    def rebuild(self, authors: dict[str, dict[str, str]]) -> None:
        """Rebuild the indexes from the clusters and the saved author map (after restoring a saved state)."""
        self.authors = {brand: dict(names) for brand, names in authors.items()}
        for c in self.clusters.values():
            if c.merged_into is not None:
                continue
            self._index(c)
            for key in [*c.context, *c.members]:
                self.post_index[key] = c.id
            if c.would_warn and not c.brand:
                self.mark_storm(c)


def _containment(feats: tuple[str, ...], weights: list[float], norm2: float, c: Cluster) -> float:
    terms, docs = c.terms, c.docs
    got = sum(w * w * min(1.0, 2.0 * terms.get(f, 0) / docs) for f, w in zip(feats, weights, strict=True))
    return got / norm2 if norm2 else 0.0


def _samples(keep: Cluster, gone: Cluster, limit: int = 24) -> list[tuple[str, str, str]]:
    """Both incidents' title samples (``Cluster.sample_rows``), one per author (``keep``'s first), at most
    ``limit``. A sample whose author a saved state does not say counts as its own author's."""
    rows: list[tuple[str, str, str]] = []
    authors: set[str] = set()
    for c in (keep, gone):
        for text, author, key in c.sample_rows():
            if len(rows) < limit and (not author or author not in authors):
                rows.append((text, author, key))
                authors.add(author)
    return rows


def _sorted_first_times(c: Cluster) -> list[float]:
    return sorted(c.author_first.values())
