"""Detection on a simulated clock, with hand-made posts and fake predictions (pure logic)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from monitor.detect import DetectionConfig, Detector, Observation
from monitor.detect_cluster import Cluster, Member
from monitor.detect_spread import HOUR, Rate, Rhythm, surge_start
from monitor.detect_text import StormWords, Vocabulary
from monitor.normalize import normalize
from monitor.post import Post

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
BRANDS = {"siemens": {"aliases": ["西门子", "西門子", "Siemens"]}}


@dataclass
class FakePrediction:
    sentiment: str
    sentiment_scores: dict
    escalation: str
    escalation_score: float


def predicted(sentiment: str = "negative", escalation: str = "medium") -> FakePrediction:
    p = {"negative": 0.9, "neutral": 0.3, "positive": 0.9}[sentiment]
    rest = (1 - p) / 2
    scores = {k: (p if k == sentiment else rest) for k in ("negative", "neutral", "positive")}
    esc_score = {"low": 0.1, "medium": 0.45, "high": 0.85}[escalation]
    return FakePrediction(sentiment, scores, escalation, esc_score)


class Feed:
    """Feeds posts to a detector on a simulated clock and collects the events."""

    def __init__(self, config: DetectionConfig | None = None, **overrides):
        self.detector = Detector(config or DetectionConfig(brands=BRANDS, **overrides))
        self.events = []
        self.n = 0

    def post(self, text, at, *, author=None, followers=200, verified=False, sentiment="negative", escalation="medium", tags=None, counts=(0, 0, 0), post_id=None):  # fmt: skip
        self.n += 1
        post = Post(
            id=post_id or f"p{self.n}",
            text=text,
            author=author or f"user{self.n}",
            author_followers=followers,
            author_verified=verified,
            created_at=at,
            reposts=counts[0],
            comments=counts[1],
            likes=counts[2],
        )
        obs = Observation(
            post, normalize(text).text_norm, predicted(sentiment, escalation), at, True, tags or {}
        )
        out = self.detector.observe(obs)
        self.events += out
        return post

    def again(self, post, at, counts, sentiment="negative", escalation="medium"):
        seen = Post(id=post.id, text=post.text, author=post.author, author_followers=post.author_followers,
                    created_at=post.created_at, observed_at=at, reposts=counts[0], comments=counts[1], likes=counts[2])  # fmt: skip
        obs = Observation(
            seen, normalize(post.text).text_norm, predicted(sentiment, escalation), at, False, {}
        )
        out = self.detector.observe(obs)
        self.events += out
        return out

    def tick(self, at):
        out = self.detector.tick(at)
        self.events += out
        return out

    def severities(self):
        return [e.severity for e in self.events if e.status == "firing"]

    def max_severity(self):
        order = ["watch", "warning", "critical"]
        firing = [order.index(e.severity) for e in self.events if e.status == "firing"]
        return order[max(firing)] if firing else None


FRIDGE = [
    "西门子冰箱门关不上，门封条总是弹开，里面的菜都坏了",
    "我家西门子冰箱也是，门关不严，老是自己弹开",
    "同款西门子冰箱，门封条弹开关不上，售后一直拖",
    "西門子冰箱門關不上，門封條彈開，太氣人了",
    "西门子冰箱门又弹开了，关不严，质量太差",
    "买的西门子冰箱门关不上一个月了，门封条有问题",
    "西门子冰箱门封条弹开，冷气全跑了，关不上",
    "西门子冰箱的门关不严自己弹开，你们管不管",
]
BACKGROUND = [
    "西门子洗衣机噪音太大了，晚上根本睡不着",
    "西门子客服电话一直打不通，等了半小时",
    "西门子洗碗机洗不干净，碗上全是渣",
    "西门子烤箱温度不准，烤糊了两次",
    "西门子热水器出水忽冷忽热",
    "西门子油烟机吸力太小，厨房全是烟",
]


def echo_burst(feed: Feed, start: datetime, n: int, every_minutes: float = 15.0, **kw) -> None:
    for i in range(n):
        feed.post(FRIDGE[i % len(FRIDGE)], start + timedelta(minutes=every_minutes * i), **kw)


def test_echoes_of_one_fault_group_into_one_incident_and_warn():
    feed = Feed()
    echo_burst(feed, T0, 10)
    incidents = feed.detector.incidents()
    assert len(incidents) == 1
    assert incidents[0].n_authors == 10
    assert "warning" in feed.severities()
    warning = next(e for e in feed.events if e.severity == "warning")
    assert warning.reasons and "位不同用户发布相似投诉" in warning.reasons[0]
    assert warning.title.startswith("西门子")
    assert warning.post_ids[0] == "p1"  # the first post leads the evidence


def test_traditional_and_simplified_posts_join_the_same_incident():
    feed = Feed()
    feed.post("西门子冰箱门关不上，门封条弹开", T0)
    feed.post("西門子冰箱門關不上，門封條彈開", T0 + timedelta(minutes=5))
    incidents = feed.detector.incidents()
    assert len(incidents) == 1 and incidents[0].n_posts == 2


def test_two_faults_of_one_brand_are_two_incidents():
    feed = Feed()
    for i in range(6):
        at = T0 + timedelta(minutes=20 * i)
        feed.post(FRIDGE[i], at)
        feed.post(
            [
                "西门子洗衣机漏水，地板全泡了",
                "西门子洗衣机底下一直漏水",
                "我家西门子洗衣机也漏水，水漫了一地",
            ][i % 3],
            at,
        )
    incidents = feed.detector.incidents()
    assert len(incidents) == 2
    assert sorted(i.n_posts for i in incidents) == [6, 6]


def test_brand_comes_from_tags_else_from_aliases_in_the_text():
    feed = Feed()
    feed.post("Siemens 冰箱门关不上", T0)
    feed.post("冰箱门关不上，门封条坏了", T0 + timedelta(minutes=1), tags={"brand": "other"})
    feed.post("同款冰箱门关不上", T0 + timedelta(minutes=2), tags={"brand": "other"})
    brands = sorted(i.brand for i in feed.detector.incidents())
    assert brands == ["other"]  # the siemens one has a single author: not listed
    feed.post("西門子冰箱門關不上了", T0 + timedelta(minutes=3))
    assert sorted(i.brand for i in feed.detector.incidents()) == ["other", "siemens"]


def test_big_escalating_voice_warns_on_its_own():
    feed = Feed()
    feed.post("西门子冰箱门关不上，已经投诉到12315，准备找媒体曝光", T0, followers=1_200_000, verified=True,
              escalation="high")  # fmt: skip
    assert feed.severities() == ["warning"]
    event = feed.events[0]
    assert event.reasons[0].startswith("大号发声")
    assert "120万" in event.reasons[0]


def test_big_accounts_mild_grumble_nobody_picks_up_does_not_warn():
    feed = Feed()
    feed.post("西门子冰箱门有点不好关，有点烦", T0, followers=1_200_000, verified=True, escalation="medium")
    feed.tick(T0 + timedelta(days=3))
    assert "warning" not in feed.severities() and "critical" not in feed.severities()


def test_big_accounts_neutral_posts_do_not_alert():
    feed = Feed()
    for i in range(10):
        feed.post(f"西门子新款冰箱发布会现场，第{i}场", T0 + timedelta(minutes=10 * i), author="科技媒体",
                  followers=3_000_000, verified=True, sentiment="neutral", escalation="low")  # fmt: skip
    assert feed.events == []


def test_one_account_repeating_its_anger_does_not_page():
    feed = Feed()
    for i in range(20):
        feed.post("西门子冰箱门关不上！！！气死我了，垃圾西门子", T0 + timedelta(minutes=5 * i), author="angry_one",
                  followers=150, escalation="high")  # fmt: skip
    assert "warning" not in feed.severities() and "critical" not in feed.severities()
    assert feed.detector.incidents() == []  # one author: not even listed


def test_positive_viral_burst_does_not_page_even_if_partly_misread():
    feed = Feed()
    for i in range(200):
        # every tenth post misread as negative by the classifier
        feed.post("西门子新款冰箱太好看了，门一拉就开，爱了爱了", T0 + timedelta(minutes=2 * i),
                  sentiment="negative" if i % 10 == 0 else "positive", escalation="low")  # fmt: skip
    assert "warning" not in feed.severities() and "critical" not in feed.severities()


def test_everyday_trickle_of_the_same_grumble_does_not_page():
    feed = Feed()
    at = T0
    for day in range(14):
        for hour in (9, 14, 20):  # three a day, every day
            at = T0 + timedelta(days=day, hours=hour)
            feed.post("西门子洗衣机噪音太大了，晚上睡不着", at)
            feed.tick(at)
    assert "warning" not in feed.severities() and "critical" not in feed.severities()


def test_everyday_background_of_assorted_complaints_does_not_alert():
    feed = Feed()
    for day in range(7):
        for i, text in enumerate(BACKGROUND):
            at = T0 + timedelta(days=day, hours=2 + 3 * i)
            feed.post(text, at)
            feed.tick(at)
    assert "warning" not in feed.severities() and "critical" not in feed.severities()


def test_incident_reaches_critical_as_it_keeps_growing():
    feed = Feed()
    echo_burst(feed, T0, 40, every_minutes=10)
    assert feed.max_severity() == "critical"
    assert feed.severities().index("warning") < feed.severities().index("critical")


def test_verified_media_joining_makes_a_warning_critical():
    feed = Feed()
    echo_burst(feed, T0, 6)
    assert feed.max_severity() == "warning"
    for i, name in enumerate(["财经日报", "新闻晚报"]):
        feed.post(FRIDGE[i], T0 + timedelta(hours=2, minutes=i), author=name, followers=80_000, verified=True)
    assert feed.max_severity() == "critical"
    critical = next(e for e in feed.events if e.severity == "critical")
    assert any("认证或媒体账号" in r for r in critical.reasons[:2])


def test_engagement_velocity_from_reobservations_makes_a_warning_critical():
    feed = Feed()
    posts = [feed.post(FRIDGE[i], T0 + timedelta(minutes=10 * i)) for i in range(6)]
    assert feed.max_severity() == "warning"
    events = feed.again(posts[0], T0 + timedelta(hours=1), (5000, 3000, 20000))
    assert [e.severity for e in events] == ["critical"]
    assert any("互动快速上升" in r for r in events[0].reasons)


def test_growing_incident_is_renotified_with_what_changed():
    feed = Feed()
    echo_burst(feed, T0, 30, every_minutes=20)
    growth = [e for e in feed.events if e.labels.get("change") == "growth"]
    assert growth, "a growing incident is announced again"
    assert growth[0].stats["authors"] > feed.events[0].stats["authors"]


def test_lifecycle_cooling_resolved_and_reopened():
    feed = Feed()
    echo_burst(feed, T0, 6)
    last = T0 + timedelta(minutes=75)
    feed.tick(last + timedelta(hours=7))
    assert feed.detector.incidents()[0].status == "cooling"
    resolved = feed.tick(last + timedelta(hours=49))
    assert [e.status for e in resolved] == ["resolved"]
    assert feed.detector.incidents()[0].status == "resolved"
    echo_burst(feed, last + timedelta(days=5), 6)
    incident = feed.detector.incidents()[0]
    assert incident.status == "growing" and incident.reopened == 1
    assert feed.events[-1].incident_id == resolved[0].incident_id
    assert feed.events[-1].status == "firing"


def test_state_round_trip_resumes_exactly():
    feed = Feed()
    echo_burst(feed, T0, 5)
    state = json.loads(json.dumps(feed.detector.state(), ensure_ascii=False))
    twin = Feed()
    twin.detector = Detector(feed.detector.config, state)
    assert twin.detector.state() == state
    later = T0 + timedelta(hours=2)
    for f in (feed, twin):
        f.events = []
        f.n = 100
        echo_burst(f, later, 8)
        f.tick(later + timedelta(days=3))
    assert [(e.severity, e.status, e.post_ids) for e in feed.events] == [
        (e.severity, e.status, e.post_ids) for e in twin.events
    ]
    assert feed.detector.state() == twin.detector.state()


def test_config_rejects_thresholds_out_of_order():
    with pytest.raises(
        ValidationError, match=r"severity.watch/warning/critical.min_authors must not decrease"
    ):
        DetectionConfig.model_validate({"severity": {"warning": {"window_hours": 12, "min_authors": 50,
                                                                 "min_voices": 6, "min_growth": 3}}})  # fmt: skip


def test_config_rejects_cooling_after_resolving():
    with pytest.raises(ValidationError, match="lifecycle.cooling_after_hours must be less than"):
        DetectionConfig.model_validate({"lifecycle": {"cooling_after_hours": 50, "resolve_after_hours": 48}})


def test_config_rejects_an_alias_shared_by_two_brands():
    with pytest.raises(ValidationError, match="already an alias of brands.a"):
        DetectionConfig.model_validate({"brands": {"a": {"aliases": ["X"]}, "b": {"aliases": ["x"]}}})


def test_config_rejects_a_fault_word_in_two_families():
    with pytest.raises(
        ValidationError, match="grouping.fault_terms.b: '漏水' is already a word of grouping.fault_terms.a"
    ):
        DetectionConfig(grouping={"fault_terms": {"a": ["漏水"], "b": ["滴水", "漏水"]}})


def test_config_rejects_unknown_keys_and_a_grumble_above_the_fast_path():
    with pytest.raises(ValidationError, match="extra"):
        DetectionConfig.model_validate({"grouping": {"min_similarty": 0.3}})
    with pytest.raises(ValidationError, match="fast_path.grumble_severity must not exceed"):
        DetectionConfig.model_validate({"fast_path": {"severity": "watch", "grumble_severity": "warning"}})


def test_shipped_config_file_is_valid_and_matches_the_defaults():
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "config" / "detection.toml"
    loaded = DetectionConfig.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    assert loaded.model_dump(exclude={"brands"}) == DetectionConfig().model_dump(exclude={"brands"})


def test_short_echoes_without_words_of_their_own_join_the_surging_incident():
    feed = Feed()
    echo_burst(feed, T0, 4)
    for i, text in enumerate(["支持维权！", "西门子受害者+1", "大品牌也不靠谱啊"]):
        feed.post(text, T0 + timedelta(hours=1, minutes=i), tags={"brand": "西门子"})
    incidents = feed.detector.incidents()
    assert len(incidents) == 1 and incidents[0].n_authors == 7


def test_a_short_grumble_joins_a_group_only_while_authors_are_joining_it():
    # Three owners over a morning make a watch, not a surge: a short grumble naming no fault ("西门子客服打不通")
    # stays out of it. (A brand with dozens of everyday grumbles a day always has such a watch; with the surge
    # read over the half day, every grumble piled onto it until it warned.)
    feed = Feed()
    echo_burst(feed, T0, 3, every_minutes=150)
    feed.post("西门子，还我钱！！！", T0 + timedelta(hours=5, minutes=30), tags={"brand": "西门子"})
    assert max(len(c.author_first) for c in feed.detector.clusters.values()) == 3
    # Three owners within the hour are a surge: the same grumble joins them.
    feed = Feed()
    echo_burst(feed, T0, 3, every_minutes=20)
    feed.post("西门子，还我钱！！！", T0 + timedelta(hours=1, minutes=30), tags={"brand": "西门子"})
    assert max(len(c.author_first) for c in feed.detector.clusters.values()) == 4


def test_an_authors_follow_up_of_their_own_complaint_is_not_an_echo():
    # Owners reporting the fault in their own words: nobody has taken anybody's complaint up yet.
    feed = Feed()
    for i, text in enumerate((FRIDGE[0], FRIDGE[4], FRIDGE[5])):
        feed.post(text, T0 + timedelta(minutes=20 * i), author=f"owner{i}")
    [c] = feed.detector.clusters.values()
    assert c.echo_authors == {}
    first = "owner0"
    # The first owner's short grumble an hour later (naming no fault) joins their incident as a follow-up ...
    feed.post("西门子，还我钱！！！", T0 + timedelta(hours=1), author=first, tags={"brand": "西门子"})
    assert len(c.members) == 4 and len(c.author_first) == 3
    # ... and is not an echo; a new account saying the same thing is one.
    assert c.echo_authors == {}
    feed.post(
        "西门子，还我钱！！！",
        T0 + timedelta(hours=1, minutes=5),
        author="newcomer",
        tags={"brand": "西门子"},
    )
    assert list(c.echo_authors) == ["newcomer"]


def test_a_short_repost_of_an_advert_is_not_a_reaction_to_the_brands_incident():
    # Owners are surging; a fan's excited repost of the brand's advert (misread as negative: "尖叫") names no fault
    # and is short, but it is about what it quotes, not about the door.
    feed = Feed()
    echo_burst(feed, T0, 3, every_minutes=20)
    feed.post("尖叫！为了他买了台西门子//@代言人:和西门子一起，新广告片来啦，大家喜欢吗？",
              T0 + timedelta(hours=1), author="fan", tags={"brand": "西门子"})  # fmt: skip
    door = max(feed.detector.clusters.values(), key=lambda c: len(c.author_first))
    assert "fan" not in door.author_first and len(door.author_first) == 3
    # Without the quote, the same short cry joins the surging incident as a reaction.
    feed.post(
        "尖叫！为了他买了台西门子",
        T0 + timedelta(hours=1, minutes=1),
        author="fan2",
        tags={"brand": "西门子"},
    )
    assert "fan2" in door.author_first


def test_a_fresh_incident_does_not_raise_the_usual_level_it_is_measured_against():
    feed = Feed()
    echo_burst(feed, T0, 30, every_minutes=6)
    warning = next(e for e in feed.events if e.severity == "critical")
    assert warning.stats["expected"] < 1.0


def test_complaints_naming_no_brand_stay_on_watch():
    feed = Feed()
    for i in range(12):
        feed.post(["地铁又挤成沙丁鱼了，气死", "早高峰地铁挤死了，每天都这样", "今天地铁又晚点，烦死"][i % 3],
                  T0 + timedelta(minutes=10 * i))  # fmt: skip
    assert feed.severities() and set(feed.severities()) == {"watch"}


COMPARISONS = [  # a storm from a category search: the same trip dearer for old accounts, no brand named
    "同一个行程，老用户比新用户贵了27块，打车软件杀熟",
    "打车软件杀熟，同一个行程老用户贵了十几块",
    "我也试了，同一个行程老用户比新用户贵，杀熟实锤",
    "老用户比新用户贵，同一个行程去机场贵8块，打车软件杀熟",
    "打车软件老用户贵了，同一个行程三台手机三个价",
    "同一个行程老用户比新用户贵11块，这就是杀熟",
]


def repost(feed: Feed, of: Post, text: str, at: datetime, author: str) -> None:
    post = Post(id=f"r-{author}", text=text, author=author, author_followers=200, created_at=at,
                extra={"repost_of": of.id})  # fmt: skip
    feed.events += feed.detector.observe(
        Observation(post, normalize(text).text_norm, predicted(), at, True, {})
    )


def test_a_storm_naming_no_brand_becomes_the_brands_once_reposts_naming_it_join():
    # Most of a storm's posts may come from a category search and name no brand; its reposts that name the
    # brand say whose it is. From the second such author the incident is the brand's, and can warn.
    feed = Feed()
    start = T0 + timedelta(days=2)
    first = feed.post(COMPARISONS[0], start, author="owner0")
    for i, text in enumerate(COMPARISONS[1:], 1):
        feed.post(text, start + timedelta(minutes=8 * i), author=f"owner{i}")
    [storm] = feed.detector.incidents()
    assert not storm.brand and set(feed.severities()) == {"watch"}
    repost(feed, first, "西门子+1，我也贵了十几块", start + timedelta(minutes=60), "fan1")
    assert not feed.detector.incidents()[0].brand  # one repost is one account's say
    repost(feed, first, "西门子出来解释", start + timedelta(minutes=65), "fan2")
    [storm] = feed.detector.incidents()
    assert storm.brand == "siemens" and storm.n_authors == len(COMPARISONS) + 2
    assert "warning" in feed.severities() or "critical" in feed.severities()
    assert "其中未点名品牌的帖子：2 位用户转发时点名「siemens」，据此归入" in feed.events[-1].reasons
    # The storm's next posts still name no brand: they join it, not a new group.
    feed.post(COMPARISONS[2], start + timedelta(minutes=70), author="late")
    [storm] = feed.detector.incidents()
    assert storm.n_authors == len(COMPARISONS) + 3
    # Reposts naming two brands say nothing of whose it is.
    feed = Feed(DetectionConfig(brands={**BRANDS, "haier": {"aliases": ["海尔"]}}))
    first = feed.post(COMPARISONS[0], start, author="owner0")
    for i, text in enumerate(COMPARISONS[1:], 1):
        feed.post(text, start + timedelta(minutes=8 * i), author=f"owner{i}")
    for i, brand in enumerate(["西门子", "海尔", "西门子", "海尔"]):
        repost(feed, first, f"{brand}+1，我也贵了十几块", start + timedelta(minutes=60 + i), f"fan{i}")
    assert not any(i.brand for i in feed.detector.incidents())
    # brand_from_reposts = 0: never.
    feed = Feed(DetectionConfig(brands=BRANDS, grouping={"brand_from_reposts": 0}))
    first = feed.post(COMPARISONS[0], start, author="owner0")
    for i, text in enumerate(COMPARISONS[1:], 1):
        feed.post(text, start + timedelta(minutes=8 * i), author=f"owner{i}")
    for i in (1, 2, 3):
        repost(feed, first, "西门子+1，我也贵了十几块", start + timedelta(minutes=60 + i), f"fan{i}")
    assert not any(i.brand for i in feed.detector.incidents()) and set(feed.severities()) == {"watch"}


def test_an_everyday_group_naming_no_brand_does_not_become_the_brands_through_a_storms_reposts():
    # A group of everyday talk from the days before is not the storm's own, whatever reposts join it later.
    feed = Feed()
    for day in range(3):
        for i, text in enumerate(COMPARISONS[:3]):
            feed.post(text, T0 + timedelta(days=day, hours=3 * i), author=f"day{day}-{i}")
    first = feed.post(COMPARISONS[3], T0 + timedelta(days=3), author="owner")
    for i in (1, 2, 3):
        repost(feed, first, "西门子+1，我也贵了", T0 + timedelta(days=3, minutes=10 * i), f"fan{i}")
    assert not any(i.brand for i in feed.detector.incidents())


# One storm told in many words: pairwise they share little, and what they share ("老用户", "贵") is everyday language.
STORM = [
    "老用户打车比新用户贵了二十七块，同一个起点终点",
    "用了五年的老账号反而更贵，寒心",
    "我也是，和室友一起叫车，老用户贵了十一块",
    "会员越开越贵，换成朋友的号便宜一半",
    "三台手机三个价，用得最多的我最贵",
    "同样被宰，原来老用户一直在多付钱，新注册的号便宜",
    "去机场比闺蜜贵了八块，老账号不配便宜",
    "同一分钟下单，我的预估价高了十几块",
]
CHATTER = [
    "今天的晚霞真好看",
    "周末去爬山了，累但开心",
    "新买的耳机音质不错",
    "楼下新开了一家面馆",
    "猫又打翻了水杯",
]


def quiet_days(feed: Feed, days: int = 3, everyday: list[str] = ()) -> datetime:
    """Days of chatter (and ``everyday`` complaints, three a day) before the storm; when the storm starts."""
    for day in range(days):
        for i in range(40):
            feed.post(f"{CHATTER[i % len(CHATTER)]}{i}", T0 + timedelta(days=day, minutes=30 * i),
                      sentiment="neutral", escalation="low", author=f"chat{day}-{i}")  # fmt: skip
        for i in range(3 if everyday else 0):
            text = everyday[(3 * day + i) % len(everyday)]
            feed.post(text, T0 + timedelta(days=day, hours=2 + 5 * i), author=f"day{day}-{i}")
    return T0 + timedelta(days=days)


def storm_groups(feed: Feed) -> list[int]:
    """How many of the storm's authors each incident holding them has, most first."""
    sizes = (sum(p.author.startswith("owner") for p in i.posts) for i in feed.detector.incidents())
    return sorted((n for n in sizes if n), reverse=True)


