"""Replay throughput: post observations per second through the whole pipeline, per scenario.

Replays each scenario in ``monitor/scenarios`` with ``monitor.replay.replay`` (store, classify, detect, alert)
into a fresh SQLite file on the default store settings, and reports observations per second. The classifier is
whatever ``config/`` names (the shipped default model unless set); its version is printed beside the figures.
What a process does once (imports, tokenizer dictionary) is done before timing; each replay's own start (opening
the database, loading the model) is timed.

    python -m benchmarks.replay_throughput                  # every scenario
    python -m benchmarks.replay_throughput fridge --repeat 3
    python -m benchmarks.replay_throughput --fingerprint    # plus a digest of every stored row, to compare runs
    python -m benchmarks.replay_throughput fridge --profile # cProfile of one replay, top functions

Target (issue 5): ≥ 3,000 observations per second.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import logging
import pstats
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from monitor.scenarios import SCENARIOS, scenario_path

TARGET_RATE = 3000.0

# Tables whose rows a replay writes, compared by --fingerprint; columns holding the wall clock are left out.
FINGERPRINT_TABLES = (
    "posts",
    "observations",
    "classifications",
    "incidents",
    "incident_posts",
    "incident_history",
    "alerts",
    "alerting_alerts",
    "alerting_groups",
    "alerting_outbox",
    "detector_state",
)
WALL_CLOCK_COLUMNS = {"replay_progress": ("updated_at",)}


def replay_once(name: str, config_dir: str | None, tmp: Path) -> tuple[int, float, float, Path, list]:
    """Replay one scenario into a new database under ``tmp``: observations, seconds (wall, CPU), database,
    alert lines."""
    from monitor.replay import replay

    db_path = tmp / f"{name}.db"
    started, cpu_started = time.perf_counter(), time.process_time()
    report = replay(scenario_path(name), db_path, tmp / f"{name}.alerts.jsonl", config_dir=config_dir)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return report.observations, seconds, cpu, db_path, report.notifications


def fingerprint(db_path: Path, notifications: list) -> str:
    """A digest of every row the replay stored (and the alert lines), to check a change kept behaviour."""
    digest = hashlib.sha256()
    conn = sqlite3.connect(db_path)
    try:
        for table in FINGERPRINT_TABLES:
            rows = sorted(map(repr, conn.execute(f"select * from [{table}]").fetchall()))
            digest.update(f"{table}:{len(rows)}\n".encode())
            for row in rows:
                digest.update(row.encode())
    finally:
        conn.close()
    digest.update(repr(notifications).encode())
    return digest.hexdigest()[:16]


def warm_up(config_dir: str | None) -> str:
    """Load what a process loads once (imports, the model, the tokenizers' dictionaries); the classifier's version.

    Kept out of the figures: they measure replays, each still opening its database and loading its model.
    """
    from monitor.detect_text import Vocabulary, phrases
    from monitor.pipeline import Pipeline

    with tempfile.TemporaryDirectory() as tmp:
        pipe = Pipeline.open(config_dir, Path(tmp) / "warm.db", mode="replay")
        pipe.classifier.predict(["冰箱门关不上，客服不理人"])
        phrases(
            ["冰箱门关不上", "冰箱门又关不上"], Vocabulary(10)
        )  # titles' word segmenter and its dictionary
        pipe.db.close()
        return str(pipe.classifier.version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "scenarios", nargs="*", help=f"scenario names (default: all of {', '.join(SCENARIOS)})"
    )
    parser.add_argument("--config", help="config directory (default: the shipped config/)")
    parser.add_argument("--repeat", type=int, default=1, help="replays per scenario; the best rate counts")
    parser.add_argument("--fingerprint", action="store_true", help="print a digest of the stored rows")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the replays; print the top functions"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    names = args.scenarios or SCENARIOS
    print(f"classifier: {warm_up(args.config)}")
    # Wall time is the figure; CPU time beside it tells a slow replay from a busy machine (cores are shared).
    print(
        f"{'scenario':<12} {'obs':>6} {'seconds':>8} {'obs/s':>8} {'cpu s':>7} {'cpu obs/s':>9}"
        + ("  fingerprint" if args.fingerprint else "")
    )
    profiler = cProfile.Profile() if args.profile else None
    total_obs, total_seconds, total_cpu, slow = 0, 0.0, 0.0, []
    for name in names:
        best = None
        for _ in range(max(args.repeat, 1)):
            with tempfile.TemporaryDirectory() as tmp:
                if profiler is not None:
                    profiler.enable()
                obs, seconds, cpu, db_path, notes = replay_once(name, args.config, Path(tmp))
                if profiler is not None:
                    profiler.disable()
                print_ = fingerprint(db_path, notes) if args.fingerprint else ""
            if best is None or seconds < best[1]:
                best = (obs, seconds, cpu, print_)
        obs, seconds, cpu, print_ = best
        rate = obs / seconds if seconds else float("inf")
        total_obs += obs
        total_seconds += seconds
        total_cpu += cpu
        if rate < TARGET_RATE:
            slow.append(name)
        print(
            f"{name:<12} {obs:>6} {seconds:>8.2f} {rate:>8.0f} {cpu:>7.2f} {obs / cpu if cpu else 0:>9.0f}"
            + (f"  {print_}" if print_ else "")
        )
    print(
        f"{'all':<12} {total_obs:>6} {total_seconds:>8.2f} {total_obs / total_seconds:>8.0f}"
        f" {total_cpu:>7.2f} {total_obs / total_cpu if total_cpu else 0:>9.0f}"
    )
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
    if slow:
        print(f"below {TARGET_RATE:.0f} obs/s: {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
