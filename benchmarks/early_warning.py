"""Early warning on the replay scenarios: how early each incident was warned, and how much noise paged.

For every scenario in ``monitor/scenarios`` (one shared configuration, ``config/``), replays the posts and
reports per scenario: for each ground-truth incident, the share of its posts that had appeared when the first
warning-or-critical notification about it fired, the hours since its first post, whether it reached critical,
and how many detected incidents about it warned (alerted incidents per true incident: PR people must see one
thread per fault, so the target is 1); then decoys that got a warning or critical, other warnings per simulated
day, and the throughput in post observations per second (in ``--mode detector`` also the detector's own:
``Detector.observe`` and ``tick`` alone, without normalizing and classifying, in CPU time).

    python -m benchmarks.early_warning                 # the whole pipeline (store, classify, detect, alert)
    python -m benchmarks.early_warning --mode detector # normalize + classifier + Detector only, no store
    python -m benchmarks.early_warning fridge grassroots
    python -m benchmarks.early_warning backlash --trace 40  # its incidents' first 40 posts, one line each

Targets (issue 5): every incident warned before 5% of its posts appeared and reaching critical, by one alerted
incident; no decoy warned; at most one other warning per four simulated days per scenario; ≥ 3,000
observations/s for the whole pipeline; the detector alone ≤ 0.2 ms per observation (≥ 5,000/s).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from monitor.post import parse_time
from monitor.scenarios import SCENARIOS, load_truth, scenario_path

WARN = ("warning", "critical")
TARGET_SHARE = 0.05
TARGET_FALSE_PER_DAY = 0.25
TARGET_RATE = 3000.0
TARGET_DETECTOR_RATE = 5000.0
TARGET_ALERTED = 1


@dataclass
class Firing:
    """One warning-or-critical notification (or detector event) about a detected incident."""

    incident_id: str
    severity: str
    at: datetime
    # The incident's posts when it fired (ids), as the detector held them: a later merge does not relabel it.
    members: tuple[str, ...] | None = None


@dataclass
class Run:
    """What one replay produced: notifications, each detected incident's posts, the clock of each post."""

    firings: list[Firing] = field(default_factory=list)
    # Each detected incident's posts as (joined at, post id), in that order.
    members: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    first_seen: dict[str, datetime] = field(default_factory=dict)
    observations: int = 0
    seconds: float = 0.0
    detector_seconds: float | None = None  # Detector.observe and tick alone (detector mode)


def run_pipeline(name: str, config_dir: str | None) -> Run:
    """Replay through ``monitor.replay.replay`` into a temporary SQLite file."""
    from monitor.pipeline import Pipeline
    from monitor.replay import replay

    run = Run()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        pipe = Pipeline.open(config_dir, db_path, mode="replay")
        at_fire = _members_at_fire(pipe)
        report = replay(
            scenario_path(name), db_path, Path(tmp) / "alerts.jsonl", config_dir=config_dir, pipeline=pipe
        )
        run.seconds = time.perf_counter() - started
        run.observations = report.observations
        for line in report.notifications:
            if line["severity"] in WARN and line["status"] == "firing":
                fired = parse_time(line["fired_at"])
                members = _at_fire(at_fire, line["incident_id"], fired)
                if members is None:  # the pipeline no longer hands events to alerting where this looks
                    raise RuntimeError(f"{name}: no event recorded for the notification fired at {fired}")
                run.firings.append(Firing(line["incident_id"], line["severity"], fired, members))
        pipe.db.close()
        import sqlite_utils

        db = sqlite_utils.Database(db_path)
        for row in db.query("select incident_id, post_id, added_at from incident_posts"):
            run.members.setdefault(row["incident_id"], []).append(
                (parse_time(row["added_at"]), row["post_id"])
            )
        db.close()
        for joined in run.members.values():
            joined.sort()
    _first_seen(name, run)
    return run


def _members_at_fire(pipe: Any) -> dict[str, list[tuple[datetime, tuple[str, ...]]]]:
    """Record, as the pipeline hands each warning-or-critical event to alerting, the posts its incident holds
    then: incident id -> [(event time, post ids)], in time order (``_at_fire`` finds a notification's)."""
    seen: dict[str, list[tuple[datetime, tuple[str, ...]]]] = defaultdict(list)

    def recording(events: list) -> None:
        for event in events:
            if event.severity in WARN and event.status == "firing":
                seen[event.incident_id].append((event.at, _member_ids(pipe.detector, event.incident_id)))

    pipe.on_events = recording
    return seen


def _at_fire(
    seen: dict[str, list[tuple[datetime, tuple[str, ...]]]], incident_id: str, fired: datetime
) -> tuple[str, ...] | None:
    """The posts of the last event about ``incident_id`` at or before ``fired`` (a notification goes out when its
    alert group is flushed, a little after the event)."""
    events = seen.get(incident_id, [])
    i = bisect_right(events, fired, key=itemgetter(0))
    return events[i - 1][1] if i else None


