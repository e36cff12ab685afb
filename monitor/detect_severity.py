"""Scoring: the severity an incident has reached, from how far and how fast it spreads.

Pure function of an incident's tallies, the usual level and the clock (``assess``). The routes to each level:

- **watch**: a few authors more than usual within ``severity.watch``'s window.
- **warning**: within ``severity.warning``'s window (hours), ``severity.burst``'s (two hours: a storm over an
  evening) or ``severity.sustained``'s (days), enough authors
  and voices, growing against the usual level, *and* other people taking it up: at least ``min_echo_authors``
  authors repost, quote or say "me too". Parallel grumbles that nobody echoes are the everyday level.
  Or the fast path: a big account's escalating complaint.
- **critical**: ``severity.critical``'s rule over a day, or a warning that verified/media accounts, fast
  engagement or a high share of escalation threats make worse.

Growth is measured at every window's own scale: authors in the window against the incident's own rate before
the window and the brand's usual rate (``expected``), so a steady trickle stays level at every scale while a
slow burn that doubles week on week grows at the scale of days.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from operator import itemgetter

from monitor.detect_cluster import Cluster, Member
from monitor.detect_config import SEVERITY_LEVELS, DetectionConfig
from monitor.detect_spread import HOUR, LevelReading, Rhythm, rank, read_level

_RULES = (*SEVERITY_LEVELS, "sustained", "burst")  # the rules read, in the order of ``Assessment.readings``


@dataclass(slots=True)
class Facts:
    """What an incident's stats and reasons read of it, taken when it is assessed: they are worked out later,
    when someone reads them (most assessments are replaced by the next post's before anyone does)."""

    posts: int
    authors: int
    reach: int
    max_followers: int
    verified: tuple[str, ...]  # verified or media authors
    high: int  # authors of high-escalation posts
    created: float
    fast: Member | None  # the big voice's post, when the fast path decided
    # How a storm naming no brand was found to be its brand's ("reposts", "likeness"; "" when its posts named it),
    # the brand, and the authors whose reposts named it.
    brand_from: str = ""
    brand: str = ""
    brand_voters: int = 0


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and one is made per post joined.
@dataclass(slots=True)
class Assessment:
    """What ``assess`` found: the level reached and the readings behind it (``stats``: see ``explain``)."""

    level: str | None
    readings: dict[str, LevelReading]
    velocity: float
    fast: bool
    critical_by: tuple[str, ...]
    echoes: int
    trusted: bool
    complaint_share: float
    now: float
    facts: Facts
    stats: dict[str, float] | None = None
    # The level before ``severity.unbranded_max`` held it down (an incident naming no brand).
    uncapped: str | None = None


def assess(
    config: DetectionConfig,
    c: Cluster,
    first_times: list[float],
    brand_usual: float,
    now: float,
    rhythm: Rhythm,
) -> Assessment:
    """The severity ``c`` has reached at ``now``; ``brand_usual`` is the brand's usual rate of complaints like
    it, per hour (``Detector._brand_usual``)."""
    sev = config.severity
    base = config.baseline
    # Each rule's window is read against the authors the usual level would put in it: the incident's own usual
    # rate (its authors before the window over the time before the window, with a small prior) or the brand's
    # usual rate of complaints like it, the larger. The brand's level is a rate per hour of the day's rhythm (the
    # window's evening hours hold more of it than its night hours); an incident's own few authors say nothing of
    # the time of day, so its rate is per clock hour. What the rules share is worked out once.
    prior = base.cluster_prior_per_day * base.cluster_prior_days
    prior_h = base.cluster_prior_days * 24.0
    readings: dict[str, LevelReading] = {}
    for level in _RULES:
        rule = getattr(sev, level)
        hours = rule.window_hours
        start = now - hours * HOUR
        history_h = max(0.0, (start - c.created) / HOUR)
        active_h = rhythm.hours(start, now)
        own = (prior + bisect_left(first_times, start)) / (prior_h + history_h)
        expected = max(own * hours, brand_usual * active_h)
        readings[level] = read_level(level, rule, c.windows[level], expected / hours)
    velocity = sum(map(itemgetter(1), c.velocity)) / config.spread.velocity_window_hours
    n_authors = len(c.author_first)
    n_posts = len(c.members)
    echoes = len(c.echo_authors)
    complaint_share = n_posts / (n_posts + c.contrary) if n_posts else 0.0
    trusted = complaint_share >= config.spread.min_complaint_share
    taken_up = echoes >= sev.min_echo_authors

    reached: str | None = "watch" if readings["watch"].met else None
    if trusted and taken_up:
        if readings["warning"].met or readings["burst"].met or readings["sustained"].met:
            reached = "warning"
        if readings["critical"].met:
            reached = "critical"
    fast = False
    if c.fast_post is not None and config.fast_path.enabled:
        fp = config.fast_path
        level = fp.severity if c.members[c.fast_post].high else fp.grumble_severity
        if level != "none" and rank(level) > rank(reached):
            reached, fast = level, True
    critical_by: list[str] = []
    if trusted and rank(reached) >= rank("warning") or rank(c.severity) >= rank("warning"):
        verified = len(c.verified_authors)
        high_share = len(c.high_authors) / n_authors if n_authors else 0.0
        if velocity >= sev.critical_velocity_per_hour and n_authors >= sev.critical_velocity_min_authors:
            critical_by.append("velocity")
        if verified >= sev.critical_verified_authors and n_authors >= sev.critical_verified_min_authors:
            critical_by.append("verified")
        if high_share >= sev.critical_high_share and n_authors >= sev.critical_high_min_authors:
            critical_by.append("high_share")
        if critical_by and trusted:
            reached = "critical"
    if not trusted and rank(reached) > rank("watch"):
        reached = "watch"
    uncapped = reached
    cap = sev.unbranded_max
    if not c.brand and rank(reached) > rank(cap):
        # Complaints that name no watched brand (commutes, weather, life) are not a PR team's incident.
        reached = cap if cap != "none" else None
    reach = c.reach_of.values()
    facts = Facts(
        n_posts,
        n_authors,
        sum(reach),
        max(reach, default=0),
        tuple(c.verified_authors),
        len(c.high_authors),
        c.created,
        c.members[c.fast_post] if fast and c.fast_post is not None else None,
        c.brand_from,
        c.brand,
        len(c.brand_votes.get(c.brand, ())),
    )
    return Assessment(
        reached,
        readings,
        velocity,
        fast,
        tuple(critical_by),
        echoes,
        trusted,
        complaint_share,
        now,
        facts,
        uncapped=uncapped,
    )


def stats(config: DetectionConfig, a: Assessment) -> dict[str, float]:
    """The figures behind an assessment, as alerts and the incidents table show them (kept in ``a.stats``)."""
    if a.stats is None:
        a.stats = _stats(config, a.facts, a.readings, a.velocity, a.echoes, a.complaint_share, a.now)
    return a.stats


def _stats(config, facts, readings, velocity, echoes, complaint_share, now) -> dict[str, float]:
    n_authors = facts.authors
    warning, day, week, burst = itemgetter("warning", "critical", "sustained", "burst")(readings)
    stats = {
        "posts": float(facts.posts),
        "authors": float(n_authors),
        "echo_authors": float(echoes),
        "window_authors": float(warning.authors),
        "window_hours": config.severity.warning.window_hours,
        "expected": round(warning.expected, 3),
        "growth": round(warning.growth, 3),
        "day_authors": float(day.authors),
        "day_growth": round(day.growth, 3),
        "week_authors": float(week.authors),
        "week_expected": round(week.expected, 3),
        "week_growth": round(week.growth, 3),
        "burst_authors": float(burst.authors),
        "burst_growth": round(burst.growth, 3),
        "voices": round(day.voices, 2),
        "reach": float(facts.reach),
        "max_followers": float(facts.max_followers),
        "verified_authors": float(len(facts.verified)),
        "velocity_per_hour": round(velocity, 1),
        "high_share": round(facts.high / n_authors, 3) if n_authors else 0.0,
        "complaint_share": round(complaint_share, 3),
        "hours_since_first": round((now - facts.created) / HOUR, 2),
    }
    growth = max(warning.growth, week.growth)
    stats["score"] = round(
        day.voices * min(3.0, growth / max(0.1, config.severity.warning.min_growth))
        + math.log10(1 + velocity),
        2,
    )
    return stats
