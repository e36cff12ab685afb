"""The incident timeline: hourly buckets in local time, reach by distinct author, severity flags, the SVG."""

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from monitor.web.timeline import build_timeline, render_svg

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC8 = timezone(timedelta(hours=8))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2011, 9, 19, hour, minute, tzinfo=UTC8)


def test_posts_are_bucketed_by_local_hour_and_reach_counts_each_author_once():
    posts = [
        (at(10, 5), "a", 100),
        (at(10, 50), "b", 1000),
        (at(11, 10), "a", 100),  # same author again: no more reach
        (at(13, 0).astimezone(UTC), "c", 50_000),  # stored in UTC, shown in Shanghai time
    ]
    timeline = build_timeline(posts, [(at(11, 30), "warning"), (at(13, 5), "critical")], SHANGHAI)
    assert [s.hour for s in timeline.starts] == [10, 11, 12, 13]
    assert timeline.posts == [2, 1, 0, 1]
    assert timeline.reach == [1100, 1100, 1100, 51100]
    assert [s for _, s in timeline.changes] == ["warning", "critical"]
    data = timeline.to_dict()
    assert data["buckets"][0] == {"start": "2011-09-19T10:00:00+08:00", "posts": 2, "reach": 1100}


def test_a_long_incident_gets_wider_buckets_so_the_chart_stays_readable():
    posts = [(at(0) + timedelta(hours=h), f"u{h}", 1) for h in range(24 * 30)]
    timeline = build_timeline(posts, [], SHANGHAI)
    assert timeline.step == timedelta(hours=3)
    assert sum(timeline.posts) == 24 * 30
    assert len(timeline.starts) <= 24 * 14
    assert {s.hour % 3 for s in timeline.starts} == {0}  # wide buckets start on round hours
    axis = re.findall(r'text-anchor="middle">([^<]+)<', render_svg(timeline))
    assert 2 <= len(axis) <= 9 and all(re.fullmatch(r"\d\d-\d\d", label) for label in axis)  # whole days


def test_severity_labels_close_together_do_not_overlap():
    posts = [(at(10), "a", 1), (at(20), "b", 1)]
    svg = render_svg(build_timeline(posts, [(at(10, 1), "watch"), (at(10, 5), "critical")], SHANGHAI))
    ys = re.findall(r'<g class="severity-change"[^>]*><line [^>]*/><text x="[\d.]+" y="([\d.]+)"', svg)
    assert len(ys) == 2 and ys[0] != ys[1]


def test_the_svg_draws_one_bar_per_busy_hour_the_reach_line_and_each_severity_change():
    posts = [(at(10), "a", 10), (at(10, 30), "b", 10), (at(12), "c", 10)]
    svg = render_svg(build_timeline(posts, [(at(11), "warning")], SHANGHAI))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("data-posts=") == 2  # 10h and 12h; the empty 11h has no bar
    assert 'class="reach-line" points=' in svg
    assert 'data-severity="warning"' in svg and "警告" in svg
    assert "10时" in svg


def test_text_in_the_svg_is_escaped():
    svg = render_svg(build_timeline([(at(10), "a", 1)], [(at(10), "<script>")], SHANGHAI))
    assert "<script>" not in svg


def test_no_posts_gives_a_message_not_an_empty_chart():
    assert "<svg" not in render_svg(build_timeline([], [], SHANGHAI))
