"""What a PR person reads: the Chinese text of a notification, in markdown, Slack mrkdwn, plain text and HTML.

Pure functions over the outbox payload (a dict of notifications), so the message is rendered the same way when
it is first sent and when it is retried after a restart.
"""

from __future__ import annotations

import html
import re
from typing import Any

SEVERITY_ZH = {"watch": "关注", "warning": "预警", "critical": "严重"}
STATUS_ZH = {"firing": "告警中", "resolved": "已平息"}
KIND_ZH = {"new": "新告警", "update": "更新", "repeat": "提醒", "resolved": "已平息"}
STAT_ZH = {
    "posts": ("帖子数", "条"),
    "n_posts": ("帖子数", "条"),
    "authors": ("作者数", "人"),
    "n_authors": ("作者数", "人"),
    "reach": ("触达粉丝", ""),
    "engagement": ("互动量", ""),
    "growth": ("增长倍数", ""),
    "negative_share": ("负面占比", ""),
    "high_escalation": ("升级风险帖", "条"),
    "escalation": ("升级风险帖", "条"),
}


def number(value: float) -> str:
    """Chinese-style magnitude: 4500 -> 4500, 45000 -> 4.5万, 1.2e8 -> 1.2亿."""
    if abs(value) >= 1e8:
        return f"{value / 1e8:.1f}".rstrip("0").rstrip(".") + "亿"
    if abs(value) >= 1e4:
        return f"{value / 1e4:.1f}".rstrip("0").rstrip(".") + "万"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


_NUMBER = (int, float)  # a tuple, not ``int | float``, which builds a union object at every use


def shown_stats(stats: dict[str, Any]) -> list[tuple[str, float]]:
    """The figures a PR person reads, in a fixed order, one per label; detection's internals are left out."""
    seen: set[str] = set()
    out = []
    for name in STAT_ZH:
        label = STAT_ZH[name][0]
        value = stats.get(name)
        if label in seen or not isinstance(value, _NUMBER):
            continue
        seen.add(label)
        out.append((name, value))
    return out


def _stat(name: str, value: float) -> str:
    label, unit = STAT_ZH.get(name, (name, ""))
    if name == "negative_share" and value <= 1:
        return f"{label} {value:.0%}"
    return f"{label} {number(value)}{unit}"


def describe_changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """What changed since the receiver's last notification about this incident (empty for a first one)."""
    if previous is None:
        return []
    changes = []
    if current["status"] != previous.get("status"):
        changes.append(f"状态：{STATUS_ZH.get(previous.get('status'), '?')} → {STATUS_ZH[current['status']]}")
    if current["severity"] != previous.get("severity"):
        before = SEVERITY_ZH.get(previous.get("severity"), previous.get("severity"))
        changes.append(f"级别：{before} → {SEVERITY_ZH.get(current['severity'], current['severity'])}")
    old_stats = previous.get("stats", {})
    for name, value in shown_stats(current.get("stats", {})):
        old = old_stats.get(name)
        if old is None or old == value:
            continue
        label, unit = STAT_ZH.get(name, (name, ""))
        delta = value - old
        sign = "+" if delta > 0 else "-"
        changes.append(f"{label}：{number(old)} → {number(value)}{unit}（{sign}{number(abs(delta))}）")
    told = set(previous.get("post_ids", []))
    new_posts = [pid for pid in current.get("post_ids", []) if pid not in told]
    if new_posts:
        changes.append(f"新增证据帖 {len(new_posts)} 条")
    return changes


def headline(note: dict[str, Any]) -> str:
    """``【严重·新告警】title`` (or 已平息)."""
    tag = SEVERITY_ZH.get(note["severity"], note["severity"])
    kind = KIND_ZH.get(note.get("kind", ""), "")
    return f"【{tag}·{kind}】{note['title']}" if kind else f"【{tag}】{note['title']}"


def _facts(note: dict[str, Any]) -> list[tuple[str, str]]:
    facts = [
        ("级别", f"{SEVERITY_ZH.get(note['severity'], note['severity'])}（{note['severity']}）"),
        ("状态", STATUS_ZH.get(note["status"], note["status"])),
    ]
    if shown := shown_stats(note.get("stats") or {}):
        facts.append(("规模", "，".join(_stat(name, value) for name, value in shown)))
    if note.get("changes"):
        facts.append(("变化", "；".join(note["changes"])))
    if note.get("summary"):
        facts.append(("摘要", note["summary"]))
    return facts


