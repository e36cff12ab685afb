"""An incident's timeline: posts per hour, cumulative reach and severity changes, drawn as inline SVG.

Pure: ``build_timeline`` buckets plain data by local hour, ``render_svg`` turns the result into markup. The
chart needs no script and no network, so it works offline, on a phone and in a screenshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from html import escape

HOUR = timedelta(hours=1)
MAX_BUCKETS = 24 * 14  # beyond two weeks of hours, buckets widen so the chart stays readable
SEVERITY_COLOURS = {"watch": "#2f7ed8", "warning": "#e6a23c", "critical": "#d0312d"}
SEVERITY_NAMES = {"watch": "关注", "warning": "警告", "critical": "严重"}


@dataclass(slots=True)
class Timeline:
    """Hourly buckets (local time) and the severity changes that fall within them."""

    starts: list[datetime] = field(default_factory=list)
    posts: list[int] = field(default_factory=list)
    reach: list[int] = field(default_factory=list)  # cumulative, by distinct author
    changes: list[tuple[datetime, str]] = field(default_factory=list)
    step: timedelta = HOUR

    def to_dict(self) -> dict:
        return {
            "step_seconds": int(self.step.total_seconds()),
            "buckets": [
                {"start": s.isoformat(), "posts": p, "reach": r}
                for s, p, r in zip(self.starts, self.posts, self.reach, strict=True)
            ],
            "severity_changes": [{"at": t.isoformat(), "severity": s} for t, s in self.changes],
        }


def build_timeline(
    posts: list[tuple[datetime, str | None, int]],
    changes: list[tuple[datetime, str]],
    tz: tzinfo,
) -> Timeline:
    """Bucket ``posts`` (time, author, followers) by local hour; reach counts each author once."""
    if not posts:
        return Timeline(changes=sorted((t.astimezone(tz), s) for t, s in changes))
    posts = sorted(((t.astimezone(tz), a, f) for t, a, f in posts), key=lambda item: item[0])
    first = posts[0][0].replace(minute=0, second=0, microsecond=0)
    last = max(posts[-1][0], *(t.astimezone(tz) for t, _ in changes)) if changes else posts[-1][0]
    hours = int((last - first) / HOUR) + 1
    step_hours = next(
        (h for h in (1, 2, 3, 6, 12, 24, 48) if -(-hours // h) <= MAX_BUCKETS), -(-hours // MAX_BUCKETS)
    )
    step = HOUR * step_hours
    # Wide buckets start on round local hours (03:00, 06:00 ... or midnight), so the axis reads naturally.
    first = (
        first.replace(hour=first.hour - first.hour % step_hours)
        if step_hours <= 24
        else first.replace(hour=0)
    )
    n = int((last - first) / step) + 1
    timeline = Timeline(starts=[first + step * i for i in range(n)], posts=[0] * n, reach=[0] * n, step=step)
    seen: set[str] = set()
    added = [0] * n
    for number, (moment, author, followers) in enumerate(posts):
        index = min(int((moment - first) / step), n - 1)
        timeline.posts[index] += 1
        key = author or f"#{number}"  # an anonymous post counts as its own author
        if key not in seen:
            seen.add(key)
            added[index] += followers or 0
    total = 0
    for index, value in enumerate(added):
        total += value
        timeline.reach[index] = total
    timeline.changes = sorted((t.astimezone(tz), s) for t, s in changes)
    return timeline


def render_svg(timeline: Timeline, *, width: int = 760, height: int = 280) -> str:
    """The timeline as an accessible inline ``<svg>``: bars for posts, a line for reach, flags for severity."""
    if not timeline.starts:
        return '<p class="muted">还没有可画的帖子。</p>'
    left, right, top, bottom = 44, 60, 26, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(timeline.starts)
    slot = plot_w / n
    max_posts = max(timeline.posts) or 1
    max_reach = max(timeline.reach) or 1
    start, end = timeline.starts[0], timeline.starts[-1] + timeline.step

    def x_at(moment: datetime) -> float:
        return left + plot_w * max(0.0, min(1.0, (moment - start) / (end - start)))

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title" '
        f'xmlns="http://www.w3.org/2000/svg" data-buckets="{n}">',
        '<title id="chart-title">事件时间线：每小时帖子数、累计触达与级别变化</title>',
    ]
    for fraction in (0.0, 0.5, 1.0):  # gridlines and both axes' scales
        y = top + plot_h * (1 - fraction)
        out.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_short(max_posts * fraction)}</text>'
        )
        out.append(
            f'<text class="axis reach" x="{left + plot_w + 6}" y="{y + 4:.1f}">{_short(max_reach * fraction)}</text>'
        )
    for index, (moment, count) in enumerate(zip(timeline.starts, timeline.posts, strict=True)):
        if not count:
            continue
        bar_h = plot_h * count / max_posts
        x = left + slot * index + slot * 0.12
        out.append(
            f'<rect class="bar" data-posts="{count}" x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{max(slot * 0.76, 1):.1f}" '
            f'height="{bar_h:.1f}"><title>{moment:%m-%d %H:%M} 新帖 {count}</title></rect>'
        )
    points = " ".join(
        f"{left + slot * (i + 0.5):.1f},{top + plot_h * (1 - r / max_reach):.1f}"
        for i, r in enumerate(timeline.reach)
    )
    out.append(f'<polyline class="reach-line" points="{points}"/>')
    label_rows: list[float] = []  # right end of the last flag label in each row, so labels never overlap
    for moment, severity in timeline.changes:
        x = x_at(moment)
        colour = SEVERITY_COLOURS.get(severity, "#666")
        name = escape(SEVERITY_NAMES.get(severity, severity))
        row = next((i for i, end in enumerate(label_rows) if x >= end), len(label_rows))
        label_rows[row : row + 1] = [x + 34]
        out.append(
            f'<g class="severity-change" data-severity="{escape(severity)}">'
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{colour}"/>'
            f'<text x="{x + 3:.1f}" y="{top - 8 + 14 * row}" fill="{colour}">{name}</text>'
            f"<title>{moment:%m-%d %H:%M} 升级为{name}</title></g>"
        )
    for index in _tick_indices(timeline.starts, timeline.step):
        moment = timeline.starts[index]
        label = f"{moment:%m-%d}" if moment.hour == 0 else f"{moment:%H时}"
        out.append(
            f'<text class="axis" x="{left + slot * (index + 0.5):.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{label}</text>'
        )
    out.append(
        f'<g class="legend" transform="translate({left},{height - 8})">'
        '<rect class="bar" x="0" y="-9" width="10" height="10"/><text x="14" y="0">每小时新帖</text>'
        '<line class="reach-line" x1="100" y1="-4" x2="120" y2="-4"/><text x="124" y="0">累计触达（粉丝）</text>'
        '<line x1="250" y1="-9" x2="250" y2="1" stroke="#d0312d"/><text x="256" y="0">级别变化</text></g>'
    )
    out.append("</svg>")
    return "".join(out)


TICK_HOURS = (1, 2, 3, 6, 12, 24, 48, 72, 168, 336)


def _tick_indices(starts: list[datetime], step: timedelta, most: int = 9) -> list[int]:
    """Buckets that start on a round local hour (every 1, 2, 3, 6, 12 h or whole days), at most ``most``."""
    span = len(starts) * step / HOUR
    every = next((h for h in TICK_HOURS if h >= step / HOUR and span / h <= most), TICK_HOURS[-1])
    if every < 24:
        return [i for i, s in enumerate(starts) if s.hour % every == 0]
    return [i for i, s in enumerate(starts) if s.hour == 0 and s.toordinal() % (every // 24) == 0]


def _short(value: float) -> str:
    """Axis numbers in Chinese units: 12000 -> 1.2万."""
    if value >= 100_000_000:
        return f"{value / 100_000_000:.1f}亿"
    if value >= 10_000:
        return f"{value / 10_000:.1f}万"
    return f"{value:.0f}"