def test_storm_words_bring_a_storm_told_in_many_words_together():
    def storm(weight: float) -> list[int]:
        feed = Feed(DetectionConfig(brands=BRANDS, grouping={"storm_weight": weight}))
        start = quiet_days(feed)
        for i, text in enumerate(STORM):
            feed.post(text, start + timedelta(minutes=7 * i), author=f"owner{i}")
        return storm_groups(feed)

    assert max(storm(1.0)) <= 3  # off: the rarity weights alone leave it in pieces
    assert max(storm(2.5)) >= 7


def test_storm_words_are_many_authors_words_within_the_window_far_above_their_usual_share():
    vocab = Vocabulary(10_000)
    words = StormWords(2 * HOUR, min_authors=3, ratio=4.0, weight=2.5)
    for i in range(200):  # the usual: "贵" in one post of ten
        vocab.add(("贵", "天气") if i % 10 == 0 else ("天气",))
    t = T0.timestamp()

    def complaint(minutes: float, author: str, feats: tuple[str, ...]) -> None:
        vocab.add(feats)
        words.add(t + minutes * 60, author, feats, vocab)

    for minutes in (0, 5, 10):
        complaint(minutes, "ranter", ("贵", "宰"))  # one account repeating itself is not many people
    assert words.weights == {}
    complaint(15, "b", ("贵", "宰"))
    complaint(20, "c", ("贵", "宰", "天气"))
    assert words.weights == {"贵": 2.5, "宰": 2.5}  # "天气" is in every post: not a storm word
    assert words.weigh(("宰", "天气"), [1.0, 2.0]) == [2.5, 2.0]
    # Restored from its state, the same words, though posts read since would say otherwise of "宰" now (a word is
    # looked at again when its authors change); two hours on, forgotten.
    for _ in range(30):
        vocab.add(("宰",))
    again = StormWords(2 * HOUR, min_authors=3, ratio=4.0, weight=2.5)
    again.restore(json.loads(json.dumps(words.to_state())))
    assert again.weights == words.weights == {"贵": 2.5, "宰": 2.5}
    complaint(150, "d", ("别的",))
    assert words.weights == {}


