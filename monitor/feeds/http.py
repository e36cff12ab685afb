"""The HTTP layer every network feed fetches through.

One ``HttpFetcher`` wraps one ``httpx.Client`` and adds what a months-long monitor needs: retries with
exponential backoff and jitter on timeouts, dropped connections, 5xx and 429 (honouring ``Retry-After``),
conditional requests (ETag / Last-Modified), per-host concurrency and rate limits shared by all feeds, and a
maximum response size enforced while streaming. Every failure is a ``FetchError`` whose ``reason`` is one
short word that feed health and the logs show.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitor.errors import FeedError
from monitor.feeds.config import HttpSettings

logger = logging.getLogger(__name__)

# Statuses Weibo and other platforms answer with when they throttle or block a client: retrying at once
# only deepens the block, so the run ends and the feed backs off instead.
BLOCKED_STATUSES = {403, 418, 432}


class FetchError(FeedError):
    """A fetch failed; ``reason`` is a short word for health and logs, ``retry_after`` a server's wish."""

    def __init__(
        self,
        message: str,
        *,
        feed: str | None = None,
        reason: str = "error",
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, feed=feed, reason=reason)
        self.status = status
        self.retry_after = retry_after


@dataclass(slots=True)
class Response:
    """A fully read response (or a 304): what parsers get."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""
    elapsed: float = 0.0
    attempts: int = 1

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    def text(self) -> tuple[str, bool]:
        """The body as text in its declared charset (default UTF-8), and whether bad bytes were replaced."""
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.body.decode(charset), False
        except LookupError:
            charset = "utf-8"
        except UnicodeDecodeError:
            pass
        return self.body.decode(charset, errors="replace"), True


@dataclass
class HostLimits:
    """Per-host concurrency and spacing between requests, shared by every feed of the process."""

    concurrency: int = 2
    rate: float = 2.0  # requests per second
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _hosts: dict[str, tuple[threading.BoundedSemaphore, list[float]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = (threading.BoundedSemaphore(self.concurrency), [0.0])
            semaphore, next_free = self._hosts[host]
        with semaphore:
            with self._lock:
                now = self.monotonic()
                start = max(now, next_free[0])
                next_free[0] = start + 1.0 / self.rate
            if start > now:
                self.sleep(start - now)
            yield


def build_client(settings: HttpSettings) -> httpx.Client:
    """An ``httpx.Client`` with the configured timeouts, User-Agent and proxy."""
    proxy = settings.proxy
    if settings.proxy_env:
        proxy = os.environ.get(settings.proxy_env) or proxy
    return httpx.Client(
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        proxy=proxy,
        follow_redirects=True,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


class HttpFetcher:
    """GETs with retries, backoff, conditional requests, host limits and a size cap."""

    def __init__(
        self,
        client: httpx.Client,
        settings: HttpSettings | None = None,
        *,
        limits: HostLimits | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.settings = settings or HttpSettings()
        self.limits = limits or HostLimits(self.settings.per_host_concurrency, self.settings.per_host_rate)
        self.sleep = sleep
        self.rng = rng

    def get(
        self,
        url: str,
        *,
        feed: str | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """Fetch ``url``; a 304 comes back as a ``Response`` with ``not_modified`` set."""
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        attempts = self.settings.retries + 1
        started = time.monotonic()
        for attempt in range(attempts):
            try:
                response = self._once(url, feed, params, request_headers)
                response.attempts = attempt + 1
                response.elapsed = time.monotonic() - started
                return response
            except FetchError as exc:
                retryable = exc.reason in {
                    "timeout",
                    "connection",
                    "truncated",
                    "server_error",
                    "rate_limited",
                }
                if not retryable or attempt == attempts - 1:
                    raise
                delay = self.backoff(attempt)
                if exc.retry_after is not None:
                    if exc.retry_after > self.settings.retry_after_max:
                        raise  # the feed waits it out on its schedule rather than holding a worker
                    delay = max(delay, exc.retry_after)
                logger.info(
                    "%s: %s; retry %d/%d in %.1fs", feed or url, exc, attempt + 1, attempts - 1, delay
                )
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, capped at ``backoff_max``."""
        ceiling = min(self.settings.backoff_max, self.settings.backoff * 2**attempt)
        return ceiling / 2 + self.rng() * ceiling / 2

    def _once(self, url: str, feed: str | None, params, headers) -> Response:
        limit = self.settings.max_bytes
        try:
            with self.limits.slot(url), self.client.stream("GET", url, params=params, headers=headers) as r:
                status = r.status_code
                if status == 304:
                    return Response(str(r.url), status, r.headers)
                if status == 429 or status >= 500:
                    reason = "rate_limited" if status == 429 else "server_error"
                    raise FetchError(
                        f"HTTP {status} from {_host(url)}",
                        feed=feed,
                        reason=reason,
                        status=status,
                        retry_after=parse_retry_after(r.headers.get("retry-after")),
                    )
                if status in BLOCKED_STATUSES:
                    raise FetchError(
                        f"HTTP {status} from {_host(url)}: blocked or throttled by the site",
                        feed=feed,
                        reason="blocked",
                        status=status,
                        retry_after=parse_retry_after(r.headers.get("retry-after")),
                    )
                if status == 401:
                    raise FetchError(
                        f"HTTP 401 from {_host(url)}: credentials refused",
                        feed=feed,
                        reason="auth",
                        status=status,
                    )
                if status >= 400:
                    reason = "not_found" if status in (404, 410) else "http_error"
                    raise FetchError(
                        f"HTTP {status} from {_host(url)}", feed=feed, reason=reason, status=status
                    )
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise FetchError(
                        f"response of {int(declared):,} bytes is over the {limit:,}-byte limit",
                        feed=feed,
                        reason="too_large",
                        status=status,
                    )
                chunks = []
                size = 0
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise FetchError(
                            f"response is over the {limit:,}-byte limit; stopped reading",
                            feed=feed,
                            reason="too_large",
                            status=status,
                        )
                    chunks.append(chunk)
                return Response(str(r.url), status, r.headers, b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise FetchError(
                f"timed out ({type(exc).__name__}) fetching {_host(url)}", feed=feed, reason="timeout"
            ) from None
        except httpx.RemoteProtocolError as exc:
            raise FetchError(
                f"response from {_host(url)} cut short: {exc}", feed=feed, reason="truncated"
            ) from None
        except httpx.DecodingError as exc:
            raise FetchError(
                f"undecodable response from {_host(url)}: {exc}", feed=feed, reason="truncated"
            ) from None
        except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.ProxyError) as exc:
            raise FetchError(
                f"cannot connect to {_host(url)}: {exc}", feed=feed, reason="connection"
            ) from None
        except httpx.HTTPError as exc:
            raise FetchError(
                f"HTTP error fetching {_host(url)}: {exc}", feed=feed, reason="http_error"
            ) from None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds, from either of its forms (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _host(url: str) -> str:
    # hostname, not netloc: a proxy or feed URL's user:password must never reach messages or the database.
    parts = urlsplit(url)
    if not parts.hostname:
        return "?"
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
