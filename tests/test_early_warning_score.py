"""The early-warning benchmark's scoring: which truth group a warning was about, when it fired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benchmarks import early_warning as ew

T0 = datetime(2024, 5, 13, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def outage_and_trickle(
    monkeypatch, outage: int, outage_every: float, trickle: int, trickle_every: float
) -> ew.Run:
    """A replay whose detected incident "inc-a" holds an everyday trickle (from hour 0) and an outage (from hour 48)."""
    truth = {
        "days": 4,
        "incidents": [
            {
                "id": "outage",
                "post_ids": [f"o{i}" for i in range(outage)],
                "first_post_at": at(48).isoformat(),
            }
        ],
        "decoys": [{"kind": "everyday_trickle", "post_ids": [f"t{i}" for i in range(trickle)]}],
    }
    monkeypatch.setattr(ew, "load_truth", lambda name: truth)
    run = ew.Run()
    run.members["inc-a"] = sorted(
        [(at(i * trickle_every), f"t{i}") for i in range(trickle)]
        + [(at(48 + i * outage_every), f"o{i}") for i in range(outage)]
    )
    run.first_seen = {pid: moment for moment, pid in run.members["inc-a"]}
    return run


def test_a_group_that_warned_before_the_incident_joined_it_is_a_false_warning(monkeypatch):
    # Everyday grumbles warn on day 1; on day 2 an outage's posts pour into the same group, which fires again.
    run = outage_and_trickle(monkeypatch, outage=40, outage_every=1 / 60, trickle=10, trickle_every=1)
    run.firings = [ew.Firing("inc-a", "warning", at(12)), ew.Firing("inc-a", "critical", at(48.5))]
    result = ew.score("synthetic", run)
    assert result["decoys_alerted"] == ["everyday_trickle"]
    [row] = result["incidents"]
    assert row["hours"] == 0.5 and row["share"] == 31 / 40 and row["critical"]
    # Labelled by its final members alone, the day-1 warning would have passed for an early warning of the outage.
    run.firings = [ew.Firing("inc-a", "warning", at(49))]
    assert ew.score("synthetic", run)["decoys_alerted"] == []


def test_a_warning_is_about_the_posts_its_incident_held_when_it_fired(monkeypatch):
    # An outage warns at hour 48.2 holding outage posts only; at hour 50 a group of everyday grumbles (posted on
    # day 1, into a group of their own) is merged into it, so its final posts hold them, joined long before.
    run = outage_and_trickle(monkeypatch, outage=12, outage_every=0.1, trickle=20, trickle_every=0.5)
    held = tuple(f"o{i}" for i in range(3))
    run.firings = [ew.Firing("inc-a", "warning", at(48.2), held)]
    result = ew.score("synthetic", run)
    [row] = result["incidents"]
    assert result["decoys_alerted"] == [] and row["share"] == 3 / 12 and row["hours"] == 0.2
    # Without the record, its final posts that had joined by then would say the warning was about the grumbles.
    run.firings = [ew.Firing("inc-a", "warning", at(48.2))]
    result = ew.score("synthetic", run)
    assert result["decoys_alerted"] == ["everyday_trickle"] and result["incidents"][0]["share"] is None


def test_an_incidents_own_posts_in_its_alerts_count_every_notification_labelled_its(monkeypatch):
    # The outage's warning holds 3 of its posts and 1 grumble; its critical 9 of its posts and 3 grumbles.
    run = outage_and_trickle(monkeypatch, outage=12, outage_every=0.1, trickle=20, trickle_every=0.5)
    run.firings = [
        ew.Firing("inc-a", "warning", at(48.2), ("o0", "o1", "o2", "t0")),
        ew.Firing("inc-a", "critical", at(48.9), tuple(f"o{i}" for i in range(9)) + ("t0", "t1", "t2")),
    ]
    [row] = ew.score("synthetic", run)["incidents"]
    assert row["own"] == 12 / 16
    assert "| 75% |" in ew.table([ew.score("synthetic", run)])


def test_a_notification_takes_the_posts_of_the_last_event_before_it():
    seen = {"inc-a": [(at(1), ("p1",)), (at(2), ("p1", "p2"))]}
    assert ew._at_fire(seen, "inc-a", at(0.5)) is None
    assert ew._at_fire(seen, "inc-a", at(1)) == ("p1",)
    assert ew._at_fire(seen, "inc-a", at(2.01)) == ("p1", "p2")
    assert ew._at_fire(seen, "inc-b", at(3)) is None


def test_trace_shows_an_incidents_first_posts_and_the_warnings_among_them():
    # fridge warns by its seventh post (1.7% of 405): a trace of ten shows the warning between the posts.
    lines = ew.trace("fridge", None, 10)
    posts = [line for line in lines if line.startswith("fridge-door #")]
    assert len(posts) == 10 and posts[0].startswith("fridge-door #1 ")
    assert " seed " in posts[0] and "冰箱门关不上" in posts[0]  # where it went, how, and its text
    fired = [i for i, line in enumerate(lines) if line.endswith(" fired")]
    assert fired and 0 < fired[0] < len(lines) - 1
