"""What a PR person reads: an incident's title, summary, reasons and evidence posts, in Chinese.

Titles name the brand and the fault in the words the complainants use, picked by how many of them use the
words and how rare those words are elsewhere ("西门子冰箱门关不上"); reasons say why the incident stands where it
does, most decisive first, in plain language; evidence lists the posts that matter most first.
"""

from __future__ import annotations

import heapq
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from monitor import detect_lifecycle as lifecycle
from monitor.detect_severity import stats as severity_stats
from monitor.detect_spread import HOUR, rank, surge_start
from monitor.detect_text import Vocabulary, phrases

if TYPE_CHECKING:
    from monitor.detect_cluster import Cluster, Member
    from monitor.detect_config import DetectionConfig
    from monitor.detect_severity import Assessment

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


def incident_keywords(
    c: Cluster, vocab: Vocabulary, strip: tuple[str, ...], config: DetectionConfig | None = None
) -> list[str]:
    """The fault's phrases, recomputed when the incident has gathered more of its describing posts.

    With ``config``, the words of the incident's main kinds of fault (``grouping.fault_terms``) are preferred.
    """
    if c.keywords and len(c.samples) == c.keywords_docs:
        return c.keywords
    terms: tuple[tuple[str, ...], ...] = ()
    if config is not None:
        families = config.grouping.fault_terms
        terms = tuple(
            tuple(w.strip().lower() for w in families.get(f, ()) if w.strip())
            for f in sorted(c.main_faults())
        )
    # Whether the texts hold any phrase depends on them and on the kinds of fault, never on the rarity weights
    # (those only rank the phrases): texts that gave none give none again until one of those changes.
    looked = (len(c.samples), terms)
    if not c.keywords and c.no_keywords == looked:
        return c.keywords
    c.keywords = phrases(c.samples, vocab, strip, terms=terms) if c.samples else []
    c.keywords_docs = len(c.samples)
    c.no_keywords = None if c.keywords else looked
    return c.keywords


def incident_title(config: DetectionConfig, c: Cluster, vocab: Vocabulary, strip: tuple[str, ...]) -> str:
    """The one-line title of an incident ("西门子冰箱门关不上"), kept in ``c.title``."""
    words = incident_keywords(c, vocab, strip, config)
    subject = "".join(words) if words else "相关投诉"
    c.title = f"{brand_name(config, c.brand)}{subject}" if c.brand else f"{subject}（未关联品牌）"
    return c.title


def title_summary(
    config: DetectionConfig,
    c: Cluster,
    vocab: Vocabulary,
    strip: tuple[str, ...],
    start: tuple[Member | None, str | None, Member | None],
) -> tuple[str, str]:
    """The one-line title ("西门子冰箱门关不上") and the short summary of an incident whose story ``start``s
    (``opener``'s answer, which the caller's evidence uses too)."""
    title = incident_title(config, c, vocab, strip)
    words = c.keywords
    subject = "".join(words) if words else "相关投诉"
    stats = c.stats
    authors = int(stats.get("authors", len(c.author_first)))
    posts = int(stats.get("posts", len(c.members)))
    parts = [f"{authors} 位用户反映{title if c.brand else subject}，共 {posts} 条相关帖子"]
    echoes = int(stats.get("echo_authors", len(c.echo_authors)))
    if echoes:
        parts.append(f"其中 {echoes} 位转发或表示“我也遇到了”")
    first, told, surging = start
    began = datetime.fromtimestamp(first.t if first is not None else c.created, tz=UTC).astimezone(CST)
    who = f"，发帖人 {first.author}（{count(first.followers)} 粉丝）" if first is not None else ""
    # The incident's first post, unless earlier posts of the group do not tell of its fault (see opener).
    label = "首帖" if first is None or first is next(iter(c.members.values())) else "最早反映该问题"
    parts.append(f"{label} {began:%m月%d日 %H:%M}（北京时间）{who}")
    if surging is not None:
        before = sum(t < surging.t for t in c.author_first.values())
        burst = datetime.fromtimestamp(surging.t, tz=UTC).astimezone(CST)
        parts.append(
            f"此前已有 {before} 位用户零星反映，本轮集中爆发始于 {burst:%m月%d日 %H:%M}（北京时间），"
            f"发帖人 {surging.author}（{count(surging.followers)} 粉丝）"
        )
    if stats.get("window_authors"):
        parts.append(f"最近 {_hours(stats['window_hours'])} 小时新增 {int(stats['window_authors'])} 位")
    summary = "；".join(parts) + "。"
    if told:
        summary += f"代表帖：「{told[:60]}」"
    return title, summary


