"""RSS and Atom feeds, RSSHub's Weibo routes included.

feedparser copes with most of what real feeds get wrong (its ``bozo`` flag says when it had to). RSSHub's
Weibo items carry no counts and no followers: such posts have text, author, time and link only.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.feeds.config import RssFeed
from monitor.feeds.fetch import FetchContext, Page
from monitor.feeds.fields import html_to_text
from monitor.feeds.http import FetchError, Response
from monitor.feeds.store import FeedState
from monitor.post import Post

logger = logging.getLogger(__name__)

_AUTHOR_PREFIX = re.compile(r"^\s*([^\s:：]{1,30})\s*[:：]\s*")
_WEIBO_LINK = re.compile(r"^https?://(?:m\.)?weibo\.(?:com|cn)/")
_BENIGN_BOZO = ("CharacterEncodingOverride", "NonXMLContentType")


def fetch_rss(feed: RssFeed, context: FetchContext, state: FeedState, now: datetime) -> Iterator[Page]:
    """One conditional GET; a 304 is a page with nothing new and the validators kept."""
    response = context.http.get(feed.url, feed=feed.name, etag=state.etag, last_modified=state.last_modified)
    if response.not_modified:
        yield Page(posts=[], not_modified=True)
        return
    posts, notes = parse_feed(response, source=feed.source or "rss", now=now, feed=feed.name)
    advance = {"etag": response.etag, "last_modified": response.last_modified}
    yield Page(posts=posts, advance=advance, notes=notes)


def parse_feed(
    response: Response, *, source: str, now: datetime, feed: str | None = None
) -> tuple[list[Post], list[str]]:
    """The posts of an RSS/Atom document; FetchError if it is not a feed at all."""
    parsed = feedparser.parse(
        response.body,
        response_headers={k.lower(): v for k, v in response.headers.items()},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    notes: list[str] = []
    problem = parsed.get("bozo_exception")
    if not parsed.entries:
        if not parsed.get("version"):
            kind = response.content_type or "no content type"
            detail = f": {_describe(problem)}" if problem else ""
            raise FetchError(
                f"not an RSS or Atom feed ({kind}, {len(response.body):,} bytes){detail}",
                feed=feed,
                reason="parse_error",
                status=response.status,
            )
        return [], notes
    posts = []
    for entry in parsed.entries:
        post = entry_to_post(entry, source=source, now=now)
        if post is not None:
            posts.append(post)
    if problem is not None and type(problem).__name__ not in _BENIGN_BOZO:
        if not posts:
            raise FetchError(
                f"malformed feed with no readable item: {_describe(problem)}",
                feed=feed,
                reason="parse_error",
                status=response.status,
            )
        notes.append(f"malformed feed, read leniently: {_describe(problem)}")
    return posts, notes


def entry_to_post(entry: Any, *, source: str, now: datetime) -> Post | None:
    """One feed entry as a post, or None when it has no text at all."""
    title = html_to_text(entry.get("title") or "")
    body_html = ""
    if entry.get("content"):
        body_html = entry.content[0].get("value") or ""
    body_html = body_html or entry.get("summary") or entry.get("description") or ""
    body = html_to_text(body_html)
    author = (entry.get("author") or "").strip() or None
    link = entry.get("link") or None
    match = _AUTHOR_PREFIX.match(title)
    if match and _WEIBO_LINK.search(link or "") and author in (None, match.group(1)):
        # RSSHub's Weibo keyword route writes "author: text" in the title and the description.
        author = match.group(1)
        title = title[match.end() :]
        body_match = _AUTHOR_PREFIX.match(body)
        if body_match and body_match.group(1) == author:
            body = body[body_match.end() :]
    title_core = title
    text = _join(title_core, body)
    if not text:
        return None
    created = _entry_time(entry)
    identity = entry.get("id") or link
    if not identity:
        identity = (
            "sha1:"
            + hashlib.sha1(
                f"{title}|{entry.get('published') or entry.get('updated') or ''}".encode()
            ).hexdigest()
        )
    return Post(
        id=str(identity),
        text=text,
        source=source,
        url=link,
        author=author,
        created_at=created,
        observed_at=now,
    )


def _join(title: str, body: str) -> str:
    # RSSHub Weibo titles are the post's own first words, cut short: the body alone says it all.
    title_plain = title.rstrip(".… ")
    if not body:
        return title
    if not title_plain or body.startswith(title_plain[:20]) or title_plain in body:
        return body
    return f"{title}\n{body}"


def _entry_time(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError):
                continue
    return None


def _describe(problem: Any) -> str:
    text = str(problem).strip().splitlines()[0] if str(problem).strip() else ""
    return f"{type(problem).__name__}: {text}"[:200]
