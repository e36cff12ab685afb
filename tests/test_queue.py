from datetime import UTC, datetime, timedelta

import pytest

from classifiers import Prediction
from monitor.labels import add_label
from monitor.normalize import normalize
from monitor.post import Post
from monitor.queue import escalation_uncertainty, heads_disagree, next_posts, sentiment_uncertainty
from monitor.store import save_post

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
SURE = (0.96, 0.02, 0.02)
UNSURE = (0.40, 0.25, 0.35)


def _post(db, feed, post_id, scores=None, escalation=("low", 0.05), minutes=0):
    post = Post.from_dict({"id": post_id, "text": f"{feed} 帖子 {post_id}", "source": "weibo", "feed": feed})
    save_post(db, post, normalize(post.text), now=NOW + timedelta(minutes=minutes), tags={"feed": feed})
    if scores is not None:
        names = ("negative", "neutral", "positive")
        db["classifications"].insert(
            {
                "source": "weibo",
                "post_id": post_id,
                "model_version": "m1",
                "sentiment": names[max(range(3), key=lambda i: scores[i])],
                "p_negative": scores[0],
                "p_neutral": scores[1],
                "p_positive": scores[2],
                "escalation": escalation[0],
                "escalation_score": escalation[1],
                "classified_at": NOW.isoformat(),
            }
        )


@pytest.fixture
def busy_db(fresh_db):
    # A busy feed full of doubtful posts, a quiet one with one doubtful post, and one where the heads disagree.
    for i in range(6):
        _post(fresh_db, "busy", f"b{i}", (0.40 - i * 0.01, 0.25 + i * 0.01, 0.35), minutes=i)
    _post(fresh_db, "quiet", "q0", UNSURE)
    _post(fresh_db, "quiet", "q1", SURE)
    _post(fresh_db, "reviews", "r0", (0.05, 0.05, 0.90), escalation=("high", 0.8))  # praise rated high risk
    _post(fresh_db, "reviews", "r1", SURE)
    _post(fresh_db, "reviews", "r2", SURE)
    _post(fresh_db, "quiet", "q2")  # never classified
    return fresh_db


def test_doubtful_and_contradictory_posts_come_first_with_feeds_taking_turns(busy_db):
    items = next_posts(busy_db, "sentiment", limit=20)
    reasons = [item.reason for item in items]
    assert reasons[:8] == ["disagree"] + ["unsure"] * 7
    assert set(reasons[8:]) == {"random"}
    assert [item.post_id for item in items[:4]] == ["r0", "b5", "q0", "b4"]
    # The busy feed's most doubtful post (the closest call) leads its own turn.
    assert items[1].sentiment_scores == pytest.approx({"negative": 0.35, "neutral": 0.30, "positive": 0.35})
    assert {item.post_id for item in items[8:]} == {"q1", "r1", "r2", "q2"}


def test_the_random_tail_is_stable_for_a_seed_and_the_limit_is_kept(busy_db):
    first = [item.post_id for item in next_posts(busy_db, "sentiment", seed=3)]
    assert first == [item.post_id for item in next_posts(busy_db, "sentiment", seed=3)]
    assert len(next_posts(busy_db, "sentiment", limit=3)) == 3


def test_labelled_posts_leave_the_queue_for_that_task_only(busy_db):
    add_label(busy_db, task="sentiment", label="positive", source="weibo", post_id="r0", labeller="ana")
    add_label(
        busy_db, task="sentiment", label="negative", text="busy 帖子 b0", labeller="ana"
    )  # imported text
    sentiment = [item.post_id for item in next_posts(busy_db, "sentiment")]
    assert "r0" not in sentiment and "b0" not in sentiment
    assert [item.post_id for item in next_posts(busy_db, "escalation")][0] == "r0"


class _Model:
    """Stands in for a ``Classifier``: unsure about posts whose id ends in 7."""

    version = "stub"
    thresholds = (0.3, 0.6)

    def predict(self, texts):
        return [
            Prediction(
                "neutral" if t.endswith("7") else "negative",
                {"negative": 0.34, "neutral": 0.33, "positive": 0.33}
                if t.endswith("7")
                else {"negative": 0.98, "neutral": 0.01, "positive": 0.01},
                "low",
                0.0,
            )
            for t in texts
        ]


def test_with_a_model_the_posts_are_scored_afresh(fresh_db):
    for i in range(10):
        _post(fresh_db, "feed", f"p{i}", SURE if i != 7 else UNSURE)
    items = next_posts(fresh_db, "sentiment", classifier=_Model())
    assert items[0].post_id == "p7" and items[0].reason == "unsure"
    assert [i.reason for i in items[1:]] == ["random"] * 9


def test_uncertainty_and_disagreement_measures():
    assert sentiment_uncertainty({"negative": 0.5, "neutral": 0.0, "positive": 0.5}) == 1.0
    assert sentiment_uncertainty({"negative": 1.0, "neutral": 0.0, "positive": 0.0}) == 0.0
    assert escalation_uncertainty(0.6, (0.3, 0.6)) == 1.0
    assert escalation_uncertainty(0.95, (0.3, 0.6)) == 0.0
    assert heads_disagree("positive", "medium") and heads_disagree("neutral", "high")
    assert not heads_disagree("negative", "high") and not heads_disagree("positive", "low")