def test_state_round_trip_in_a_storm_resumes_exactly():
    feed = Feed()
    start = quiet_days(feed)
    feed.post(
        "西门子的会员越开越贵，老用户打车比新用户贵了二十七块", start - timedelta(minutes=5), author="named"
    )
    for i, text in enumerate(STORM[:5]):
        feed.post(text, start + timedelta(minutes=7 * i), author=f"owner{i}")
    for i in range(60):  # posts read after the storm words were settled
        feed.post(f"{CHATTER[i % len(CHATTER)]}老用户{i}", start + timedelta(minutes=36 + i / 10),
                  sentiment="neutral", escalation="low", author=f"late{i}")  # fmt: skip
    assert feed.detector.storm.weights
    state = json.loads(json.dumps(feed.detector.state(), ensure_ascii=False))
    twin = Feed()
    twin.detector = Detector(feed.detector.config, state)
    assert twin.detector.state() == state
    for f in (feed, twin):
        f.events = []
        for i, text in enumerate(STORM[5:], 5):
            f.post(text, start + timedelta(minutes=45 + 7 * i), author=f"owner{i}", post_id=f"s{i}")
    assert [(e.severity, e.status, e.reasons) for e in feed.events] == [
        (e.severity, e.status, e.reasons) for e in twin.events
    ]
    assert feed.detector.state() == twin.detector.state()


def test_a_storm_naming_no_brand_is_the_brands_incident_it_is_alike():
    # One of a storm's first posts names the brand; the rest, worded differently, do not. Once the storm would
    # warn had it named a brand, it is found to be that incident, and warns.
    def storm(liken: bool, everyday: list[str] = ()) -> Feed:
        feed = Feed(DetectionConfig(brands=BRANDS, grouping={"brand_from_likeness": liken}))
        start = quiet_days(feed, everyday=everyday)
        feed.post(
            "西门子的会员越开越贵，老用户打车比新用户贵了二十七块",
            start - timedelta(minutes=5),
            author="named",
        )
        for i, text in enumerate(STORM):
            feed.post(text, start + timedelta(minutes=7 * i), author=f"owner{i}")
        return feed

    feed = storm(True)
    [incident] = feed.detector.incidents()
    assert incident.brand == "siemens" and incident.n_authors == len(STORM) + 1
    [warned] = [e for e in feed.events if e.severity == "warning"]
    assert "其中未点名品牌的帖子：内容与点名「siemens」的投诉相似，据此归入" in warned.reasons
    # Off, the storm names no brand and stays on watch.
    feed = storm(False)
    assert not any(i.brand for i in feed.detector.incidents()) and set(feed.severities()) == {"watch"}
    # A group of everyday talk from the days before, which the storm's posts join, is not found to be the brand's.
    feed = storm(True, everyday=STORM)
    assert not any(i.brand for i in feed.detector.incidents() if i.n_authors > 1)
    assert set(feed.severities()) <= {"watch"}