def _member_ids(detector: Any, incident_id: str) -> tuple[str, ...]:
    cluster = detector.clusters.get(incident_id)
    return tuple(key.split("\x1f", 1)[1] for key in cluster.members) if cluster is not None else ()


def run_detector(
    name: str, config_dir: str | None, watch: Callable[[Any, Any, list], None] | None = None
) -> Run:
    """Normalize, classify (in batches, once per post) and detect, without the store or alerting.

    ``watch(detector, observation, events)`` is called after each observation (``--trace``).
    """
    from classifiers import load_model
    from monitor.config import load_config
    from monitor.detect import Detector, Observation
    from monitor.jsonl import ReadReport, read_posts
    from monitor.normalize import normalize

    config = load_config(config_dir)
    model_path = config.resolve(config.monitor.model) if config.monitor.model else None
    classifier = load_model(model_path)
    detector = Detector(config.detection)
    posts = [post for _, _, post in read_posts(scenario_path(name), ReadReport())]
    run = Run()
    started = time.perf_counter()
    in_detector = 0.0
    # CPU time of this single-threaded step: on a machine shared with other jobs, wall time measures them too.
    clock_now = time.process_time
    predictions: dict[tuple[str, str], Any] = {}
    batch = 200
    seen: set[tuple[str, str]] = set()
    for start in range(0, len(posts), batch):
        chunk = posts[start : start + batch]
        normalized = [normalize(post.text) for post in chunk]
        todo = [
            (post.key, norm.text_norm)
            for post, norm in zip(chunk, normalized, strict=True)
            if post.key not in predictions
        ]
        if todo:
            for (key, _), pred in zip(todo, classifier.predict([text for _, text in todo]), strict=True):
                predictions[key] = pred
        for post, norm in zip(chunk, normalized, strict=True):
            clock = post.seen_at
            tags = {"source": post.source, "feed": post.source}
            for tag in ("feed", "brand"):
                if isinstance(post.extra.get(tag), str) and post.extra[tag]:
                    tags[tag] = post.extra[tag]
            is_new = post.key not in seen
            seen.add(post.key)
            observation = Observation(post, norm.text_norm, predictions[post.key], clock, is_new, tags)
            entered = clock_now()
            events = detector.observe(observation)
            events += detector.tick(clock)
            in_detector += clock_now() - entered
            if watch is not None:
                watch(detector, observation, events)
            for event in events:
                if event.severity in WARN and event.status == "firing":
                    members = _member_ids(detector, event.incident_id)
                    run.firings.append(Firing(event.incident_id, event.severity, event.at, members))
    run.seconds = time.perf_counter() - started
    run.detector_seconds = in_detector
    run.observations = len(posts)
    for cluster_id, cluster in detector.clusters.items():
        run.members[cluster_id] = sorted(
            (datetime.fromtimestamp(m.t, UTC), key.split("\x1f", 1)[1]) for key, m in cluster.members.items()
        )
    _first_seen(name, run)
    return run


def _first_seen(name: str, run: Run) -> None:
    from monitor.jsonl import ReadReport, read_posts

    for _, _, post in read_posts(scenario_path(name), ReadReport()):
        if post.id not in run.first_seen and post.seen_at is not None:
            run.first_seen[post.id] = post.seen_at