def _evidence_line(post: dict[str, Any]) -> tuple[str, str | None]:
    """A post's line and link. Post text and links are written by strangers: only http(s) links are kept."""
    who = post.get("author") or "匿名"
    followers = post.get("author_followers")
    if followers:
        who += f"（{number(followers)}粉）"
    text = (post.get("text") or post.get("id", "")).replace("\n", " ")
    if len(text) > 60:
        text = text[:60] + "…"
    return f"{who}：{text}", safe_link(post.get("url"))


def safe_link(url: Any) -> str | None:
    """``url`` when it is a plain http(s) link, else None (no javascript:, no markup smuggled in)."""
    if not isinstance(url, str) or not _SAFE_URL.fullmatch(url):
        return None
    return url


_SAFE_URL = re.compile(r"https?://[^\s<>()\[\]|\"'`]+", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|<>~])")


def _slack(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md(text: str) -> str:
    """Escape markdown so that a post's words cannot become links, headings or emphasis in a chat message."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _evidence(note: dict[str, Any]) -> list[dict[str, Any]]:
    return note.get("evidence") or [{"id": pid} for pid in note.get("post_ids", [])[:5]]


def markdown(payload: dict[str, Any]) -> str:
    """Markdown for DingTalk, WeCom and Feishu (bold, links, lists)."""
    parts = []
    for note in payload["notifications"]:
        lines = [f"### {_md(headline(note))}"]
        lines += [f"**{name}**：{_md(str(value))}  " for name, value in _facts(note)]
        if note.get("reasons"):
            lines.append("**原因**：")
            lines += [f"- {_md(reason)}" for reason in note["reasons"]]
        evidence = _evidence(note)
        if evidence:
            lines.append("**证据**：")
            for index, post in enumerate(evidence, 1):
                text, url = _evidence_line(post)
                lines.append(f"{index}. [{_md(text)}]({url})" if url else f"{index}. {_md(text)}")
        lines.append(f"[在看板中查看]({note['link']})")
        parts.append("\n".join(lines))
    return "\n\n---\n\n".join(parts)


def slack_mrkdwn(note: dict[str, Any]) -> str:
    """Slack's mrkdwn flavour of one notification (single-asterisk bold, <url|text> links)."""
    lines = [f"*{name}*：{_slack(str(value))}" for name, value in _facts(note)]
    if note.get("reasons"):
        lines.append("*原因*：" + _slack("；".join(note["reasons"])))
    for index, post in enumerate(_evidence(note), 1):
        text, url = _evidence_line(post)
        text = _slack(text).replace("|", "｜")
        lines.append(f"{index}. <{url}|{text}>" if url else f"{index}. {text}")
    lines.append(f"<{note['link']}|在看板中查看>")
    return "\n".join(lines)


def text(payload: dict[str, Any]) -> str:
    """Plain text (console, log, email's text part)."""
    parts = []
    for note in payload["notifications"]:
        lines = [headline(note)]
        lines += [f"{name}：{value}" for name, value in _facts(note)]
        if note.get("reasons"):
            lines.append("原因：" + "；".join(note["reasons"]))
        for index, post in enumerate(_evidence(note), 1):
            line, url = _evidence_line(post)
            lines.append(f"  {index}. {line}" + (f" {url}" if url else ""))
        lines.append(f"看板：{note['link']}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def html_body(payload: dict[str, Any]) -> str:
    """HTML for email; every value escaped."""
    esc = html.escape
    parts = []
    for note in payload["notifications"]:
        rows = "".join(f"<tr><th align='left'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _facts(note))
        reasons = "".join(f"<li>{esc(r)}</li>" for r in note.get("reasons", []))
        posts = ""
        for post in _evidence(note):
            line, url = _evidence_line(post)
            posts += f"<li><a href='{esc(url)}'>{esc(line)}</a></li>" if url else f"<li>{esc(line)}</li>"
        parts.append(
            f"<h2>{esc(headline(note))}</h2><table>{rows}</table>"
            + (f"<h3>原因</h3><ul>{reasons}</ul>" if reasons else "")
            + (f"<h3>证据</h3><ol>{posts}</ol>" if posts else "")
            + f"<p><a href='{esc(note['link'])}'>在看板中查看</a></p>"
        )
    return "<html><body>" + "<hr>".join(parts) + "</body></html>"


def subject(payload: dict[str, Any]) -> str:
    """One line naming the message: the first notification's headline, plus how many more."""
    notes = payload["notifications"]
    more = f"（另有 {len(notes) - 1} 条）" if len(notes) > 1 else ""
    return f"[听风] {headline(notes[0])}{more}"
