"""The Weibo mobile JSON API (``m.weibo.cn/api/container/getIndex``): keyword search and user timelines.

Weibo often fails with HTTP 200: ``{"ok": 0, ...}``, a captcha / risk-control challenge, or an HTML login page
when the cookie has expired. None of these means "no new posts": each is a ``FetchError`` with its own reason
(``login_required``, ``risk_control``, ``api_error``) that feed health reports to ops.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from monitor.feeds.config import WeiboFeed
from monitor.feeds.fetch import FetchContext, Page
from monitor.feeds.fields import html_to_text, parse_count, parse_time
from monitor.feeds.http import FetchError, Response
from monitor.feeds.store import FeedState
from monitor.post import Post

logger = logging.getLogger(__name__)

SOURCE = "weibo"
_LOGIN_MARKERS = (
    "passport.weibo.cn",
    "passport.weibo.com",
    "login.sina.com.cn",
    "用户登录",
    "登录 - 新浪微博",
    "请登录",
)
_RISK_MARKERS = ("verify", "captcha", "geetest", "安全验证", "验证码", "访问异常", "risk")
_EMPTY_MESSAGES = ("这里还没有内容", "暂无数据", "没有更多")


def containerid(feed: WeiboFeed) -> str:
    """The API's container id for this feed: a keyword search or a user's timeline."""
    if feed.mode == "user":
        return f"107603{feed.uid}"
    query = " ".join(feed.keywords)
    return f"100103type={61 if feed.realtime else 1}&q={query}"


def fetch_weibo(feed: WeiboFeed, context: FetchContext, state: FeedState, now: datetime) -> Iterator[Page]:
    """Pages newest first until a page holds nothing newer than ``since_id`` or ``max_pages`` is reached."""
    cookie = context.secret(feed.cookie_env, feed.cookie_file)
    headers = {
        "Accept": "application/json, text/plain, */*",
        "MWeibo-Pwa": "1",
        "X-Requested-With": "XMLHttpRequest",
        "Referer": f"{feed.base_url}/",
    }
    if cookie:
        headers["Cookie"] = cookie
    since = int(state.since_id) if state.since_id and state.since_id.isdigit() else 0
    newest = since
    url = f"{feed.base_url}/api/container/getIndex"
    for page_no in range(1, context.max_pages(feed) + 1):
        params = {"containerid": containerid(feed)}
        if feed.mode == "search":
            params["page_type"] = "searchall"
        if page_no > 1:
            params["page"] = str(page_no)
        response = context.http.get(url, feed=feed.name, params=params, headers=headers)
        data, notes = decode_api(response, feed.name)
        blogs = extract_mblogs(data)
        posts = []
        for mblog in blogs:
            post = mblog_to_post(mblog, now, feed.base_url)
            if post is None:
                notes.append("a card without id or text was skipped")
                continue
            if feed.long_text and mblog.get("isLongText"):
                post.text = _long_text(context, feed, headers, post) or post.text
            posts.append(post)
        ids = [int(p.id) for p in posts if p.id.isdigit()]
        newest = max([newest, *ids])
        reached_known = bool(since) and bool(ids) and min(ids) <= since
        yield Page(posts=posts, advance={"since_id": str(newest) if newest else None}, notes=notes)
        if not blogs or reached_known or not _has_next(data, page_no):
            return


def decode_api(response: Response, feed: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The ``data`` object of a successful API answer; FetchError saying why otherwise."""
    text, replaced = response.text()
    notes = ["invalid UTF-8 in the response, bad bytes replaced"] if replaced else []
    head = text.lstrip()[:2048].lower()
    if head.startswith("<") or "html" in response.content_type:
        page = text[:20000].lower()
        if any(marker in page for marker in _RISK_MARKERS):
            raise FetchError(
                "Weibo answered with a verification page (risk control)",
                feed=feed,
                reason="risk_control",
                status=response.status,
            )
        if "登录" in page or any(
            marker.lower() in page or marker in response.url for marker in _LOGIN_MARKERS
        ):
            raise FetchError(
                "Weibo answered with its login page: the cookie is missing or has expired (set a fresh one)",
                feed=feed,
                reason="login_required",
                status=response.status,
            )
        raise FetchError(
            f"expected JSON, got {response.content_type or 'no content type'} ({len(response.body):,} bytes)",
            feed=feed,
            reason="parse_error",
            status=response.status,
        )
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FetchError(
            f"response is not valid JSON: {exc}", feed=feed, reason="parse_error", status=response.status
        ) from None
    if not isinstance(payload, dict):
        raise FetchError(
            f"expected a JSON object, got {type(payload).__name__}", feed=feed, reason="bad_shape"
        )
    if payload.get("ok") != 1:
        message = str(payload.get("msg") or payload.get("errmsg") or "")
        verify_url = str(payload.get("url") or "")
        if any(marker in verify_url.lower() or marker in message.lower() for marker in _RISK_MARKERS):
            raise FetchError(
                f"Weibo asks for verification (risk control): {message or verify_url}"[:300],
                feed=feed,
                reason="risk_control",
            )
        if "登录" in message or "login" in message.lower() or payload.get("errno") in ("100005", 100005):
            raise FetchError(f"Weibo wants a login: {message}", feed=feed, reason="login_required")
        if any(empty in message for empty in _EMPTY_MESSAGES):
            return {"cards": []}, [f"Weibo says: {message}"]
        raise FetchError(
            f"Weibo answered ok={payload.get('ok')!r}: {message or 'no message'}"[:300],
            feed=feed,
            reason="api_error",
        )
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("cards", []), list):
        raise FetchError(
            "ok=1 but no data.cards list: the API's shape changed", feed=feed, reason="bad_shape"
        )
    return data, notes


