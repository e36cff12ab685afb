"""The early-warning benchmark's scoring: which truth group a warning was about, when it fired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benchmarks import early_warning as ew

T0 = datetime(2024, 5, 13, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_a_group_that_warned_before_the_incident_joined_it_is_a_false_warning(monkeypatch):
    # Everyday grumbles warn on day 1; on day 2 an outage's posts pour into the same group, which fires again.
    truth = {
        "days": 4,
        "incidents": [
            {"id": "outage", "post_ids": [f"o{i}" for i in range(40)], "first_post_at": at(48).isoformat()}
        ],
        "decoys": [{"kind": "everyday_trickle", "post_ids": [f"t{i}" for i in range(10)]}],
    }
    monkeypatch.setattr(ew, "load_truth", lambda name: truth)
    run = ew.Run()
    run.members["inc-a"] = [(at(i), f"t{i}") for i in range(10)] + [
        (at(48 + i / 60), f"o{i}") for i in range(40)
    ]
    run.first_seen = {pid: moment for moment, pid in run.members["inc-a"]}
    run.firings = [ew.Firing("inc-a", "warning", at(12)), ew.Firing("inc-a", "critical", at(48.5))]
    result = ew.score("synthetic", run)
    assert result["decoys_alerted"] == ["everyday_trickle"]
    [row] = result["incidents"]
    assert row["hours"] == 0.5 and row["share"] == 31 / 40 and row["critical"]
    # Labelled by its final members alone, the day-1 warning would have passed for an early warning of the outage.
    run.firings = [ew.Firing("inc-a", "warning", at(49))]
    assert ew.score("synthetic", run)["decoys_alerted"] == []
