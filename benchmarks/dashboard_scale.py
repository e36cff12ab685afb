"""Dashboard at scale: the dashboard's pages and JSON API over a store of millions of posts.

Builds once (then reuses) a large store through the project's own schema (``monitor.store.open_db``), filled
with plain bulk SQL: Chinese posts from the scenario texts (written from the phrase banks in
``monitor/scenarios/``), observations, one or two classifications a post, incidents with their member posts,
and alert notifications. Then times each page and API call through Starlette's ``TestClient`` (median and p95
over repeats, after one untimed first call whose time is shown too) and prints a markdown table.

    python -m benchmarks.dashboard_scale                              # 1,000,000 posts, cached in /tmp
    python -m benchmarks.dashboard_scale --posts 5000000 --repeat 5
    python -m benchmarks.dashboard_scale --db /tmp/big.db --rebuild   # build the store again
    python -m benchmarks.dashboard_scale --only posts                 # pages whose name contains "posts"

The cached store is upgraded in place by the project's migrations when opened (new indexes are built then;
the time that takes is printed). Building 1M posts takes about two minutes and 0.8 GB of disk.
Targets: every page under 0.3 s (search under 1 s), median.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
logger = logging.getLogger(__name__)

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the newest post; the store's own clock ends about here
SPAN = timedelta(days=180)
BEIJING = timezone(timedelta(hours=8))
BRANDS = ("海尔", "美的", "格力", "西门子", "容声", "博世", "松下", "三星", "小米", "华为")
FEEDS = tuple(f"weibo-search-{k}" for k in range(12)) + tuple(f"news-rss-{k}" for k in range(4))
MODELS = ("default-2026.09", "default-2026.11")
TOKEN = "dashboard-scale-token-0123456789"
PAGE_TARGET, SEARCH_TARGET = 0.3, 1.0
CHUNK = 50_000
FORMAT = 3  # of the generated store: a cached store of another format is built again (3: posts.sort_at)


# -- the store -------------------------------------------------------------------------------------------------


def scenario_texts() -> list[tuple[str, str]]:
    """(text, author) of every distinct post in the shipped scenarios."""
    from monitor.scenarios import SCENARIOS, scenario_path

    seen: dict[str, str] = {}
    for name in SCENARIOS:
        for line in scenario_path(name).read_text(encoding="utf-8").splitlines():
            post = json.loads(line)
            seen.setdefault(post["text"], post.get("author") or "匿名")
    return sorted(seen.items())


def build(path: Path, n: int, seed: int = 7) -> None:
    """A store of ``n`` posts at ``path`` (replacing any file there)."""
    from monitor.normalize import normalize
    from monitor.store import open_db

    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    open_db(path).close()
    rng = random.Random(seed)
    texts = scenario_texts()
    norms = [normalize(text).text_norm for text, _ in texts]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    # One trigram rebuild at the end is far faster than the triggers indexing each row.
    triggers = conn.execute(
        "select name, sql from sqlite_master where type = 'trigger' and tbl_name = 'posts'"
    )
    triggers = triggers.fetchall()
    for name, _ in triggers:
        conn.execute(f'drop trigger "{name}"')
    started = time.monotonic()
    step = SPAN / n
    t0 = END - SPAN
    for start in range(0, n, CHUNK):
        posts, observations, classes = [], [], []
        for i in range(start, min(n, start + CHUNK)):
            k = rng.randrange(len(texts))
            text, author = texts[k]
            brand = BRANDS[rng.randrange(len(BRANDS))]
            feed = FEEDS[rng.randrange(len(FEEDS))]
            weibo = feed.startswith("weibo")
            # Posts arrive roughly in time order, a few minutes late, some (back-filled) hours late.
            created = t0 + step * i + timedelta(seconds=rng.randrange(-120, 120))
            seen = created + timedelta(seconds=rng.randrange(30, 900 if rng.random() > 0.02 else 30_000))
            last = min(END, seen + timedelta(hours=rng.randrange(0, 48))) if rng.random() < 0.3 else seen
            posts.append(
                (
                    "weibo" if weibo else "rss",
                    f"{4_900_000_000_000_000 + i}",
                    f"{text} #{brand}{i % 997}#" if rng.random() < 0.5 else text,
                    norms[k],
                    f"https://weibo.com/{1_000_000 + i % 500_000}/{i:x}",
                    f"{author}{i % 5000}" if weibo else "新闻客户端",
                    int(rng.paretovariate(1.2) * 50),
                    int(rng.random() < 0.05),
                    (created.astimezone(BEIJING) if weibo else created).isoformat(),
                    seen.isoformat(),
                    last.isoformat(),
                    rng.randrange(30),
                    rng.randrange(30),
                    rng.randrange(300),
                    feed,
                    brand,
                )
            )
            observations.append(
                (posts[-1][0], posts[-1][1], seen.isoformat(), posts[-1][11], posts[-1][12], posts[-1][13])
            )
            if last != seen:
                observations.append((posts[-1][0], posts[-1][1], last.isoformat(), 50, 40, 400))
            roll = rng.random()
            sentiment = "negative" if roll < 0.3 else "neutral" if roll < 0.85 else "positive"
            p_neg = {"negative": 0.6 + roll, "neutral": 0.2, "positive": 0.05}[sentiment] % 1
            escalation = "high" if rng.random() < 0.04 else "medium" if rng.random() < 0.15 else "low"
            versions = MODELS if rng.random() < 0.2 else MODELS[:1]
            for v, version in enumerate(versions):
                classes.append(
                    (
                        posts[-1][0],
                        posts[-1][1],
                        version,
                        sentiment,
                        p_neg,
                        (1 - p_neg) * 0.7,
                        (1 - p_neg) * 0.3,
                        escalation,
                        rng.random(),
                        (seen + timedelta(seconds=1 + v * 86_400)).isoformat(),
                    )
                )
        with conn:
            conn.executemany(
                "insert into posts (source, id, text, text_norm, url, author, author_followers, author_verified,"
                " created_at, first_seen_at, last_seen_at, reposts, comments, likes, feed, brand, sort_at)"
                " values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, datetime(coalesce(?9, ?10)))",
                posts,
            )
            conn.executemany(
                "insert or ignore into observations (source, post_id, observed_at, reposts, comments, likes)"
                " values (?,?,?,?,?,?)",
                observations,
            )
            conn.executemany(
                "insert into classifications (source, post_id, model_version, sentiment, p_negative, p_neutral,"
                " p_positive, escalation, escalation_score, classified_at) values (?,?,?,?,?,?,?,?,?,?)",
                classes,
            )
        done = min(n, start + CHUNK)
        print(f"\r  {done:,} posts ({done / (time.monotonic() - started):,.0f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    with conn:
        conn.execute("insert into posts_fts(posts_fts) values ('rebuild')")
        for _, sql in triggers:
            conn.execute(sql)
    _incidents(conn, n, rng)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("analyze")
    conn.close()
    path.with_name(path.name + ".done").write_text(f"{n} {FORMAT}", encoding="utf-8")
    print(f"  built in {time.monotonic() - started:.0f}s", file=sys.stderr)


def _incidents(conn: sqlite3.Connection, n: int, rng: random.Random) -> None:
    """2,000 incidents spread over the span (the last 40 still open), each with a cluster of posts near its
    time, and one to four notifications each."""
    rows, members, alerts = [], [], []
    count = 2000
    for i in range(count):
        centre = int(n * (i + 0.5) / count) if i < count - 40 else n - 1 - rng.randrange(max(1, n // 400))
        size = rng.choice((20, 40, 80, 150, 400))
        ids = sorted({max(0, min(n - 1, centre - rng.randrange(size * 20))) for _ in range(size)})
        post_rows = conn.execute(
            f"select source, id, coalesce(created_at, first_seen_at), brand, feed from posts where id in "
            f"({','.join('?' * len(ids))})",
            [f"{4_900_000_000_000_000 + k}" for k in ids],
        ).fetchall()
        first, last = min(r[2] for r in post_rows), max(r[2] for r in post_rows)
        open_ = i >= count - 40
        status = ("new", "growing", "cooling")[i % 3] if open_ else "resolved"
        severity = ("watch", "warning", "critical", None)[i % 4]
        incident_id = f"inc-{i:05d}"
        rows.append(
            (
                incident_id,
                f"{post_rows[0][3]}冰箱门脱落第{i}起",
                post_rows[0][3],
                post_rows[0][4],
                status,
                severity,
                rng.random() * 10,
                first,
                last,
                last,
                len(post_rows),
                len(post_rows) - 3,
                rng.randrange(10**6),
                "多名用户反映冰箱门脱落",
                json.dumps(["12 小时内 40 位用户"], ensure_ascii=False),
            )
        )
        members += [(incident_id, r[0], r[1], r[2]) for r in post_rows]
        for a in range(rng.randrange(1, 5) if severity else 0):
            alerts.append(
                (
                    f"alert-{i:05d}-{a}",
                    incident_id,
                    severity,
                    "firing" if a < 3 else "resolved",
                    last,
                    rows[-1][1],
                    rows[-1][13],
                    json.dumps([r[1] for r in post_rows[:5]]),
                    rows[-1][14],
                    "pr-team",
                )
            )
    with conn:
        conn.executemany(
            "insert into incidents (id, title, brand, feed, status, severity, score, first_post_at, last_post_at,"
            " updated_at, n_posts, n_authors, reach, summary, reasons) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "insert or ignore into incident_posts (incident_id, source, post_id, added_at) values (?,?,?,?)",
            members,
        )
        conn.executemany(
            "insert into alerts (alert_id, incident_id, severity, status, fired_at, title, summary, post_ids,"
            " reasons, receiver) values (?,?,?,?,?,?,?,?,?,?)",
            alerts,
        )


def ensure_store(path: Path, n: int, rebuild: bool) -> None:
    from monitor.store import open_db

    marker = path.with_name(path.name + ".done")
    if (
        rebuild
        or not path.exists()
        or not marker.exists()
        or marker.read_text(encoding="utf-8") != f"{n} {FORMAT}"
    ):
        print(f"building a store of {n:,} posts at {path}", file=sys.stderr)
        build(path, n)
    started = time.monotonic()
    open_db(path).close()  # applies any new migration (indexes) to the cached store
    seconds = time.monotonic() - started
    if seconds > 1:
        print(f"  migrations applied to the cached store in {seconds:.1f}s", file=sys.stderr)


# -- the pages ---------------------------------------------------------------------------------------------------


def targets(client, headers: dict[str, str]) -> list[tuple[str, str, float]]:
    """(name, path, target seconds) of every page and API call timed."""
    incidents = client.get("/api/incidents", headers=headers).json()["incidents"]
    biggest = max(incidents, key=lambda row: row["n_posts"])["id"] if incidents else "inc-00000"
    page_one = client.get("/posts", headers=headers).text
    found = re.search(r'href="\?([^"]*)">下一页', page_one)
    page_two = "/posts?" + found.group(1).replace("&amp;", "&") if found else "/posts?page=2"
    api_one = client.get("/api/posts?limit=50", headers=headers).json()
    api_two = (
        f"/api/posts?limit=50&before={api_one['next']}"
        if api_one.get("next")
        else "/api/posts?limit=50&offset=50"
    )
    return [
        ("incidents list", "/incidents", PAGE_TARGET),
        ("incidents list, all", "/incidents?all=1", PAGE_TARGET),
        ("incident detail", f"/incidents/{biggest}", PAGE_TARGET),
        ("posts, newest", "/posts", PAGE_TARGET),
        ("posts, next page", page_two, PAGE_TARGET),
        ("posts, sentiment", "/posts?sentiment=negative", PAGE_TARGET),
        ("posts, rare filters", "/posts?sentiment=positive&escalation=high", PAGE_TARGET),
        ("posts, one feed", f"/posts?feed={FEEDS[-1]}", PAGE_TARGET),
        ("posts, one day", "/posts?since=2026-10-01&until=2026-10-01", PAGE_TARGET),
        ("search, common word", "/posts?q=冰箱门", SEARCH_TARGET),
        ("search, very common word", "/posts?q=西门子", SEARCH_TARGET),
        ("search, rare word", "/posts?q=冰箱门脱落第", SEARCH_TARGET),
        ("search, two words", "/posts?q=海尔 冰箱门", SEARCH_TARGET),
        ("search, 2 characters", "/posts?q=冰箱", SEARCH_TARGET),
        ("search + negative", "/posts?q=冰箱门&sentiment=negative", SEARCH_TARGET),
        ("alerts", "/alerts", PAGE_TARGET),
        ("feeds", "/feeds", PAGE_TARGET),
        ("metrics", "/metrics", PAGE_TARGET),
        ("labelling queue", "/labels", PAGE_TARGET),
        ("API incidents", "/api/incidents", PAGE_TARGET),
        ("API incident", f"/api/incidents/{biggest}", PAGE_TARGET),
        ("API posts", "/api/posts", PAGE_TARGET),
        ("API posts, next page", api_two, PAGE_TARGET),
        ("API posts, search", "/api/posts?q=冰箱门&limit=100", SEARCH_TARGET),
        ("API alerts", "/api/alerts", PAGE_TARGET),
        ("API feeds", "/api/feeds", PAGE_TARGET),
    ]


def measure(path: Path, repeat: int, only: str) -> list[dict]:
    from starlette.testclient import TestClient

    from monitor.config import load_config
    from monitor.web.app import create_app

    config_dir = Path(tempfile.mkdtemp(prefix="dashboard-scale-"))
    try:
        shutil.copytree(load_config().dir, config_dir, dirs_exist_ok=True)
        (config_dir / "monitor.toml").write_text(f'database = "{path}"\n', encoding="utf-8")
        feeds = "".join(f'[[feeds]]\nname = "{f}"\nkind = "demo"\n\n' for f in FEEDS)
        (config_dir / "feeds.toml").write_text(feeds, encoding="utf-8")
        try:
            config = load_config(config_dir)
        except Exception:  # noqa: BLE001 - a config without these feeds still times every page
            (config_dir / "feeds.toml").write_text("", encoding="utf-8")
            config = load_config(config_dir)
        app = create_app(config, path, environ={"TINGFENG_API_TOKEN": TOKEN})
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    out = []
    with TestClient(app, base_url="http://127.0.0.1:8642") as client:
        for name, url, target in targets(client, headers):
            if only and only not in name:
                continue
            started = time.perf_counter()
            answer = client.get(url, headers=headers)
            first = time.perf_counter() - started
            times = []
            for _ in range(repeat if first < 20 else 0):
                started = time.perf_counter()
                answer = client.get(url, headers=headers)
                times.append(time.perf_counter() - started)
            times = times or [first]
            row = {
                "name": name,
                "path": url if len(url) < 60 else url[:57] + "...",
                "status": answer.status_code,
                "first": first,
                "median": statistics.median(times),
                "p95": _p95(times),
                "target": target,
            }
            out.append(row)
            print(f"  {name}: {row['median'] * 1000:,.0f} ms", file=sys.stderr)
    return out


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def table(rows: list[dict], n: int, size: int) -> str:
    lines = [
        f"{n:,} posts, {size / 1e9:.2f} GB; times in ms (median and p95 of the repeats, first = the untimed first call)",
        "",
        "| page | path | status | median | p95 | first | target | met |",
        "|---|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for row in rows:
        met = "yes" if row["status"] == 200 and row["median"] <= row["target"] else "**no**"
        lines.append(
            f"| {row['name']} | `{row['path']}` | {row['status']} | {row['median'] * 1000:,.0f} | "
            f"{row['p95'] * 1000:,.0f} | {row['first'] * 1000:,.0f} | {row['target'] * 1000:,.0f} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts in the store (default 1,000,000)")
    parser.add_argument(
        "--db", type=Path, help="the store to build or reuse (default /tmp/tingfeng-dash-N.db)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per page (default 5)")
    parser.add_argument("--rebuild", action="store_true", help="build the store even if cached")
    parser.add_argument("--only", default="", help="time only pages whose name contains this")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    path = args.db or Path(tempfile.gettempdir()) / f"tingfeng-dash-{args.posts}.db"
    ensure_store(path, args.posts, args.rebuild)
    rows = measure(path, args.repeat, args.only)
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if not p.name.endswith(".done"))
    print(table(rows, args.posts, size))
    return 0 if all(r["status"] == 200 and r["median"] <= r["target"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
