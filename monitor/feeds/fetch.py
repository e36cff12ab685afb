"""One fetch of one feed, as pages: each page's posts, then the state that may advance once they are stored.

Every kind is a function ``fetch_KIND(feed, context, state, now) -> Iterator[Page]``. The runner stores a
page's posts first and only then saves the page's ``advance`` (cursor, since_id, ETag ...), so a process killed
between the two fetches that page again (an upsert) instead of skipping it.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.feeds.config import FeedsConfig
from monitor.feeds.fields import dedupe, keep
from monitor.feeds.http import HttpFetcher
from monitor.feeds.store import FeedState
from monitor.post import Post

logger = logging.getLogger(__name__)

# kind -> (module, function): each kind lives in its own module, imported when first used.
KINDS: dict[str, tuple[str, str]] = {
    "rss": ("monitor.feeds.rss", "fetch_rss"),
    "weibo": ("monitor.feeds.weibo", "fetch_weibo"),
    "json": ("monitor.feeds.jsonapi", "fetch_json"),
    "file": ("monitor.feeds.files", "fetch_file"),
    "push": ("monitor.feeds.push", "fetch_push"),
    "demo": ("monitor.feeds.demo", "fetch_demo"),
}


@dataclass
class Page:
    """Posts from one request, the state they let advance, and anything odd worth logging."""

    posts: list[Post]
    advance: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    not_modified: bool = False


@dataclass
class FetchContext:
    """What fetchers need from outside: the HTTP layer, secrets, the database (push inbox), local URLs."""

    http: HttpFetcher | None = None
    config: FeedsConfig = field(default_factory=FeedsConfig)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    db: sqlite_utils.Database | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    demo_urls: dict[str, str] = field(default_factory=dict)  # demo feed name -> its local server's URL
    should_stop: Callable[[], bool] = lambda: False
    # Held around any use of ``db``: threads share its one connection, so they must take turns.
    db_lock: Any = field(default_factory=threading.RLock)

    def max_pages(self, feed: Any) -> int:
        return feed.max_pages or self.config.defaults.max_pages

    def secret(self, env_name: str | None, file_name: str | None) -> str | None:
        """A secret from its environment variable, else from its file (relative to the project root)."""
        if env_name and self.env.get(env_name):
            return self.env[env_name].strip()
        if file_name:
            path = Path(file_name)
            path = path if path.is_absolute() else self.base_dir / path
            try:
                return path.read_text(encoding="utf-8").strip() or None
            except OSError:
                return None
        return None


def fetch_pages(feed: Any, context: FetchContext, state: FeedState, now: datetime) -> Iterator[Page]:
    """The pages of one fetch of ``feed``, filtered by its keywords and free of duplicate ids."""
    module, function = KINDS[feed.kind]
    fetch_kind: Callable[..., Iterator[Page]] = getattr(importlib.import_module(module), function)
    # A weibo search already matched its keywords on the server; filtering again would drop its fuzzy hits.
    keywords = [] if feed.kind == "weibo" and feed.mode == "search" else feed.keywords
    for page in fetch_kind(feed, context, state, now):
        posts, dropped = dedupe(page.posts)
        if dropped:
            page.notes.append(f"{dropped} duplicate id(s) in one page, kept the last of each")
        page.posts = [post for post in posts if keep(post, keywords, feed.exclude)]
        yield page
        if context.should_stop():
            return
