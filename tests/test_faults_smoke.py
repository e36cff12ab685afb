"""One tiny trial of each family of the fault suite (``make faults``), so that the suite cannot silently rot.

These check that each family runs end to end and counts what it injects; the suite's own verdicts (posts or
alerts lost, bad inputs escaping) are the business of ``make faults``, which reports them in full.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/ is not an installed package

from benchmarks.fault_suite.tally import Tally, table  # noqa: E402
from benchmarks.faults import SMOKE, report, run_family  # noqa: E402

HARNESS_ERRORS = ("the family itself failed", "the trial raised", "reference")


def harness_failures(tally: Tally) -> list[str]:
    return [text for text in tally.failures if any(marker in text for marker in HARNESS_ERRORS)]


def test_crash_family_kills_and_resumes_the_replay_and_the_daemon(tmp_path):
    tally = run_family("crash", tmp_path, SMOKE, seed=1)
    assert harness_failures(tally) == [], report([tally])
    assert tally.trials == SMOKE.crash_trials and tally.faults == SMOKE.crash_trials
    assert tally.posts_lost == 0 and tally.alerts_lost == 0 and tally.alerts_doubled == 0, report([tally])


def test_injected_faults_family_runs_its_in_process_faults(tmp_path):
    from benchmarks.fault_suite.injected import run_family as injected

    tally = injected(
        tmp_path, seed=1, only={"feed flapping 200/500", "clock jumps", "receiver down for an hour"}
    )
    assert harness_failures(tally) == [], report([tally])
    assert tally.trials == 3 and tally.faults >= 10
    assert not any("flapping" in text or "clock jumps" in text for text in tally.failures), report([tally])


def test_bad_input_family_tries_every_kind_of_bad_input(tmp_path):
    tally = run_family("bad_input", tmp_path, SMOKE, seed=1)
    assert harness_failures(tally) == [], report([tally])
    kinds = " ".join(tally.figures)
    for kind in ("Post.from_dict", "read_posts", "rss feed bodies", "billion laughs", "gzip bomb", "nested"):
        assert kind in kinds
    assert tally.bad_tried > 50 and tally.bad_handled > 0


@pytest.mark.parametrize("family", ["security", "load"])
def test_security_and_load_families_run(tmp_path, family):
    tally = run_family(family, tmp_path, SMOKE, seed=1)
    assert harness_failures(tally) == [], report([tally])
    assert tally.trials > 0
    if family == "security":
        assert tally.failures == [], report([tally])
        assert tally.figures["canary requests"] == "0"
    else:
        assert "pipeline memory over a simulated day" in tally.figures


def test_table_counts_must_be_zero_columns_and_totals():
    good, bad = Tally("a", trials=2, faults=2), Tally("b", trials=1, posts_lost=1, bad_tried=3, bad_handled=2)
    assert good.ok and not bad.ok
    text = table([good, bad])
    assert "| **total** | 3 | 2 | 1 | 0 | 0 | 3 | 2 |" in text
