"""Grouping: which incident a complaint belongs to, and when two incidents are one.

A post joins an incident, in this order of trust:
1. **link**: it reposts a member (``repost_of``, as Weibo's ``retweeted_status`` gives it), or quotes or mentions a
   member's author (``//@alice:``, ``@alice``);
2. **words**: its words are like the incident's (cosine over rarity-weighted character bigrams, see
   ``detect_text``), among the incidents of the same brand;
3. **author**: its author already complained in one of the brand's incidents (a follow-up, a threat);
4. **surge**: it is too short to name a fault ("+1", "支持维权") and its brand has an incident that several
   authors are joining right now: reactions belong to what they react to;
otherwise it opens a new incident. Incidents of one brand whose word profiles converge are merged, so that one
fault gives one incident; two faults keep apart because their fault words differ.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

from monitor.detect_cluster import HOW_ECHO, HOW_LINK, HOW_SURGE, HOW_TEXT, Cluster, Member, window_hours
from monitor.detect_config import DetectionConfig
from monitor.detect_spread import HOUR, Window
from monitor.detect_text import BrandMatcher, Vocabulary, features
from monitor.normalize import normalize, to_simplified
from monitor.post import Post


class Grouper:
    """The indexes behind grouping: words per brand, authors per brand, posts; all rebuilt from clusters."""

    def __init__(self, config: DetectionConfig, clusters: dict[str, Cluster], vocab: Vocabulary):
        self.config = config
        self.clusters = clusters
        self.vocab = vocab
        self.brands = BrandMatcher({name: spec.aliases for name, spec in config.brands.items()})
        self.index: dict[str, dict[str, set[str]]] = {}  # brand -> feature -> cluster ids
        self.authors: dict[str, dict[str, str]] = {}  # brand -> author -> their latest cluster id
        self.post_index: dict[str, str] = {}  # member key -> cluster id
        self._strip: dict[str, tuple[str, ...]] = {}
        self._markers = tuple(marker.lower() for marker in config.grouping.echo_markers)

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

    def features(self, post: Post, text_norm: str, brand: str) -> tuple[tuple[str, ...], str]:
        """Similarity features of a post and the text they came from (a short repost reads what it quotes)."""
        text = text_norm
        if "//@" in post.text and len(text) < self.config.grouping.echo_max_chars:
            quoted = " ".join(link["text"] for link in normalize(post.text).repost_chain)
            text = f"{text} {quoted}".strip()
        return features(text, self.strip_for(brand)), text

    def is_echo(self, text_norm: str) -> bool:
        """Whether a text says "me too" ("我家也是", "同款同样问题", "+1")."""
        lowered = text_norm.lower()
        return any(marker in lowered for marker in self._markers)

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
        parsed = normalize(post.text)
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

    def best_match(self, brand: str, feats: tuple[str, ...], now: float) -> tuple[str, float] | None:
        """The brand's incident whose words are most like ``feats``, if alike enough."""
        index = self.index.get(brand)
        if not index or not feats:
            return None
        weights = self.vocab.weights(feats)
        post_norm2 = sum(w * w for w in weights.values())
        dots: dict[str, float] = {}
        clusters = self.clusters
        for feat, w in weights.items():
            ids = index.get(feat)
            if not ids:
                continue
            for cid in ids:
                c = clusters[cid]
                dots[cid] = dots.get(cid, 0.0) + w * w * c.terms[feat] / c.docs
        if not dots:
            return None
        grouping = self.config.grouping
        window = grouping.match_window_hours * HOUR
        best: tuple[str, float] | None = None
        short = len(feats) <= grouping.echo_max_features
        for cid, dot in dots.items():
            c = clusters[cid]
            if c.status != "resolved" and now - c.last_post > window:
                continue
            score = dot / (math.sqrt(post_norm2) * self.norm(c))
            if short and score < grouping.min_similarity:
                # A short echo shares few words; it matches when what it has is typical of the incident.
                contained = _containment(weights, post_norm2, c)
                if contained >= grouping.echo_min_containment:
                    score = grouping.min_similarity + (contained - grouping.echo_min_containment) * 0.01
            if score >= grouping.min_similarity and (
                best is None or score > best[1] or score == best[1] and cid < best[0]
            ):
                best = (cid, score)
        return best

    def surge(self, brand: str, now: float) -> str | None:
        """The brand's incident most authors are joining right now (at least ``echo_min_authors``)."""
        grouping = self.config.grouping
        best, most = None, grouping.echo_min_authors - 1
        for c in self.clusters.values():
            if (
                c.brand != brand
                or c.merged_into is not None
                or c.status == "resolved"
                or now - c.last_post > grouping.echo_window_hours * HOUR
            ):
                continue
            authors = c.windows["warning"].authors
            if authors > most or authors == most and best is not None and c.id < best.id:
                best, most = c, authors
        return best.id if best is not None else None

    def place(
        self, brand: str, post: Post, author: str, text_norm: str, feats: tuple[str, ...], now: float
    ) -> tuple[str | None, float, str]:
        """Where a complaint goes: (incident id or None for a new one, similarity, how it joined)."""
        echo = self.is_echo(text_norm)
        cid = self.linked(brand, post, now)
        if cid is not None:
            return cid, 0.0, HOW_LINK
        best = self.best_match(brand, feats, now)
        if best is not None:
            return best[0], best[1], HOW_ECHO if echo else HOW_TEXT
        # The same author again (a follow-up, a threat after no answer) belongs to their incident.
        cid = self._live(
            self.authors.get(brand, {}).get(author), now, self.config.grouping.match_window_hours * HOUR
        )
        if cid is not None:
            return cid, 0.0, HOW_TEXT
        if brand and len(text_norm) <= self.config.grouping.echo_max_chars:
            # Too short to name a fault of its own: a reaction to what the brand's people are talking about.
            cid = self.surge(brand, now)
            if cid is not None:
                return cid, 0.0, HOW_ECHO if echo else HOW_SURGE
        return None, 1.0, HOW_TEXT

    # -- bookkeeping ----------------------------------------------------------------------------------
    def new_id(self, key: str) -> str:
        return "inc-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]

    def add_member(self, c: Cluster, m: Member) -> None:
        self.post_index[m.key] = c.id
        self.authors.setdefault(c.brand, {})[m.author] = c.id

    def add_terms(self, c: Cluster, feats: tuple[str, ...]) -> None:
        """Add one word-matched post's features to the incident's profile."""
        if not feats:
            return
        index = self.index.setdefault(c.brand, {})
        terms = c.terms
        for feat in feats:
            n = terms.get(feat)
            if n is None:
                if len(terms) >= self.config.grouping.max_terms:
                    continue
                terms[feat] = 1
                index.setdefault(feat, set()).add(c.id)
            else:
                terms[feat] = n + 1
        c.docs += 1
        if c.docs <= 16 or c.docs % 8 == 0:
            # The norm moves little once an incident has many posts: refreshing it now and then is enough.
            self.refresh_norm(c)

    def norm(self, c: Cluster) -> float:
        """The length of ``c``'s profile, recomputed once the rarity weights have moved (10% more posts read)."""
        if c.norm_at * 1.1 < self.vocab.docs or not c.norm_at:
            self.refresh_norm(c)
        return c.norm

    def refresh_norm(self, c: Cluster) -> None:
        weight = self.vocab.weight
        docs = c.docs or 1
        c.norm = math.sqrt(sum((weight(f) * n / docs) ** 2 for f, n in c.terms.items())) or 1.0
        c.norm_at = self.vocab.docs

    def similarity(self, a: Cluster, b: Cluster) -> float:
        """Cosine between two incidents' word profiles."""
        if not a.docs or not b.docs:
            return 0.0
        weight = self.vocab.weight
        small, large = (a, b) if len(a.terms) <= len(b.terms) else (b, a)
        dot = 0.0
        for feat, n in small.terms.items():
            m = large.terms.get(feat)
            if m:
                dot += weight(feat) ** 2 * (n / small.docs) * (m / large.docs)
        return dot / (self.norm(a) * self.norm(b))

    def merge_partner(self, c: Cluster, now: float) -> Cluster | None:
        """The brand's incident ``c`` should merge with: the most alike above the merge threshold."""
        grouping = self.config.grouping
        index = self.index.get(c.brand, {})
        others: set[str] = set()
        for feat in c.terms:
            others.update(index.get(feat, ()))
        others.discard(c.id)
        window = grouping.match_window_hours * HOUR
        best, best_sim = None, 0.0
        for oid in sorted(others):
            o = self.clusters[oid]
            if o.merged_into is not None or now - o.last_post > window:
                continue
            both = c.ever_alerted and o.ever_alerted
            need = grouping.merge_alerted_similarity if both else grouping.merge_similarity
            sim = self.similarity(c, o)
            if sim >= need and sim > best_sim:
                best, best_sim = o, sim
        return best

    def absorb(self, keep: Cluster, gone: Cluster, now: float, fast_rank: Any) -> None:
        """Move everything of ``gone`` into ``keep``; ``gone`` stays only as a pointer."""
        self.unindex(gone)
        index = self.index.setdefault(keep.brand, {})
        for feat, n in gone.terms.items():
            if feat in keep.terms:
                keep.terms[feat] += n
            elif len(keep.terms) < self.config.grouping.max_terms:
                keep.terms[feat] = n
                index.setdefault(feat, set()).add(keep.id)
        keep.docs += gone.docs
        merged = sorted([*keep.members.values(), *gone.members.values()], key=lambda m: m.t)
        keep.members = {m.key: m for m in merged}
        authors = self.authors.setdefault(keep.brand, {})
        for m in gone.members.values():
            self.post_index[m.key] = keep.id
            authors[m.author] = keep.id
            keep.account(m)
        for author, v in gone.voice_of.items():
            keep.voice_of[author] = max(v, keep.voice_of.get(author, 0.0))
            keep.author_first[author] = min(gone.author_first[author], keep.author_first.get(author, now))
        keep.created = min(keep.created, gone.created)
        keep.last_post = max(keep.last_post, gone.last_post)
        keep.velocity = sorted(keep.velocity + gone.velocity)
        keep.contrary += gone.contrary
        keep.samples = (keep.samples + gone.samples)[: max(len(keep.samples), len(gone.samples), 24)]
        if gone.fast_post is not None and (
            keep.fast_post is None
            or fast_rank(gone.members[gone.fast_post]) > fast_rank(keep.members[keep.fast_post])
        ):
            keep.fast_post = gone.fast_post
        spans = window_hours(self.config)
        for level, hours in spans.items():
            window = Window(hours)
            for m in merged:
                window.add(m.t, m.author, keep.voice_of)
            window.expire(now, keep.voice_of)
            keep.windows[level] = window
        self.refresh_norm(keep)
        keep.keywords = []
        keep.revision += 1
        gone.merged_into = keep.id

    def unindex(self, c: Cluster) -> None:
        index = self.index.get(c.brand, {})
        for feat in c.terms:
            ids = index.get(feat)
            if ids is not None:
                ids.discard(c.id)
                if not ids:
                    del index[feat]

    def forget(self, c: Cluster) -> None:
        """Drop a cluster and every index entry that still points at it."""
        self.unindex(c)
        for key in c.members:
            if self.post_index.get(key) == c.id:
                del self.post_index[key]
        authors = self.authors.get(c.brand, {})
        for author in c.author_first:
            if authors.get(author) == c.id:
                del authors[author]

    def rebuild(self, authors: dict[str, dict[str, str]]) -> None:
        """Rebuild the indexes from the clusters and the saved author map (after restoring a saved state)."""
        self.authors = {brand: dict(names) for brand, names in authors.items()}
        for c in self.clusters.values():
            if c.merged_into is not None:
                continue
            index = self.index.setdefault(c.brand, {})
            for feat in c.terms:
                index.setdefault(feat, set()).add(c.id)
            for key in c.members:
                self.post_index[key] = c.id


def _containment(weights: Mapping[str, float], norm2: float, c: Cluster) -> float:
    terms, docs = c.terms, c.docs
    got = sum(w * w * min(1.0, 2.0 * terms.get(f, 0) / docs) for f, w in weights.items())
    return got / norm2 if norm2 else 0.0
