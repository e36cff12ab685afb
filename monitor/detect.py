"""Early warning: complaint posts grouped online into incidents, scored by how far they spread.

Pure logic over observations and a clock: ``Detector.observe`` takes one classified post at a time,
``Detector.tick`` lets time pass (cooling, resolving), and both return the ``AlertEvent``\\ s that alerting routes.
``Detector.state()`` is a JSON-serialisable snapshot from which a new Detector resumes exactly.

An incident is a group of complaints (negative or escalating posts) about one brand whose texts are alike
(see ``detect_text``); its severity comes from spread (see ``detect_spread``): distinct authors in a window
against the usual level, their reach, verified and media accounts, engagement velocity, escalation. A big
account's single escalating complaint may warn at once (the fast path).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.detect_config import SEVERITY_LEVELS, DetectionConfig
from monitor.detect_explain import evidence, incident_keywords, reasons, resolved_reason, title_summary
from monitor.detect_spread import HOUR, Rate, Window, rank, read_level, voice
from monitor.detect_text import BrandMatcher, Vocabulary, features
from monitor.events import AlertEvent
from monitor.post import Post

__all__ = ["DetectionConfig", "Detector", "Incident", "IncidentPost", "Observation"]

logger = logging.getLogger(__name__)

STATE_VERSION = 1
STATUSES = ("new", "growing", "cooling", "resolved")


@dataclass(slots=True)
class Observation:
    """One classified post seen at ``now`` (``is_new`` False: a known post seen again with new counts)."""

    post: Post
    text_norm: str
    prediction: Any  # classifiers.Prediction: sentiment, sentiment_scores, escalation, escalation_score
    now: datetime
    is_new: bool = True
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IncidentPost:
    """A post that belongs to an incident."""

    source: str
    post_id: str
    author: str
    added_at: datetime
    similarity: float
    followers: int
    verified: bool
    escalation: str


@dataclass(frozen=True, slots=True)
class Incident:
    """A snapshot of one incident, for the incidents table and the web."""

    id: str
    brand: str | None
    feed: str | None
    status: str
    severity: str | None
    peak_severity: str | None
    title: str
    summary: str
    reasons: list[str]
    keywords: list[str]
    first_post_at: datetime
    last_post_at: datetime
    opened_at: datetime
    resolved_at: datetime | None
    reopened: int
    n_posts: int
    n_authors: int
    reach: int
    score: float
    stats: dict[str, float]
    post_ids: list[str]
    posts: list[IncidentPost]
    history: list[dict[str, Any]]
    revision: int


class _Member:
    """What the detector keeps of one post in an incident (a list in the state)."""

    __slots__ = ("key", "author", "t", "followers", "verified", "media", "high", "p_neg", "esc", "sim", "eng")

    def __init__(self, key, author, t, followers, verified, media, high, p_neg, esc, sim, eng):
        self.key, self.author, self.t = key, author, t
        self.followers, self.verified, self.media, self.high = followers, verified, media, high
        self.p_neg, self.esc, self.sim, self.eng = p_neg, esc, sim, eng

    def to_state(self) -> list:
        return [getattr(self, name) for name in self.__slots__]


class _Cluster:
    """One incident's working state."""

    def __init__(self, config: DetectionConfig, cid: str, brand: str, feed: str, tags: dict, now: float):
        self.id = cid
        self.brand = brand
        self.feed = feed
        self.tags = tags
        self.status = "new"
        self.severity: str | None = None
        self.peak_severity: str | None = None
        self.ever_alerted = False
        self.created = now
        self.opened = now
        self.last_post = now
        self.resolved_at: float | None = None
        self.reopened = 0
        self.terms: dict[str, int] = {}
        self.docs = 0
        self.norm = 1.0
        self.members: dict[str, _Member] = {}
        self.voice_of: dict[str, float] = {}
        self.author_first: dict[str, float] = {}
        self.windows = {
            level: Window(getattr(config.severity, level).window_hours) for level in SEVERITY_LEVELS
        }
        self.velocity: list[list[float]] = []  # [t, engagement delta], oldest first
        self.contrary = 0
        self.flare_start = now
        self.authors_before_flare = 0
        self.samples: list[str] = []
        self.fast_post: str | None = None
        self.notified_authors = 0
        self.notified_at: float | None = None
        self.history: list[dict[str, Any]] = []
        self.revision = 0
        self.reasons: list[str] = []
        self.stats: dict[str, float] = {}
        self.keywords: list[str] = []
        self.keywords_docs = 0
        self.merged_into: str | None = None
        self.reach_of: dict[str, int] = {}  # author -> followers
        self.verified_authors: dict[str, int] = {}
        self.high_authors: dict[str, int] = {}

    def account(self, m: _Member) -> None:
        """Count one member's author into the reach, verified and escalation tallies."""
        if m.followers > self.reach_of.get(m.author, -1):
            self.reach_of[m.author] = m.followers
        if m.verified or m.media:
            self.verified_authors[m.author] = 1
        if m.high:
            self.high_authors[m.author] = 1

    # -- state ------------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        return {
            "id": self.id, "brand": self.brand, "feed": self.feed, "tags": self.tags, "status": self.status,
            "severity": self.severity, "peak_severity": self.peak_severity, "ever_alerted": self.ever_alerted,
            "created": self.created, "opened": self.opened, "last_post": self.last_post,
            "resolved_at": self.resolved_at, "reopened": self.reopened, "terms": self.terms, "docs": self.docs,
            "norm": self.norm, "members": [m.to_state() for m in self.members.values()],
            "voice_of": self.voice_of, "author_first": self.author_first,
            "windows": {level: w.to_state() for level, w in self.windows.items()},
            "velocity": self.velocity, "contrary": self.contrary, "flare_start": self.flare_start,
            "authors_before_flare": self.authors_before_flare, "samples": self.samples,
            "fast_post": self.fast_post, "notified_authors": self.notified_authors,
            "notified_at": self.notified_at, "history": self.history, "revision": self.revision,
            "reasons": self.reasons, "stats": self.stats, "keywords": self.keywords,
            "keywords_docs": self.keywords_docs, "merged_into": self.merged_into, "reach_of": self.reach_of,
            "verified_authors": self.verified_authors, "high_authors": self.high_authors,
        }  # fmt: skip

    @classmethod
    def from_state(cls, config: DetectionConfig, state: dict) -> _Cluster:
        c = cls(config, state["id"], state["brand"], state["feed"], state["tags"], state["created"])
        for name in (
            "status", "severity", "peak_severity", "ever_alerted", "opened", "last_post", "resolved_at",
            "reopened", "terms", "docs", "norm", "voice_of", "author_first", "velocity", "contrary",
            "flare_start", "authors_before_flare", "samples", "fast_post", "notified_authors", "notified_at",
            "history", "revision", "reasons", "stats", "keywords", "keywords_docs", "merged_into", "reach_of", "verified_authors", "high_authors",
        ):  # fmt: skip
            setattr(c, name, state[name])
        c.members = {row[0]: _Member(*row) for row in state["members"]}
        c.windows = {
            level: Window.from_state(getattr(config.severity, level).window_hours, w)
            for level, w in state["windows"].items()
        }
        return c