def test_a_storm_naming_no_brand_is_the_brands_everyday_incident_its_naming_post_just_joined():
    # The brand's everyday grumble about its membership was there before; the storm's one post naming the brand
    # joins it, and the storm told without the name is found to be that incident. Without that post the brand's
    # everyday group, quiet for hours, is not found to be the storm's by a word or two.
    everyday = ["西门子的会员又涨价了，老用户续费越来越贵", "西门子会员续费比新用户贵，老用户不值钱"]

    def storm(named: bool, lately: str = "西门子的会员越开越贵，老用户打车比新用户贵了二十七块") -> Feed:
        feed = Feed(DetectionConfig(brands=BRANDS))
        start = quiet_days(feed, everyday=everyday)
        if named:
            feed.post(lately, start - timedelta(minutes=5), author="named")
        for i, text in enumerate(STORM):
            feed.post(text, start + timedelta(minutes=7 * i), author=f"owner{i}")
        return feed

    feed = storm(True)
    [taken] = [i for i in feed.detector.incidents() if i.brand]
    assert any(p.author == "named" for p in taken.posts)
    assert sum(p.author.startswith("owner") for p in taken.posts) >= 5
    assert any(p.author.startswith("day") for p in taken.posts)  # the brand's everyday group
    [warned] = [e for e in feed.events if e.severity == "warning"]
    # The alert says when the storm began and who began it, beside the group's first post, and shows the storm's
    # posts next.
    assert (
        "首帖 05月01日 10:00（北京时间），发帖人 day0-0（200 粉丝）；此前已有 9 位用户零星反映，"
        "本轮集中爆发始于 05月04日 07:55（北京时间），发帖人 named" in warned.summary
    )
    authors = {p.post_id: p.author for p in taken.posts}
    assert [authors[pid][:3] for pid in warned.post_ids[:8]] == ["day", "nam"] + ["own"] * 6
    # A watch claims no surge (everyday groups grow by day and shrink by night): three grumbles more in ten minutes.
    hotline = ["西门子的客服电话打不通，等了半小时没人接", "西门子客服电话一直打不通，服了"]
    feed = Feed()
    start = quiet_days(feed, everyday=hotline)
    for i in range(3):
        feed.post(hotline[i % 2] + f"{i}", start + timedelta(minutes=5 * i), author=f"new{i}")
    assert feed.severities()[-1] == "watch" and not any("本轮" in e.summary for e in feed.events)
    # Without that post, or with a post that joined lately about something else, the brand's everyday group is
    # not found to be the storm's by a word or two.
    for feed in (storm(False), storm(True, lately="西门子的会员客服电话打不通，续费退不了")):
        assert not any(
            i.brand for i in feed.detector.incidents() if any(p.author.startswith("owner") for p in i.posts)
        )
        assert set(feed.severities()) <= {"watch"}


def test_a_surge_starts_where_authors_began_to_come_far_faster_than_before():
    everyday = [6.0 * HOUR * i for i in range(12)]  # one author every six hours for three days
    storm = [everyday[-1] + 3 * HOUR + 600.0 * i for i in range(8)]  # then eight in 70 minutes
    now = storm[-1] + 60.0
    assert surge_start(everyday + storm, now, 2, 4, 4.0) == storm[0]
    assert surge_start(everyday, everyday[-1] + HOUR, 2, 4, 4.0) is None  # a steady trickle
    assert surge_start(storm, now, 2, 4, 4.0) is None  # it began as the surge
    assert surge_start(everyday + storm[:2], storm[1] + 60.0, 2, 4, 4.0) is None  # too few in it yet
    # One more 30 seconds after the storm's last: the storm still began with its first (not a surge of two).
    late = [*everyday, *storm, storm[-1] + 30.0]
    assert surge_start(late, late[-1], 2, 2, 4.0, min_later=4) == storm[0]
    # An afternoon's weather delays (twelve in four hours), then the evening's cancellations (eight in a quarter
    # of an hour): the later surge, though the most likely single change is the afternoon's.
    weather = [everyday[-1] + 3 * HOUR + 1200.0 * i for i in range(12)]
    evening = [weather[-1] + 1800.0 + 120.0 * i for i in range(8)]
    assert surge_start(everyday + weather + evening, evening[-1] + 60.0, 2, 2, 4.0) == evening[0]
    assert surge_start(everyday + weather, weather[-1] + 60.0, 2, 2, 4.0) == weather[0]


def test_a_surge_that_overran_a_group_of_another_story_is_split_off_before_it_warns():
    # The brand's everyday grumble about its hotline was there before; a fault's first post joins it on the
    # hotline's words and its reposts pile in. The warning is about the fault alone: the hotline grumbles stay a
    # group of their own. A group whose surge tells the same story as before stays one incident.
    def run(
        everyday: list[str],
        by: str = "seed",
        text: str = "西门子冰箱门关不上，打客服电话也打不通，门缝一直漏冷气",
    ) -> Feed:
        feed = Feed()
        start = quiet_days(feed, everyday=everyday)
        seed = feed.post(text, start, author=by)
        for i in range(7):
            repost(
                feed,
                seed,
                f"我家的冰箱门也关不上，合不拢{i}",
                start + timedelta(minutes=5 + 6 * i),
                f"fan{i}",
            )
        return feed

    feed = run(["西门子的客服电话打不通，等了半小时没人接", "西门子客服电话一直打不通，服了"])
    warned = [e for e in feed.events if e.severity == "warning"]
    by_id = {i.id: i for i in feed.detector.incidents()}
    surge = by_id[warned[0].incident_id]
    assert {p.author for p in surge.posts} == {"seed"} | {f"fan{i}" for i in range(7)}
    assert warned[0].post_ids[:2] == ["p130", "r-fan0"] and not any(
        pid.startswith("p4") for pid in warned[0].post_ids
    )
    assert surge.opened_at == surge.first_post_at
    [rest] = [i for i in by_id.values() if i.id != surge.id]
    assert {p.author[:3] for p in rest.posts} == {"day"} and rest.brand == "siemens" and rest.severity is None
    state = json.loads(json.dumps(feed.detector.state(), ensure_ascii=False))
    assert Detector(feed.detector.config, state).state() == state
    # One of the everyday grumblers posts the fault's first post: it goes with the surge.
    hotline = ["西门子的客服电话打不通，等了半小时没人接", "西门子客服电话一直打不通，服了"]
    feed = run(hotline, by="day2-2")
    [warned] = [e for e in feed.events if e.severity == "warning"]
    assert (
        warned.post_ids[:2] == ["p130", "r-fan0"]
        and "首帖 05月04日 08:00（北京时间），发帖人 day2-2" in warned.summary
    )
    # Another of the same kind of fault (dishwasher and oven doors, then the fridge's), passed on by reposts: one
    # kind of fault of one brand is one incident, so no split (it would merge again at the next post, and again).
    feed = Feed()
    start = quiet_days(feed, everyday=["西门子洗碗机门关不上，卡扣松了", "西门子烤箱门关不严，热气往外冒"])
    seed = feed.post("西门子冰箱自己弹开，冷藏室的肉全臭了", start, author="seed")
    for i in range(7):
        repost(feed, seed, f"转发微博{i}", start + timedelta(minutes=6 * (i + 1)), f"fan{i}")
    assert len(feed.detector.incidents()) == 1 and "warning" in feed.severities()
    assert not any("split" in str(entry) for c in feed.detector.clusters.values() for entry in c.history)
    # The same story before and after: one incident, its past included.
    feed = run(["西门子冰箱门关不上，合不拢，客服电话打不通", "西门子冰箱门关不严，冷气往外漏"])
    [incident] = feed.detector.incidents()
    assert any(p.author.startswith("day") for p in incident.posts) and incident.severity in (
        "warning",
        "critical",
    )


def test_an_incident_that_warned_before_a_later_surge_is_still_told_from_its_first_post():
    # Six owners over a morning warn; the next day thirty more come in an hour. The story began the day before:
    # no "此前…零星反映；本轮集中爆发" for what had warned already.
    feed = Feed()
    echo_burst(feed, T0, 6, every_minutes=60)
    echo_burst(feed, T0 + timedelta(hours=20), 30, every_minutes=2)
    later = [e for e in feed.events if e.at > T0 + timedelta(hours=20)]
    assert {e.severity for e in later} == {"warning", "critical"}
    for event in later:
        assert (
            "首帖 05月01日 08:00（北京时间），发帖人 user1" in event.summary and "本轮" not in event.summary
        )
        assert event.post_ids[0] == "p1"


def test_a_brands_own_group_split_from_a_storm_it_took_in_stays_the_brands():
    # The brand's hotline grumbles; a post naming the brand joins them on the hotline's words, and the storm told
    # without the name is found to be that incident by likeness. Split off before the warning, the hotline
    # grumbles, which named the brand, are still the brand's.
    feed = Feed(DetectionConfig(brands=BRANDS))
    start = quiet_days(
        feed, everyday=["西门子的客服电话打不通，等了半小时没人接", "西门子客服电话一直打不通，服了"]
    )
    named = "西门子的客服电话打不通，会员越开越贵，老用户打车比新用户贵了二十七块"
    feed.post(named, start - timedelta(minutes=5), author="named")
    for i, text in enumerate(STORM):
        feed.post(text, start + timedelta(minutes=7 * i), author=f"owner{i}")
    live = [i for i in feed.detector.incidents() if i.status != "resolved"]
    [storm] = [i for i in live if i.severity == "warning"]
    [hotline] = [i for i in live if i is not storm]
    assert {p.author[:3] for p in hotline.posts} == {"day"} and hotline.brand == "siemens"
    assert {p.author[:3] for p in storm.posts} == {"nam", "own"} and storm.brand == "siemens"


def test_the_representative_post_reads_like_the_incident_not_like_the_grumble_it_formed_around():
    # One everyday grumble about the app, then a storm about old accounts paying more joins its group: the
    # summary still names the first post, but shows a post that reads like the storm.
    feed = Feed()
    start = quiet_days(feed)
    feed.post("西门子打车软件又贵又慢，同一个行程等了二十分钟", start - timedelta(hours=3), author="early")
    for i, text in enumerate(COMPARISONS * 2):
        feed.post(f"西门子{text}{i}", start + timedelta(minutes=5 * i), author=f"owner{i}")
    [warned] = [e for e in feed.events if e.severity == "warning"]
    assert "首帖 05月04日 05:00（北京时间），发帖人 early" in warned.summary
    shown = warned.summary.split("代表帖：「")[1]
    assert "老用户" in shown and "等了二十分钟" not in shown


