"""The HTTP layer against a real local server: retries, backoff, Retry-After, size limits, conditional GETs."""

from __future__ import annotations

import threading

import httpx
import pytest
from fixtures.feeds.server import FixtureServer, Reply, closed_port

from monitor.feeds.config import HttpSettings
from monitor.feeds.http import FetchError, HostLimits, HttpFetcher, build_client, parse_retry_after


@pytest.fixture
def server():
    s = FixtureServer()
    yield s
    s.close()


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_fetcher(**overrides) -> tuple[HttpFetcher, Sleeps]:
    settings = HttpSettings(
        **{
            "timeout": 0.5,
            "connect_timeout": 0.5,
            "retries": 2,
            "backoff": 1.0,
            "per_host_rate": 1000.0,
            **overrides,
        }
    )
    sleeps = Sleeps()
    fetcher = HttpFetcher(
        build_client(settings),
        settings,
        limits=HostLimits(settings.per_host_concurrency, settings.per_host_rate, sleep=lambda s: None),
        sleep=sleeps,
        rng=lambda: 0.5,
    )
    return fetcher, sleeps


def test_sends_a_clear_user_agent(server):
    server.routes["/a"] = Reply(body=b"{}")
    fetcher, _ = make_fetcher()
    fetcher.get(server.url("/a"))
    assert server.hits[0].headers["user-agent"].startswith("Tingfeng/")


def test_500s_are_retried_with_growing_backoff_then_succeed(server):
    server.routes["/a"] = [Reply(500), Reply(502), Reply(body=b'{"ok":1}')]
    fetcher, sleeps = make_fetcher()
    response = fetcher.get(server.url("/a"))
    assert response.body == b'{"ok":1}'
    assert response.attempts == 3
    # equal jitter with rng=0.5: 3/4 of 1s then of 2s
    assert sleeps == [0.75, 1.5]


def test_persistent_500s_fail_with_reason_after_the_retries(server):
    server.routes["/a"] = Reply(503, b"busy", "text/plain")
    fetcher, sleeps = make_fetcher(retries=3)
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/a"), feed="f")
    assert caught.value.reason == "server_error"
    assert caught.value.status == 503
    assert len(server.hits) == 4 and len(sleeps) == 3


def test_429_with_retry_after_waits_what_the_server_asks(server):
    server.routes["/a"] = [Reply(429, headers={"Retry-After": "7"}), Reply(body=b"{}")]
    fetcher, sleeps = make_fetcher()
    fetcher.get(server.url("/a"))
    assert sleeps == [7.0]


def test_429_without_retry_after_backs_off_exponentially(server):
    server.routes["/a"] = [Reply(429), Reply(429), Reply(body=b"{}")]
    fetcher, sleeps = make_fetcher()
    fetcher.get(server.url("/a"))
    assert sleeps == [0.75, 1.5]


def test_a_long_retry_after_ends_the_run_and_is_reported(server):
    server.routes["/a"] = Reply(429, headers={"Retry-After": "3600"})
    fetcher, sleeps = make_fetcher()
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/a"))
    assert caught.value.reason == "rate_limited"
    assert caught.value.retry_after == 3600
    assert sleeps == [] and len(server.hits) == 1