class Detector:
    """Groups complaints into incidents and says when one is worth a look, a warning, or a page."""

    def __init__(self, config: DetectionConfig | None = None, state: dict | None = None):
        self.config = config or DetectionConfig()
        cfg = self.config
        self._brands = BrandMatcher({name: spec.aliases for name, spec in cfg.brands.items()})
        self._strip = tuple(alias for alias in self._brands.names)
        self._half_life_h = cfg.baseline.half_life_days * 24.0
        self.vocab = Vocabulary(cfg.grouping.vocabulary_limit)
        self.clusters: dict[str, _Cluster] = {}
        self.baselines: dict[str, Rate] = {}
        self.post_index: dict[str, str] = {}  # member key -> cluster id
        self.next_due: float | None = None
        self._index: dict[str, dict[str, set[str]]] = {}  # brand -> feature -> cluster ids
        self._authors: dict[str, dict[str, str]] = {}  # brand -> author -> their latest cluster id
        self.pending: deque[list] = deque()  # [t, baseline key, cluster id] not yet in the usual level
        if state is not None:
            self._restore(state)

    # -- public ---------------------------------------------------------------------------------------
    def observe(self, obs: Observation) -> list[AlertEvent]:
        """Take one classified observation; return the alert events it causes."""
        now = _ts(obs.now)
        post = obs.post
        key = f"{post.source}\x1f{post.id}"
        if not obs.is_new:
            cid = self.post_index.get(key)
            if cid is None or cid not in self.clusters:
                return []
            return self._reobserve(self.clusters[cid], key, post, now)
        if key in self.post_index:
            return []
        text = obs.text_norm
        if "//@" in post.text and len(text) < 20:
            text = _with_quoted(post.text, text)
        feats = features(text, self._strip)
        self.vocab.add(feats)
        tagged = obs.tags.get("brand")
        brand = (
            self._brands.canonical(tagged) if tagged else self._brands.find(obs.text_norm, post.text) or ""
        )
        feed = obs.tags.get("feed") or post.source
        pred = obs.prediction
        scores = pred.sentiment_scores
        complaint = self._is_complaint(pred)
        if not complaint:
            if pred.sentiment == "positive" and feats:
                best = self._best_match(brand, feats, now)
                if best is not None and best[1] >= self.config.grouping.min_similarity:
                    cluster = self.clusters[best[0]]
                    cluster.contrary += 1
            return []
        best = self._best_match(brand, feats, now) if feats else None
        if best is None and "@" in post.text:
            best = self._linked(brand, post.text, now)
        echo = False
        if best is None and brand and len(obs.text_norm) <= self.config.grouping.echo_max_chars:
            best = self._surge(brand, now)
            echo = best is not None
        cluster = self.clusters[best[0]] if best is not None else None
        similarity = best[1] if best is not None else 1.0
        if cluster is None:
            cluster = self._open(key, brand, feed, obs.tags, now)
        self._learn_baseline(f"{feed}\x1f{brand}", cluster.id, now)
        high = (
            pred.escalation == "high" or pred.escalation_score >= self.config.complaint.high_escalation_score
        )
        member = _Member(
            key,
            post.author or f"anon:{key}",
            now,
            post.author_followers or 0,
            bool(post.author_verified),
            self._is_media(post),
            high,
            round(float(scores.get("negative", 0.0)), 4),
            round(float(pred.escalation_score), 4),
            round(similarity, 4),
            _engagement(self.config, post),
        )
        return self._join(cluster, member, () if echo else feats, text, now)

    def _learn_baseline(self, key: str, cid: str, now: float) -> None:
        """Count a complaint into its feed/brand's usual level once it is ``lag_hours`` old.

        The lag keeps a fresh incident out of the level it is measured against; complaints of incidents that
        alerted by then are never counted.
        """
        self.pending.append([now, key, cid])
        horizon = now - self.config.baseline.lag_hours * HOUR
        pending = self.pending
        while pending and pending[0][0] <= horizon:
            t, bkey, owner = pending.popleft()
            c = self.clusters.get(owner)
            while c is not None and c.merged_into is not None:
                c = self.clusters.get(c.merged_into)
            if c is not None and c.ever_alerted:
                continue
            self._baseline(bkey).add(t, self._half_life_h)

    def _baseline(self, key: str) -> Rate:
        rate = self.baselines.get(key)
        if rate is None:
            base = self.config.baseline
            rate = self.baselines[key] = Rate.prior(base.prior_per_day, base.prior_days)
        return rate

    def _surge(self, brand: str, now: float) -> tuple[str, float] | None:
        """The brand's incident most authors are joining right now, for a short echo with no words of its own."""
        grouping = self.config.grouping
        best, most = None, grouping.echo_min_authors - 1
        for c in self.clusters.values():
            if (
                c.brand != brand
                or c.merged_into is not None
                or now - c.last_post > grouping.echo_window_hours * HOUR
            ):
                continue
            authors = c.windows["warning"].authors
            if authors > most:
                best, most = c, authors
        return (best.id, 0.0) if best is not None else None

    def tick(self, now: datetime) -> list[AlertEvent]:
        """Let time pass to ``now``: incidents cool, resolve, and unalerted candidates are forgotten."""
        t = _ts(now)
        if self.next_due is not None and t < self.next_due:
            return []
        life = self.config.lifecycle
        events: list[AlertEvent] = []
        due: float | None = None
        for cluster in list(self.clusters.values()):
            quiet = t - cluster.last_post
            if cluster.status == "resolved":
                forget_at = (cluster.resolved_at or t) + self.config.grouping.reopen_within_days * 24 * HOUR
                if t >= forget_at:
                    self._forget(cluster)
                    continue
                due = _min(due, forget_at)
                continue
            listed = cluster.ever_alerted or len(cluster.author_first) >= life.list_min_authors
            if not cluster.ever_alerted and quiet >= life.candidate_ttl_hours * HOUR:
                if not listed:
                    self._forget(cluster)
                    continue
                events += self._resolve(cluster, t)
            elif cluster.ever_alerted and quiet >= life.resolve_after_hours * HOUR:
                events += self._resolve(cluster, t)
            if cluster.status == "resolved":
                due = _min(due, t + self.config.grouping.reopen_within_days * 24 * HOUR)
                continue
            if quiet >= life.cooling_after_hours * HOUR and cluster.status != "cooling":
                self._set_status(cluster, "cooling", t)
            if cluster.status == "cooling":
                target = life.resolve_after_hours if cluster.ever_alerted else life.candidate_ttl_hours
            else:
                target = life.cooling_after_hours
            due = _min(due, cluster.last_post + target * HOUR)
        self.next_due = due
        return events

    def incidents(self) -> list[Incident]:
        """Current incidents worth listing (alerted, or with several authors), most severe first."""
        min_authors = self.config.lifecycle.list_min_authors
        out = [
            self._snapshot(c)
            for c in self.clusters.values()
            if c.ever_alerted or len(c.author_first) >= min_authors
        ]
        out.sort(key=lambda i: (-rank(i.severity or i.peak_severity), -i.score, i.id))
        return out

    def state(self) -> dict:
        """A JSON-serialisable snapshot; ``Detector(config, state)`` resumes from it exactly."""
        return {
            "version": STATE_VERSION,
            "vocab": self.vocab.to_state(),
            "clusters": [c.to_state() for c in self.clusters.values()],
            "baselines": {k: r.to_state() for k, r in self.baselines.items()},
            "pending": list(self.pending),
            "next_due": self.next_due,
        }

    # -- grouping ---------------------------------------------------------------------------------------
    def _is_complaint(self, pred: Any) -> bool:
        rule = self.config.complaint
        scores = pred.sentiment_scores
        if pred.sentiment == "negative" and scores.get("negative", 0.0) >= rule.min_negative:
            return True
        return pred.escalation in rule.escalation_levels and scores.get("positive", 0.0) < rule.max_positive

    def _best_match(self, brand: str, feats: tuple[str, ...], now: float) -> tuple[str, float] | None:
        index = self._index.get(brand)
        if not index:
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
            cosine = dot / (math.sqrt(post_norm2) * c.norm)
            score = cosine
            if short and cosine < grouping.min_similarity:
                contained = _containment(weights, post_norm2, c)
                if contained >= grouping.echo_min_containment:
                    score = grouping.min_similarity + (contained - grouping.echo_min_containment) * 0.01
            if score >= grouping.min_similarity and (
                best is None or score > best[1] or score == best[1] and cid < best[0]
            ):
                best = (cid, score)
        return best

    def _linked(self, brand: str, raw: str, now: float) -> tuple[str, float] | None:
        """The incident whose author this post reposts or mentions (``//@alice:``, ``@alice``), if any."""
        from monitor.normalize import normalize

        authors = self._authors.get(brand)
        if not authors:
            return None
        parsed = normalize(raw)
        window = self.config.grouping.match_window_hours * HOUR
        for name in [link["user"] for link in parsed.repost_chain] + parsed.mentions:
            cid = authors.get(name)
            if cid is not None and cid in self.clusters:
                c = self.clusters[cid]
                if c.merged_into is None and (c.status == "resolved" or now - c.last_post <= window):
                    return cid, 0.0
        return None

    def _open(self, key: str, brand: str, feed: str, tags: dict[str, str], now: float) -> _Cluster:
        cid = "inc-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
        labels = {k: str(v) for k, v in tags.items() if k not in ("brand", "feed")}
        cluster = _Cluster(self.config, cid, brand, feed, labels, now)
        cluster.history.append({"at": _iso(now), "status": "new"})
        self.clusters[cid] = cluster
        self.next_due = _min(self.next_due, now + self.config.lifecycle.cooling_after_hours * HOUR)
        return cluster

    def _join(
        self, c: _Cluster, m: _Member, feats: tuple[str, ...], text: str, now: float
    ) -> list[AlertEvent]:
        life = self.config.lifecycle
        events: list[AlertEvent] = []
        if c.status == "resolved":
            self._reopen(c, now)
        elif now - c.last_post >= life.cooling_after_hours * HOUR and c.docs:
            # A new flare after a quiet spell: the rate before it is the usual level to grow against.
            c.flare_start = now
            c.authors_before_flare = len(c.author_first)
        self.post_index[m.key] = c.id
        c.members[m.key] = m
        c.last_post = max(c.last_post, now)
        self._add_terms(c, feats)
        if len(c.samples) < 12:
            c.samples.append(text[:160])
        author = m.author
        c.account(m)
        self._authors.setdefault(c.brand, {})[author] = c.id
        new_voice = voice(self.config, m.followers, m.verified or m.media, m.high)
        old_voice = c.voice_of.get(author)
        if old_voice is None:
            c.voice_of[author] = new_voice
            c.author_first[author] = now
        elif new_voice > old_voice:
            c.voice_of[author] = new_voice
            for w in c.windows.values():
                w.raise_voice(author, new_voice - old_voice)
        for w in c.windows.values():
            w.add(now, author, c.voice_of)
        if m.eng:
            c.velocity.append([now, m.eng])
        if self._fast_path_post(m) and (
            c.fast_post is None or self._fast_rank(m) > self._fast_rank(c.members[c.fast_post])
        ):
            c.fast_post = m.key
        if c.status in ("new", "cooling") and len(c.author_first) >= 2:
            self._set_status(c, "growing", now)
        c.revision += 1
        if c.docs <= 8 or c.docs & (c.docs - 1) == 0:
            c = self._maybe_merge(c, now)
        events += self._evaluate(c, now)
        return events

    def _maybe_merge(self, c: _Cluster, now: float) -> _Cluster:
        """Merge ``c`` with the most similar incident of its brand when their word profiles are alike.

        Early posts of one fault often start separate groups before the rarity weights have settled.
        Two incidents that have both alerted are never merged: alerting already tracks both.
        """
        index = self._index.get(c.brand, {})
        weight = self.vocab.weight
        dots: dict[str, float] = {}
        for feat, n in c.terms.items():
            ids = index.get(feat)
            if not ids or len(ids) == 1:
                continue
            w2 = weight(feat) ** 2 * n / c.docs
            for oid in ids:
                if oid != c.id:
                    o = self.clusters[oid]
                    dots[oid] = dots.get(oid, 0.0) + w2 * o.terms[feat] / o.docs
        window = self.config.grouping.match_window_hours * HOUR
        best, best_sim = None, self.config.grouping.merge_similarity
        for oid, dot in sorted(dots.items()):
            o = self.clusters[oid]
            if o.ever_alerted and c.ever_alerted or now - o.last_post > window:
                continue
            sim = dot / (c.norm * o.norm)
            if sim >= best_sim:
                best, best_sim = o, sim
        if best is None:
            return c
        keep, gone = (
            (c, best)
            if (c.ever_alerted, c.docs, -c.created) >= (best.ever_alerted, best.docs, -best.created)
            else (best, c)
        )
        self._absorb(keep, gone, now)
        return keep

    def _absorb(self, keep: _Cluster, gone: _Cluster, now: float) -> None:
        self._unindex(gone)
        index = self._index.setdefault(keep.brand, {})
        for feat, n in gone.terms.items():
            if feat in keep.terms:
                keep.terms[feat] += n
            elif len(keep.terms) < self.config.grouping.max_terms:
                keep.terms[feat] = n
                index.setdefault(feat, set()).add(keep.id)
        keep.docs += gone.docs
        merged = sorted([*keep.members.values(), *gone.members.values()], key=lambda m: m.t)
        keep.members = {m.key: m for m in merged}
        authors = self._authors.setdefault(keep.brand, {})
        for m in gone.members.values():
            self.post_index[m.key] = keep.id
            authors[m.author] = keep.id
            keep.account(m)
        for author, v in gone.voice_of.items():
            keep.voice_of[author] = max(v, keep.voice_of.get(author, 0.0))
            keep.author_first[author] = min(gone.author_first[author], keep.author_first.get(author, now))
        keep.created = min(keep.created, gone.created)
        keep.flare_start = min(keep.flare_start, gone.flare_start)
        keep.last_post = max(keep.last_post, gone.last_post)
        keep.velocity = sorted(keep.velocity + gone.velocity)
        keep.contrary += gone.contrary
        keep.samples = (keep.samples + gone.samples)[:12]
        if gone.fast_post is not None and (
            keep.fast_post is None
            or self._fast_rank(gone.members[gone.fast_post]) > self._fast_rank(keep.members[keep.fast_post])
        ):
            keep.fast_post = gone.fast_post
        for level in SEVERITY_LEVELS:
            window = Window(getattr(self.config.severity, level).window_hours)
            for m in merged:
                window.add(m.t, m.author, keep.voice_of)
            window.expire(now, keep.voice_of)
            keep.windows[level] = window
        keep.norm = self._norm(keep)
        keep.revision += 1
        gone.merged_into = keep.id
        gone.history.append({"at": _iso(now), "status": "resolved", "event": f"merged into {keep.id}"})
        gone.status = "resolved"
        gone.resolved_at = now
        gone.revision += 1
        if len(gone.author_first) < self.config.lifecycle.list_min_authors:
            del self.clusters[gone.id]

    def _add_terms(self, c: _Cluster, feats: tuple[str, ...]) -> None:
        if not feats:
            return
        index = self._index.setdefault(c.brand, {})
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
            c.norm = self._norm(c)

    def _norm(self, c: _Cluster) -> float:
        weight = self.vocab.weight
        docs = c.docs
        total = sum((weight(f) * n / docs) ** 2 for f, n in c.terms.items())
        return math.sqrt(total) or 1.0

    def _reobserve(self, c: _Cluster, key: str, post: Post, now: float) -> list[AlertEvent]:
        m = c.members.get(key)
        if m is None:
            return []
        eng = _engagement(self.config, post)
        delta = eng - m.eng
        if delta <= 0:
            return []
        m.eng = eng
        c.velocity.append([now, delta])
        c.revision += 1
        return self._evaluate(c, now)

    # -- severity and events ------------------------------------------------------------------------------
    def _evaluate(self, c: _Cluster, now: float) -> list[AlertEvent]:
        cfg = self.config
        for w in c.windows.values():
            w.expire(now, c.voice_of)
        horizon = now - cfg.spread.velocity_window_hours * HOUR
        while c.velocity and c.velocity[0][0] < horizon:
            c.velocity.pop(0)
        rate = self._expected_rate(c, now)
        readings = {
            level: read_level(level, getattr(cfg.severity, level), c.windows[level], rate)
            for level in SEVERITY_LEVELS
        }
        velocity = sum(d for _, d in c.velocity) / cfg.spread.velocity_window_hours
        n_authors = len(c.author_first)
        n_posts = len(c.members)
        verified = sorted(c.verified_authors)
        high_share = len(c.high_authors) / n_authors if n_authors else 0.0
        complaint_share = n_posts / (n_posts + c.contrary)
        reached: str | None = None
        trusted = complaint_share >= cfg.spread.min_complaint_share
        if trusted:
            for level in SEVERITY_LEVELS:
                if readings[level].met:
                    reached = level
        fast = None
        if c.fast_post is not None and cfg.fast_path.enabled:
            fast = cfg.fast_path.severity if c.members[c.fast_post].high else cfg.fast_path.grumble_severity
            fast = fast if fast != "none" else None
            if rank(fast) > rank(reached):
                reached = fast
            else:
                fast = None  # the echoes alone explain it
        extra: list[str] = []
        if rank(c.severity) >= rank("warning") or rank(reached) >= rank("warning"):
            sev = cfg.severity
            if velocity >= sev.critical_velocity_per_hour and n_authors >= sev.critical_velocity_min_authors:
                extra.append("velocity")
            if (
                len(verified) >= sev.critical_verified_authors
                and n_authors >= sev.critical_verified_min_authors
            ):
                extra.append("verified")
            if high_share >= sev.critical_high_share and n_authors >= sev.critical_high_min_authors:
                extra.append("high_share")
            if extra and trusted:
                reached = "critical"
        cap = cfg.severity.unbranded_max
        if not c.brand and rank(reached) > rank(cap):
            # Complaints that name no watched brand (commutes, weather, life) are not a PR team's incident.
            reached = cap if cap != "none" else None
        stats = {
            "posts": float(n_posts),
            "authors": float(n_authors),
            "window_authors": float(readings["warning"].authors),
            "window_hours": cfg.severity.warning.window_hours,
            "expected": round(readings["warning"].expected, 3),
            "growth": round(readings["warning"].growth, 3),
            "day_authors": float(readings["critical"].authors),
            "day_growth": round(readings["critical"].growth, 3),
            "voices": round(readings["critical"].voices, 2),
            "reach": float(sum(c.reach_of.values())),
            "max_followers": float(max(c.reach_of.values(), default=0)),
            "verified_authors": float(len(verified)),
            "velocity_per_hour": round(velocity, 1),
            "high_share": round(high_share, 3),
            "complaint_share": round(complaint_share, 3),
            "hours_since_first": round((now - c.created) / HOUR, 2),
        }
        stats["score"] = round(
            readings["critical"].voices
            * min(3.0, readings["warning"].growth / max(0.1, cfg.severity.warning.min_growth))
            + math.log10(1 + velocity),
            2,
        )
        c.stats = stats
        c.reasons = reasons(cfg, c, readings, stats, verified, fast is not None, extra)
        events: list[AlertEvent] = []
        if rank(reached) > rank(c.severity):
            c.severity = reached
            if rank(reached) > rank(c.peak_severity):
                c.peak_severity = reached
            c.ever_alerted = True
            c.history.append({"at": _iso(now), "severity": reached})
            events.append(self._event(c, now, "firing", change="severity"))
        elif c.severity is not None and self._grew(c, now):
            events.append(self._event(c, now, "firing", change="growth"))
        return events

    def _grew(self, c: _Cluster, now: float) -> bool:
        notify = self.config.notify
        authors = len(c.author_first)
        if (
            authors < c.notified_authors * notify.growth_factor
            or authors - c.notified_authors < notify.min_new_authors
        ):
            return False
        return c.notified_at is None or now - c.notified_at >= notify.min_interval_minutes * 60

    def _expected_rate(self, c: _Cluster, now: float) -> float:
        base = self.config.baseline
        prior_n = base.cluster_prior_per_day * base.cluster_prior_days
        prior_h = base.cluster_prior_days * 24.0
        history_h = max(0.0, (c.flare_start - c.created) / HOUR)
        own = (prior_n + c.authors_before_flare) / (prior_h + history_h)
        brand = self.baselines.get(f"{c.feed}\x1f{c.brand}")
        usual = brand.per_hour(now, self._half_life_h) * base.cluster_share if brand is not None else 0.0
        return max(own, usual)

    def _event(self, c: _Cluster, now: float, status: str, change: str) -> AlertEvent:
        title, summary = title_summary(self.config, c, self.vocab, self._strip)
        c.notified_authors = len(c.author_first)
        c.notified_at = now
        stats = dict(c.stats)
        stats["severity_rank"] = float(rank(c.severity))
        labels = {**c.tags, "severity": c.severity or "watch", "incident_id": c.id}
        if c.brand:
            labels["brand"] = c.brand
        if c.feed:
            labels["feed"] = c.feed
        labels["change"] = change
        return AlertEvent(
            incident_id=c.id,
            severity=c.severity or "watch",
            status=status,
            at=_dt(now),
            title=title,
            summary=summary,
            post_ids=evidence(c, self.config.notify.max_post_ids),
            reasons=c.reasons[: self.config.notify.max_reasons],
            labels=labels,
            stats=stats,
        )

    # -- lifecycle ----------------------------------------------------------------------------------------
    def _set_status(self, c: _Cluster, status: str, now: float) -> None:
        if c.status != status:
            c.status = status
            c.history.append({"at": _iso(now), "status": status})
            c.revision += 1

    def _resolve(self, c: _Cluster, now: float) -> list[AlertEvent]:
        self._set_status(c, "resolved", now)
        c.resolved_at = now
        events = []
        if c.severity is not None:
            c.reasons = [resolved_reason(c, now)] + c.reasons
            events.append(self._event(c, now, "resolved", change="resolved"))
        c.severity = None
        return events

    def _reopen(self, c: _Cluster, now: float) -> None:
        c.reopened += 1
        c.opened = now
        c.resolved_at = None
        c.flare_start = now
        c.authors_before_flare = len(c.author_first)
        c.notified_authors = 0
        c.notified_at = None
        c.fast_post = None
        for level in SEVERITY_LEVELS:
            c.windows[level] = Window(getattr(self.config.severity, level).window_hours)
        c.history.append({"at": _iso(now), "status": "growing", "event": "reopened"})
        c.status = "growing"

    def _forget(self, c: _Cluster) -> None:
        self._unindex(c)
        if c.merged_into is None:
            for key in c.members:
                if self.post_index.get(key) == c.id:
                    del self.post_index[key]
            authors = self._authors.get(c.brand, {})
            for author in c.author_first:
                if authors.get(author) == c.id:
                    del authors[author]
        del self.clusters[c.id]

    def _unindex(self, c: _Cluster) -> None:
        index = self._index.get(c.brand, {})
        for feat in c.terms:
            ids = index.get(feat)
            if ids is not None:
                ids.discard(c.id)
                if not ids:
                    del index[feat]

    # -- helpers --------------------------------------------------------------------------------------
    def _fast_path_post(self, m: _Member) -> bool:
        fp = self.config.fast_path
        big = m.followers >= fp.min_followers or (m.verified and m.followers >= fp.verified_min_followers)
        return big and m.p_neg >= fp.min_negative

    def _fast_rank(self, m: _Member) -> tuple:
        return (m.high and m.esc >= self.config.fast_path.min_escalation_score, m.followers)

    def _is_media(self, post: Post) -> bool:
        name = post.author or ""
        return bool(post.author_verified) and any(
            hint in name for hint in self.config.spread.media_name_hints
        )

    def _snapshot(self, c: _Cluster) -> Incident:
        title, summary = title_summary(self.config, c, self.vocab, self._strip)
        posts = [
            IncidentPost(
                source=m.key.split("\x1f", 1)[0],
                post_id=m.key.split("\x1f", 1)[1],
                author=m.author,
                added_at=_dt(m.t),
                similarity=m.sim,
                followers=m.followers,
                verified=m.verified,
                escalation="high" if m.high else "",
            )
            for m in c.members.values()
        ]
        return Incident(
            id=c.id,
            brand=c.brand or None,
            feed=c.feed or None,
            status=c.status,
            severity=c.severity,
            peak_severity=c.peak_severity,
            title=title,
            summary=summary,
            reasons=list(c.reasons),
            keywords=incident_keywords(c, self.vocab, self._strip),
            first_post_at=_dt(c.created),
            last_post_at=_dt(c.last_post),
            opened_at=_dt(c.opened),
            resolved_at=_dt(c.resolved_at) if c.resolved_at is not None else None,
            reopened=c.reopened,
            n_posts=len(c.members),
            n_authors=len(c.author_first),
            reach=int(c.stats.get("reach", 0)),
            score=float(c.stats.get("score", 0.0)),
            stats=dict(c.stats),
            post_ids=evidence(c, self.config.notify.max_post_ids),
            posts=posts,
            history=list(c.history),
            revision=c.revision,
        )

    def _restore(self, state: dict) -> None:
        if state.get("version") != STATE_VERSION:
            logger.warning(
                "detector state version %r is not %r: starting afresh", state.get("version"), STATE_VERSION
            )
            return
        self.vocab = Vocabulary.from_state(self.config.grouping.vocabulary_limit, state["vocab"])
        for cs in state["clusters"]:
            c = _Cluster.from_state(self.config, cs)
            self.clusters[c.id] = c
            if c.merged_into is not None:
                continue
            index = self._index.setdefault(c.brand, {})
            for feat in c.terms:
                index.setdefault(feat, set()).add(c.id)
            authors = self._authors.setdefault(c.brand, {})
            for key, m in c.members.items():
                self.post_index[key] = c.id
                authors[m.author] = c.id
        self.baselines = {k: Rate.from_state(v) for k, v in state["baselines"].items()}
        self.pending = deque(state["pending"])
        self.next_due = state["next_due"]


def _containment(weights: Mapping[str, float], norm2: float, c: _Cluster) -> float:
    terms, docs = c.terms, c.docs
    got = sum(w * w * min(1.0, 2.0 * terms.get(f, 0) / docs) for f, w in weights.items())
    return got / norm2 if norm2 else 0.0


def _engagement(config: DetectionConfig, post: Post) -> float:
    s = config.spread
    return (
        (post.reposts or 0) * s.repost_weight
        + (post.comments or 0) * s.comment_weight
        + (post.likes or 0) * s.like_weight
    )


def _with_quoted(raw: str, own: str) -> str:
    from monitor.normalize import normalize

    quoted = " ".join(link["text"] for link in normalize(raw).repost_chain)
    return f"{own} {quoted}".strip()


def _min(a: float | None, b: float) -> float:
    return b if a is None else min(a, b)


def _ts(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _iso(ts: float) -> str:
    return _dt(ts).isoformat()