def test_a_detector_restarted_anywhere_in_a_storm_alerts_as_one_that_ran_through():
    # The representative post is worked out now and then and kept in the state: restarting from the saved state
    # at any post gives the same alerts, word for word.
    import random

    pick = random.Random(1)
    extra = [
        "寒心",
        "太过分了",
        "再也不用了",
        "投诉无门",
        "截图为证",
        "大家注意",
        "我也遇到了",
        "实锤了",
        "气死",
        "必须曝光",
    ]
    start = T0 + timedelta(days=3)
    texts = STORM + COMPARISONS
    steps = [lambda f: quiet_days(f)]
    steps.append(
        lambda f: f.post(
            "西门子打车软件又贵又慢，同一个行程等了二十分钟", start - timedelta(hours=3), author="early"
        )
    )
    for i in range(35):
        text = f"西门子{texts[i % len(texts)]}{extra[pick.randrange(len(extra))]}{i}"
        steps.append(lambda f, t=text, i=i: f.post(t, start + timedelta(minutes=3 * i), author=f"owner{i}"))

    def run(restart_at: int | None = None) -> list[tuple]:
        feed = Feed()
        for i, step in enumerate(steps):
            if i == restart_at:
                state = json.loads(json.dumps(feed.detector.state(), ensure_ascii=False))
                feed.detector = Detector(feed.detector.config, state)
            step(feed)
        return [
            (e.incident_id, e.severity, e.status, e.title, e.summary, tuple(e.post_ids)) for e in feed.events
        ]

    through = run()
    assert any(severity == "warning" for _, severity, *_ in through)
    for at in range(2, len(steps)):
        assert run(at) == through, at


def test_a_warned_incident_still_takes_a_storm_told_without_its_brand():
    # The brand's incident warned the day before; two posts naming the brand join it, then a storm told without
    # the name: it is found to be that incident (the words of its last posts are kept after it warned).
    feed = Feed()
    start = quiet_days(feed)
    for i, text in enumerate(COMPARISONS * 2):
        feed.post(f"西门子{text}{i}", start + timedelta(minutes=10 * i), author=f"named{i}")
    later = start + timedelta(hours=20)
    feed.post(
        "西门子的会员越开越贵，老用户打车比新用户贵了二十七块", later - timedelta(minutes=10), author="late0"
    )
    feed.post("西门子老账号反而更贵，老用户比新用户贵", later - timedelta(minutes=5), author="late1")
    for i, text in enumerate(STORM):
        feed.post(text, later + timedelta(minutes=7 * i), author=f"owner{i}")
    [brand] = [i for i in feed.detector.incidents() if i.brand]
    assert sum(p.author.startswith("owner") for p in brand.posts) >= 5


def test_a_storm_on_a_group_resolved_days_before_is_split_off():
    # The hotline grumbles went quiet and were resolved; three days later a fridge fault joins them on the
    # hotline's words: the warning is about the fault alone.
    hotline = ["西门子的客服电话打不通，等了半小时没人接了", "西门子客服电话一直打不通，服了，等了好久"]
    feed = Feed()
    start = quiet_days(feed, everyday=hotline)
    feed.tick(start + timedelta(days=3))
    start += timedelta(days=3)
    seed = feed.post("西门子冰箱门关不上，打客服电话也打不通，门缝一直漏冷气", start, author="seed")
    for i in range(9):
        repost(
            feed, seed, f"我家的冰箱门也关不上，合不拢{i}", start + timedelta(minutes=5 + 6 * i), f"fan{i}"
        )
    warned = [e for e in feed.events if e.severity == "warning"]
    assert warned and "首帖 05月07日 08:00（北京时间），发帖人 seed" in warned[0].summary
    [incident] = [i for i in feed.detector.incidents() if i.id == warned[0].incident_id]
    assert {p.author[:3] for p in incident.posts} == {"see", "fan"}


def test_a_split_gives_each_sample_to_the_part_holding_its_post():
    # The fault's first post comes from someone who had said a few words in the hotline group the day before
    # (too short for a sample): the surge keeps that post's text as its representative.
    feed = Feed()
    start = quiet_days(
        feed, everyday=["西门子的客服电话打不通，等了半小时没人接", "西门子客服电话一直打不通，服了"]
    )
    feed.post("西门子客服打不通", start - timedelta(hours=20), author="seed")
    seed = feed.post("西门子冰箱门关不上，打客服电话也打不通，门缝一直漏冷气", start, author="seed")
    for i in range(7):
        repost(
            feed, seed, f"我家的冰箱门也关不上，合不拢{i}", start + timedelta(minutes=5 + 6 * i), f"fan{i}"
        )
    [warned] = [e for e in feed.events if e.severity == "warning"]
    assert "代表帖：「西门子冰箱门关不上" in warned.summary


def test_a_state_saved_before_samples_had_authors_still_splits_and_warns():
    # Samples without their authors or posts (states from before those were kept): the surge is still split off
    # and warns, its sample unknown rather than a crash.
    feed = Feed()
    start = quiet_days(
        feed, everyday=["西门子的客服电话打不通，等了半小时没人接", "西门子客服电话一直打不通，服了"]
    )
    seed = feed.post("西门子冰箱门关不上，打客服电话也打不通，门缝一直漏冷气", start, author="seed")
    state = json.loads(json.dumps(feed.detector.state(), ensure_ascii=False))
    clusters = state["clusters"].values() if isinstance(state["clusters"], dict) else state["clusters"]
    for c in clusters:
        c.pop("sample_keys", None)
        c["sample_authors"] = []
    feed.detector = Detector(feed.detector.config, state)
    for i in range(7):
        repost(
            feed, seed, f"我家的冰箱门也关不上，合不拢{i}", start + timedelta(minutes=5 + 6 * i), f"fan{i}"
        )
    [warned] = [e for e in feed.events if e.severity == "warning"]
    [incident] = [i for i in feed.detector.incidents() if i.id == warned.incident_id]
    assert {p.author[:3] for p in incident.posts} == {"see", "fan"}


def test_a_merge_adds_the_tallies_of_the_merged_incident_only_when_counted_in_the_kept_ones_level():
    # What of an incident's complaints its feed/brand's usual level counted is left out of the level it is measured
    # against; tallies counted into another level (no brand's, another feed's) are not in the kept incident's.
    detector = Detector(DetectionConfig(brands=BRANDS))
    t = T0.timestamp()

    def pair(gone_brand: str, gone_feed: str) -> dict:
        keep = detector._open(f"k{gone_brand}{gone_feed}", "siemens", "weibo", {}, t)
        gone = detector._open(f"g{gone_brand}{gone_feed}", gone_brand, gone_feed, {}, t)
        keep.learned, gone.learned = {"": [3.0, t]}, {"": [5.0, t]}
        detector._merge(keep, gone, t)
        return keep.learned

    assert pair("siemens", "weibo") == {"": [8.0, t]}
    assert pair("", "weibo") == {"": [3.0, t]}
    assert pair("siemens", "rss") == {"": [3.0, t]}


def test_a_group_naming_no_brand_merges_with_a_storm_a_brand_took_only_if_it_is_the_storms_own():
    # A storm the brand took by reposts is found under no brand too; a group naming no brand alike it is part of
    # the storm when the storm founded it or overran it, and everyday talk from the days before is not the brand's.
    now = (T0 + timedelta(days=3)).timestamp()

    def joins_the_storm(hours_ago: list[float], own_share: float = 0.67) -> bool:
        config = DetectionConfig(
            brands=BRANDS, grouping={"brand_from_likeness": False, "storm_own_share": own_share}
        )
        detector = Detector(config)

        def group(key: str, hours_ago: list[float]) -> Cluster:
            c = detector._open(key, "", "weibo", {}, now - hours_ago[0] * HOUR)
            text = COMPARISONS[0]
            feats = detector.grouper.read(
                Post(id=key, text=text, author="x"), normalize(text).text_norm, ""
            ).feats
            for i, ago in enumerate(hours_ago):
                m = Member(
                    f"{key}{i}",
                    f"{key}-author{i}",
                    now - ago * HOUR,
                    100,
                    False,
                    False,
                    False,
                    0.9,
                    0.4,
                    0,
                    0,
                )
                detector.grouper.add_member(c, m)
                c.members[m.key] = m
                c.author_first[m.author] = m.t
                detector.grouper.add_terms(c, feats)
            return c

        taken = group("storm", [2, 1.5, 1])
        detector._adopt(taken, "siemens", "weibo")
        return detector.grouper.merge_partner(group("other", hours_ago), now) is taken

    assert joins_the_storm([1, 0.5])  # the storm founded it
    assert not joins_the_storm([50, 40, 30, 1])  # everyday talk from the days before
    overrun = [50, 40, 1, 0.9, 0.8, 0.7, 0.6, 0.5]  # 6 of its 8 authors came with the storm
    assert joins_the_storm(overrun)
    assert not joins_the_storm(overrun, own_share=1.0)  # only groups the storm founded


def test_a_repost_of_a_member_joins_its_incident_even_without_words_of_its_own():
    feed = Feed()
    first = feed.post(FRIDGE[0], T0)
    repost = Post(id="r1", text="转发微博", author="fan", author_followers=50, created_at=T0 + timedelta(minutes=3),
                  extra={"repost_of": first.id})  # fmt: skip
    obs = Observation(repost, "转发微博", predicted("neutral", "low"), T0 + timedelta(minutes=3), True, {})
    feed.detector.observe(obs)
    [incident] = feed.detector.incidents()
    assert sorted(p.post_id for p in incident.posts) == [first.id, "r1"]
    assert incident.n_authors == 2 and incident.stats["echo_authors"] == 1


def test_an_authors_follow_up_joins_their_incident_though_its_words_differ():
    feed = Feed()
    echo_burst(feed, T0, 3)
    feed.post(
        "已经打了12315，明天找律师，等着吧", T0 + timedelta(hours=1), author="user1", tags={"brand": "西门子"}
    )
    incidents = feed.detector.incidents()
    assert len(incidents) == 1 and incidents[0].n_posts == 4


INDEPENDENT = [
    "西门子洗衣机甩干时跳来跳去",
    "西门子洗衣机脱水声音像拖拉机",
    "西门子洗衣机滚筒异响很大",
    "西门子洗衣机洗完衣服有黑点",
    "西门子洗衣机门打不开了，衣服锁里面",
    "西门子洗衣机一直显示错误代码",
]


