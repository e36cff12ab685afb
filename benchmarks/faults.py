"""Reliability and security under faults (issue 9): ``make faults`` runs ``python -m benchmarks.faults``.

Families, each with real parts (subprocesses killed with SIGKILL, local HTTP servers, an SMTP server, SQLite
files): crash safety, injected faults, bad input (property-based), security, load. At the end a table:
trials, faults injected, posts lost, alerts lost or doubled, bad inputs tried and handled, checks failed.
The exit status is 1 when any must-be-zero column is not zero or any check failed.

    python -m benchmarks.faults               # the full run (about 30 minutes on 2 cores)
    python -m benchmarks.faults --quick       # scaled down (200k-post database, 10 crash trials)
    python -m benchmarks.faults --only crash,security
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.fault_suite.tally import Tally, table

logger = logging.getLogger("benchmarks.faults")  # not __main__ under -m


@dataclass(frozen=True)
class Scale:
    """How big each family runs."""

    crash_trials: int
    crash_lines: int | None  # posts of the fridge case replayed per crash trial (None: all)
    examples: int  # hypothesis examples per property
    load_posts: int
    day_posts: int
    ingest_scenario: str


FULL = Scale(
    crash_trials=50,
    crash_lines=1500,
    examples=300,
    load_posts=5_000_000,
    day_posts=40_000,
    ingest_scenario="slow_burn",
)
QUICK = Scale(
    crash_trials=10,
    crash_lines=1200,
    examples=100,
    load_posts=200_000,
    day_posts=15_000,
    ingest_scenario="fridge",
)
SMOKE = Scale(
    crash_trials=2, crash_lines=150, examples=10, load_posts=2_000, day_posts=300, ingest_scenario="fridge"
)
FAMILIES = ("crash", "faults", "bad_input", "security", "load")


def run_family(name: str, work: Path, scale: Scale, seed: int) -> Tally:
    """Run one family in ``work``; a family that raises is a failed check, never a crash of the suite."""
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        if name == "crash":
            from benchmarks.fault_suite.crash import run_family as family

            tally = family(work, trials=scale.crash_trials, lines=scale.crash_lines, seed=seed)
        elif name == "faults":
            from benchmarks.fault_suite.injected import run_family as family

            tally = family(work, seed=seed, long_lock=scale is not SMOKE)
        elif name == "bad_input":
            from benchmarks.fault_suite.bad_input import run_family as family

            tally = family(work, examples=scale.examples, seed=seed)
        elif name == "security":
            from benchmarks.fault_suite.security import run_family as family

            tally = family(work)
        elif name == "load":
            from benchmarks.fault_suite.load import run_family as family

            tally = family(
                work,
                posts=scale.load_posts,
                day_posts=scale.day_posts,
                scenario=scale.ingest_scenario,
                ingest_lines=300 if scale is SMOKE else None,
            )
        else:
            raise ValueError(f"unknown family {name!r} (known: {', '.join(FAMILIES)})")
    except Exception as exc:
        logger.exception("family %s crashed", name)
        tally = Tally(name)
        tally.check(False, f"the family itself failed: {type(exc).__name__}: {exc}")
    tally.seconds = time.monotonic() - started
    return tally


def report(tallies: list[Tally]) -> str:
    """The table, then each family's figures, findings and failed checks."""
    out = [table(tallies), ""]
    for tally in tallies:
        if tally.figures or tally.findings or tally.failures:
            out.append(f"### {tally.family}")
            out += [f"- {name}: {value}" for name, value in tally.figures.items()]
            out += [f"- finding: {text}" for text in tally.findings]
            out += [f"- FAILED: {text}" for text in tally.failures]
            out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down run (a few minutes)")
    parser.add_argument("--only", default="", help=f"comma-separated families ({', '.join(FAMILIES)})")
    parser.add_argument("--seed", type=int, default=9, help="random seed for kill points and inputs")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (printed)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("benchmarks").setLevel(logging.INFO)
    scale = QUICK if args.quick else FULL
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(FAMILIES)
    work = Path(tempfile.mkdtemp(prefix="tingfeng-faults-"))
    tallies = []
    try:
        for name in names:
            logger.info("family %s ...", name)
            tallies.append(run_family(name, work / name, scale, args.seed))
            logger.info("family %s done in %.0fs", name, tallies[-1].seconds)
    finally:
        if args.keep:
            print(f"working directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(report(tallies))
    return 0 if all(tally.ok for tally in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
