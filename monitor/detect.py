"""Early warning: complaint posts grouped online into incidents, scored by how far they spread.

Pure logic over observations and a clock: ``Detector.observe`` takes one classified post at a time,
``Detector.tick`` lets time pass, ``Detector.resolve`` records a person's decision that an incident is handled;
each returns the ``AlertEvent``\\ s that alerting routes. ``Detector.state()`` is a JSON-serialisable snapshot
from which a new Detector resumes exactly.

The ideas live in their own modules: ``detect_grouping`` (which incident a post joins, merging),
``detect_severity`` (the level an incident has reached), ``detect_lifecycle`` (new → growing → cooling →
resolved, reopening), ``detect_spread`` (windows, rates, voices), ``detect_text`` (features, vocabulary, title
phrases) and ``detect_explain`` (titles, summaries, reasons and evidence a PR person reads).
"""

from __future__ import annotations

import logging
from bisect import insort
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from monitor import detect_lifecycle as lifecycle
from monitor.detect_cluster import (
    HOW_LINK,
    HOW_SEED,
    HOW_SURGE,
    Cluster,
    Incident,
    IncidentPost,
    Member,
    main_families,
)
from monitor.detect_config import DetectionConfig
from monitor.detect_explain import (
    evidence,
    incident_title,
    merged_reason,
    opener,
    reasons,
    resolved_reason,
    surge,
    title_summary,
)
from monitor.detect_grouping import Grouper
from monitor.detect_lifecycle import FORGET, RESOLVE
from monitor.detect_severity import assess
from monitor.detect_severity import stats as severity_stats
from monitor.detect_spread import HOUR, Rate, Rhythm, decayed, rank, tally_add, voice
from monitor.detect_text import FAULT_MARK, StormWords, Vocabulary
from monitor.events import AlertEvent
from monitor.post import Post

__all__ = ["DetectionConfig", "Detector", "Incident", "IncidentPost", "Observation"]

logger = logging.getLogger(__name__)

STATE_VERSION = 3
STATUSES = ("new", "growing", "cooling", "resolved")
_SAMPLES = 24
_WARNING = rank("warning")


@dataclass(slots=True)
class Observation:
    """One classified post seen at ``now`` (``is_new`` False: a known post seen again with new counts)."""

    post: Post
    text_norm: str
    prediction: Any  # classifiers.Prediction: sentiment, sentiment_scores, escalation, escalation_score
    now: datetime
    is_new: bool = True
    tags: dict[str, str] = field(default_factory=dict)