def test_parallel_grumbles_nobody_echoes_stay_on_watch_and_echoes_make_a_warning():
    alone = Feed()
    for i in range(12):
        alone.post(
            FRIDGE[i % len(FRIDGE)].replace("也是", "").replace("同款", ""), T0 + timedelta(minutes=10 * i)
        )
    echoed = Feed()
    for i in range(4):
        echoed.post(FRIDGE[i % 3 * 2].replace("也是", ""), T0 + timedelta(minutes=10 * i))
    echoed.post("我家也是，西门子冰箱门关不上", T0 + timedelta(minutes=50))
    echoed.post("+1 同款冰箱门关不严", T0 + timedelta(minutes=55))
    assert "warning" not in alone.severities() and "watch" in alone.severities()
    assert "warning" in echoed.severities()


def test_a_slow_burn_over_a_week_warns_at_the_scale_of_days():
    feed = Feed()
    for day in range(8):
        for k in range(2 if day < 4 else 3):
            text = FRIDGE[(day * 3 + k) % len(FRIDGE)]
            feed.post(text, T0 + timedelta(days=day, hours=9 + 5 * k))
            feed.tick(T0 + timedelta(days=day, hours=9 + 5 * k))
    warning = next(e for e in feed.events if e.severity == "warning")
    assert any("近 7 天" in r for r in warning.reasons)
    assert warning.at > T0 + timedelta(days=3)


def test_a_steady_trickle_stays_level_at_the_scale_of_days_too():
    feed = Feed()
    for day in range(21):
        for hour in (9, 13, 17, 21):
            at = T0 + timedelta(days=day, hours=hour)
            feed.post(["速达快递三天没更新", "速达快递又延误了", "速达快递员态度差"][hour % 3], at,
                      tags={"brand": "速达快递"})  # fmt: skip
            feed.tick(at)
    assert "watch" in feed.severities()  # seen, at the digest level
    assert "warning" not in feed.severities() and "critical" not in feed.severities()


def test_title_names_the_brand_and_the_fault_as_complainants_write_it():
    feed = Feed()
    for i in range(40):  # the background the fault's words stand out from
        feed.post(["今天天气总是很好", "西门子冰箱新品上市", "周末去公园散步"][i % 3], T0 - timedelta(hours=40 - i),
                  sentiment="neutral", escalation="low")  # fmt: skip
    echo_burst(feed, T0, 10)
    [incident] = feed.detector.incidents()
    assert incident.title.startswith("西门子")
    assert any(word in incident.title for word in ("关不上", "封条", "弹开")), incident.title
    assert "：" not in incident.title and "相关投诉" not in incident.title


def test_manual_resolve_emits_resolved_and_holds_until_a_real_flare():
    feed = Feed()
    echo_burst(feed, T0, 8)
    incident_id = feed.detector.incidents()[0].id
    at = T0 + timedelta(hours=3)
    events = feed.detector.resolve(incident_id, at, by="王经理")
    assert [(e.status, e.incident_id) for e in events] == [("resolved", incident_id)]
    assert "王经理" in events[0].reasons[0]
    assert feed.detector.resolve(incident_id, at, by="王经理") == []  # already resolved
    feed.events = []
    for i in range(2):  # a couple of late echoes do not undo a person's decision
        feed.post(FRIDGE[i], at + timedelta(hours=1, minutes=i))
    assert feed.events == [] and feed.detector.incidents()[0].status == "resolved"
    echo_burst(feed, at + timedelta(days=2), 8)  # a real flare does
    incident = feed.detector.incidents()[0]
    assert incident.id == incident_id and incident.status == "growing" and incident.reopened == 1
    assert "warning" in feed.severities()


def test_resolve_of_an_unknown_incident_does_nothing():
    assert Feed().detector.resolve("inc-nope", T0, by="someone") == []


# -- faults and reactions ------------------------------------------------------------------------------------
HEATER = [  # one fault, told in each owner's own words
    "澜川燃气热水器用了八个月，这两天发现底下一直滴水，拿盆接了一晚上",
    "郁闷，买的澜川热水器才半年，漏水漏到楼下邻居家，冬天只能烧水擦身子",
    "我家澜川热水器是去年装的，水箱渗水，厨房墙面全湿了",
    "澜川热水器的水管裂了，一开热水就往下滴，地砖缝里都是水渍",
]


def incidents_of(config: DetectionConfig, texts: list[str], tags: dict, every: timedelta) -> list:
    """The incidents ``texts`` make, one author each, ``every`` apart."""
    feed = Feed(config)
    for i, text in enumerate(texts):
        feed.post(text, T0 + every * i, tags=tags)
    return feed.detector.incidents()


def test_one_kind_of_fault_worded_differently_is_one_incident():
    tags, every = {"brand": "澜川"}, timedelta(days=1)
    [incident] = incidents_of(DetectionConfig(brands=BRANDS), HEATER, tags, every)
    assert incident.n_authors == len(HEATER)
    # Without the fault families the same four posts share too few words to be one fault.
    unaware = DetectionConfig(brands=BRANDS, grouping={"fault_terms": {}})
    assert all(i.n_authors < len(HEATER) for i in incidents_of(unaware, HEATER, tags, every))


def test_two_kinds_of_fault_of_one_brand_never_merge_however_alike_the_rest():
    feed = Feed()
    template = "{}郁闷，上个月刚提的澜行L7，{}，等了三天没人管，这车开得太糟心了"
    for i in range(8):  # the screen fault warns first ...
        text = template.format("我也是，" if i % 3 == 2 else "", "中控屏突然黑屏")
        feed.post(text, T0 + timedelta(minutes=15 * i), tags={"brand": "澜行"})
    assert "warning" in feed.severities()
    for i in range(8):  # ... the next day owners who cannot charge write the same way
        text = template.format("我也是，" if i % 3 == 2 else "", "超充站充不上电")
        feed.post(text, T0 + timedelta(days=1, minutes=15 * i), tags={"brand": "澜行"})
    incidents = feed.detector.incidents()
    assert sorted(i.n_posts for i in incidents) == [8, 8]


REACTIONS = [
    "已经建了个维权群，人越来越多了，求扩散",
    "西门子一直不给说法，准备找律师起诉",
    "说'不存在质量问题'？呵呵",
    "坐等西门子官方回应",
    "这事没完，明天就去消协",
]


def test_reactions_naming_no_fault_join_the_warned_incident_rather_than_found_their_own():
    feed = Feed()
    echo_burst(feed, T0, 8)
    assert "warning" in feed.severities() or "critical" in feed.severities()
    for i, text in enumerate(REACTIONS * 2):  # hours apart: no surge, only the incident people talk about
        feed.post(text, T0 + timedelta(hours=4 + 3 * i), tags={"brand": "siemens"}, escalation="high")
    [incident] = feed.detector.incidents()
    assert incident.n_posts == 8 + 2 * len(REACTIONS)


def test_a_group_naming_no_fault_that_would_warn_folds_into_the_brands_warned_incident():
    feed = Feed()
    echo_burst(feed, T0, 8)
    [fridge] = feed.detector.incidents()
    feed.events = []
    # Long answers to the brand, without fault words or complaint language: they group by their own words.
    retort = "西门子的高层应该亲自出来讲清楚，而不是发一份冷冰冰的文字敷衍大家{}"
    start = T0 + timedelta(hours=6)
    first = [feed.post(retort.format("！" * (i + 1)), start + timedelta(minutes=20 * i)) for i in range(5)]
    for i, post in enumerate(first[:3]):  # reposts: people take the group up
        repost = Post(id=f"r{i}", text="转发微博", author=f"fan{i}", author_followers=80,
                      created_at=start + timedelta(hours=2, minutes=i), extra={"repost_of": post.id})  # fmt: skip
        feed.detector.observe(
            Observation(repost, "转发微博", predicted("neutral", "low"), repost.created_at, True, {})
        )
    warned = {
        e.incident_id for e in feed.events if e.severity in ("warning", "critical") and e.status == "firing"
    }
    assert warned <= {fridge.id}
    [incident] = [i for i in feed.detector.incidents() if i.severity]
    assert incident.id == fridge.id and {p.post_id for p in incident.posts} >= {p.id for p in first}


def test_reactions_take_up_a_named_fault_but_grumbles_piling_onto_a_nameless_group_do_not():
    def run(first: list[str], brand: str) -> list[str]:
        feed = Feed()
        texts = first + ["太吓人了吧", "这也太离谱了", "看完不敢买了"]
        for i, text in enumerate(texts):
            feed.post(text, T0 + timedelta(minutes=15 * i), tags={"brand": brand})
        [incident] = feed.detector.incidents()
        assert incident.n_authors == len(texts)
        return feed.severities()

    leak = ["澜川热水器底下一直漏水，拿盆接着", "澜川热水器滴水滴到楼下了", "澜川热水器水箱渗水，墙都湿了"]
    late = ["速达快递物流三天没更新了，急死", "速达快递物流一直没更新", "速达快递的物流好几天没更新了"]
    assert "warning" in run(leak, "澜川")
    assert "warning" not in run(late, "速达快递")


@given(
    a=st.text(alphabet="冰箱门关", min_size=1, max_size=2),
    b=st.text(alphabet="冰箱门关", min_size=1, max_size=2),
    data=st.data(),
)
@settings(max_examples=500, deadline=None)
def test_title_words_written_close_together_are_found_as_the_pattern_finds_them(a, b, data):
    import re

    from monitor.detect_text import _near

    pieces = st.sampled_from([a, b, "门", "又", " ", "，", "!", "\n", "\x1c", "\u3000"])
    doc = "".join(data.draw(st.lists(pieces, max_size=12)))
    gap = "[^\\s，。！？,.!?]{0,3}?"
    pattern = re.compile(f"{re.escape(a)}{gap}{re.escape(b)}|{re.escape(b)}{gap}{re.escape(a)}")
    assert _near(doc, a, b) == pattern.findall(doc)


