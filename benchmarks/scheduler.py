"""Scheduler benchmark: 1,000 feeds against a local HTTP server for 10 minutes of simulated time.

APScheduler 3.x reads the time with ``datetime.now``; this script (and only this script) replaces the
``datetime`` its scheduler and executor modules see with a simulated clock, then drives the real scheduler's
``_process_jobs`` one simulated second at a time. Each due job really fetches over HTTP (the server runs in a
child process, so its CPU is not counted) and really stores its posts in SQLite, exactly as the daemon does.

Checked: no missed run (no misfire or max-instances event, no gap between runs longer than interval + jitter)
and no doubled run (no scheduled time executed twice; server hits == runs). Reported: fetches per second of
wall time, CPU seconds and peak memory, for the full fetch+store path and for the scheduler alone.

    python -m benchmarks.scheduler [--feeds 1000] [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import apscheduler.executors.base as executor_base
import apscheduler.schedulers.base as scheduler_base
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler

from monitor.feeds.config import FeedsConfig
from monitor.feeds.fetch import FetchContext
from monitor.feeds.http import HostLimits, HttpFetcher, build_client
from monitor.feeds.runner import FeedRunner, StoreOnly
from monitor.feeds.schedule import pace_for, trigger_for
from monitor.store import open_db

START = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
INTERVAL = 60
JITTER = 10


class SimClock(datetime):
    """``datetime`` whose ``now()`` is the simulated time (the subclass keeps everything else)."""

    current = START

    @classmethod
    def now(cls, tz=None):
        return cls.current.astimezone(tz) if tz else cls.current.replace(tzinfo=None)


class SimulatedScheduler(BaseScheduler):
    """A scheduler with no thread of its own: the benchmark calls ``_process_jobs`` after moving the clock."""

    def shutdown(self, wait=True):
        super().shutdown(wait)

    def wakeup(self):
        pass


def serve(port_queue) -> None:
    """The feeds' server (child process): each feed path answers a JSON page whose newest item changes."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one packet per reply: no 40 ms delayed-ACK stalls on keep-alive

        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            feed = self.path.split("?")[0].rsplit("/", 1)[-1]
            Handler.hits[feed] += 1
            n = Handler.hits[feed]
            items = [
                {"id": f"{feed}-{k}", "text": f"第{k}条：冰箱门又坏了，客服不理", "likes": n}
                for k in range(n, n + 3)
            ]
            body = json.dumps({"items": items}, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802  (the benchmark asks for the hit counts at the end)
            body = json.dumps(Handler.hits).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    Handler.hits = defaultdict(int)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def simulate(feeds: int, minutes: int, fetch: bool, base_url: str, db_path: Path) -> dict:
    """Run the scheduler over ``minutes`` simulated minutes; return figures and per-job run records."""
    config = FeedsConfig.model_validate(
        {
            "defaults": {"interval": INTERVAL, "jitter": JITTER, "adaptive": False, "misfire_grace_time": 30},
            "http": {"per_host_rate": 100_000, "per_host_concurrency": 8, "retries": 0},
            "feeds": [
                {
                    "name": f"f{i:04d}",
                    "kind": "json",
                    "url": f"{base_url}/feed/f{i:04d}",
                    "items": "items",
                    "fields": {"likes": "likes"},
                }
                for i in range(feeds)
            ],
        }
    )
    runner = None
    if fetch:
        settings = config.http
        http = HttpFetcher(build_client(settings), settings, limits=HostLimits(8, 100_000))
        context = FetchContext(http=http, config=config)
        runner = FeedRunner(config, context, StoreOnly(open_db(db_path)), clock=lambda: SimClock.current)

    scheduler = SimulatedScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(8)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    runs: dict[str, list[datetime]] = defaultdict(list)
    problems: list[str] = []
    pending = [0]
    done = threading.Condition()

    def on_event(event):
        with done:
            if event.code == EVENT_JOB_SUBMITTED:
                pending[0] += 1
                return
            if event.code in (EVENT_JOB_EXECUTED, EVENT_JOB_ERROR):
                pending[0] -= 1
                runs[event.job_id].append(event.scheduled_run_time)
                if event.code == EVENT_JOB_ERROR:
                    problems.append(f"{event.job_id}: {event.exception}")
            else:
                problems.append(
                    f"{event.job_id}: {'missed' if event.code == EVENT_JOB_MISSED else 'max instances'}"
                )
            done.notify_all()

    scheduler.add_listener(
        on_event,
        EVENT_JOB_SUBMITTED
        | EVENT_JOB_EXECUTED
        | EVENT_JOB_ERROR
        | EVENT_JOB_MISSED
        | EVENT_JOB_MAX_INSTANCES,
    )
    for index, feed in enumerate(config.feeds):
        rng = random.Random(index).random
        job = runner.run if fetch else (lambda name: None)
        scheduler.add_job(
            job, trigger_for(config, feed, pace_for(config, feed), rng=rng), args=[feed.name], id=feed.name
        )

    SimClock.current = START
    scheduler.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    end = START + timedelta(minutes=minutes)
    while SimClock.current < end:
        SimClock.current += timedelta(seconds=1)
        scheduler._process_jobs()
        with done:
            done.wait_for(lambda: pending[0] == 0, timeout=60)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    scheduler.shutdown(wait=True)
    return {"runs": runs, "problems": problems, "cpu": cpu, "wall": wall, "end": end}


def check(result: dict, feeds: int) -> tuple[int, int, int]:
    """(runs, doubled, missed) from the per-job scheduled run times."""
    doubled = missed = total = 0
    for name in (f"f{i:04d}" for i in range(feeds)):
        times = result["runs"].get(name, [])
        total += len(times)
        doubled += len(times) - len(set(times))
        ordered = sorted(set(times))
        if not ordered or (ordered[0] - START).total_seconds() > JITTER + 1:
            missed += 1
        gaps = [(b - a).total_seconds() for a, b in zip(ordered, ordered[1:], strict=False)]
        missed += sum(1 for gap in gaps if gap > INTERVAL + JITTER + 1)
        if ordered and (result["end"] - ordered[-1]).total_seconds() > INTERVAL + JITTER + 1:
            missed += 1
    return total, doubled, missed + len(result["problems"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=10)
    args = parser.parse_args(argv)

    scheduler_base.datetime = SimClock
    executor_base.datetime = SimClock

    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{queue.get(timeout=30)}"
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, fetch in (
                ("scheduler only (no-op jobs)", False),
                ("fetch + store (HTTP, SQLite)", True),
            ):
                result = simulate(args.feeds, args.minutes, fetch, base_url, Path(tmp) / "bench.db")
                rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                total, doubled, missed = check(result, args.feeds)
                rows.append(
                    (
                        label,
                        total,
                        result["wall"],
                        result["cpu"],
                        rss_after / 1024,
                        doubled,
                        missed,
                        result["problems"][:3],
                    )
                )
        import httpx

        hits = httpx.post(f"{base_url}/hits").json()
    finally:
        server.terminate()
    fetch_row = rows[-1]
    hit_total = sum(hits.values())
    print(
        f"\n{args.feeds} feeds, every {INTERVAL}s + up to {JITTER}s jitter, {args.minutes} simulated minutes, 8 workers\n"
    )
    print("| mode | runs | wall s | runs/s | CPU s | CPU ms/run | peak RSS MB | doubled | missed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, total, wall, cpu, rss, doubled, missed, _problems in rows:
        print(
            f"| {label} | {total:,} | {wall:.1f} | {total / wall:,.0f} | {cpu:.1f} | {1000 * cpu / max(total, 1):.2f} | {rss:.0f} | {doubled} | {missed} |"
        )
    print(
        f"\nserver saw {hit_total:,} fetches for {fetch_row[1]:,} fetch runs ({'equal' if hit_total == fetch_row[1] else 'MISMATCH'})"
    )
    for row in rows:
        for problem in row[7]:
            print(f"problem: {problem}")
    ok = all(row[5] == 0 and row[6] == 0 for row in rows) and hit_total == fetch_row[1]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