class Detector:
    """Groups complaints into incidents and says when one is worth a look, a warning, or a page."""

    def __init__(self, config: DetectionConfig | None = None, state: dict | None = None):
        self.config = config or DetectionConfig()
        self._half_life_h = self.config.baseline.half_life_days * 24.0
        self.vocab = Vocabulary(self.config.grouping.vocabulary_limit)
        self.storm = self._storm_words()
        self.clusters: dict[str, Cluster] = {}
        self._splitting: set[str] = set()  # incidents being split (see _split)
        # Ids of the clusters whose state may have changed since ``changed_state`` last gave them out.
        self.touched: set[str] = set()
        self._first_times: dict[str, list[float]] = {}  # cluster id -> its authors' first posts, sorted
        self.grouper = self._grouper()
        self.baselines: dict[str, Rate] = {}
        # [t, baseline key, post key, kinds of fault] of complaints not yet in the usual level
        self.pending: deque[list] = deque()
        self.rhythm = Rhythm()
        self.next_due: float | None = None
        if state is not None:
            self._restore(state)

    # -- public ---------------------------------------------------------------------------------------
    def observe(self, obs: Observation) -> list[AlertEvent]:
        """Take one classified observation; return the alert events it causes."""
        now = _ts(obs.now)
        post = obs.post
        key = f"{post.source}\x1f{post.id}"
        grouper = self.grouper
        if not obs.is_new:
            cid = grouper.post_index.get(key)
            c = self.clusters.get(cid) if cid is not None else None
            return self._reobserve(c, key, post, now) if c is not None else []
        if key in grouper.post_index:
            return []
        self.rhythm.post(now)
        brand = grouper.brand_of(post, obs.text_norm, obs.tags)
        reading = grouper.read(post, obs.text_norm, brand)
        feats, text = reading.feats, reading.text
        self.vocab.add(feats)
        if grouper.is_official(brand, post):
            # The brand's own statement is part of the story, not a complaint: its reposts join the incident.
            cid = grouper.statement_about(brand, reading, _ts(obs.now))
            if cid is not None:
                grouper.attach(self.clusters[cid], key)
            return []
        pred = obs.prediction
        scores = pred.sentiment_scores
        rule = self.config.complaint
        high = pred.escalation == "high" or pred.escalation_score >= rule.high_escalation_score
        complaint = self._is_complaint(pred)
        if complaint:
            author = post.author or f"anon:{key}"
            if self.storm is not None:
                self.storm.add(now, author, feats, self.vocab)
            cid, similarity, how = grouper.place(brand, post, author, reading, now)
        else:
            # Not a complaint: a repost of one still spreads it, and so does a post that is not happy and names
            # the fault of, or says "me too" to, the brand's warned incident (a flat "我的转账也卡住了", a news
            # item); a post that reads alike, or reposts a member, and is happy about it says the group may be a
            # launch or a fad rather than a fault (a celebrity's promo misread as a grumble, and its fans'
            # "好好看" reposts).
            cid, how = grouper.linked(brand, post, now), HOW_LINK
            happy = pred.sentiment == "positive"
            if cid is not None and happy:
                return self._contrary(cid)
            calm = scores.get("positive", 0.0) < rule.max_positive
            if cid is None and calm and brand:
                cid, how = grouper.about_warned(brand, reading, now)
            if cid is None or not calm:
                best = grouper.best_match(brand, feats, now) if happy else None
                return self._contrary(best[0]) if best is not None else []
            similarity, high = 0.0, False
        feed = obs.tags.get("feed") or post.source
        c = self.clusters[cid] if cid is not None else self._open(key, brand, feed, obs.tags, now)
        if cid is None:
            how = HOW_SEED
        if complaint:
            self._learn_baseline(_level_key(feed, brand), key, now, reading.faults)
        member = Member(
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
            how,
        )
        events = self._join(c, member, () if how == HOW_SURGE else feats, text, now)
        if brand and not c.brand and how == HOW_LINK:
            while c.merged_into is not None:  # joining may have merged it
                c = self.clusters[c.merged_into]
            if not c.brand:
                events += self._vote_brand(c, brand, feed, member.author, now)
        return events

    def tick(self, now: datetime) -> list[AlertEvent]:
        """Let time pass to ``now``: incidents cool, resolve, and unalerted candidates are forgotten."""
        t = _ts(now)
        if self.next_due is not None and t < self.next_due:
            return []
        events: list[AlertEvent] = []
        due: float | None = None
        for c in list(self.clusters.values()):
            revision = c.revision
            if c.merged_into is not None:
                if c.status != "resolved" or t >= (c.resolved_at or t) + self._keep_s():
                    self._drop(c)
                else:
                    due = _min(due, (c.resolved_at or t) + self._keep_s())
                continue
            action, when = lifecycle.advance(self.config, c, t)
            if action == FORGET:
                self._drop(c)
                continue
            if action == RESOLVE:
                events += self._resolve(c, t)
                when = t + self._keep_s()
            elif c.revision != revision:
                self.touched.add(c.id)
            if when is not None:
                due = _min(due, when)
        self.next_due = due
        return events

    def resolve(self, incident_id: str, now: datetime, by: str) -> list[AlertEvent]:
        """A person marked the incident handled: resolve it, keep it so unless it flares again.

        Returns the resolved event (empty when the incident is unknown, merged away or already resolved).
        """
        c = self.clusters.get(incident_id)
        if c is None or c.merged_into is not None or c.status == "resolved":
            return []
        t = _ts(now)
        events = self._resolve(c, t, by=by or "unknown")
        self.next_due = _min(self.next_due, t + self._keep_s())
        return events

    def incidents(self, saved: Mapping[str, int] | None = None) -> list[Incident]:
        """Current incidents worth listing (alerted, or with several authors), most severe first.

        ``saved`` (incident id -> revision stored) leaves out the incidents still at the revision stored.
        """
        min_authors = self.config.lifecycle.list_min_authors
        saved = saved or {}
        out = []
        for c in self.clusters.values():
            if not (c.ever_alerted or c.merged_into is None and len(c.author_first) >= min_authors):
                continue
            if saved.get(c.id) != c.revision:
                out.append(self._snapshot(c))
                continue
            # Unchanged since saved, but a snapshot also keeps the title current (phrases that found no words
            # are looked for again, with the rarity weights of now): that much is still done.
            keywords, title = c.keywords, c.title
            incident_title(self.config, c, self.vocab, self.grouper.strip_for(c.brand))
            if c.keywords is not keywords or c.title != title:
                self.touched.add(c.id)
        out.sort(key=lambda i: (-rank(i.severity or i.peak_severity), -i.score, i.id))
        return out

    def state(self) -> dict:
        """A JSON-serialisable snapshot; ``Detector(config, state)`` resumes from it exactly."""
        return self._state([c.to_state() for c in self.clusters.values()])

    def changed_state(self) -> tuple[dict, dict[str, dict]]:
        """``state()`` with its clusters as ids, and the states of the clusters that may have changed since the
        last call (every cluster at the first call after a restore), by id: to save only what changed."""
        touched = self.touched
        clusters = self.clusters
        changed = {cid: clusters[cid].to_state() for cid in clusters if cid in touched}
        touched.clear()
        return self._state(list(clusters)), changed

    def _state(self, clusters: list) -> dict:
        return {
            "version": STATE_VERSION,
            "vocab": self.vocab.to_state(),
            "clusters": clusters,
            "baselines": {k: r.to_state() for k, r in self.baselines.items()},
            "pending": list(self.pending),
            "rhythm": self.rhythm.to_state(),
            "next_due": self.next_due,
            "authors": self.grouper.authors,
            "storm": self.storm.to_state() if self.storm is not None else {},
        }

    # -- joining ----------------------------------------------------------------------------------------
    def _open(self, key: str, brand: str, feed: str, tags: dict[str, str], now: float) -> Cluster:
        labels = {k: str(v) for k, v in tags.items() if k not in ("brand", "feed")}
        c = Cluster(self.config, self.grouper.new_id(key), brand, feed, labels, now)
        c.history.append({"at": _iso(now), "status": "new"})
        self.clusters[c.id] = c
        self.touched.add(c.id)
        self.next_due = _min(self.next_due, now + self.config.lifecycle.cooling_after_hours * HOUR)
        return c

    def _join(self, c: Cluster, m: Member, feats: tuple[str, ...], text: str, now: float) -> list[AlertEvent]:
        self.touched.add(c.id)
        self.grouper.add_member(c, m)
        c.members[m.key] = m
        c.last_post = max(c.last_post, now)
        self.grouper.add_terms(c, feats)
        # The words of the last posts: a split reads those of the warning window until the first warning, and
        # Grouper._joined_lately those of the storm window.
        recent = c.recent
        recent[m.key] = feats
        hours = self.config.grouping.storm_window_hours
        if rank(c.peak_severity) < _WARNING:
            hours = max(hours, self.config.severity.warning.window_hours)
        horizon = now - hours * HOUR
        members = c.members
        stale = []
        for key in recent:
            if members[key].t >= horizon:
                break
            stale.append(key)
        for key in stale:
            del recent[key]
        author = m.author
        describes = m.how not in (HOW_LINK, HOW_SURGE) and len(text) > self.config.grouping.echo_max_chars
        if describes and len(c.samples) < _SAMPLES and author not in c.sample_authors:
            # One text per author: an account repeating itself says no more than once what the fault is.
            c.samples.append(text[:160])
            c.sample_authors.append(author)
            c.sample_keys.append(m.key)
        c.account(m)
        c.note_echo(m)
        new_voice = voice(self.config, m.followers, m.verified or m.media, m.high)
        old_voice = c.voice_of.get(author)
        if old_voice is None:
            insort(self._times(c), now)  # before author_first holds it: _times may build from author_first
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
            lifecycle.set_status(c, "growing", now)
        c.revision += 1
        events: list[AlertEvent] = []
        docs = c.docs
        storm = c.would_warn and not c.brand and self.config.grouping.brand_from_likeness
        if feats and c.status != "resolved" and (docs <= 16 or docs & (docs - 1) == 0 or storm):
            # Profiles converge as posts arrive: look again while young, then at every doubling; a storm naming no
            # brand at every post, since the brand's incident it is may show only now (Grouper._names_storm).
            c, events = self._maybe_merge(c, now)
        return events + self._evaluate(c, now)

    def _maybe_merge(self, c: Cluster, now: float) -> tuple[Cluster, list[AlertEvent]]:
        """Merge ``c`` with its brand's most alike incident; an alerted one merged away is resolved."""
        partner = self.grouper.merge_partner(c, now)
        if partner is None:
            return c, []
        return self._merge_pair(c, partner, now)

    def _merge_pair(self, c: Cluster, partner: Cluster, now: float) -> tuple[Cluster, list[AlertEvent]]:
        """Merge ``c`` and ``partner``: the senior one (higher severity, more authors, older) is kept."""

        def seniority(x: Cluster) -> tuple:
            return (rank(x.peak_severity), len(x.author_first), -x.created, x.id)

        keep, gone = (c, partner) if seniority(c) >= seniority(partner) else (partner, c)
        return keep, self._merge(keep, gone, now)

    def _merge(self, keep: Cluster, gone: Cluster, now: float) -> list[AlertEvent]:
        """Fold ``gone`` into ``keep``; if ``gone`` had alerted, its resolved ("merged into") event."""
        self.touched.update((keep.id, gone.id))
        events: list[AlertEvent] = []
        if gone.severity is not None:
            title = incident_title(self.config, keep, self.vocab, self.grouper.strip_for(keep.brand))
            gone.reasons = [merged_reason(keep, title)] + gone.reasons
            events.append(self._event(gone, now, "resolved", change="merged"))
        if gone.brand != keep.brand or gone.brand_from:
            # Posts naming no brand come along: found the brand's by likeness (across brands), or as gone's were.
            keep.brand_from = keep.brand_from or gone.brand_from or "likeness"
        if gone.brand and not keep.brand:
            self._adopt(keep, gone.brand, gone.feed)  # two parts of a storm, one already the brand's
        self.grouper.absorb(keep, gone, now, self._fast_rank)
        times = self._first_times.pop(gone.id, None)
        self._first_times[keep.id] = sorted(keep.author_first.values())
        del times
        if rank(gone.peak_severity) > rank(keep.peak_severity):
            keep.peak_severity = gone.peak_severity
        keep.ever_alerted = keep.ever_alerted or gone.ever_alerted
        # What of gone's complaints its level counted is keep's too, if that is keep's level: counted into another
        # (a storm naming no brand merged into the brand's incident, another feed's), it is not in keep's.
        same_level = _level_key(gone.feed, gone.brand) == _level_key(keep.feed, keep.brand)
        for kind, tally in gone.learned.items() if same_level else ():
            mine = keep.learned.setdefault(kind, [0.0, tally[1]])
            at = max(mine[1], tally[1])
            tally_add(mine, at, self._half_life_h, decayed(tally, at, self._half_life_h))
        lifecycle.set_status(gone, "resolved", now, event=f"merged into {keep.id}")
        gone.resolved_at = now
        gone.severity = None
        if not gone.ever_alerted:
            del self.clusters[gone.id]
        return events

    def _split(self, c: Cluster, now: float) -> Cluster | None:
        """Split a surge off the group it overran, before it warns: ``c`` keeps the surge's posts, and what the
        group was before goes to a new incident of its own (returned).

        A storm's first posts may join a group of everyday talk from the days before (a category search's grumbles
        about ads and chargers) and pile into it; warned as it is, the alert would hold days of everyday posts.
        The surge (``surge``) is split off only when its words are not alike those of the posts before it
        (``grouping.merge_similarity``): one fault flaring again is one incident.
        """
        surging = surge(self.config, c)
        if surging is None:
            return None
        since = surging[0].t
        # A flare is measured from the resolution (its windows restarted then): nothing is split across it.
        if since < max(lifecycle.times(c, "status", ("resolved",)), default=float("-inf")):
            return None
        profile = self.grouper.surge_profile(c, since)
        if profile is None or not profile[1]:
            return None  # a state saved before members' words were kept (Cluster.recent), or no words at all
        counts = profile[0]
        before = {f: n - counts.get(f, 0) for f, n in c.terms.items() if n > counts.get(f, 0)}
        if (
            not before
            or self.grouper.profile_similarity(counts, before) >= self.config.grouping.merge_similarity
        ):
            return None
        if _families(counts) & _families(before):
            return None  # one kind of fault of one brand is one incident (they would merge again)
        first = next(iter(c.members.values()))
        # Talk naming no brand that a storm made a brand's is not the brand's once the storm is split off.
        brand = "" if c.adopted else c.brand
        rest = self._open(f"{c.id}\x1f{first.key}\x1f{since}", brand, c.feed, c.tags, first.t)
        self.grouper.split_off(c, rest, since, counts, before, profile[1])
        # Each sample goes with the post it was taken from (states from before those were kept: with the part its
        # author came to first).
        earlier = {m.author for m in rest.members.values()}
        rows = c.sample_rows()
        old = [key in rest.members if key else author in earlier for _, author, key in rows]
        rest.set_sample_rows([row for row, o in zip(rows, old, strict=True) if o])
        c.set_sample_rows([row for row, o in zip(rows, old, strict=True) if not o])
        rest.snapshot_posts, rest.importance = dict(c.snapshot_posts), dict(c.importance)
        for part in (c, rest):
            self._tally(part, now)
        c.velocity, rest.velocity = (
            [v for v in c.velocity if v[0] >= since],
            [v for v in c.velocity if v[0] < since],
        )
        rest.learned, c.learned = c.learned, {}  # what the usual level counted was before the surge
        rest.opened = rest.created
        c.created = c.opened = since
        c.notified_authors = min(c.notified_authors, len(c.author_first))
        lifecycle.set_status(rest, "growing" if len(rest.author_first) >= 2 else "new", now)
        lifecycle.set_status(c, c.status, now, event=f"split from {rest.id}")
        self.touched.update((c.id, rest.id))
        return rest

    def _tally(self, c: Cluster, now: float) -> None:
        """Work out again from its members what ``c`` counts of its authors (after ``_split``)."""
        c.author_first, c.voice_of, c.echo_authors = {}, {}, {}
        c.reach_of, c.verified_authors, c.high_authors = {}, {}, {}
        c.fast_post = None
        for m in c.members.values():
            c.note_echo(m)
            c.author_first.setdefault(m.author, m.t)
            weight = voice(self.config, m.followers, m.verified or m.media, m.high)
            c.voice_of[m.author] = max(weight, c.voice_of.get(m.author, 0.0))
            c.account(m)
            if self._fast_path_post(m) and (
                c.fast_post is None or self._fast_rank(m) > self._fast_rank(c.members[c.fast_post])
            ):
                c.fast_post = m.key
        c.rebuild_windows(self.config, now)
        c.last_post = max(m.t for m in c.members.values())
        c.snapshot_posts = {k: v for k, v in c.snapshot_posts.items() if k in c.members}
        c.importance = {k: v for k, v in c.importance.items() if k in c.members}
        self._first_times.pop(c.id, None)

    def _vote_brand(self, c: Cluster, brand: str, feed: str, author: str, now: float) -> list[AlertEvent]:
        """A repost naming ``brand`` joined ``c``, which names none: from ``brand_from_reposts`` such authors (and
        none naming another brand), a storm is the brand's, measured against ``feed``'s level of it."""
        voters = c.brand_votes.setdefault(brand, [])
        if author not in voters:
            voters.append(author)
        wanted = self.config.grouping.brand_from_reposts
        if not wanted or len(c.brand_votes) > 1 or len(voters) < wanted or c.status == "resolved":
            return []
        if not self.grouper.storm_own(c, now):
            return []  # a group from before the storm: everyday talk its reposts joined
        self._adopt(c, brand, feed)
        c.brand_from = "reposts"
        c, events = self._maybe_merge(c, now)  # the brand may already have this incident
        return events + self._evaluate(c, now)

    def _adopt(self, c: Cluster, brand: str, feed: str) -> None:
        """``c``, naming no brand, becomes ``brand``'s, measured against ``feed``'s level of the brand."""
        self.grouper.adopt(c, brand)
        c.adopted = True
        c.feed = feed
        c.learned = {}  # tallies of the level of complaints naming no brand (see _learn_baseline)
        self.touched.add(c.id)

    def _contrary(self, cid: str) -> list[AlertEvent]:
        """Count a happy post about incident ``cid`` against it (see ``spread.min_complaint_share``)."""
        self.clusters[cid].contrary += 1
        self.touched.add(cid)
        return []

    def _reobserve(self, c: Cluster, key: str, post: Post, now: float) -> list[AlertEvent]:
        m = c.members.get(key)
        if m is None:
            return []
        eng = _engagement(self.config, post)
        delta = eng - m.eng
        if delta <= 0:
            return []
        self.touched.add(c.id)
        m.eng = eng
        c.velocity.append([now, delta])
        c.revision += 1
        return self._evaluate(c, now)

    # -- severity and events ------------------------------------------------------------------------------
    def _evaluate(self, c: Cluster, now: float) -> list[AlertEvent]:
        self.touched.add(c.id)
        cfg = self.config
        for w in c.windows.values():
            w.expire(now, c.voice_of)
        horizon = now - cfg.spread.velocity_window_hours * HOUR
        while c.velocity and c.velocity[0][0] < horizon:
            c.velocity.pop(0)
        a = assess(cfg, c, self._times(c), self._brand_usual(c, now), now, self.rhythm)
        if not c.brand and not c.would_warn and rank(a.uncapped) >= _WARNING and c.status != "resolved":
            # A storm naming no brand: it may be a brand's incident told without the name (Grouper._names_storm).
            self.grouper.mark_storm(c)
            partner = self.grouper.merge_partner(c, now) if cfg.grouping.brand_from_likeness else None
            if partner is not None:
                keep, events = self._merge_pair(c, partner, now)
                return events + self._evaluate(keep, now)
        c.explain = lambda: (severity_stats(cfg, a), reasons(cfg, a))  # replaces any not yet worked out
        if c.status == "resolved":
            if not lifecycle.flares(cfg, c, a.level):
                return []
            lifecycle.reopen(c, now)
        if rank(a.level) > rank(c.severity):
            if rank(a.level) >= _WARNING > rank(c.peak_severity):
                rest = self._split(c, now) if c.id not in self._splitting else None
                if rest is not None:
                    # Until both parts are evaluated, c is not split again (were rest merged back into it).
                    self._splitting.add(c.id)
                    try:
                        return self._evaluate(rest, now) + self._evaluate(c, now)
                    finally:
                        self._splitting.discard(c.id)
                # A group of reactions naming no fault joins the thread PR people already have, and so does one
                # that reads like what that thread's people are saying now.
                target = self.grouper.folds_into(c, now) or self.grouper.talked_about(c, now)
                if target is not None:
                    return self._merge(target, c, now) + self._evaluate(target, now)
            c.severity = a.level
            if rank(a.level) > rank(c.peak_severity):
                c.peak_severity = a.level
            c.ever_alerted = True
            c.history.append({"at": _iso(now), "severity": a.level})
            return [self._event(c, now, "firing", change="severity")]
        if c.severity is not None and self._grew(c, now):
            return [self._event(c, now, "firing", change="growth")]
        return []

    def _opener(self, c: Cluster) -> tuple[Member | None, str | None, Member | None]:
        """``opener``'s answer, with the sample that reads most like a warned incident as its representative post (the
        opener's may not: a group of everyday talk a storm overran, "打车软件的上车点推荐总在马路对面" for a pricing
        storm). Kept: the sample of a post chosen for naming the fault, and a surge's (the incident's words are
        still mostly the talk it overran)."""
        first, told, surging = opener(self.config, c)
        chosen = first is not None and first is not next(iter(c.members.values()))  # "最早反映该问题": kept
        pr = rank(c.peak_severity) >= _WARNING  # what the PR channel read; a watch keeps its opener's
        if (
            pr
            and told is not None
            and not chosen
            and surging is None
            and len(c.samples) == len(c.sample_authors)
        ):
            told = self.grouper.typical_sample(c, told)
        return first, told, surging

    def _grew(self, c: Cluster, now: float) -> bool:
        notify = self.config.notify
        authors = len(c.author_first)
        if (
            authors < c.notified_authors * notify.growth_factor
            or authors - c.notified_authors < notify.min_new_authors
        ):
            return False
        return c.notified_at is None or now - c.notified_at >= notify.min_interval_minutes * 60

    def _event(self, c: Cluster, now: float, status: str, change: str) -> AlertEvent:
        self.touched.add(c.id)
        start = self._opener(c)
        title, summary = title_summary(self.config, c, self.vocab, self.grouper.strip_for(c.brand), start)
        c.notified_authors = len(c.author_first)
        c.notified_at = now
        stats = dict(c.stats)
        stats["severity_rank"] = float(rank(c.severity))
        severity = c.severity or c.peak_severity or "watch"
        labels = {**c.tags, "severity": severity, "incident_id": c.id}
        if c.brand:
            labels["brand"] = c.brand
        if c.feed:
            labels["feed"] = c.feed
        labels["change"] = change
        return AlertEvent(
            incident_id=c.id,
            severity=severity,
            status=status,
            at=_dt(now),
            title=title,
            summary=summary,
            post_ids=evidence(
                c, self.config.notify.max_post_ids, start[0], start[2].t if start[2] is not None else None
            ),
            reasons=c.reasons[: self.config.notify.max_reasons],
            labels=labels,
            stats=stats,
        )

    def _resolve(self, c: Cluster, now: float, by: str | None = None) -> list[AlertEvent]:
        self.touched.add(c.id)
        alerted = c.severity is not None
        if alerted:
            c.reasons = [resolved_reason(c, now, by)] + [r for r in c.reasons if not r.startswith("已")]
            event = self._event(c, now, "resolved", change="resolved")
        lifecycle.resolve(self.config, c, now, by)
        return [event] if alerted else []

    def _drop(self, c: Cluster) -> None:
        if c.merged_into is None:
            self.grouper.forget(c)
        self._first_times.pop(c.id, None)
        self.touched.discard(c.id)
        del self.clusters[c.id]

    # -- helpers --------------------------------------------------------------------------------------
    def _learn_baseline(self, key: str, post_key: str, now: float, kinds: tuple[str, ...]) -> None:
        """Count a complaint into its feed/brand's usual level once it is ``lag_hours`` old.

        The lag keeps a fresh incident's first day out of the level; complaints of incidents that warned by then
        are never counted. Each incident also tallies what of its own was counted, so that it is measured
        against the brand's *other* complaints (see ``_brand_usual``). A complaint's incident is the one that
        holds it then (merges move posts).
        """
        self.pending.append([now, key, post_key, list(kinds)])
        horizon = now - self.config.baseline.lag_hours * HOUR
        pending = self.pending
        post_index = self.grouper.post_index
        half_life = self._half_life_h
        while pending and pending[0][0] <= horizon:
            t, bkey, member, families = pending.popleft()
            c = self.clusters.get(post_index.get(member, ""))
            while c is not None and c.merged_into is not None:
                c = self.clusters.get(c.merged_into)
            if c is not None and rank(c.peak_severity) >= _WARNING:
                continue
            self._baseline(bkey).add(t, half_life, kinds=families)
            if c is not None and bkey == _level_key(c.feed, c.brand):  # else another level counted it
                self.touched.add(c.id)
                for kind in ("", *families):
                    tally_add(c.learned.setdefault(kind, [0.0, t]), t, half_life)

    def _baseline(self, key: str) -> Rate:
        rate = self.baselines.get(key)
        if rate is None:
            base = self.config.baseline
            rate = self.baselines[key] = Rate.prior(base.prior_per_day, base.prior_days)
        return rate

    def _brand_usual(self, c: Cluster, now: float) -> float:
        """The usual rate (per hour) of complaints like ``c``'s among its feed/brand's other complaints.

        ``cluster_share`` of all the brand's complaints, since a single fault is at most that share of them; for
        an incident about a kind of fault (most of its posts name one), no more than the brand's complaints of
        that kind: at a carrier with forty everyday grumbles a day about bills and plans, a network outage is new.
        Either way the incident's own complaints are left out, and the level is read as of ``lag_hours`` ago, as
        far as it has counted.
        """
        level = self.baselines.get(_level_key(c.feed, c.brand))
        if level is None:
            return 0.0
        base = self.config.baseline
        at = now - base.lag_hours * HOUR
        half_life = self._half_life_h
        mine = c.learned

        def others(rate: float, kind: str) -> float:
            own = mine.get(kind)
            return max(0.0, rate - decayed(own, at, half_life) / level.hours) if own is not None else rate

        usual = others(level.per_hour(at, half_life), "") * base.cluster_share
        kinds = c.kinds()
        if kinds:
            # Before the brand's complaints of a kind are known, they are assumed as rare as one incident's.
            prior = base.cluster_prior_per_day * base.prior_days
            usual = min(usual, max(others(level.kind_per_hour(k, prior, at, half_life), k) for k in kinds))
        return usual

    def _storm_words(self) -> StormWords | None:
        g = self.config.grouping
        if g.storm_weight <= 1.0:
            return None
        return StormWords(g.storm_window_hours * HOUR, g.storm_min_authors, g.storm_ratio, g.storm_weight)

    def _times(self, c: Cluster) -> list[float]:
        return _first_times(self._first_times, c)

    def _grouper(self) -> Grouper:
        # Handed the table of first times, not the bound _times: a Grouper holding its Detector made the two a
        # reference cycle, so that a detector let go of (a replay's end, a rollback) and all its incidents waited
        # for a full run of the cyclic garbage collector instead of being freed at once.
        first_times = partial(_first_times, self._first_times)
        return Grouper(self.config, self.clusters, self.vocab, self.touched, first_times, self.storm)

    def _keep_s(self) -> float:
        return self.config.grouping.reopen_within_days * 24 * HOUR

    def _is_complaint(self, pred: Any) -> bool:
        rule = self.config.complaint
        scores = pred.sentiment_scores
        if pred.sentiment == "negative" and scores.get("negative", 0.0) >= rule.min_negative:
            return True
        return pred.escalation in rule.escalation_levels and scores.get("positive", 0.0) < rule.max_positive

    def _fast_path_post(self, m: Member) -> bool:
        fp = self.config.fast_path
        big = m.followers >= fp.min_followers or (m.verified and m.followers >= fp.verified_min_followers)
        return big and m.p_neg >= fp.min_negative

    def _fast_rank(self, m: Member) -> tuple:
        return (m.high and m.esc >= self.config.fast_path.min_escalation_score, m.followers)

    def _is_media(self, post: Post) -> bool:
        name = post.author or ""
        return bool(post.author_verified) and any(
            hint in name for hint in self.config.spread.media_name_hints
        )

    def _snapshot(self, c: Cluster) -> Incident:
        self.touched.add(c.id)
        start = self._opener(c)
        title, summary = title_summary(self.config, c, self.vocab, self.grouper.strip_for(c.brand), start)
        known = c.snapshot_posts
        members = c.members
        for key in members.keys() - known.keys():
            m = members[key]
            known[key] = IncidentPost(
                source=m.key.split("\x1f", 1)[0],
                post_id=m.post_id,
                author=m.author,
                added_at=_dt(m.t),
                similarity=m.sim,
                followers=m.followers,
                verified=m.verified,
                escalation="high" if m.high else "",
            )
        posts = list(map(known.get, members))
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
            keywords=list(c.keywords),
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
            post_ids=evidence(
                c, self.config.notify.max_post_ids, start[0], start[2].t if start[2] is not None else None
            ),
            posts=posts,
            history=list(c.history),
            revision=c.revision,
        )

    def _restore(self, state: dict) -> None:
        if state.get("version") == 2:
            state = _upgrade_v2(state, self.config)
        if state.get("version") != STATE_VERSION:
            logger.warning(
                "detector state version %r is not %r: starting afresh", state.get("version"), STATE_VERSION
            )
            return
        self.vocab = Vocabulary.from_state(self.config.grouping.vocabulary_limit, state["vocab"])
        for cs in state["clusters"]:
            c = Cluster.from_state(self.config, cs)
            self.clusters[c.id] = c
        self.touched.update(self.clusters)  # saved as they are restored, unless a round trip changed them
        self.storm = self._storm_words()
        if self.storm is not None:
            self.storm.restore(state.get("storm") or {})
        self.grouper = self._grouper()
        self.grouper.rebuild(state["authors"])
        self.baselines = {k: Rate.from_state(v) for k, v in state["baselines"].items()}
        self.pending = deque(state["pending"])
        self.rhythm = Rhythm.from_state(state["rhythm"])
        self.next_due = state["next_due"]