BANK = {"brand": "华信银行"}
QUEUE_RANTS = [
    "华信银行人民路支行排队两个小时，十个窗口只开一个！！！",
    "又是华信银行，又是排队，又是只开一个窗口！！！",
    "华信银行排队排到下午，取号128，现在才叫到61！！！",
    "华信银行的大堂经理只会让我去用App，App能办我还来排队？？？",
]
DEBITS = [
    "华信银行App昨晚更新，今天买早餐付了18块，短信提醒扣了两次，有没有人也这样？",
    "我也是！华信银行App付款扣了两次钱，余额少了一截",
    "华信银行给房东转的房租到现在还是处理中，钱扣了对方没到账",
    "同样问题，华信银行交电费扣了两次款，客服电话打不通",
    "我也中招了，华信银行还信用卡扣了两遍，截图都在",
    "华信银行App转账一直显示处理中，我也一样，急死了",
    "华信银行打车付款扣了两次，也是更新以后",
    "+1 华信银行扣了两次款，App里交易记录两笔",
]


def test_a_ranters_watch_does_not_become_the_title_or_evidence_of_the_fault_that_follows():
    feed = Feed()
    rants = [
        feed.post(
            QUEUE_RANTS[i % 4], T0 + timedelta(minutes=40 * i), author="ranter", followers=29, tags=BANK
        )
        for i in range(12)
    ]
    feed.post("华信银行网点排队都要一上午，App能办的还非要跑网点", T0 + timedelta(hours=9), tags=BANK)
    start = T0 + timedelta(hours=20)
    for i, text in enumerate(DEBITS):
        feed.post(text, start + timedelta(minutes=10 * i), author=f"owner{i}", tags=BANK)
    warned = [e for e in feed.events if e.status == "firing" and e.severity in ("warning", "critical")]
    assert warned
    first = warned[0]
    assert "排队" not in first.title and ("扣" in first.title or "处理中" in first.title), first.title
    ranter_ids = {p.id for p in rants}
    assert not ranter_ids & set(first.post_ids)


def test_one_account_counts_once_in_an_alerts_evidence():
    feed = Feed()
    start = T0 + timedelta(hours=1)
    for i in range(6):
        feed.post(DEBITS[i % 2], start + timedelta(minutes=i), author="loud", tags=BANK)
    for i, text in enumerate(DEBITS[2:], start=2):
        feed.post(text, start + timedelta(minutes=10 * i), author=f"owner{i}", tags=BANK)
    warned = [e for e in feed.events if e.status == "firing" and e.severity in ("warning", "critical")]
    assert warned
    authors = {p.post_id: p.author for i in feed.detector.incidents() for p in i.posts}
    shown = [authors[pid] for pid in warned[-1].post_ids]
    assert len(shown) == len(set(shown)) and "loud" in shown


def test_one_kind_of_service_failure_worded_differently_is_one_incident():
    wordings = [
        "早上付款扣了两次钱，余额少了一截",
        "中午那笔房租转账到现在还显示处理中",
        "还信用卡扣了两遍，逾期算谁的",
        "给家里转的生活费，对方说没收到",
    ]

    texts = [f"华信银行{text}" for text in wordings]
    [incident] = incidents_of(DetectionConfig(brands=BRANDS), texts, BANK, timedelta(days=1))
    assert incident.n_authors == len(wordings)
    unaware = DetectionConfig(brands=BRANDS, grouping={"fault_terms": {}})
    assert all(i.n_authors < len(wordings) for i in incidents_of(unaware, texts, BANK, timedelta(days=1)))


def test_complaints_about_one_advert_worded_differently_are_one_incident():
    # A backlash names no product fault: the ad is what the complaints share, each told in its own words.
    wordings = [
        "家人们，跃动新广告是谁审的！！！恶心",
        "跃动运动那个宣传片在制造身材焦虑，看完很不舒服",
        "跃动这文案写的什么东西，女孩子跑步就是为了瘦？",
        "地铁站跃动的海报也换成这套了，真的下头",
    ]

    tags, every = {"brand": "跃动"}, timedelta(hours=6)
    [incident] = incidents_of(DetectionConfig(brands=BRANDS), wordings, tags, every)
    assert incident.n_authors == len(wordings)
    families = DetectionConfig().grouping.fault_terms
    unaware = DetectionConfig(
        brands=BRANDS, grouping={"fault_terms": {k: v for k, v in families.items() if k != "广告"}}
    )
    assert all(i.n_authors < len(wordings) for i in incidents_of(unaware, wordings, tags, every))


@pytest.mark.parametrize(
    ("author", "official"),
    [
        ("海尔官方微博", True),
        ("海爾官方", True),  # Traditional spelling of the same account
        ("海尔", True),
        ("海尔冰箱客服", True),
        ("海尔冰箱受害者", False),  # a verified victim is a complainant, not the brand
        ("海尔日报", False),
        ("爱用海尔的老王", False),
    ],
)
def test_only_the_brands_own_accounts_count_as_its_statements(author, official):
    from monitor.detect_grouping import Grouper
    from monitor.detect_text import Vocabulary

    brands = {**BRANDS, "海尔": {"aliases": ["海尔", "海爾", "Haier"]}}
    grouper = Grouper(DetectionConfig(brands=brands), {}, Vocabulary(1000))
    post = Post.from_dict({"id": "1", "text": "冰箱门关不上", "author": author, "author_verified": True})
    assert grouper.is_official("海尔", post) is official
    unverified = Post.from_dict(
        {"id": "2", "text": "冰箱门关不上", "author": author, "author_verified": False}
    )
    assert grouper.is_official("海尔", unverified) is False


def test_an_account_listed_as_official_counts_whatever_its_name():
    from monitor.detect_grouping import Grouper
    from monitor.detect_text import Vocabulary

    brands = {**BRANDS, "海尔": {"aliases": ["海尔", "海爾", "Haier"], "official_accounts": ["小海在这里"]}}
    grouper = Grouper(DetectionConfig(brands=brands), {}, Vocabulary(1000))
    post = Post.from_dict(
        {"id": "1", "text": "关于冰箱门的说明", "author": "小海在这里", "author_verified": True}
    )
    assert grouper.is_official("海尔", post)


_WORDS = st.text(alphabet="银行卡转账", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    shared=st.lists(_WORDS, max_size=5),
    own=st.lists(_WORDS, min_size=1, max_size=2),
    text=st.text(alphabet="银行卡转账 ", max_size=16),
)
def test_a_brands_own_name_is_blanked_as_if_it_were_among_the_shared_names(shared, own, text):
    # A feed's brand with no configured alias is left out of its posts' features beside the shared names and
    # complaint words, exactly as one pattern of them all would: the longest word at each place, overlaps too.
    import re

    from monitor.detect_text import Blank, alternation

    own = tuple(sorted(set(own) - set(shared)))
    whole = alternation([*shared, *own])
    blank = Blank(alternation(shared) or re.compile("(?!)"), own)
    assert blank.sub(" ", text) == (whole.sub(" ", text) if whole is not None else text)


@pytest.mark.parametrize("later", [timedelta(hours=3), timedelta(days=1)])
def test_the_summary_and_evidence_start_with_who_first_named_the_fault_not_the_posts_it_formed_around(later):
    # A launch's paid post, copied by four accounts, reads neutral but a little escalating (so it counts as a
    # complaint) and shares the product's words: the fridge-door complaints join its group.
    feed = Feed()
    launch = "西门子冰箱门里面的菜都放得下，门上格子超大，西门子冰箱门设计真好"
    for i in range(4):
        feed.post(launch, T0 + timedelta(minutes=20 * i), author=f"推广{i}", sentiment="neutral")
    echo_burst(feed, T0 + later, 8)
    warning = next(e for e in feed.events if e.severity == "warning" and e.status == "firing")
    began = (T0 + later + timedelta(hours=8)).strftime("%m月%d日 %H:%M")
    if later < timedelta(hours=12):
        # Within the warning window: one group, told from who first named the fault.
        (incident,) = feed.detector.incidents()
        assert {"推广0", "user5"} <= {p.author for p in incident.posts}
        assert f"最早反映该问题 {began}（北京时间），发帖人 user5" in warning.summary
    else:
        # A day later the complaints are a surge of another story than the group's: split off before it warns.
        incidents = {i.id: i for i in feed.detector.incidents()}
        assert {p.author for p in incidents.pop(warning.incident_id).posts} == {
            f"user{i}" for i in range(5, 13)
        }
        assert [{p.author for p in i.posts} for i in incidents.values()] == [{f"推广{i}" for i in range(4)}]
        assert f"首帖 {began}（北京时间），发帖人 user5" in warning.summary
    assert f"代表帖：「{normalize(FRIDGE[0]).text_norm[:20]}" in warning.summary
    assert warning.post_ids[0] == "p5"
    assert "推广" not in warning.title


def test_a_fault_word_right_after_a_negation_names_no_fault():
    from monitor.detect_text import Lexicon

    grouping = DetectionConfig().grouping
    lexicon = Lexicon(grouping.fault_terms, grouping.reaction_terms, tuple(grouping.companion_faults))
    assert lexicon.faults("敏感肌也不过敏，温和") == ()
    assert lexicon.faults("冰箱没漏水，就是有点吵") == ()
    assert lexicon.faults("用了三天就过敏了") == ("过敏",)
    # Negated faults that are words of their own, and negations not right before the word, still name a fault.
    assert lexicon.faults("冰箱不制冷") == ("制冷",)
    assert lexicon.faults("转账到现在都没到账") == ("支付",)
    assert lexicon.faults("热水器不停漏水") == ("漏水",)


