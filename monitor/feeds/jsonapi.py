"""Any JSON API, described in ``feeds.toml`` by where its items are and which fields mean what.

Paths are dotted (``data.items``, ``user.name``, ``stats.0``). With ``next_cursor`` set, a run follows pages
until the API gives no next cursor or ``max_pages`` is reached; with ``resume`` the next run starts from the
last cursor stored (a change feed) instead of the first page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from monitor.feeds.config import FieldMap, JsonFeed
from monitor.feeds.fetch import FetchContext, Page
from monitor.feeds.fields import html_to_text, parse_count, parse_time
from monitor.feeds.http import FetchError, Response
from monitor.feeds.store import FeedState
from monitor.post import Post

logger = logging.getLogger(__name__)

_MISSING = object()


def fetch_json(feed: JsonFeed, context: FetchContext, state: FeedState, now: datetime) -> Iterator[Page]:
    url = context.demo_urls.get(feed.name, feed.url)
    headers = dict(feed.headers)
    for header, env_name in feed.header_env.items():
        value = context.env.get(env_name)
        if not value:
            raise FetchError(
                f"environment variable {env_name} (header {header}) is not set", feed=feed.name, reason="auth"
            )
        headers[header] = value
    yield from fetch_mapped(
        url,
        feed.name,
        context,
        state,
        now,
        items_path=feed.items,
        fields=feed.fields,
        next_cursor=feed.next_cursor,
        cursor_param=feed.cursor_param,
        resume=feed.resume,
        params=dict(feed.params),
        headers=headers,
        source=feed.source or feed.name,
        max_pages=context.max_pages(feed),
    )


def fetch_mapped(
    url: str,
    name: str,
    context: FetchContext,
    state: FeedState,
    now: datetime,
    *,
    items_path: str,
    fields: FieldMap,
    next_cursor: str | None,
    cursor_param: str,
    resume: bool,
    params: dict[str, str],
    headers: dict[str, str],
    source: str,
    max_pages: int,
) -> Iterator[Page]:
    """Follow a mapped JSON API's pages; each page advances the stored cursor only when ``resume``."""
    cursor = state.cursor if resume else None
    for _ in range(max_pages):
        query = dict(params)
        if cursor:
            query[cursor_param] = cursor
        response = context.http.get(url, feed=name, params=query, headers=headers)
        payload, notes = decode_json(response, name)
        items = lookup(payload, items_path) if items_path else payload
        if not isinstance(items, list):
            where = f"at {items_path!r}" if items_path else "at the top level"
            got = "nothing" if items is _MISSING else type(items).__name__
            raise FetchError(f"expected a list of items {where}, found {got}", feed=name, reason="bad_shape")
        posts = []
        skipped = 0
        for item in items:
            post = item_to_post(item, fields, source=source, now=now)
            if post is None:
                skipped += 1
            else:
                posts.append(post)
        if skipped:
            notes.append(f"{skipped} item(s) without {fields.id!r} or {fields.text!r} skipped")
            if not posts:
                raise FetchError(
                    f"none of {len(items)} item(s) has the mapped fields {fields.id!r} and {fields.text!r}",
                    feed=name,
                    reason="bad_shape",
                )
        following = lookup(payload, next_cursor) if next_cursor else None
        following = (
            None
            if following is None or following is _MISSING or following in ("", 0, False)
            else str(following)
        )
        advance = {"cursor": following or cursor} if resume else {}
        yield Page(posts=posts, advance=advance, notes=notes)
        if not following or following == cursor:
            return
        cursor = following


def decode_json(response: Response, feed: str | None = None) -> tuple[Any, list[str]]:
    """The decoded body; FetchError for HTML (a login wall) or anything else that is not JSON."""
    text, replaced = response.text()
    notes = ["invalid UTF-8 in the response, bad bytes replaced"] if replaced else []
    stripped = text.lstrip()
    if stripped.startswith("<"):
        login = any(word in text[:20000].lower() for word in ("login", "sign in", "登录"))
        raise FetchError(
            f"expected JSON, got {'a login page' if login else 'HTML'} "
            f"({response.content_type or 'no content type'}, HTTP {response.status})",
            feed=feed,
            reason="login_required" if login else "parse_error",
            status=response.status,
        )
    try:
        payload = json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        raise FetchError(
            f"response is not valid JSON: {exc}", feed=feed, reason="parse_error", status=response.status
        ) from None
    if response.content_type and "json" not in response.content_type:
        notes.append(f"content type {response.content_type!r} but the body is JSON")
    return payload, notes


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path, or ``_MISSING``."""
    value = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def item_to_post(item: Any, fields: FieldMap, *, source: str, now: datetime) -> Post | None:
    """One API item as a post through the field map; None without an id or text."""
    if not isinstance(item, dict):
        return None

    def get(path: str | None) -> Any:
        if path is None:
            return None
        value = lookup(item, path)
        return None if value is _MISSING else value

    post_id, text = get(fields.id), get(fields.text)
    if isinstance(post_id, bool) or not isinstance(post_id, str | int) or not str(post_id).strip():
        return None
    if not isinstance(text, str):
        return None
    verified = get(fields.author_verified)
    url, author = get(fields.url), get(fields.author)
    return Post(
        id=str(post_id).strip(),
        text=html_to_text(text) if "<" in text else text,
        source=source,
        url=url if isinstance(url, str) else None,
        author=author if isinstance(author, str) else None,
        author_followers=parse_count(get(fields.author_followers)),
        author_verified=verified
        if isinstance(verified, bool)
        else (bool(verified) if verified in (0, 1) else None),
        created_at=parse_time(get(fields.created_at), now),
        observed_at=now,
        reposts=parse_count(get(fields.reposts)),
        comments=parse_count(get(fields.comments)),
        likes=parse_count(get(fields.likes)),
    )