def opener(config: DetectionConfig, c: Cluster) -> tuple[Member | None, str | None, Member | None]:
    """Whose post opens the incident's story, the words to show for it (a title sample), and the first post of
    the surge that made it warn, if one overran what it was before (see ``surge``; its sample is then shown).

    The earliest member and the first title sample, unless that member's post neither reads negative nor, in its
    title sample, names any of the incident's main kinds of fault: then the author who joined earliest among
    those whose sample names one, with their first post in the incident and that sample. A group can form
    around posts that only look like complaints (a launch's paid post that the classifier reads as neutral but a
    little escalating) before the complaints about a fault join it through the product's name: PR people must be
    shown who reported the fault, not that post. Left as before: groups with no brand (grab-bags of everyday
    grumbles, where one mention makes a "main" fault), an earliest member with no title sample (short posts are
    none: what they say is not known here), and states saved before samples had authors.
    """
    first, sample = _opening(config, c)
    window_start = c.last_post - config.severity.warning.window_hours * HOUR
    if rank(c.severity) < rank("warning") or _warned_before(c, window_start):
        return first, sample, None  # a surge is within the window; one that had warned before is its growth
    surging = surge(config, c)
    if surging is None or _warned_before(c, surging[0].t):
        return first, sample, None
    return first, surging[1] or sample, surging[0]


def _opening(config: DetectionConfig, c: Cluster) -> tuple[Member | None, str | None]:
    """``opener``'s post and sample, surges aside."""
    first = next(iter(c.members.values()), None)
    sample = c.samples[0] if c.samples else None
    if not c.brand or first is None or first.author not in c.sample_authors:
        return first, sample
    if first.p_neg >= config.complaint.min_negative or len(c.sample_authors) != len(c.samples):
        return first, sample
    families = config.grouping.fault_terms
    words = [w.strip().lower() for f in sorted(c.main_faults()) for w in families.get(f, ()) if w.strip()]
    if not words:
        return first, sample
    told = []
    for i, (text, author) in enumerate(zip(c.samples, c.sample_authors, strict=True)):
        lowered = text.lower()
        if any(word in lowered for word in words):
            told.append((c.author_first.get(author, math.inf), i))
    if not told:
        return first, sample
    _, index = min(told)
    author = c.sample_authors[index]
    return next((m for m in c.members.values() if m.author == author), first), c.samples[index]


def surge(config: DetectionConfig, c: Cluster) -> tuple[Member, str | None] | None:
    """The first post, and a title sample, of the surge that overran ``c``, if it was something else before: at
    least ``severity.watch.min_authors`` of its authors came before the warning window, and within it authors
    began to come ``grouping.storm_ratio`` times as fast (``surge_start``). An alert about a group of everyday
    talk a storm's posts joined says when the storm began and who began it, and shows the storm's posts first."""
    severity = config.severity
    now = c.last_post
    window_start = now - severity.warning.window_hours * HOUR
    first_times = c.author_first
    if sum(t < window_start for t in first_times.values()) < severity.watch.min_authors:
        return None
    # Authors arrive when they first post here, and again when one from before the window posts within it (an
    # everyday grumbler may post the storm's first post).
    times = list(first_times.values())
    back: set[str] = set()
    for m in c.members.values():
        if m.t >= window_start and m.author not in back:
            back.add(m.author)
            if first_times[m.author] < window_start:
                times.append(m.t)
    times.sort()
    start = surge_start(
        times,
        now,
        severity.watch.min_authors,
        severity.watch.min_authors,
        config.grouping.storm_ratio,
        min_later=severity.warning.min_authors,
    )
    if start is None or start < window_start:
        return None
    first = next(m for m in c.members.values() if m.t >= start)
    since = {author for author, t in c.author_first.items() if t >= start}
    # A state saved before samples had authors: no sample is known to be the surge's.
    rows = c.sample_rows()
    told = [text for text, author, _ in rows if author in since]
    own = [text for text, author, _ in rows if author == first.author]
    return first, (own or told or [None])[0]


def _warned_before(c: Cluster, t: float) -> bool:
    """Whether ``c`` reached warning or critical before ``t`` (by its history)."""
    return any(at < t for at in lifecycle.times(c, "severity", ("warning", "critical")))


