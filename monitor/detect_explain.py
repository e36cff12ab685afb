"""What a PR person reads: an incident's title, summary, reasons and evidence posts, in Chinese."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from monitor.detect_spread import HOUR
from monitor.detect_text import Vocabulary, keywords

if TYPE_CHECKING:
    from monitor.detect import _Cluster
    from monitor.detect_config import DetectionConfig

CST = timezone(timedelta(hours=8))


def count(n: float) -> str:
    """A count as Chinese readers write it: 8600, 1.2万, 3.4亿."""
    if n >= 1e8:
        return f"{n / 1e8:.1f}亿".replace(".0亿", "亿")
    if n >= 1e4:
        return f"{n / 1e4:.1f}万".replace(".0万", "万")
    return f"{int(n)}"


def brand_name(config: DetectionConfig, brand: str) -> str:
    """A brand's display name: its first configured alias, else the brand key itself."""
    spec = config.brands.get(brand)
    if spec is not None:
        return spec.aliases[0]
    return brand or "未识别品牌"


def incident_keywords(c: _Cluster, vocab: Vocabulary, strip: tuple[str, ...]) -> list[str]:
    """The fault's words, recomputed only when the incident has grown by half since the last time."""
    if not c.keywords or c.docs >= c.keywords_docs * 1.5:
        c.keywords = keywords(c.samples, vocab, strip)
        c.keywords_docs = c.docs
    return c.keywords


def title_summary(
    config: DetectionConfig, c: _Cluster, vocab: Vocabulary, strip: tuple[str, ...]
) -> tuple[str, str]:
    """The one-line title and the short summary of an incident."""
    words = incident_keywords(c, vocab, strip)
    subject = "、".join(words) if words else (c.samples[0][:16] if c.samples else "相似投诉")
    title = f"{brand_name(config, c.brand)}：{subject} 相关投诉"
    stats = c.stats
    first = datetime.fromtimestamp(c.created, tz=UTC).astimezone(CST)
    parts = [
        f"{int(stats.get('authors', len(c.author_first)))} 位用户发布 {int(stats.get('posts', len(c.members)))} 条相似投诉",
        f"首帖 {first:%m月%d日 %H:%M}（北京时间）",
    ]
    if stats.get("window_authors"):
        parts.append(f"最近 {_hours(stats['window_hours'])} 小时 {int(stats['window_authors'])} 位")
    summary = "，".join(parts) + "。"
    if c.samples:
        summary += f"代表帖：「{c.samples[0][:60]}」"
    return title, summary


def reasons(
    config: DetectionConfig,
    c: _Cluster,
    readings: dict[str, Any],
    stats: dict[str, float],
    verified: list[str],
    fast: bool,
    extra: list[str],
) -> list[str]:
    """Why the incident stands where it does, most decisive first."""
    first: list[str] = []
    rest: list[str] = []
    critical: list[str] = []
    if fast and c.fast_post is not None:
        m = c.members[c.fast_post]
        who = f"{m.author}（{count(m.followers)} 粉丝{'，认证账号' if m.verified else ''}）"
        if m.high:
            first.append(f"大号发声：{who}发布负面投诉，并有升级倾向（投诉、曝光、维权或安全隐患）")
        else:
            first.append(f"大号抱怨：{who}发布负面帖子，暂无升级信号")
    echo = readings["warning"]
    if echo.authors >= 2:
        line = (
            f"{_hours(echo.rule.window_hours)} 小时内 {echo.authors} 位不同用户发布相似投诉"
            f"（平时约 {echo.expected:.1f} 位），约为平时的 {max(1.0, echo.growth):.1f} 倍"
        )
        (first if echo.met else rest).append(line)
    day = readings["critical"]
    if day.met:
        critical.append(f"{_hours(day.rule.window_hours)} 小时内已有 {day.authors} 位用户跟进，持续扩散")
    if verified:
        names = "、".join(verified[:3]) + ("等" if len(verified) > 3 else "")
        line = f"{len(verified)} 个认证或媒体账号已参与：{names}"
        (critical if "verified" in extra else rest).append(line)
    velocity = stats.get("velocity_per_hour", 0.0)
    if velocity >= 1:
        line = f"互动快速上升：每小时新增约 {count(velocity)} 次转发和评论"
        (critical if "velocity" in extra else rest).append(line)
    high = stats.get("high_share", 0.0)
    if high > 0:
        line = f"{high:.0%} 的发帖人提到投诉平台、媒体、律师、集体维权或安全隐患"
        (critical if "high_share" in extra else rest).append(line)
    if stats.get("reach"):
        rest.append(
            f"参与账号粉丝合计约 {count(stats['reach'])}，最大单个账号 {count(stats['max_followers'])}"
        )
    rest.append(f"累计 {int(stats['posts'])} 条相似投诉、{int(stats['authors'])} 位用户")
    if stats.get("complaint_share", 1.0) < 1.0:
        rest.append(f"相似帖子中 {stats['complaint_share']:.0%} 为投诉，其余为正面内容")
    return critical + first + rest


def evidence(c: _Cluster, limit: int, config: DetectionConfig | None = None) -> list[str]:
    """Post ids, most important first: the big voice, the first post, then by voice and engagement."""
    members = list(c.members.values())
    order: list[str] = []
    if c.fast_post is not None:
        order.append(c.fast_post)
    if members:
        order.append(members[0].key)

    def importance(m: Any) -> float:
        weight = 1.0 + math.log10(max(1.0, m.followers / 10_000)) + (1.0 if m.verified else 0.0)
        if m.high:
            weight *= 1.5
        return weight * (1.0 + math.log10(1.0 + m.eng))

    ranked = sorted(members, key=lambda m: (-importance(m), m.t))
    for m in ranked:
        if len(order) >= limit * 2:
            break
        order.append(m.key)
    ids = list(dict.fromkeys(order))[:limit]
    return [key.split("\x1f", 1)[1] for key in ids]


def resolved_reason(c: _Cluster, now: float) -> str:
    """Why an incident is over."""
    quiet = (now - c.last_post) / HOUR
    return f"已平息：{_hours(quiet)} 小时内没有新的相似投诉"


def _hours(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
