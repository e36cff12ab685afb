"""Load: a database of millions of posts (written with plain SQL, full-text index included), the dashboard's
main pages over it, the pipeline's own ingest rate, and the memory of a long-lived pipeline over a simulated day.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sqlite3
import statistics
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.fault_suite.servers import WebhookReceiver
from benchmarks.fault_suite.tally import Tally
from benchmarks.fault_suite.workspace import (
    SECRETS,
    WEBHOOK_SECRET,
    integrity,
    scenario_lines,
    write_config,
    write_lines,
)
from monitor.scenarios import SCENARIOS

logger = logging.getLogger(__name__)
warnings.filterwarnings("ignore", message=".*starlette.testclient.*")

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=180)  # the generated posts span half a year
PAGE_LIMIT_SECONDS = 0.5  # a dashboard page slower than this (median) on the big database is a failed check
BRANDS = ("海尔", "美的", "格力", "西门子", "容声", "博世", "松下", "三星")


def run_family(
    work: Path, *, posts: int, day_posts: int, scenario: str, ingest_lines: int | None = None
) -> Tally:
    tally = Tally("load")
    os.environ.update(SECRETS)
    texts = _texts()
    db = work / "big.db"
    _generate(db, posts, texts, tally)
    _pages(work, db, tally)
    _ingest(work, db, scenario, ingest_lines, tally)
    _memory_day(work, day_posts, tally)
    return tally


def _texts() -> list[dict]:
    out = []
    for name in SCENARIOS:
        for line in scenario_lines(name):
            post = json.loads(line)
            out.append({"text": post["text"], "author": post.get("author") or "匿名"})
    return out


# -- a big database, written with SQL ---------------------------------------------------------------------------


def _generate(db: Path, n: int, texts: list[dict], tally: Tally) -> None:
    from monitor.normalize import normalize
    from monitor.store import open_db

    open_db(db).close()
    rng = random.Random(5)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    # Per-row trigram indexing through the triggers is ~10x slower than one rebuild at the end.
    triggers = conn.execute(
        "select name, sql from sqlite_master where type = 'trigger' and tbl_name = 'posts'"
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f'drop trigger "{name}"')
    norms = [normalize(t["text"]).text_norm for t in texts]
    started = time.monotonic()
    chunk = 50_000
    step = SPAN.total_seconds() / max(n, 1)
    for start in range(0, n, chunk):
        posts, classes = [], []
        for i in range(start, min(n, start + chunk)):
            k = rng.randrange(len(texts))
            created = (T0 + timedelta(seconds=i * step)).isoformat()
            brand = BRANDS[i % len(BRANDS)]
            text = f"{texts[k]['text']} #{brand}{i % 997}"
            posts.append(
                (
                    "load",
                    str(i),
                    text,
                    norms[k],
                    texts[k]["author"],
                    rng.randrange(100_000),
                    created,
                    created,
                    created,
                    rng.randrange(50),
                    rng.randrange(50),
                    rng.randrange(500),
                    f"feed-{i % 20}",
                    brand,
                )
            )
            negative = rng.random()
            classes.append(
                (
                    "load",
                    str(i),
                    "load-1",
                    "negative" if negative > 0.5 else "neutral",
                    negative,
                    (1 - negative) / 2,
                    (1 - negative) / 2,
                    ("low", "medium", "high")[i % 3],
                    rng.random(),
                    created,
                )
            )
        with conn:
            conn.executemany(
                "insert into posts (source, id, text, text_norm, author, author_followers, created_at, first_seen_at, "
                "last_seen_at, reposts, comments, likes, feed, brand, sort_at) "
                "values (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14, datetime(coalesce(?7, ?8)))",
                posts,
            )
            conn.executemany(
                "insert into classifications (source, post_id, model_version, sentiment, p_negative, p_neutral, "
                "p_positive, escalation, escalation_score, classified_at) values (?,?,?,?,?,?,?,?,?,?)",
                classes,
            )
        if start and start % 1_000_000 == 0:
            logger.info("load: %d posts written (%.0f/s)", start, start / (time.monotonic() - started))
    with conn:
        conn.execute("insert into posts_fts(posts_fts) values ('rebuild')")
        for _, sql in triggers:
            conn.execute(sql)
    seconds = time.monotonic() - started
    _incidents(conn, n, rng)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    tally.figures["posts in the database"] = f"{n:,} (+ one classification each, 2,000 incidents)"
    tally.figures["bulk write rate (SQL; FTS index rebuilt at the end)"] = (
        f"{n / seconds:,.0f} posts/s ({seconds:.0f}s)"
    )
    tally.figures["database file size"] = f"{size / 1e6:,.0f} MB ({size / max(n, 1):,.0f} bytes per post)"


def _incidents(conn: sqlite3.Connection, n: int, rng: random.Random) -> None:
    statuses = ("new", "growing", "cooling", "resolved")
    severities = ("watch", "warning", "critical", None)
    rows, members = [], []
    for i in range(2000):
        first = T0 + timedelta(hours=i * 2)
        last = first + timedelta(hours=rng.randrange(1, 72))
        rows.append(
            (
                f"inc-load-{i}",
                f"{BRANDS[i % 8]}冰箱门掉了第{i}起",
                BRANDS[i % 8],
                f"feed-{i % 20}",
                statuses[i % 4],
                severities[i % 4],
                rng.random() * 10,
                first.isoformat(),
                last.isoformat(),
                last.isoformat(),
                50,
                40,
                rng.randrange(10**6),
                "多名用户反映冰箱门脱落",
                json.dumps(["12 小时内 40 位用户"], ensure_ascii=False),
            )
        )
        for _ in range(50):
            members.append((f"inc-load-{i}", "load", str(rng.randrange(n)), last.isoformat()))
    with conn:
        conn.executemany(
            "insert into incidents (id, title, brand, feed, status, severity, score, first_post_at, last_post_at, "
            "updated_at, n_posts, n_authors, reach, summary, reasons) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "insert or ignore into incident_posts (incident_id, source, post_id, added_at) values (?,?,?,?)",
            members,
        )


def _pages(work: Path, db: Path, tally: Tally) -> None:
    from starlette.testclient import TestClient

    from monitor.config import load_config
    from monitor.web.app import create_app

    config = write_config(work / "config", db=db)
    app = create_app(load_config(config), db, environ=dict(SECRETS))
    headers = {"Authorization": f"Bearer {SECRETS['TINGFENG_API_TOKEN']}"}
    pages = {
        "incidents list": "/incidents",
        "incident detail": "/incidents/inc-load-1",
        "posts, newest": "/posts",
        "posts search, FTS (3+ characters)": "/posts?q=冰箱门",
        "posts search, 2 characters": "/posts?q=冰箱",
        "posts search with filters": "/posts?q=冰箱门&sentiment=negative&escalation=high",
        "API incidents": "/api/incidents",
    }
    with TestClient(app) as client:
        for name, path in pages.items():
            times, status = [], 0
            for _ in range(3):
                started = time.perf_counter()
                answer = client.get(path, headers=headers)
                times.append(time.perf_counter() - started)
                status = answer.status_code
                if times[-1] > 10:  # slow enough to tell: do not spend minutes repeating it
                    break
            median = statistics.median(times)
            tally.figures[f"page: {name} ({path})"] = (
                f"median {median * 1000:,.0f} ms, max {max(times) * 1000:,.0f} ms"
            )
            tally.check(status == 200, f"page {path} answered {status} on the big database")
            tally.check(
                median <= PAGE_LIMIT_SECONDS,
                f"page {path}: median {median:.1f}s on {db.stat().st_size / 1e6:,.0f} MB, over {PAGE_LIMIT_SECONDS}s",
            )
    tally.trials += 1


# -- the pipeline's own rate ------------------------------------------------------------------------------------


def _ingest(work: Path, big: Path, scenario: str, lines: int | None, tally: Tally) -> None:
    from monitor.replay import replay

    config = write_config(work / "ingest-config", db=work / "unused.db")
    # Into the big database only the first 300 posts: enough for a rate, and it is slow (see the findings).
    for label, db, count in (("a fresh database", work / "fresh.db", lines), ("the big database", big, 300)):
        source = write_lines(work / f"{scenario}-{db.stem}.jsonl", scenario_lines(scenario, count))
        started = time.perf_counter()
        report = replay(source, db, work / f"{db.stem}.alerts.jsonl", config_dir=config)
        seconds = time.perf_counter() - started
        tally.figures[f"pipeline ingest ({scenario}, {report.observations:,} observations) into {label}"] = (
            f"{report.observations / seconds:,.0f} observations/s ({report.observations:,} in {seconds:.1f}s)"
        )
    tally.check(integrity(big) == "ok", f"big database: integrity {integrity(big)}")
    tally.trials += 1


# -- memory over a simulated day --------------------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _memory_day(work: Path, n: int, tally: Tally) -> None:
    """A long-lived pipeline takes a day of posts (every scenario's texts, fresh ids, spread over 24 hours),
    ticks every simulated minute and delivers every five; RSS is sampled each simulated hour."""
    import httpx

    from monitor.pipeline import Pipeline
    from monitor.post import Post

    lines = [json.loads(line) for name in SCENARIOS for line in scenario_lines(name)]
    start = datetime(2026, 2, 1, tzinfo=UTC)
    step = timedelta(days=1) / n
    with WebhookReceiver(WEBHOOK_SECRET) as receiver, httpx.Client() as http:
        db = work / "day.db"
        pipe = Pipeline.open(write_config(work / "day-config", db=db, webhook_url=receiver.url("/hook")), db)
        samples: dict[int, float] = {}
        batch: list[Post] = []
        clock = start
        next_minute = start + timedelta(minutes=1)
        for i in range(n):
            data = dict(lines[i % len(lines)])
            data.pop("observed_at", None)
            data["id"] = f"day-{i}"
            clock = start + step * i
            data["created_at"] = clock.isoformat()
            batch.append(Post.from_dict(data))
            if len(batch) >= 200 or i == n - 1:
                pipe.process(batch)
                batch = []
            while clock >= next_minute:
                pipe.tick(next_minute)
                if next_minute.minute % 5 == 0:
                    pipe.deliver(next_minute, http=http)
                hour = int((next_minute - start).total_seconds() // 3600)
                if next_minute.minute == 0:
                    samples[hour] = _rss_mb()
                next_minute += timedelta(minutes=1)
        samples[24] = _rss_mb()
        pipe.db.close()
    early = samples.get(6, samples[min(samples)])
    late = samples[24]
    tally.figures["pipeline memory over a simulated day"] = (
        f"{n:,} posts; RSS at hour 1: {samples.get(1, 0):.0f} MB, 6: {early:.0f} MB, 12: {samples.get(12, 0):.0f} MB, "
        f"24: {late:.0f} MB; {len(receiver.keys)} messages delivered"
    )
    tally.check(
        late - early <= max(30.0, 0.15 * early),
        f"memory not flat: {early:.0f} MB at hour 6, {late:.0f} MB at hour 24",
    )
    tally.trials += 1
