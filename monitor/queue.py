"""Active learning: which posts an analyst should label next.

First the posts the current model is least sure about, or where its two heads disagree (a positive post
rated a medium/high escalation risk, a non-negative post rated high), taken in turns from each feed so one
busy feed cannot fill the queue; then random others (seeded, so the order is stable). Posts already
labelled for the task are left out.

With a ``Classifier`` the candidates are scored afresh by that model (the one in use); without one, the
latest stored classification of each post is used.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field

import sqlite_utils

from monitor.labels import TASKS

logger = logging.getLogger(__name__)

CANDIDATES = 5000  # the newest unlabelled posts considered
UNSURE_FROM = 0.5  # below this uncertainty (and no disagreement) a post only comes in the random tail
ESCALATION_THRESHOLDS = (0.3, 0.6)  # used when no model is given (the default model's thresholds)
SENTIMENTS = ("negative", "neutral", "positive")


@dataclass
class QueueItem:
    """One post to label, with the model's view of it and why it was chosen."""

    source: str
    post_id: str
    text: str
    feed: str
    reason: str  # "disagree", "unsure" or "random"
    priority: float
    sentiment: str | None = None
    sentiment_scores: dict[str, float] = field(default_factory=dict)
    escalation: str | None = None
    escalation_score: float | None = None


def sentiment_uncertainty(scores: dict[str, float]) -> float:
    """1 minus the margin between the two likeliest classes: 1 is a coin toss, 0 is certain."""
    top = sorted(scores.values(), reverse=True)
    return 1.0 - (top[0] - top[1])


def escalation_uncertainty(score: float, thresholds: tuple[float, float]) -> float:
    """1 on a threshold between levels, falling to 0 at 0.3 or more away from the nearest one."""
    distance = min(abs(score - t) for t in thresholds)
    return max(0.0, 1.0 - distance / 0.3)


def heads_disagree(sentiment: str, escalation: str) -> bool:
    """Praise rated a complaint risk, or a calm post rated high: one of the two heads is wrong."""
    return (sentiment == "positive" and escalation != "low") or (
        sentiment != "negative" and escalation == "high"
    )


def next_posts(
    db: sqlite_utils.Database,
    task: str = "sentiment",
    *,
    limit: int = 20,
    classifier=None,
    seed: int = 0,
    candidates: int = CANDIDATES,
) -> list[QueueItem]:
    """Up to ``limit`` unlabelled posts for ``task``, the most useful to label first."""
    if task not in ("sentiment", "escalation"):
        raise ValueError(f"task must be sentiment or escalation, not {task!r} (tasks: {', '.join(TASKS)})")
    posts = list(
        db.query(
            """
            select p.source, p.id, p.text, p.text_norm, coalesce(p.feed, p.source) as feed,
                   c.sentiment, c.p_negative, c.p_neutral, c.p_positive, c.escalation, c.escalation_score
            from posts p
            left join classifications c on c.rowid = (
                select rowid from classifications
                where source = p.source and post_id = p.id order by classified_at desc limit 1
            )
            where not exists (
                select 1 from labels l where l.source = p.source and l.post_id = p.id and l.task = ?
            ) and coalesce(p.deleted, 0) = 0
            order by p.first_seen_at desc, p.source, p.id
            limit ?
            """,
            [task, int(candidates)],
        )
    )
    # A text labelled before (imported, or the same post seen on another feed) needs no second label.
    labelled = {row["text"] for row in db.query("select text from labels where task = ?", [task])}
    posts = [post for post in posts if post["text"] not in labelled]
    items = _score(posts, task, classifier)
    unsure = [item for item in items if item.reason != "random"]
    rest = [item for item in items if item.reason == "random"]
    rest.sort(key=lambda item: (item.source, item.post_id))
    random.Random(seed).shuffle(rest)
    return (_round_robin(unsure) + rest)[:limit]


def _score(posts: list[dict], task: str, classifier) -> list[QueueItem]:
    thresholds = ESCALATION_THRESHOLDS
    if classifier is not None:
        thresholds = tuple(classifier.thresholds)
        predictions = classifier.predict([post["text_norm"] or post["text"] for post in posts])
        for post, p in zip(posts, predictions, strict=True):
            post.update(
                sentiment=p.sentiment,
                p_negative=p.sentiment_scores["negative"],
                p_neutral=p.sentiment_scores["neutral"],
                p_positive=p.sentiment_scores["positive"],
                escalation=p.escalation,
                escalation_score=p.escalation_score,
            )
    items = []
    for post in posts:
        item = QueueItem(
            source=post["source"],
            post_id=post["id"],
            text=post["text"],
            feed=post["feed"] or "",
            reason="random",
            priority=0.0,
        )
        if post["sentiment"] is not None:
            item.sentiment = post["sentiment"]
            item.sentiment_scores = {name: post[f"p_{name}"] or 0.0 for name in SENTIMENTS}
            item.escalation = post["escalation"]
            item.escalation_score = post["escalation_score"] or 0.0
            if task == "sentiment":
                doubt = sentiment_uncertainty(item.sentiment_scores)
            else:
                doubt = escalation_uncertainty(item.escalation_score, thresholds)
            disagree = heads_disagree(item.sentiment, item.escalation)
            item.priority = doubt + (1.0 if disagree else 0.0)
            if disagree:
                item.reason = "disagree"
            elif doubt >= UNSURE_FROM:
                item.reason = "unsure"
        items.append(item)
    return items


def _round_robin(items: list[QueueItem]) -> list[QueueItem]:
    """Most useful first within each feed, feeds taking turns (the feed with the top post starts)."""
    by_feed: dict[str, list[QueueItem]] = defaultdict(list)
    for item in sorted(items, key=lambda i: (-i.priority, i.source, i.post_id)):
        by_feed[item.feed].append(item)
    queues = list(by_feed.values())
    out: list[QueueItem] = []
    turn = 0
    while queues:
        out.append(queues[turn].pop(0))
        if not queues[turn]:
            queues.pop(turn)
        else:
            turn += 1
        if queues:
            turn %= len(queues)
    return out
