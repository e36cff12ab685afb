"""Feed scheduling through triggers and an injected clock: never by sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.job import Job

from monitor.feeds.config import FeedsConfig, QuietHours
from monitor.feeds.schedule import FeedTrigger, Pace, in_quiet_hours, next_interval, pace_for, trigger_for

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 11, 23, 10, 0, tzinfo=SH)


def fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:
    """What the scheduler would see: each fire time computed from the previous one."""
    out = []
    previous = None
    now = start
    while True:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None or nxt > end:
            return out
        out.append(nxt)
        previous = now = nxt


def test_interval_fires_every_interval_after_a_spread_first_run():
    trigger = FeedTrigger(Pace(60, 30, 600), rng=lambda: 0.5, first_run_spread=30)
    times = fire_times(trigger, T0, T0 + timedelta(minutes=5))
    assert times[0] == T0 + timedelta(seconds=15)
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [timedelta(seconds=60)] * 4


def test_jitter_stays_within_bounds():
    values = iter([0.0, 1.0, 0.25, 0.99, 0.5] * 10)
    trigger = FeedTrigger(Pace(60, 30, 600), jitter=10, rng=lambda: next(values), first_run_spread=0)
    times = fire_times(trigger, T0, T0 + timedelta(minutes=10))
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert all(60 <= gap <= 70 for gap in gaps)
    assert len(set(gaps)) > 1


def test_cron_fires_on_its_expression_in_the_configured_zone():
    trigger = FeedTrigger(Pace(60, 30, 600), cron="*/15 9-18 * * mon-fri", timezone=SH, rng=lambda: 0.0)
    monday = datetime(2025, 11, 24, 10, 0, tzinfo=SH)
    times = fire_times(trigger, monday, monday + timedelta(hours=1))
    assert [t.astimezone(SH).strftime("%H:%M") for t in times] == [
        "10:00",
        "10:15",
        "10:30",
        "10:45",
        "11:00",
    ]
    # Friday 18:45 -> Monday 09:00
    friday = datetime(2025, 11, 21, 18, 50, tzinfo=SH)
    assert trigger.get_next_fire_time(None, friday) == datetime(2025, 11, 24, 9, 0, tzinfo=SH)


def test_quiet_hours_slow_an_interval_feed_down():
    quiet = [QuietHours(start=time(1, 0), end=time(7, 0), interval=3600)]
    trigger = FeedTrigger(
        Pace(300, 60, 7200), quiet_hours=quiet, timezone=SH, rng=lambda: 0.0, first_run_spread=0
    )
    start = datetime(2025, 11, 23, 0, 0, tzinfo=SH)
    times = fire_times(trigger, start, start + timedelta(hours=8))
    in_quiet = [t for t in times if in_quiet_hours(t, quiet, SH)]
    outside = [t for t in times if not in_quiet_hours(t, quiet, SH)]
    assert len(in_quiet) == 6  # hourly from 01:00 to 06:00
    assert len(outside) == 12 + 1 + 12  # every 5 minutes in the hour before and after
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) == timedelta(hours=1)


def test_quiet_hours_crossing_midnight_skip_cron_times():
    quiet = [QuietHours(start=time(23, 0), end=time(6, 0))]
    trigger = FeedTrigger(
        Pace(60, 30, 600), cron="0 * * * *", quiet_hours=quiet, timezone=SH, rng=lambda: 0.0
    )
    late = datetime(2025, 11, 23, 22, 30, tzinfo=SH)
    times = fire_times(trigger, late, late + timedelta(hours=9))
    assert [t.astimezone(SH).hour for t in times] == [6, 7]  # 23:00 to 05:00 fall in quiet hours


def test_quiet_window_membership():
    windows = [QuietHours(start=time(23, 0), end=time(6, 0))]
    assert in_quiet_hours(datetime(2025, 1, 1, 23, 30, tzinfo=SH), windows, SH)
    assert in_quiet_hours(datetime(2025, 1, 1, 5, 59, tzinfo=SH), windows, SH)
    assert not in_quiet_hours(datetime(2025, 1, 1, 6, 0, tzinfo=SH), windows, SH)
    # the same instant in UTC is judged in the configured zone
    assert in_quiet_hours(datetime(2025, 1, 1, 16, 0, tzinfo=UTC), windows, SH)


def test_adaptive_pace_speeds_up_when_busy_slows_when_quiet_and_backs_off_on_errors():
    pace = Pace(base=300, low=60, high=1800)
    busy = next_interval(pace, status="ok", new=12)
    assert busy == 150
    pace.set(busy)
    assert next_interval(pace, status="ok", new=3) == 75
    pace.set(60)
    assert next_interval(pace, status="ok", new=5) == 60  # never below min_interval
    assert next_interval(pace, status="ok", new=0) == 90
    pace.set(1500)
    assert next_interval(pace, status="ok", new=0) == 1800  # never above max_interval
    pace.set(300)
    assert next_interval(pace, status="ok", new=0, incident_open=True) == 60
    assert next_interval(pace, status="error", new=0) == 600
    pace.set(1200)
    assert next_interval(pace, status="error", new=0) == 1800
    assert next_interval(pace, status="error", new=0, retry_after=7200) == 7200  # the server's wish wins


def test_non_adaptive_pace_keeps_its_interval():
    pace = Pace(base=300, low=60, high=1800, adaptive=False)
    assert next_interval(pace, status="ok", new=50) == 300
    assert next_interval(pace, status="ok", new=0, incident_open=True) == 300
    assert next_interval(pace, status="error", new=0) == 300


def test_a_changed_pace_changes_the_next_fire_time():
    pace = Pace(300, 60, 1800)
    trigger = FeedTrigger(pace, rng=lambda: 0.0)
    assert trigger.get_next_fire_time(T0, T0) == T0 + timedelta(seconds=300)
    pace.set(60)
    assert trigger.get_next_fire_time(T0, T0) == T0 + timedelta(seconds=60)


def test_a_late_scheduler_coalesces_into_one_run_not_a_burst():
    """APScheduler's own Job sees every missed time; with coalesce the job runs once, not once per miss."""
    trigger = FeedTrigger(Pace(60, 30, 600), rng=lambda: 0.0)
    job = Job.__new__(Job)
    job.trigger = trigger
    job.next_run_time = T0
    late = T0 + timedelta(minutes=10, seconds=5)
    run_times = job._get_run_times(late)
    assert len(run_times) == 11  # every minute it missed, which coalesce=True folds into one run
    assert trigger.get_next_fire_time(run_times[-1], late) == T0 + timedelta(minutes=11)