def reasons(config: DetectionConfig, a: Assessment) -> list[str]:
    """Why the incident stands where it does, most decisive first (from what ``a`` took of it)."""
    first: list[str] = []
    rest: list[str] = []
    critical: list[str] = []
    stats = severity_stats(config, a)
    if a.fast and a.facts.fast is not None:
        m = a.facts.fast
        who = f"{m.author}（{count(m.followers)} 粉丝{'，认证账号' if m.verified else ''}）"
        if m.high:
            first.append(f"大号发声：{who}发布负面投诉，并扬言投诉、曝光、维权或提到安全隐患")
        else:
            first.append(f"大号抱怨：{who}发布负面帖子，暂无升级信号，也暂无人跟进")
    day = a.readings["critical"]
    if day.met:
        critical.append(
            f"{_hours(day.rule.window_hours)} 小时内已有 {day.authors} 位用户跟进（平时约 {day.expected:.1f} 位），持续扩散"
        )
    echo = a.readings["warning"]
    if echo.authors >= 2:
        line = (
            f"{_hours(echo.rule.window_hours)} 小时内 {echo.authors} 位不同用户发布相似投诉"
            f"（平时约 {echo.expected:.1f} 位），约为平时的 {max(1.0, echo.growth):.1f} 倍"
        )
        (first if echo.met else rest).append(line)
    burst = a.readings["burst"]
    if burst.met and not echo.met:
        first.append(
            f"{_hours(burst.rule.window_hours)} 小时内 {burst.authors} 位不同用户集中发布相似投诉"
            f"（平时约 {burst.expected:.1f} 位），约为平时的 {burst.growth:.1f} 倍，正在爆发"
        )
    week = a.readings["sustained"]
    if week.met and not echo.met and not burst.met:
        first.append(
            f"近 {_days(week.rule.window_hours)} 天 {week.authors} 位不同用户反映同一问题"
            f"（平时约 {week.expected:.1f} 位），约为平时的 {week.growth:.1f} 倍，持续增多"
        )
    if a.echoes:
        line = f"{a.echoes} 位用户转发或表示“我家也是”，投诉正被他人接力传播"
        (first if a.echoes >= config.severity.min_echo_authors else rest).append(line)
    verified = sorted(a.facts.verified)
    if verified:
        names = "、".join(verified[:3]) + ("等" if len(verified) > 3 else "")
        line = f"{len(verified)} 个认证或媒体账号已参与：{names}"
        (critical if "verified" in a.critical_by else rest).append(line)
    velocity = stats.get("velocity_per_hour", 0.0)
    if velocity >= 1:
        line = f"互动快速上升：每小时新增约 {count(velocity)} 次转发、评论和点赞"
        (critical if "velocity" in a.critical_by else rest).append(line)
    high = stats.get("high_share", 0.0)
    if high > 0:
        line = f"{high:.0%} 的发帖人扬言找媒体、12315、律师、集体维权，或提到安全隐患"
        (critical if "high_share" in a.critical_by else rest).append(line)
    if stats.get("reach"):
        rest.append(
            f"参与账号粉丝合计约 {count(stats['reach'])}，最大单个账号 {count(stats['max_followers'])}"
        )
    facts = a.facts
    if facts.brand_from == "reposts":
        rest.append(f"其中未点名品牌的帖子：{facts.brand_voters} 位用户转发时点名「{facts.brand}」，据此归入")
    elif facts.brand_from == "likeness":
        rest.append(f"其中未点名品牌的帖子：内容与点名「{facts.brand}」的投诉相似，据此归入")
    rest.append(f"累计 {int(stats['posts'])} 条相关帖子、{int(stats['authors'])} 位用户")
    if stats.get("complaint_share", 1.0) < 1.0:
        rest.append(f"相似帖子中 {stats['complaint_share']:.0%} 为投诉，其余为正面内容")
    return critical + first + rest


def evidence(c: Cluster, limit: int, first: Member | None, since: float | None = None) -> list[str]:
    """Post ids, most important first: the big voice, the post that opens the story (``first``, see ``opener``),
    then by voice and engagement, those from ``since`` on (a surge's, see ``surge``) before the others."""
    members = list(c.members.values())
    order: list[str] = []
    if c.fast_post is not None and c.fast_post in c.members:
        order.append(c.fast_post)
    if first is not None:
        order.append(first.key)

    known = c.importance

    def importance(m) -> float:
        # Worked out once per member and engagement (the only thing of a member that changes).
        cached = known.get(m.key)
        if cached is not None and cached[0] == m.eng:
            return cached[1]
        weight = 1.0 + math.log10(max(1.0, m.followers / 10_000)) + (1.0 if m.verified else 0.0)
        if m.high:
            weight *= 1.5
        value = weight * (1.0 + math.log10(1.0 + m.eng))
        known[m.key] = (m.eng, value)
        return value

    # The most important ``limit * 4`` at most are looked at: nsmallest is sorted(...)[:n], without the sort.
    if since is None:
        ranked = heapq.nsmallest(limit * 4, members, key=lambda m: (-importance(m), m.t))
    else:
        ranked = heapq.nsmallest(limit * 4, members, key=lambda m: (m.t < since, -importance(m), m.t))
    order.extend(m.key for m in ranked)
    # One post per author: an account repeating itself is one voice, and PR people need to see who joined.
    ids: list[str] = []
    authors: set[str] = set()
    for key in dict.fromkeys(order):
        author = c.members[key].author
        if author not in authors:
            authors.add(author)
            ids.append(key)
            if len(ids) == limit:
                break
    return [key.split("\x1f", 1)[1] for key in ids]


def resolved_reason(c: Cluster, now: float, by: str | None = None) -> str:
    """Why an incident is over."""
    if by:
        return f"已由 {by} 标记为已处理；除非再次爆发，不再提醒"
    quiet = (now - c.last_post) / HOUR
    return f"已平息：{_hours(quiet)} 小时内没有新的相关投诉"


def merged_reason(keep: Cluster, title: str) -> str:
    """Why an incident was folded into another."""
    return f"已并入同一问题的事件「{title}」（{keep.id}），后续在该事件中提醒"


def _hours(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def _days(hours: float) -> str:
    return _hours(hours / 24.0)