def score(name: str, run: Run) -> dict[str, Any]:
    """Compare a run with the scenario's ground truth."""
    truth = load_truth(name)
    owner: dict[str, str] = {}
    for incident in truth.get("incidents", []):
        for pid in incident["post_ids"]:
            owner[pid] = f"incident:{incident['id']}"
    for i, decoy in enumerate(truth.get("decoys", [])):
        for pid in decoy["post_ids"]:
            owner.setdefault(pid, f"decoy:{decoy.get('kind', i)}")
    # A firing is about the truth group most of its incident's posts belonged to when it fired (else "other"):
    # a group of everyday grumbles that warned stays a false warning when a real incident later joins it, and a
    # real incident's warning stays its own when a group of everyday grumbles is later merged into it. The posts
    # are those the incident held at that moment (recorded as it fired); without that record, those of its
    # final posts that had joined it by then.
    labels: dict[tuple[str, int], str] = {}

    def vote(pids: list[str]) -> str:
        votes = Counter(owner.get(pid, "other") for pid in pids)
        top, n = votes.most_common(1)[0] if votes else ("other", 0)
        return top if n * 2 > len(pids) or top.startswith("incident:") and n * 3 >= len(pids) else "other"

    def label(firing: Firing) -> str:
        if firing.members is not None:
            return vote(list(firing.members))
        joined = run.members.get(firing.incident_id, [])
        n_joined = bisect_right(joined, firing.at, key=itemgetter(0))
        known = labels.get((firing.incident_id, n_joined))
        if known is None:
            known = labels[(firing.incident_id, n_joined)] = vote([pid for _, pid in joined[:n_joined]])
        return known

    first_fire: dict[str, Firing] = {}
    critical: set[str] = set()
    warned_ids: dict[str, set[str]] = defaultdict(set)
    # Of the posts its alerted incidents held when each of its notifications fired (all of the incident's posts, not
    # the few a notification lists), how many were its own (the rest: everyday talk, decoys and other faults).
    # Notifications scored as another group's (mostly others' posts) are not its, so not counted here.
    held: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for firing in sorted(run.firings, key=lambda f: f.at):
        group = label(firing)
        if firing.members is not None:
            held[group] += len(firing.members)
            own[group] += sum(owner.get(pid) == group for pid in firing.members)
        warned_ids[group].add(firing.incident_id)
        first_fire.setdefault(group, firing)
        if firing.severity == "critical":
            critical.add(group)
    days = float(truth.get("days") or 1)
    rows = []
    for incident in truth.get("incidents", []):
        group = f"incident:{incident['id']}"
        ids = set(incident["post_ids"])
        fire = first_fire.get(group)
        first_post = parse_time(incident["first_post_at"]) if incident.get("first_post_at") else None
        if fire is None:
            rows.append({"incident": incident["id"], "posts": len(ids), "share": None, "hours": None,
                         "critical": group in critical, "alerted": 0})  # fmt: skip
            continue
        appeared = sum(1 for pid in ids if pid in run.first_seen and run.first_seen[pid] <= fire.at)
        hours = (fire.at - first_post).total_seconds() / 3600 if first_post else None
        rows.append({"incident": incident["id"], "posts": len(ids), "share": appeared / len(ids), "hours": hours,
                     "critical": group in critical, "alerted": len(warned_ids[group]),
                     "own": own[group] / held[group] if held[group] else None})  # fmt: skip
    decoys = sorted({g.split(":", 1)[1] for g in warned_ids if g.startswith("decoy:")})
    others = len(warned_ids.get("other", set()))
    return {
        "scenario": name,
        "days": days,
        "incidents": rows,
        "decoys_alerted": decoys,
        "other_warnings": others,
        "false_per_day": others / days,
        "rate": run.observations / run.seconds if run.seconds else 0.0,
        "detector_rate": run.observations / run.detector_seconds if run.detector_seconds else None,
        "observations": run.observations,
    }


def trace(name: str, config_dir: str | None, limit: int) -> list[str]:
    """Each truth incident's first ``limit`` posts as the detector took them, and the warnings in between.

    One line a post: when, the author's followers, the classifier's reading (sentiment, P(negative),
    P(positive)), the detected incident it ended in (id, brand, authors, severity) and how it joined, its text.
    A post that is in no incident was not read as a complaint, or was a statement, or was dropped.
    """
    truth = load_truth(name)
    wanted = {pid: incident["id"] for incident in truth.get("incidents", []) for pid in incident["post_ids"]}
    incidents = set(wanted.values())
    shown: Counter[str] = Counter()
    lines: list[str] = []

    def watch(detector: Any, obs: Any, events: list) -> None:
        post = obs.post
        incident = wanted.get(post.id)
        shown_now = obs.is_new and incident is not None and shown[incident] < limit
        if shown_now:
            shown[incident] += 1
            key = f"{post.source}\x1f{post.id}"
            c = detector.clusters.get(detector.grouper.post_index.get(key, ""))
            while c is not None and c.merged_into is not None:
                c = detector.clusters.get(c.merged_into)
            pred = obs.prediction
            scores = pred.sentiment_scores
            where = "-"
            if c is not None:
                member = c.members.get(key)
                where = (
                    f"{c.id[-6:]} {c.brand or '(no brand)'} {len(c.author_first)}a {c.severity or '-'}"
                    f" {member.how if member else 'context'}"
                )
            lines.append(
                f"{incident} #{shown[incident]:<3} {obs.now:%m-%d %H:%M} {post.author_followers or 0:>8} "
                f"{pred.sentiment[:3]} n{scores['negative']:.2f} p{scores['positive']:.2f} {where:<34} "
                f"{post.text[:60]!r}"
            )
        if not shown_now and all(shown[i] >= limit for i in incidents):
            return  # every incident's first posts shown: what fires later is not part of the trace
        for event in events:
            if event.severity in WARN and event.status == "firing":
                moment = event.at.astimezone(obs.now.tzinfo)
                lines.append(f"    {moment:%m-%d %H:%M} {event.incident_id[-6:]} {event.severity} fired")

    run_detector(name, config_dir, watch)
    return lines


