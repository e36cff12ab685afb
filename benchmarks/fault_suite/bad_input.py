"""Bad input, property-based (hypothesis): posts of any shape, feed bodies of any bytes, deep JSON, XML and
gzip bombs. Every input must end in a result or our own clear error (``InputError`` / ``FetchError`` / a push
rejection), never another exception; and what was accepted must still flow through the pipeline.
"""

from __future__ import annotations

import gzip
import json
import logging
import resource
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fault_suite.servers import LocalServer, Reply
from benchmarks.fault_suite.tally import Tally
from benchmarks.fault_suite.workspace import integrity, monitor_command, rows, run, tail, write_config
from monitor.post import CONTRACT_FIELDS

logger = logging.getLogger(__name__)

FIELDS = CONTRACT_FIELDS  # id and text first, then the optional fields
# Any code point, lone surrogates and controls included: JSON's \\uXXXX escapes can carry all of them.
ANY_CHAR = st.characters() | st.characters(categories=["Cs"]) | st.sampled_from("\x00\x1b\u2028\ufeff\u202e")
ANY_TEXT = st.text(ANY_CHAR, max_size=60)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    ANY_TEXT,
    st.sampled_from(["2024-06-01T08:00:00+08:00", "2024-06-01", "not a time", "", "-1", "1e309"]),
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)
POST_DICTS = st.dictionaries(
    st.sampled_from(FIELDS) | ANY_TEXT, JSONISH, max_size=10
) | st.fixed_dictionaries(
    {"id": st.text(ANY_CHAR, min_size=1, max_size=20) | st.integers(), "text": ANY_TEXT},
    optional={name: JSONISH for name in FIELDS[2:]},
)


# Posts of the right types whose strings hold any code point and whose numbers are any size.
VALID_POSTS = st.fixed_dictionaries(
    {
        "id": st.text(ANY_CHAR, min_size=1, max_size=20).filter(str.strip),
        "text": st.text(ANY_CHAR, max_size=300),
    },
    optional={
        "source": st.text(ANY_CHAR, min_size=1, max_size=10),
        "url": ANY_TEXT,
        "author": ANY_TEXT,
        "author_followers": st.integers(min_value=0),
        "author_verified": st.booleans(),
        "created_at": st.datetimes(timezones=st.just(UTC) | st.none()).map(lambda d: d.isoformat()),
        "reposts": st.integers(min_value=0),
        "likes": st.integers(min_value=0, max_value=2**70),
        "brand": ANY_TEXT,
    },
)


class Counted:
    """Counts one kind of bad input: ``attempt(fn)`` is handled when ``fn`` returns or raises an allowed error."""

    def __init__(self, tally: Tally, name: str, allowed: tuple[type[BaseException], ...]) -> None:
        self.tally, self.name, self.allowed = tally, name, allowed
        self.tried = self.handled = 0
        self.examples: list[str] = []

    def attempt(self, fn: Callable[[], Any], sample: Any = None) -> Any:
        self.tried += 1
        self.tally.bad_tried += 1
        try:
            result = fn()
        except self.allowed as exc:
            if not str(exc).strip():
                self._unhandled(f"an error without a message ({type(exc).__name__})", sample)
                return None
            self.handled += 1
            self.tally.bad_handled += 1
            return None
        except Exception as exc:  # noqa: BLE001 - anything else is what we are looking for
            self._unhandled(f"{type(exc).__name__}: {str(exc)[:160]}", sample)
            return None
        self.handled += 1
        self.tally.bad_handled += 1
        return result

    def _unhandled(self, what: str, sample: Any) -> None:
        if len(self.examples) < 3:
            self.examples.append(f"{what} on {repr(sample)[:120]}")

    def report(self) -> None:
        self.tally.figures[self.name] = f"{self.handled}/{self.tried} handled"
        self.tally.check(
            self.handled == self.tried,
            f"{self.name}: {self.tried - self.handled} inputs escaped as other exceptions, e.g. {self.examples}",
        )


