"""When each feed runs: an APScheduler 3.x trigger per feed, with jitter, quiet hours and adaptive pacing.

``FeedTrigger.get_next_fire_time(previous, now)`` is pure given its ``Pace`` and random source, so tests drive
it with an injected clock and never sleep. ``next_interval`` is the adaptive rule: faster while a feed brings
new posts or an incident it feeds is open, slower while it is quiet, backing off after failures, always
within the feed's ``min_interval``..``max_interval`` (a server's ``Retry-After`` is honoured beyond that).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from monitor.feeds.config import FeedsConfig, QuietHours


@dataclass
class Pace:
    """A feed's current polling interval, changed by ``next_interval`` after each run; thread-safe."""

    base: float
    low: float
    high: float
    adaptive: bool = True
    current: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.current = self.current or self.base

    def get(self) -> float:
        with self._lock:
            return self.current

    def set(self, seconds: float) -> None:
        with self._lock:
            self.current = seconds


def next_interval(
    pace: Pace,
    *,
    status: str,
    new: int,
    incident_open: bool = False,
    retry_after: float | None = None,
) -> float:
    """The interval after a run with this outcome (see the module docstring)."""
    current = pace.current or pace.base
    if status == "error":
        interval = min(pace.high, max(current, pace.base) * 2) if pace.adaptive else pace.base
        return max(interval, retry_after or 0.0)
    if not pace.adaptive or status == "skipped":
        return pace.base
    if incident_open:
        return pace.low
    if new > 0:
        return max(pace.low, min(current, pace.base) / 2)
    return min(pace.high, max(current, pace.low) * 1.5)


def in_quiet_hours(moment: datetime, windows: list[QuietHours], tz: tzinfo) -> QuietHours | None:
    """The quiet-hours window ``moment`` falls in (windows may cross midnight), or None."""
    local = moment.astimezone(tz).time()
    for window in windows:
        if window.start < window.end:
            if window.start <= local < window.end:
                return window
        elif local >= window.start or local < window.end:
            return window
    return None


def quiet_window_end(moment: datetime, window: QuietHours, tz: tzinfo) -> datetime:
    """The first moment after ``moment`` at which ``window`` ends."""
    local = moment.astimezone(tz)
    end = datetime.combine(local.date(), window.end, tzinfo=tz)
    if end <= local:
        end += timedelta(days=1)
    return end


class FeedTrigger(BaseTrigger):
    """Interval (adaptive) or cron, plus jitter and quiet hours; never fires in the past of ``previous``."""

    def __init__(
        self,
        pace: Pace,
        *,
        cron: str | None = None,
        jitter: float = 0.0,
        quiet_hours: list[QuietHours] | None = None,
        timezone: tzinfo | str = "Asia/Shanghai",
        rng: Callable[[], float] = random.random,
        first_run_spread: float | None = None,
    ) -> None:
        self.pace = pace
        self.timezone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self.cron = CronTrigger.from_crontab(cron, timezone=self.timezone) if cron else None
        self.jitter = jitter
        self.quiet_hours = quiet_hours or []
        self.rng = rng
        self.first_run_spread = first_run_spread

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        if self.cron is not None:
            candidate = self.cron.get_next_fire_time(previous_fire_time, now)
            for _ in range(1000):  # skip cron times inside quiet hours
                window = candidate and in_quiet_hours(candidate, self.quiet_hours, self.timezone)
                if not window:
                    break
                candidate = self.cron.get_next_fire_time(
                    None, quiet_window_end(candidate, window, self.timezone)
                )
            return candidate + timedelta(seconds=self.rng() * self.jitter) if candidate else None
        if previous_fire_time is None:
            # First runs are spread over the jitter, so a restart with many feeds is no stampede.
            spread = min(
                self.pace.get(), self.jitter if self.first_run_spread is None else self.first_run_spread
            )
            return now + timedelta(seconds=self.rng() * spread)
        interval = self.pace.get()
        candidate = previous_fire_time + timedelta(seconds=interval)
        window = in_quiet_hours(candidate, self.quiet_hours, self.timezone)
        if window:
            slow = window.interval if window.interval is not None else self.pace.high
            candidate = previous_fire_time + timedelta(seconds=max(interval, slow))
        return candidate + timedelta(seconds=self.rng() * self.jitter)

    def __str__(self) -> str:
        if self.cron is not None:
            return f"cron[{self.cron}]"
        return f"every {self.pace.get():g}s"

    def __repr__(self) -> str:
        return f"<FeedTrigger {self}>"


def pace_for(config: FeedsConfig, feed) -> Pace:
    """A fresh pace from the feed's configured interval and bounds."""
    return Pace(
        base=config.effective(feed, "interval"),
        low=config.effective(feed, "min_interval"),
        high=config.effective(feed, "max_interval"),
        adaptive=config.effective(feed, "adaptive") and feed.cron is None,
    )


def trigger_for(
    config: FeedsConfig, feed, pace: Pace, rng: Callable[[], float] = random.random
) -> FeedTrigger:
    """The trigger a feed's configuration describes."""
    return FeedTrigger(
        pace,
        cron=feed.cron,
        jitter=config.effective(feed, "jitter"),
        quiet_hours=config.effective(feed, "quiet_hours"),
        timezone=config.defaults.timezone,
        rng=rng,
    )
