"""One incident's working state inside the detector, and the snapshots it gives the rest of the system.

A ``Cluster`` is what the detector keeps of an incident while it runs (members, tallies, windows, lifecycle);
``Incident`` and ``IncidentPost`` are the frozen snapshots the incidents table and the web read. Everything here
round-trips through JSON (``to_state`` / ``from_state``) so that a restarted detector resumes exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from monitor.detect_config import SEVERITY_LEVELS, DetectionConfig
from monitor.detect_spread import Window
from monitor.detect_text import FAULT_MARK

# How a post came to join its incident: it opened it, its words matched, it reposts or quotes a member,
# it says "me too" to the incident, or it is a reaction during the brand's surge with no words of its own.
HOW_SEED, HOW_TEXT, HOW_LINK, HOW_ECHO, HOW_SURGE = "seed", "text", "link", "echo", "surge"


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


class Member:
    """What the detector keeps of one post in an incident (a list in the state)."""

    __slots__ = ("key", "author", "t", "followers", "verified", "media", "high", "p_neg", "esc", "sim", "eng", "how")  # fmt: skip

    def __init__(self, key, author, t, followers, verified, media, high, p_neg, esc, sim, eng, how=HOW_TEXT):
        self.key, self.author, self.t = key, author, t
        self.followers, self.verified, self.media, self.high = followers, verified, media, high
        self.p_neg, self.esc, self.sim, self.eng, self.how = p_neg, esc, sim, eng, how

    @property
    def post_id(self) -> str:
        return self.key.split("\x1f", 1)[1]

    def to_state(self) -> list:
        return list(_MEMBER_FIELDS(self))


_MEMBER_FIELDS = attrgetter(*Member.__slots__)


# Fields of Cluster saved as they are (the rest are rebuilt or converted).
_PLAIN = (
    "status", "severity", "peak_severity", "ever_alerted", "learned", "opened", "last_post", "resolved_at", "reopened",
    "terms", "docs", "norm", "voice_of", "author_first", "velocity", "contrary", "samples", "fast_post",
    "notified_authors", "notified_at", "history", "revision", "reasons", "stats", "keywords", "keywords_docs",
    "merged_into", "reach_of", "verified_authors", "high_authors", "echo_authors", "manual", "title", "norm_at",
)  # fmt: skip


class Cluster:
    """One incident's working state: members, word profile, tallies, windows, lifecycle."""

    def __init__(self, config: DetectionConfig, cid: str, brand: str, feed: str, tags: dict, now: float):
        self.id = cid
        self.brand = brand
        self.feed = feed
        self.tags = tags
        self.status = "new"
        self.severity: str | None = None
        self.peak_severity: str | None = None
        self.ever_alerted = False
        # What of its complaints the brand's usual level counted: kind of fault ("" for all) -> [count, as of].
        self.learned: dict[str, list[float]] = {}
        self.created = now
        self.opened = now
        self.last_post = now
        self.resolved_at: float | None = None
        self.reopened = 0
        self.terms: dict[str, int] = {}  # feature -> how many of the word-matched posts hold it
        self.faults: dict[str, int] = {}  # fault family -> how many word-matched posts name it (from terms)
        self.docs = 0
        self.norm = 1.0
        self.norm_at = 0  # how many posts the vocabulary had read when ``norm`` was computed
        self.term_weights: list[float] = []  # the rarity weights of ``terms`` (see Grouper.term_weights)
        self.weights_at: tuple[int, int] = (-1, 0)  # (posts the vocabulary had read, features) for them
        self.members: dict[str, Member] = {}
        self.voice_of: dict[str, float] = {}
        self.author_first: dict[str, float] = {}
        self.windows = windows(config)
        self.velocity: list[list[float]] = []  # [t, engagement delta], oldest first
        self.contrary = 0.0
        self.samples: list[str] = []  # texts of the posts that describe the fault, for titles: one per author
        self.sample_authors: list[str] = []  # who wrote each of ``samples``
        self.sample_keys: list[str] = []  # the member each of ``samples`` was taken from
        # Brand -> the authors who joined it, while it named no brand, by a repost naming that brand (see
        # Detector._vote_brand; kept once it is the brand's, which makes it found under no brand too).
        self.brand_votes: dict[str, list[str]] = {}
        # While it named no brand, it would have warned had it named one: a storm (see Grouper._names_storm).
        self.would_warn = False
        # It named no brand when it began and became a brand's (Detector._adopt): its posts from before a surge
        # split off (Detector._split) name none.
        self.adopted = False
        # How a storm naming no brand was found to be the brand's: "reposts" (Detector._vote_brand), "likeness"
        # (Grouper._names_storm); "" when its posts named the brand.
        self.brand_from = ""
        # Member key -> the features its post added to ``terms``, for the members of the last warning window, oldest
        # first: what a surge's posts told, should it have overrun a group that was something else (Detector._split).
        self.recent: dict[str, tuple[str, ...]] = {}
        # Keys of the brand's own statements about this incident: not members, but their reposts join it.
        self.context: list[str] = []
        self.fast_post: str | None = None
        self.notified_authors = 0
        self.notified_at: float | None = None
        self.history: list[dict[str, Any]] = []
        self.revision = 0
        # The last assessment's stats and reasons, worked out when first read (see ``explained``).
        self.explain: Callable[[], tuple[dict[str, float], list[str]]] | None = None
        self._reasons: list[str] = []
        self._stats: dict[str, float] = {}
        self.keywords: list[str] = []
        self.keywords_docs = 0
        # (samples, kinds of fault's words) in which no phrase was found, while they stay so (see incident_keywords).
        self.no_keywords: tuple | None = None
        self.title = ""
        # [key, the sample to show] (Grouper.typical_sample): kept in the state, so a restarted detector shows what
        # an uninterrupted one would.
        self.typical: list | None = None
        self.sample_feats: dict[
            str, tuple[str, ...]
        ] = {}  # sample -> its words, as typical_sample reads them
        self.merged_into: str | None = None
        self.reach_of: dict[str, int] = {}  # author -> followers
        self.verified_authors: dict[str, int] = {}
        self.high_authors: dict[str, int] = {}
        self.echo_authors: dict[
            str, int
        ] = {}  # authors who repost, quote, say "me too" or react to the fault
        self.manual: dict[str, Any] | None = None  # a person resolved it: {"at", "by", "authors"}
        # Member key -> its post as snapshots give it (members never change what a snapshot reads of them).
        self.snapshot_posts: dict[str, IncidentPost] = {}
        # Member key -> (engagement, importance as evidence ranks it): see detect_explain.evidence.
        self.importance: dict[str, tuple[float, float]] = {}

    def account(self, m: Member) -> None:
        """Count one member's author into the reach, verified and escalation tallies."""
        if m.followers > self.reach_of.get(m.author, -1):
            self.reach_of[m.author] = m.followers
        if m.verified or m.media:
            self.verified_authors[m.author] = 1
        if m.high:
            self.high_authors[m.author] = 1

    def note_echo(self, m: Member) -> None:
        """Count a newly joined member's author as an echo if their first post here takes the fault up.

        A repost, a "me too", or a reaction joining an incident that names a kind of fault takes that fault up;
        short grumbles piling onto a group that names none (late parcels, a launch) are the everyday level. Only an
        author's first post counts: a follow-up of one's own complaint is nobody else taking it up.
        """
        if m.author in self.author_first:
            return
        if m.how in (HOW_LINK, HOW_ECHO) or m.how == HOW_SURGE and self.faults:
            self.echo_authors[m.author] = 1

    @property
    def stats(self) -> dict[str, float]:
        """The figures of the last assessment (``Incident.stats``)."""
        self.explained()
        return self._stats

    @stats.setter
    def stats(self, value: dict[str, float]) -> None:
        self.explained()
        self._stats = value

    @property
    def reasons(self) -> list[str]:
        """Why the incident stands where it does, most decisive first."""
        self.explained()
        return self._reasons

    @reasons.setter
    def reasons(self, value: list[str]) -> None:
        self.explained()
        self._reasons = value

    def explained(self) -> None:
        """Work out the stats and reasons of the last assessment, if not yet done.

        An assessment runs for every post that joins; its stats and reasons are read only by alerts, snapshots and
        the saved state, so they are worked out then, from what the assessment took of the incident.
        """
        explain = self.explain
        if explain is not None:
            self.explain = None
            self._stats, self._reasons = explain()

    def kinds(self) -> tuple[str, ...]:
        """The kinds of fault the incident is about: named by at least half of its posts compared by words.

        Stricter than ``main_faults`` (any kind named about as often as the commonest), which keeps apart
        incidents that name different kinds: a group of everyday grumbles a few of whose posts name a kind is not
        about it, and is measured against the brand's complaints in general (see ``Detector._brand_usual``).
        """
        docs = self.docs
        return tuple(family for family, n in self.faults.items() if 2 * n >= docs) if docs else ()

    def sample_rows(self) -> list[tuple[str, str, str]]:
        """``samples`` with who wrote each and the member it was taken from ("" where a state saved before those
        were kept does not say)."""
        n = len(self.samples)
        who = self.sample_authors if len(self.sample_authors) == n else [""] * n
        where = self.sample_keys if len(self.sample_keys) == n else [""] * n
        return list(zip(self.samples, who, where, strict=True))

    def set_sample_rows(self, rows: list[tuple[str, str, str]]) -> None:
        self.samples = [text for text, _, _ in rows]
        self.sample_authors = [author for _, author, _ in rows]
        self.sample_keys = [key for _, _, key in rows]

    def rebuild_windows(self, config: DetectionConfig, now: float) -> None:
        """Every severity rule's window again from the members, kept in time order (after a merge or a split)."""
        for level, hours in window_hours(config).items():
            window = Window(hours)
            for m in self.members.values():
                window.add(m.t, m.author, self.voice_of)
            window.expire(now, self.voice_of)
            self.windows[level] = window

    def main_faults(self) -> set[str]:
        """The fault families most of its posts name (within a third of the commonest); empty when none."""
        return main_families(self.faults)

    def to_state(self) -> dict:
        state = {name: getattr(self, name) for name in _PLAIN}
        state.update(
            id=self.id,
            brand=self.brand,
            feed=self.feed,
            tags=self.tags,
            created=self.created,
            members=[m.to_state() for m in self.members.values()],
            sample_authors=self.sample_authors,
            sample_keys=self.sample_keys,
            brand_votes=self.brand_votes,
            would_warn=self.would_warn,
            adopted=self.adopted,
            typical=self.typical,
            brand_from=self.brand_from,
            context=self.context,
            recent={key: list(feats) for key, feats in self.recent.items()},
            windows={level: w.to_state() for level, w in self.windows.items()},
        )
        return state

    @classmethod
    def from_state(cls, config: DetectionConfig, state: dict) -> Cluster:
        c = cls(config, state["id"], state["brand"], state["feed"], state["tags"], state["created"])
        for name in _PLAIN:
            setattr(c, name, state[name])
        c.members = {row[0]: Member(*row) for row in state["members"]}
        c.sample_authors = list(state.get("sample_authors", ()))
        c.sample_keys = list(state.get("sample_keys", ()))
        c.brand_votes = {brand: list(names) for brand, names in state.get("brand_votes", {}).items()}
        c.would_warn = bool(state.get("would_warn", False))
        c.adopted = bool(state.get("adopted", False))
        c.typical = state.get("typical")
        c.brand_from = str(state.get("brand_from", ""))
        c.context = list(state.get("context", ()))
        c.recent = {key: tuple(feats) for key, feats in state.get("recent", {}).items()}
        c.faults = {f[len(FAULT_MARK) :]: n for f, n in c.terms.items() if f.startswith(FAULT_MARK)}
        spans = window_hours(config)
        c.windows = {level: Window.from_state(spans[level], w) for level, w in state["windows"].items()}
        for level in spans.keys() - c.windows.keys():  # a rule the saved state did not know: read its members
            c.windows[level] = window = Window(spans[level])
            for m in c.members.values():
                window.add(m.t, m.author, c.voice_of)
        return c


def main_families(faults: Mapping[str, int]) -> set[str]:
    """Of fault families and how many posts name each, those within a third of the commonest."""
    if not faults:
        return set()
    top = max(faults.values())
    return {family for family, n in faults.items() if 3 * n >= top}


def window_hours(config: DetectionConfig) -> dict[str, float]:
    """The span of every severity rule's window, by rule name."""
    sev = config.severity
    spans = {level: getattr(sev, level).window_hours for level in SEVERITY_LEVELS}
    spans["sustained"] = sev.sustained.window_hours
    spans["burst"] = sev.burst.window_hours
    return spans


def windows(config: DetectionConfig) -> dict[str, Window]:
    """Fresh, empty windows for every severity rule."""
    return {level: Window(hours) for level, hours in window_hours(config).items()}