def test_config_defaults_flow_into_pace_and_trigger():
    config = FeedsConfig.model_validate(
        {
            "defaults": {"interval": "2m", "min_interval": "1m", "max_interval": "30m", "jitter": "5s"},
            "feeds": [
                {"name": "a", "kind": "rss", "url": "http://x/"},
                {"name": "b", "kind": "rss", "url": "http://x/", "cron": "0 9 * * *"},
            ],
        }
    )
    a, b = config.feeds
    pace = pace_for(config, a)
    assert (pace.base, pace.low, pace.high, pace.adaptive) == (120, 60, 1800, True)
    assert trigger_for(config, a, pace).jitter == 5
    assert pace_for(config, b).adaptive is False  # cron feeds keep their expression


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ({"interval": "10s", "min_interval": "30s"}, "outside min_interval..max_interval"),
        ({"interval": "5m", "cron": "* * * * *"}, "either interval or cron"),
        ({"cron": "every day"}, "invalid cron expression"),
        ({"interval": "30s", "jitter": "30s"}, "jitter (30s) must be smaller than interval (30s)"),
        (
            {"min_interval": "1h", "max_interval": "1m"},
            "min_interval (3600s) is larger than max_interval (60s)",
        ),
        ({"interval": "5 minutes"}, "expected a duration"),
        ({"quiet_hours": [{"start": "01:00", "end": "01:00"}]}, "window would be empty"),
        ({"name": "Bad Name"}, "lower-case letters"),
        ({"tags": {"feed": "x"}}, "reserved"),
    ],
)
def test_schedule_mistakes_are_refused_with_a_precise_message(feed, message):
    spec = {"name": "f", "kind": "rss", "url": "http://x/", **feed}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        FeedsConfig.model_validate({"feeds": [spec]})


def test_duplicate_feed_names_are_refused():
    with pytest.raises(ValueError, match="two feeds are named 'a'"):
        FeedsConfig.model_validate(
            {
                "feeds": [
                    {"name": "a", "kind": "rss", "url": "http://x/"},
                    {"name": "a", "kind": "file", "path": "x"},
                ]
            }
        )