def test_retry_after_as_an_http_date():
    from datetime import UTC, datetime

    now = datetime(2025, 11, 23, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 23 Nov 2025 08:02:00 GMT", now) == 120
    assert parse_retry_after("soon", now) is None


def test_timeouts_are_retried_then_reported(server):
    server.routes["/slow"] = Reply(body=b"{}", delay=1.5)
    fetcher, sleeps = make_fetcher(timeout=0.2, retries=1)
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/slow"))
    assert caught.value.reason == "timeout"
    assert len(sleeps) == 1


def test_connection_refused_is_reported_as_connection():
    fetcher, sleeps = make_fetcher(retries=1)
    with pytest.raises(FetchError) as caught:
        fetcher.get(f"http://127.0.0.1:{closed_port()}/feed")
    assert caught.value.reason == "connection"
    assert "cannot connect" in str(caught.value)
    assert len(sleeps) == 1


def test_a_truncated_body_is_retried_and_reported(server):
    server.routes["/a"] = Reply(body=b'{"ok":1,"data":{"cards":[', truncate=True)
    fetcher, sleeps = make_fetcher(retries=1)
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/a"))
    assert caught.value.reason == "truncated"
    assert len(server.hits) == 2


def test_a_50_mb_body_is_cut_off_while_streaming(server):
    server.routes["/big"] = Reply(body=b"", stream_bytes=50 * 1024 * 1024, content_length=False)
    fetcher, _ = make_fetcher(max_bytes=1_000_000, timeout=5)
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/big"))
    assert caught.value.reason == "too_large"
    assert "1,000,000-byte limit" in str(caught.value)


def test_a_declared_50_mb_body_is_refused_before_reading(server):
    server.routes["/big"] = Reply(headers={"Content-Length": str(50 * 1024 * 1024)}, content_length=False)
    fetcher, _ = make_fetcher(max_bytes=1_000_000)
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/big"))
    assert caught.value.reason == "too_large"
    assert "52,428,800 bytes" in str(caught.value)


def test_conditional_get_sends_validators_and_sees_304(server):
    def answer(hit):
        if hit.headers.get("if-none-match") == '"v1"':
            return Reply(304, content_type=None)
        return Reply(
            body=b"<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Sun, 23 Nov 2025 04:10:12 GMT"}
        )

    server.routes["/feed"] = answer
    fetcher, _ = make_fetcher()
    first = fetcher.get(server.url("/feed"))
    assert first.etag == '"v1"' and first.last_modified
    second = fetcher.get(server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified
    assert server.hits[1].headers["if-modified-since"] == "Sun, 23 Nov 2025 04:10:12 GMT"


def test_blocked_statuses_are_not_hammered(server):
    for status in (418, 432, 403):
        server.routes[f"/{status}"] = Reply(status, b"", "text/html")
    fetcher, sleeps = make_fetcher()
    for status in (418, 432, 403):
        with pytest.raises(FetchError) as caught:
            fetcher.get(server.url(f"/{status}"))
        assert caught.value.reason == "blocked" and caught.value.status == status
    assert sleeps == [] and len(server.hits) == 3


def test_invalid_utf8_is_replaced_and_flagged():
    from monitor.feeds.http import Response

    response = Response(
        "http://x",
        200,
        httpx.Headers({"content-type": "application/json"}),
        '{"t":"坏'.encode() + b"\xff\xfe" + b'"}',
    )
    text, replaced = response.text()
    assert replaced and text.startswith('{"t":"坏') and "\ufffd" in text


def test_per_host_rate_spaces_requests():
    clock = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(round(seconds, 3))
        clock[0] += seconds

    limits = HostLimits(concurrency=1, rate=2.0, monotonic=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        with limits.slot("http://weibo.example/a"):
            pass
    with limits.slot("http://other.example/a"):
        pass
    assert waits == [0.5, 0.5]


def test_per_host_concurrency_is_capped(server):
    server.routes["/slow"] = Reply(body=b"{}", delay=0.2)
    for cap in (1, 3):
        server.peak = 0
        fetcher, _ = make_fetcher(per_host_concurrency=cap, timeout=5)
        threads = [threading.Thread(target=fetcher.get, args=(server.url("/slow"),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert server.peak == cap


def test_proxy_from_config_is_used(server):
    # The fixture server plays the proxy: an absolute-URI request arrives at it.
    server.routes["/via-proxy"] = Reply(body=b"{}")
    settings = HttpSettings(proxy=server.url(""), timeout=2)
    client = build_client(settings)
    response = client.get("http://feeds.example.invalid/via-proxy")
    assert response.status_code == 200
    assert server.hits[-1].path == "/via-proxy"


def test_proxy_with_credentials_must_come_from_the_environment():
    with pytest.raises(ValueError, match="proxy_env"):
        HttpSettings(proxy="http://user:secret@proxy.example:3128")