def extract_mblogs(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every post in the cards, those nested in ``card_group`` lists included."""
    out = []
    stack = list(reversed(data.get("cards") or []))
    while stack:
        card = stack.pop()
        if not isinstance(card, dict):
            continue
        if isinstance(card.get("mblog"), dict):
            out.append(card["mblog"])
        group = card.get("card_group")
        if isinstance(group, list):
            stack.extend(reversed(group))
    return out


def mblog_to_post(mblog: dict[str, Any], now: datetime, base_url: str = "https://m.weibo.cn") -> Post | None:
    """One ``mblog`` as a post (its repost's original kept in ``extra``); None without id or text."""
    post_id = str(mblog.get("id") or mblog.get("mid") or "").strip()
    raw_text = mblog.get("text")
    if not post_id or not isinstance(raw_text, str):
        return None
    user = mblog.get("user") if isinstance(mblog.get("user"), dict) else {}
    text = html_to_text(raw_text)
    extra: dict[str, Any] = {"mid": mblog.get("mid"), "bid": mblog.get("bid"), "client": mblog.get("source")}
    original = mblog.get("retweeted_status")
    if isinstance(original, dict) and original.get("id"):
        original_user = original.get("user") if isinstance(original.get("user"), dict) else {}
        extra["retweeted"] = {
            "id": str(original["id"]),
            "author": original_user.get("screen_name"),
            "text": html_to_text(original.get("text") or ""),
        }
        if original_user.get("screen_name"):
            text = f"{text}//@{original_user['screen_name']}:{extra['retweeted']['text']}"
    if user.get("id"):
        extra["author_id"] = str(user["id"])
    if mblog.get("isLongText"):
        extra["long_text"] = True
    return Post(
        id=post_id,
        text=text,
        source=SOURCE,
        url=f"{base_url}/detail/{post_id}",
        author=user.get("screen_name"),
        author_followers=parse_count(user.get("followers_count")),
        author_verified=bool(user["verified"]) if "verified" in user else None,
        created_at=parse_time(mblog.get("created_at"), now),
        observed_at=now,
        reposts=parse_count(mblog.get("reposts_count")),
        comments=parse_count(mblog.get("comments_count")),
        likes=parse_count(mblog.get("attitudes_count")),
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _long_text(context: FetchContext, feed: WeiboFeed, headers: dict[str, str], post: Post) -> str | None:
    try:
        response = context.http.get(
            f"{feed.base_url}/statuses/extend", feed=feed.name, params={"id": post.id}, headers=headers
        )
        payload = json.loads(response.text()[0])
        content = payload["data"]["longTextContent"]
    except (FetchError, ValueError, KeyError, TypeError, RecursionError) as exc:
        logger.info(
            "feed %s: full text of %s unavailable (%s); keeping the short text", feed.name, post.id, exc
        )
        return None
    text = html_to_text(content) if isinstance(content, str) else None
    if text and "//@" in post.text and "//@" not in text:
        text += post.text[post.text.index("//@") :]
    return text


def _has_next(data: dict[str, Any], page_no: int) -> bool:
    info = data.get("cardlistInfo") if isinstance(data.get("cardlistInfo"), dict) else {}
    following = info.get("page")
    if following is None:
        return True
    return bool(re.fullmatch(r"\d+", str(following))) and int(following) > page_no