def table(results: list[dict[str, Any]]) -> str:
    """The results as a markdown table, one row per incident (decoy and noise figures on each scenario's first)."""
    lines = [
        "| scenario | incident | posts | share at first warning | hours after first post | critical | "
        "alerted incidents per true incident | its share of its alerted incidents' posts | decoys alerted | "
        "other warnings / day | obs/s | detector obs/s |",
        "|---|---|---:|---:|---:|:---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        incidents = r["incidents"] or [
            {"incident": "(none)", "posts": 0, "share": None, "hours": None, "critical": None}
        ]
        for i, inc in enumerate(incidents):
            share = "never" if inc["share"] is None else f"{inc['share']:.1%}"
            hours = "" if inc["hours"] is None else f"{inc['hours']:.1f}"
            crit = "" if inc["critical"] is None else ("yes" if inc["critical"] else "**no**")
            alerted = str(inc.get("alerted", "")) if inc["posts"] else ""
            own = "" if inc.get("own") is None else f"{inc['own']:.0%}"
            if inc["posts"] and inc.get("alerted", 0) > TARGET_ALERTED:
                alerted = f"**{alerted}**"
            if (
                inc["share"] is not None
                and inc["share"] > TARGET_SHARE
                or inc["share"] is None
                and inc["posts"]
            ):
                share = f"**{share}**"
            head = i == 0
            decoys = (", ".join(r["decoys_alerted"]) or "none") if head else ""
            false = f"{r['false_per_day']:.2f} ({r['other_warnings']} in {r['days']:g} d)" if head else ""
            rate = f"{r['rate']:,.0f}" if head else ""
            detector = r.get("detector_rate")
            detector_rate = f"{detector:,.0f}" if head and detector else ""
            lines.append(
                f"| {r['scenario'] if head else ''} | {inc['incident']} | {inc['posts']} | {share} | {hours} | {crit} "
                f"| {alerted} | {own} | {decoys} | {false} | {rate} | {detector_rate} |"
            )
    return "\n".join(lines)


def verdict(results: list[dict[str, Any]]) -> list[str]:
    """Which targets were missed."""
    missed = []
    for r in results:
        for inc in r["incidents"]:
            if inc["share"] is None or inc["share"] > TARGET_SHARE:
                missed.append(
                    f"{r['scenario']}/{inc['incident']}: not warned before {TARGET_SHARE:.0%} of its posts"
                )
            if not inc["critical"]:
                missed.append(f"{r['scenario']}/{inc['incident']}: never critical")
            if inc.get("alerted", 0) > TARGET_ALERTED:
                missed.append(
                    f"{r['scenario']}/{inc['incident']}: {inc['alerted']} alerted incidents for one fault"
                )
        if r["decoys_alerted"]:
            missed.append(f"{r['scenario']}: decoys alerted: {', '.join(r['decoys_alerted'])}")
        if r["false_per_day"] > TARGET_FALSE_PER_DAY:
            missed.append(f"{r['scenario']}: {r['false_per_day']:.2f} other warnings per day")
        if r["rate"] < TARGET_RATE:
            missed.append(f"{r['scenario']}: {r['rate']:,.0f} observations/s")
        detector = r.get("detector_rate")
        if detector is not None and detector < TARGET_DETECTOR_RATE:
            missed.append(f"{r['scenario']}: detector alone {1000 / detector:.2f} ms per observation")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "scenarios", nargs="*", help=f"scenario names (default: all of {', '.join(SCENARIOS)})"
    )
    parser.add_argument("--mode", choices=("pipeline", "detector"), default="pipeline")
    parser.add_argument("--config", help="config directory (default: the shipped config/)")
    parser.add_argument(
        "--trace",
        type=int,
        metavar="N",
        help="print each incident's first N posts as the detector took them (detector mode), not the table",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    names = args.scenarios or SCENARIOS
    if args.trace:
        for name in names:
            print(f"## {name}")
            print("\n".join(trace(name, args.config, args.trace)))
        return 0
    runner = run_pipeline if args.mode == "pipeline" else run_detector
    if args.mode == "pipeline":
        # What a process does once (imports, the tokenizers' dictionaries) stays out of the first scenario's
        # rate, as in replay_throughput; each replay still opens its database and loads its model.
        from benchmarks.replay_throughput import warm_up

        warm_up(args.config)
    results = []
    for name in names:
        results.append(score(name, runner(name, args.config)))
        print(f"{name}: done", file=sys.stderr, flush=True)
    print(f"Mode: {args.mode}; one shared configuration for every scenario.\n")
    print(table(results))
    missed = verdict(results)
    print("\nTargets: " + ("all met" if not missed else "missed:\n- " + "\n- ".join(missed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