def test_the_daily_rhythm_weighs_hours_by_how_much_people_post_in_them():
    rhythm = Rhythm()
    start = T0.timestamp()
    hour = 3600.0
    # Two days of ten posts an hour in the daytime (08:00-20:00) and one an hour at night.
    for h in range(48):
        for _ in range(10 if 8 <= h % 24 < 20 else 1):
            rhythm.post(start + h * hour + 60)
            if h == 10:
                # Before a whole day has been seen, every hour counts as one.
                assert rhythm.hours(start, start + 12 * hour) == 12.0
    rhythm.post(start + 48 * hour + 60)  # the last hour is counted once the next begins
    day = start + 2 * 24 * hour
    assert rhythm.hours(day, day + 24 * hour) == pytest.approx(24.0)
    daytime = rhythm.hours(day + 8 * hour, day + 20 * hour)
    assert 18.0 < daytime < 22.0  # ten times the posts, smoothed toward an even day
    assert rhythm.hours(day + 20 * hour, day + 32 * hour) == pytest.approx(24.0 - daytime)
    assert Rhythm.from_state(json.loads(json.dumps(rhythm.to_state()))).hours(day, day + 5 * hour) == (
        rhythm.hours(day, day + 5 * hour)
    )


def busy_brand() -> Feed:
    """Three days of forty everyday grumbles a day naming no fault (bills, shops, plans) about 西门子."""
    feed = Feed()
    grumbles = ["西门子的账单看不懂", "西门子营业厅排队一小时", "西门子的会员积分兑换不了", "西门子商城发票开不出来",
                "西门子促销短信太多", "西门子的延保卖得太贵"]  # fmt: skip
    for i in range(120):
        at = T0 + timedelta(minutes=36 * i)
        feed.post(f"{grumbles[i % len(grumbles)]}，第{i}次了", at, author=f"everyday{i}", escalation="low")
    return feed


def test_a_storm_over_one_evening_warns_at_a_busy_brand_before_half_a_days_level_would():
    # Eight people within eighty minutes about an insulting remark at a launch name no kind of fault; against a
    # quarter of the brand's forty everyday grumbles a day over twelve hours that is nothing (8 against about 5),
    # but within two hours it is a storm (severity.burst).
    feed = busy_brand()
    late = T0 + timedelta(days=3, hours=1)
    first = feed.post("西门子发布会上那句话什么意思？听完很不舒服，太不尊重女性了", late, author="viewer0")
    for i in range(1, 8):
        if i % 3:
            feed.post(f"西门子发布会上那句话太不尊重女性了，听完很不舒服{'！' * i}", late + timedelta(minutes=10 * i),
                      author=f"viewer{i}")  # fmt: skip
        else:
            text = f"同感{i}//@viewer0:西门子发布会上那句话什么意思？听完很不舒服，太不尊重女性了"
            repost = Post(id=f"v{i}", text=text, author=f"viewer{i}", author_followers=200,
                          created_at=late + timedelta(minutes=10 * i), extra={"repost_of": first.id})  # fmt: skip
            feed.events += feed.detector.observe(
                Observation(repost, normalize(text).text_norm, predicted(), repost.created_at, True, {})
            )
    warning = next(e for e in feed.events if e.severity in ("warning", "critical"))
    assert (
        warning.stats["expected"] > 3.0
        and warning.stats["window_authors"] / (1 + warning.stats["expected"]) < 2.5
    )
    assert "正在爆发" in " ".join(warning.reasons) and warning.stats["burst_authors"] >= 6


def test_a_new_kind_of_fault_at_a_busy_brand_is_measured_against_that_kind_of_complaint():
    # Forty everyday grumbles a day naming no fault (bills, shops, plans) make a busy brand; after three days its
    # usual level holds them. Four owners about a fee within the hour name no kind of fault either: that level is
    # theirs, and they do not warn. A leak is new, whatever the brand's everyday volume: its usual level is the
    # brand's leaks, and four owners within the hour warn.
    feed = busy_brand()
    late = T0 + timedelta(days=3, hours=1)
    first = feed.post("西门子上门师傅收了我两百块检测费，什么都没修", late, author="payer0")
    feed.post("西门子上门师傅又收两百块检测费，看一眼就走", late + timedelta(minutes=10), author="payer1")
    for i in (2, 3):  # two reposts of the first: others taking it up
        text = "太坑了//@payer0:西门子上门师傅收了我两百块检测费，什么都没修"
        repost = Post(id=f"r{i}", text=text, author=f"payer{i}", author_followers=200,
                      created_at=late + timedelta(minutes=10 * i), extra={"repost_of": first.id})  # fmt: skip
        feed.events += feed.detector.observe(
            Observation(repost, normalize(text).text_norm, predicted(), repost.created_at, True, {})
        )
    fee = feed.detector.clusters[feed.detector.grouper.post_index[f"{first.source}\x1f{first.id}"]]
    assert len(fee.author_first) == 4 and len(fee.echo_authors) == 2 and not fee.kinds()
    assert not [e for e in feed.events if e.severity in ("warning", "critical")]
    leak = ["西门子洗碗机漏水了，厨房地上全是水", "我家西门子洗碗机也是漏水，底下一直滴水",
            "西门子洗碗机漏水，同款的注意了", "刚买的西门子洗碗机渗水，地板泡了"]  # fmt: skip
    later = late + timedelta(hours=6)
    owners = [
        feed.post(text, later + timedelta(minutes=10 * i), author=f"owner{i}").id
        for i, text in enumerate(leak)
    ]
    warning = next(e for e in feed.events if e.severity in ("warning", "critical"))
    assert sorted(warning.post_ids) == sorted(owners) and warning.stats["expected"] < 1.0
    leaky = feed.detector.clusters[warning.incident_id]
    assert leaky.kinds() == ("漏水",)
    now = (later + timedelta(hours=1)).timestamp()
    # Per hour: a quarter of the brand's other grumbles (some forty a day) against the brand's leaks (none yet).
    assert feed.detector._brand_usual(fee, now) > 0.2 > 20 * feed.detector._brand_usual(leaky, now)


def test_happy_reposts_of_a_member_count_against_its_incident_instead_of_spreading_it():
    # A celebrity's promo the classifier misreads as a grumble joins an incident; its fans' reposts ("好好看！")
    # are no complaint's echoes: like happy posts alike, they count against the incident, which then never warns.
    # Fan talk reads happier than anything else, if not clearly happy (below complaint.max_positive).
    fans = FakePrediction("positive", {"negative": 0.25, "neutral": 0.3, "positive": 0.45}, "low", 0.1)
    feed = Feed()
    promo = feed.post("西门子冰箱门关不上，门封条总是弹开？我请大家换新！", T0, author="star", followers=2_000_000,
                      verified=True, escalation="low")  # fmt: skip
    [c] = feed.detector.clusters.values()
    for i in range(12):
        at = T0 + timedelta(minutes=2 + i)
        text = f"好好看！支持{i}//@star:西门子冰箱门关不上，门封条总是弹开？我请大家换新！"
        fan = Post(id=f"f{i}", text=text, author=f"fan{i}", author_followers=50, created_at=at,
                   extra={"repost_of": promo.id})  # fmt: skip
        feed.events += feed.detector.observe(Observation(fan, normalize(text).text_norm, fans, at, True, {}))
    assert len(c.members) == 1 and c.contrary == 12
    assert not [e for e in feed.events if e.severity in ("warning", "critical")]
    # The same reposts in a flat voice spread it: they join as echoes.
    flat = Post(id="n1", text="转发微博", author="neutral1", author_followers=50, created_at=T0 + timedelta(minutes=30),
                extra={"repost_of": promo.id})  # fmt: skip
    feed.detector.observe(
        Observation(flat, "转发微博", predicted("neutral", "low"), flat.created_at, True, {})
    )
    assert "neutral1" in c.echo_authors


def test_complaints_waiting_to_be_learned_follow_their_posts_into_a_merged_incident():
    # Two young groups of one brand merge before their complaints are a day old: the complaints counted then are
    # the surviving incident's own (left out of its bar), not a stranger's.
    feed = Feed()
    feed.post("西门子冰箱门关不上，门封条总是弹开", T0, author="a")
    feed.post("西门子冰箱门关不严，老是自己弹开", T0 + timedelta(minutes=5), author="b")
    feed.post("西门子洗衣机噪音太大了，晚上根本睡不着", T0 + timedelta(minutes=10), author="c")
    door, noise = sorted(feed.detector.clusters.values(), key=lambda c: -len(c.members))
    feed.detector._merge(door, noise, (T0 + timedelta(minutes=20)).timestamp())
    feed.post(
        "西门子空调遥控器失灵了", T0 + timedelta(hours=25), author="d"
    )  # a day on: the three are counted
    assert door.learned[""][0] == pytest.approx(3.0, rel=0.01)


def test_a_saved_state_of_version_2_carries_on_as_version_3():
    feed = Feed()
    echo_burst(feed, T0, 6)
    state = json.loads(json.dumps(feed.detector.state()))
    [cs] = state["clusters"]
    # Version 2: no counted complaints per incident, pending complaints by incident, rates of three numbers, no rhythm.
    windows = {level: w for level, w in cs["windows"].items() if level != "burst"}  # no burst rule then
    old = dict(
        state, version=2, clusters=[{**{k: v for k, v in cs.items() if k != "learned"}, "windows": windows}]
    )
    old["pending"] = [[t, key, cs["id"]] for t, key, _, _ in state["pending"]]
    old["baselines"] = {k: r[:3] for k, r in state["baselines"].items()}
    del old["rhythm"]
    again = Detector(feed.detector.config, state=old)
    assert list(again.clusters) == [cs["id"]]  # the open incident carries on
    assert again.clusters[cs["id"]].windows["burst"].authors == 6
    first = cs["members"][0][0]
    assert [p[2:] for p in again.pending] == [[first, []]] * 6
    late = Post(id="late", text=FRIDGE[0], author="late", created_at=T0 + timedelta(hours=3))
    again.observe(Observation(late, normalize(late.text).text_norm, predicted(), late.created_at, True, {}))
    assert f"{late.source}\x1flate" in again.clusters[cs["id"]].members


def test_a_version_2_rate_tells_how_much_of_its_prior_is_left_from_its_hours():
    rate = Rate.prior(4.0, 1.0)
    for i in range(30):
        rate.add(T0.timestamp() + i * 5 * 3600, 7 * 24.0)
    assert 0.2 < rate.prior_weight < 0.9
    old = Rate.from_v2_state([rate.count, rate.hours, rate.last], 7 * 24.0, 24.0)
    assert old.prior_weight == pytest.approx(rate.prior_weight) and old.kinds == {}