def _hypothesis(examples: int, seed: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def run_family(work: Path, *, examples: int, seed: int) -> Tally:
    tally = Tally("bad input")
    accepted = _posts(work, tally, examples, seed)
    _through_pipeline(work, tally, accepted)
    _jsonl_and_cli(work, tally, examples, seed)
    _feed_bodies(tally, examples, seed)
    _deep_json(tally)
    _xml_bombs(tally)
    _gzip_bombs(tally)
    return tally


# -- posts --------------------------------------------------------------------------------------------------


def _posts(work: Path, tally: Tally, examples: int, seed: int) -> list:
    from monitor.errors import InputError
    from monitor.post import MAX_TEXT_CHARS, Post

    counted = Counted(tally, "Post.from_dict on arbitrary objects", (InputError,))
    accepted: list = []

    @_hypothesis(examples, seed)
    @given(VALID_POSTS | POST_DICTS | JSONISH)
    def prop(data):
        post = counted.attempt(lambda: Post.from_dict(data), data)
        if post is not None:
            accepted.append(post)

    prop()
    huge = {"id": "huge", "text": "长" * (MAX_TEXT_CHARS + 1)}
    counted.attempt(lambda: Post.from_dict(huge), "100,001 characters")
    edge = Post.from_dict({"id": "edge", "text": "冰箱门掉了" * (MAX_TEXT_CHARS // 5)})
    accepted.append(edge)
    controls = "".join(chr(c) for c in range(32)) + "\u2028\u2029\ufeff\u200b\u202e"
    accepted.append(Post.from_dict({"id": "controls", "text": "海尔冰箱" + controls + "门掉了"}))
    counted.report()
    return accepted


def _through_pipeline(work: Path, tally: Tally, posts: list) -> None:
    """Everything ``Post.from_dict`` accepted must be storable: store, classify, detect in one batch each."""
    from monitor.pipeline import Pipeline

    db = work / "accepted.db"
    pipe = Pipeline.open(write_config(work / "config", db=db), db)
    counted = Counted(tally, "accepted posts through the pipeline", ())
    failed = []
    for post in posts:
        if counted.attempt(lambda p=post: pipe.process([p]), post.to_dict()) is None:
            failed.append(post)
    pipe.db.close()
    counted.report()
    stored = {row[0] for row in rows(db, "select source || '\x1f' || id from posts")}
    missing = {f"{p.source}\x1f{p.id}" for p in posts if p not in failed} - stored
    tally.posts_lost += len(missing)
    tally.check(integrity(db) == "ok", f"accepted posts: integrity {integrity(db)}")


def _jsonl_and_cli(work: Path, tally: Tally, examples: int, seed: int) -> None:
    """Files of random lines: every line is a post or a reported skip; the replay CLI says so, no traceback."""
    from monitor.cli import EXIT_SKIPPED
    from monitor.errors import InputError
    from monitor.jsonl import ReadReport, read_posts

    line = st.one_of(
        st.binary(max_size=80),
        POST_DICTS.map(
            lambda d: json.dumps(d, ensure_ascii=bool(d) and len(d) % 2 == 0).encode("utf-8", "surrogatepass")
        ),
        st.just(b'{"id": "1", "text": "\xe5\x86'),  # cut inside a character
        st.just(b'{"id": 1, "text": "ok"'),
    )
    counted = Counted(tally, "read_posts on files of random lines", (InputError,))
    every: list[bytes] = []

    @_hypothesis(examples, seed)
    @given(st.lists(line, max_size=8))
    def prop(lines):
        clean = [raw.replace(b"\n", b" ").replace(b"\r", b" ") for raw in lines]
        every.extend(clean)
        path = work / "lines.jsonl"
        path.write_bytes(b"\n".join(clean) + b"\n")

        def read():
            report = ReadReport()
            got = list(read_posts(path, report))
            nonblank = sum(1 for raw in clean if raw.strip())
            if len(got) + len(report.skipped) != nonblank:
                raise AssertionError(f"{len(got)} posts + {len(report.skipped)} skips != {nonblank} lines")
            return got

        counted.attempt(read, lines)

    prop()
    counted.report()
    path = work / "mixed.jsonl"
    path.write_bytes(
        b"\n".join(every)
        + b"\n"
        + b'{"id": "last", "text": "\xe6\x9c\x80\xe5\x90\x8e\xe4\xb8\x80\xe6\x9d\xa1"}\n'
    )
    log = work / "replay.log"
    config = write_config(work / "cli-config", db=work / "cli.db")
    status = run(
        monitor_command(
            "replay",
            str(path),
            "--db",
            str(work / "cli.db"),
            "--alerts",
            str(work / "cli.jsonl"),
            "--config",
            str(config),
        ),
        log,
    )
    text = log.read_text(encoding="utf-8", errors="replace")
    tally.bad_tried += 1
    ok = (
        status in (0, EXIT_SKIPPED)
        and "Traceback" not in text
        and rows(work / "cli.db", "select 1 from posts where id = 'last'")
    )
    tally.bad_handled += bool(ok)
    tally.check(
        bool(ok), f"replay CLI over {len(every)} random lines: exit {status}, ends with: {tail(log, 2)}"
    )


# -- feed bodies ------------------------------------------------------------------------------------------------


def _response(body: bytes, content_type: str):
    from monitor.feeds.http import Response

    return Response("http://127.0.0.1/feed", 200, httpx.Headers({"content-type": content_type}), body)


def _parsers() -> dict[str, Callable[[bytes], Any]]:
    from datetime import UTC, datetime

    from monitor.feeds.config import FieldMap
    from monitor.feeds.jsonapi import decode_json, item_to_post, lookup
    from monitor.feeds.push import parse_body
    from monitor.feeds.rss import parse_feed
    from monitor.feeds.weibo import decode_api, extract_mblogs, mblog_to_post

    now = datetime(2026, 3, 2, tzinfo=UTC)

    def rss(body):
        return parse_feed(_response(body, "application/rss+xml"), source="rss", now=now)

    def json_api(body):
        data, _ = decode_json(_response(body, "application/json"))
        items = lookup(data, "data.items") or []
        return [
            item_to_post(item, FieldMap(), source="json", now=now)
            for item in (items if isinstance(items, list) else [])
        ]

    def weibo(body):
        data, _ = decode_api(_response(body, "application/json"))
        return [mblog_to_post(m, now) for m in extract_mblogs(data)]

    def push(body):
        accepted, rejected = parse_body(body, "push")
        return accepted

    return {"rss": rss, "json": json_api, "weibo": weibo, "push": push}


def _feed_bodies(tally: Tally, examples: int, seed: int) -> None:
    from monitor.errors import FeedError

    parsers = _parsers()
    bodies = st.one_of(
        st.binary(max_size=400),
        JSONISH.map(lambda v: json.dumps(v).encode()),
        st.builds(lambda v: json.dumps({"ok": 1, "data": {"items": v, "cards": v}}).encode(), JSONISH),
        st.sampled_from(
            [
                b"<html><body>\xe8\xaf\xb7\xe7\x99\xbb\xe5\xbd\x95 login</body></html>",
                b"<rss><channel><item>",
                b"\xff\xfe<\x00r\x00",
            ]
        ),
    )
    for name, parse in parsers.items():
        counted = Counted(tally, f"{name} feed bodies of random bytes", (FeedError,))

        _feed_property(bodies, parse, counted, examples, seed)()
        counted.report()


def _feed_property(bodies, parse, counted, examples, seed):
    @_hypothesis(examples, seed)
    @given(bodies)
    def prop(body):
        counted.attempt(lambda: parse(body), body)

    return prop


def _deep_json(tally: Tally) -> None:
    from monitor.errors import FeedError, InputError
    from monitor.jsonl import ReadReport, read_posts

    parsers = _parsers()
    for depth in (1_000, 100_000):
        body = b"[" * depth + b"]" * depth
        nested = b'{"id": "d", "text": "x", "extra": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"
        for name in ("json", "weibo", "push"):
            counted = Counted(tally, f"{name}: JSON nested {depth:,} deep", (FeedError,))
            counted.attempt(
                lambda p=parsers[name], b=(nested if name == "push" else body): p(b), f"depth {depth}"
            )
            counted.report()
        counted = Counted(tally, f"read_posts: a line nested {depth:,} deep", (InputError,))
        path = Path(f"/tmp/tingfeng-faults-deep-{depth}.jsonl")
        path.write_bytes(nested + b"\n")
        try:
            counted.attempt(lambda p=path: list(read_posts(p, ReadReport())), f"depth {depth}")
        finally:
            path.unlink()
        counted.report()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>bomb</title><item><guid>b1</guid><title>&lol9;</title>'
    b"<description>&lol9;</description></item></channel></rss>"
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<rss version="2.0"><channel><title>x</title><item><guid>x1</guid><title>t</title>'
    b"<description>&xxe;</description></item></channel></rss>"
)
QUADRATIC = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "' + b"x" * 50_000 + b'">]>\n'
    b'<rss version="2.0"><channel><title>q</title><item><guid>q1</guid><title>t</title><description>'
    + b"&a;" * 20_000
    + b"</description></item></channel></rss>"
)


def _xml_bombs(tally: Tally) -> None:
    """feedparser must refuse (or leave unexpanded) entities: bounded time, memory and text."""
    from monitor.errors import FeedError

    parse = _parsers()["rss"]
    for name, body in (
        ("billion laughs", BILLION_LAUGHS),
        ("quadratic blowup", QUADRATIC),
        ("external entity", XXE),
    ):
        counted = Counted(tally, f"RSS {name}", (FeedError,))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        result = counted.attempt(lambda b=body: parse(b), name)
        seconds = time.monotonic() - started
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        text = "" if result is None else " ".join(p.text for p in result[0])
        counted.report()
        tally.figures[f"RSS {name}"] = (
            f"{'refused (FeedError)' if result is None else f'{len(result[0])} post(s), {len(text):,} characters'}"
            f" in {seconds:.2f}s, peak memory +{grown:.0f} MB"
        )
        tally.check(
            len(text) < 1_000_000 and seconds < 10 and grown < 200,
            f"RSS {name}: expanded ({tally.figures[f'RSS {name}']})",
        )
        tally.check("root:" not in text, "RSS external entity: /etc/passwd was read into a post")


def _gzip_bombs(tally: Tally) -> None:
    """A 1 GB body gzipped to about 1 MB: the fetcher's max size must hold on the decompressed bytes."""
    from monitor.feeds.config import HttpSettings
    from monitor.feeds.http import FetchError, HttpFetcher, build_client

    size = 1 << 30
    chunk = gzip.compress(b"\0" * (1 << 24), compresslevel=9)  # 16 MB of zeros
    bomb = b"".join([chunk] * (size >> 24))  # concatenated gzip members decode as one stream
    with LocalServer(
        lambda hit: Reply(200, bomb, {"Content-Encoding": "gzip", "Content-Type": "application/json"})
    ) as server:
        settings_ = HttpSettings(max_bytes=5_000_000, retries=0)
        fetcher = HttpFetcher(build_client(settings_), settings_, sleep=lambda s: None)
        counted = Counted(tally, "gzip bomb (1 GB in %.1f MB)" % (len(bomb) / 1e6), (FetchError,))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        got = counted.attempt(lambda: fetcher.get(server.url("/bomb")), "gzip bomb")
        seconds = time.monotonic() - started
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        fetcher.client.close()
        counted.report()
        tally.figures["gzip bomb"] = f"stopped after {seconds:.2f}s, peak memory +{grown:.0f} MB"
        tally.check(
            got is None and grown < 100, f"gzip bomb: read {'all' if got else 'part'}, memory +{grown:.0f} MB"
        )
