"""Feeds: where posts come from (RSS/Atom, Weibo, JSON APIs, JSONL files, push), fetched on a schedule."""

from monitor.feeds.config import FeedConfig, FeedsConfig, HttpSettings
from monitor.feeds.fetch import FetchContext, Page, fetch_pages
from monitor.feeds.health import Health, assess
from monitor.feeds.http import FetchError, HostLimits, HttpFetcher, Response, build_client
from monitor.feeds.runner import FeedRunner, RunResult, StoreOnly
from monitor.feeds.store import FeedState, load_state, load_states

__all__ = [
    "FeedConfig",
    "FeedRunner",
    "FeedState",
    "FeedsConfig",
    "FetchContext",
    "FetchError",
    "Health",
    "HostLimits",
    "HttpFetcher",
    "HttpSettings",
    "Page",
    "Response",
    "RunResult",
    "StoreOnly",
    "assess",
    "build_client",
    "fetch_pages",
    "load_state",
    "load_states",
]