def _upgrade_v2(state: dict, config: DetectionConfig) -> dict:
    """A version 2 state as version 3 would have it, as far as it can be told: open incidents carry on.

    Version 3 added each incident's counted complaints (none yet), pending complaints by post rather than by
    incident (an incident's first member stands for it), a usual level's tallies by kind of fault (none yet, the
    prior's weight worked out from its hours) and the daily rhythm (learned afresh).
    """
    state = dict(state)
    first_member = {}
    clusters = []
    for cs in state["clusters"]:
        clusters.append({**cs, "learned": {}})
        if cs["members"]:
            first_member[cs["id"]] = cs["members"][0][0]
    state["clusters"] = clusters
    state["pending"] = [[t, key, first_member.get(cid, ""), []] for t, key, cid in state["pending"]]
    base = config.baseline
    state["baselines"] = {
        key: Rate.from_v2_state(v2, base.half_life_days * 24.0, base.prior_days * 24.0).to_state()
        for key, v2 in state["baselines"].items()
    }
    state["rhythm"] = Rhythm().to_state()
    state["version"] = 3
    return state


def _first_times(table: dict[str, list[float]], c: Cluster) -> list[float]:
    """``c``'s authors' first posts in it, sorted, as kept in ``table`` (made at first need)."""
    times = table.get(c.id)
    if times is None:
        times = table[c.id] = sorted(c.author_first.values())
    return times


def _families(terms: Mapping[str, int]) -> set[str]:
    """The main kinds of fault of a word profile (see Cluster.main_faults)."""
    return main_families({f[len(FAULT_MARK) :]: n for f, n in terms.items() if f.startswith(FAULT_MARK)})


def _level_key(feed: str, brand: str) -> str:
    """The key of a feed/brand's usual level of complaints in ``Detector.baselines``."""
    return f"{feed}\x1f{brand}"


def _engagement(config: DetectionConfig, post: Post) -> float:
    s = config.spread
    return (
        (post.reposts or 0) * s.repost_weight
        + (post.comments or 0) * s.comment_weight
        + (post.likes or 0) * s.like_weight
    )


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
