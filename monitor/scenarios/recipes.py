"""The recipes of the shipped scenarios: who posts what, when, and which posts form the ground truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.scenarios.phrasebank import PhraseBank
from monitor.scenarios.scene import BrandSpec, IncidentPlan, Scene, Scripted, Wave, at

Recipe = Callable[[int], tuple[list[dict[str, Any]], dict[str, Any]]]

APPLIANCE_BRANDS = [
    BrandSpec("西门子", ["冰箱", "洗衣机", "洗碗机", "烤箱", "油烟机"], "西门子家电", "weibo-search:西门子"),
    BrandSpec("海尔", ["冰箱", "洗衣机", "空调", "热水器"], "海尔官方微博", "weibo-search:海尔"),
    BrandSpec("美的", ["空调", "电饭煲", "微波炉", "热水器"], "美的集团", "weibo-search:美的"),
    BrandSpec("容声", ["冰箱"], "容声冰箱", "weibo-search:冰箱"),
    BrandSpec("三星", ["冰箱", "洗衣机", "电视"], "三星电子", "weibo-search:冰箱"),
    BrandSpec("松下", ["冰箱", "洗衣机", "电视"], "松下电器", "weibo-search:冰箱"),
    BrandSpec("博世", ["冰箱", "洗碗机", "洗衣机"], "博世家电", "weibo-search:冰箱"),
    BrandSpec("格力", ["空调"], "格力电器", "weibo-search:空调"),
]
BACKGROUND_2011 = {
    "praise": 30,
    "question": 28,
    "chatter": 34,
    "ad": 18,
    "giveaway": 6,
    "mild_brand_grumble": 6,
    "grumble": 70,
    "daily": 70,
    "unrelated_news": 24,
}


def fridge(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A verified entrepreneur with 1.6M followers: his Siemens fridge door will not close."""
    bank = PhraseBank.load("common", "consumer")
    scene = Scene("fridge", seed, at(2011, 9, 19), 5, bank, authors=1400)
    ids = scene.background(APPLIANCE_BRANDS, BACKGROUND_2011)
    scene.decoy("giveaway", "brands' repost-to-win giveaways", ids["giveaway"])

    founder = scene.pool.special("陈远航", 1_630_000, True, "kol")
    official = scene.official("西门子家电")
    fridge_bank = PhraseBank.load("common", "consumer", "fridge")
    seed_posts = fridge_bank.slots["seed_posts"]
    statements = fridge_bank.slots["official_statements"]
    growth = {"echo": 0.34, "repost": 0.3, "complaint": 0.16, "onlooker": 0.15, "escalation": 0.05}
    owners = {"complaint": 0.3, "echo": 0.25, "repost": 0.2, "escalation": 0.15, "media": 0.05, "kol": 0.05}
    denial = {
        "denial_reaction": 0.35,
        "repost": 0.2,
        "escalation": 0.15,
        "media": 0.08,
        "kol": 0.07,
        "echo": 0.1,
        "onlooker": 0.05,
    }
    smash = {
        "repost": 0.3,
        "escalation": 0.2,
        "onlooker": 0.2,
        "media": 0.1,
        "kol": 0.05,
        "echo": 0.1,
        "denial_reaction": 0.05,
    }
    plan = IncidentPlan(
        id="fridge-door",
        brand="西门子",
        product="冰箱",
        fault="冰箱门关不上 / 关不严",
        bank=fridge_bank,
        feed="weibo-search:西门子",
        waves=[
            Wave(34.6, 150, growth, 1.6, 5.0),
            Wave(58.0, 60, owners, 1.5, 6.0),
            Wave(80.2, 110, denial, 1.4, 5.0),
            Wave(93.0, 80, smash, 1.5, 5.0),
        ],
        scripted=[
            Scripted(34.53, founder, seed_posts[0], heat=12.0),
            Scripted(38.1, founder, seed_posts[1], heat=8.0),
            Scripted(58.4, founder, seed_posts[2], heat=6.0),
            Scripted(80.0, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(84.2, founder, seed_posts[3], heat=10.0),
            Scripted(93.1, founder, seed_posts[4], heat=14.0),
            Scripted(108.3, founder, seed_posts[5], heat=10.0),
            Scripted(112.5, official, statements[1], part_of_incident=False, heat=2.0),
        ],
        topic_after=44.0,
    )
    scene.incident(plan)

    kol = scene.kols[0]
    mild = scene.timeline.add(
        scene.timeline.hours(61.2),
        kol,
        "海尔的客服电话打了二十分钟才打通，有点无语。",
        feed="weibo-search:海尔",
        brand="海尔",
        heat=0.3,
    )
    scene.decoy("big_account_mild", "a KOL's mild grumble about another brand that nobody picks up", [mild])
    neutral = [
        scene.timeline.add(
            scene.timeline.hours(hour), scene.media[index], text, feed=feed, brand=brand, heat=0.4
        )
        for index, (hour, text, feed, brand) in enumerate(
            [
                (
                    27.5,
                    "【家电下乡政策延期】商务部：家电下乡政策将延续至2013年，冰箱、洗衣机等仍在补贴范围内。",
                    "weibo-search:冰箱",
                    None,
                ),
                (75.0, "美的集团发布上半年业绩，营收同比增长。", "weibo-search:美的", "美的"),
                (
                    99.3,
                    "国庆临近，各大家电卖场纷纷推出促销活动，记者走访发现冰箱、空调成为热门品类。",
                    "weibo-search:冰箱",
                    None,
                ),
            ]
        )
    ]
    scene.decoy("big_account_neutral", "media accounts' neutral appliance news", neutral)
    truth = scene.truth(
        "默认演示：百万粉丝的认证企业家发微博称家中西门子冰箱门关不上，引来大量用户附和、维权威胁、媒体报道和"
        "企业否认，五天内升级为砸冰箱的威胁。背景是各家电品牌的日常讨论与广告。"
    )
    return scene.timeline.lines(), truth


RECIPES: dict[str, Recipe] = {"fridge": fridge}
