"""The recipes of the shipped scenarios: who posts what, when, and which posts form the ground truth."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from monitor.scenarios.phrasebank import PhraseBank
from monitor.scenarios.scene import BrandSpec, IncidentPlan, Quoted, Scene, Scripted, Wave, at
from monitor.scenarios.timeline import Author

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
    scene = Scene("fridge", seed, at(2011, 9, 19), 5, bank, authors=1400, era="2011")
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


# --- the 2020s ----------------------------------------------------------------------------------------------

PHONE_BRANDS = [
    BrandSpec("锐思", ["R9 Pro", "R9", "平板", "耳机", "手表"], "锐思手机", "weibo-search:锐思"),
    BrandSpec("小米", ["手机", "手环", "平板"], "小米手机", "weibo-search:手机"),
    BrandSpec("华为", ["手机", "平板", "手表"], "华为终端", "weibo-search:手机"),
    BrandSpec("OPPO", ["手机", "耳机"], "OPPO", "weibo-search:手机"),
    BrandSpec("vivo", ["手机", "耳机"], "vivo", "weibo-search:手机"),
    BrandSpec("荣耀", ["手机", "平板"], "荣耀手机", "weibo-search:手机"),
    BrandSpec("苹果", ["iPhone", "iPad", "AirPods"], "Apple", "weibo-search:手机"),
    BrandSpec("一加", ["手机"], "一加手机", "weibo-search:手机"),
]
CAR_BRANDS = [
    BrandSpec("澜行", ["L7", "L5", "新车", "SUV"], "澜行汽车", "weibo-search:澜行"),
    BrandSpec("比亚迪", ["汉", "海豹", "宋"], "比亚迪汽车", "weibo-search:新能源车"),
    BrandSpec("特斯拉", ["Model 3", "Model Y"], "特斯拉", "weibo-search:新能源车"),
    BrandSpec("蔚来", ["ES6", "ET5"], "蔚来", "weibo-search:新能源车"),
    BrandSpec("小鹏", ["P7", "G6"], "小鹏汽车", "weibo-search:新能源车"),
    BrandSpec("理想", ["L7", "L9"], "理想汽车", "weibo-search:新能源车"),
    BrandSpec("极氪", ["001", "007"], "极氪", "weibo-search:新能源车"),
]
HEATER_BRANDS = [
    BrandSpec("康沃", ["热水器", "燃气灶", "壁挂炉"], "康沃热水器", "weibo-search:康沃"),
    BrandSpec("海尔", ["热水器", "冰箱", "洗衣机"], "海尔官方微博", "weibo-search:热水器"),
    BrandSpec("美的", ["热水器", "空调", "电饭煲"], "美的集团", "weibo-search:热水器"),
    BrandSpec("万和", ["热水器", "燃气灶"], "万和电气", "weibo-search:热水器"),
    BrandSpec("华帝", ["热水器", "油烟机"], "华帝", "weibo-search:热水器"),
    BrandSpec("林内", ["热水器"], "林内", "weibo-search:热水器"),
    BrandSpec("方太", ["油烟机", "热水器", "洗碗机"], "方太", "weibo-search:热水器"),
]
TEA_BRANDS = [
    BrandSpec(
        "茶語時光", ["珍珠奶茶", "黑糖珍奶", "四季春", "多多綠"], "茶語時光官方", "weibo-search:茶語時光"
    ),
    BrandSpec("50嵐", ["珍珠奶茶", "四季春", "波霸奶茶"], "50嵐", "weibo-search:手搖飲"),
    BrandSpec("清心福全", ["烏龍綠", "珍珠奶茶"], "清心福全", "weibo-search:手搖飲"),
    BrandSpec("迷客夏", ["珍珠鮮奶", "芋頭鮮奶"], "迷客夏", "weibo-search:手搖飲"),
    BrandSpec("CoCo都可", ["百香雙響炮", "珍珠奶茶"], "CoCo都可", "weibo-search:手搖飲"),
    BrandSpec("春水堂", ["珍珠奶茶", "鐵觀音"], "春水堂", "weibo-search:手搖飲"),
]
BACKGROUND_MODERN = {
    "praise": 30,
    "question": 30,
    "chatter": 36,
    "ad": 20,
    "giveaway": 6,
    "mild_brand_grumble": 7,
    "grumble": 85,
    "daily": 85,
    "unrelated_news": 25,
}
GADGET = ("common", "modern", "consumer", "gadget")
SPREAD = {"echo": 0.34, "repost": 0.26, "complaint": 0.2, "onlooker": 0.14, "escalation": 0.06}
OWNERS = {
    "complaint": 0.28,
    "echo": 0.24,
    "repost": 0.2,
    "escalation": 0.16,
    "onlooker": 0.05,
    "media": 0.04,
    "kol": 0.03,
}
DENIAL = {
    "denial_reaction": 0.3,
    "repost": 0.2,
    "escalation": 0.17,
    "complaint": 0.1,
    "echo": 0.1,
    "media": 0.06,
    "kol": 0.04,
    "onlooker": 0.03,
}


def scaled(per_day: dict[str, float], factor: float) -> dict[str, float]:
    return {kind: rate * factor for kind, rate in per_day.items()}


def ordinary(scene: Scene, followers: int) -> Author:
    """A named-at-random ordinary account with the given reach."""
    return scene.pool.special(
        scene.pool._unique_name(scene.bank.say(scene.rng, "screen_name")), followers, False, "user"
    )


def trickle(
    scene: Scene,
    bank: PhraseBank,
    per_day: float,
    brand: str | None,
    feed: str,
    *,
    keep_out: Callable[[datetime, str], bool] | None = None,
) -> list[str]:
    """The same everyday grumble, a few times every day, from different people.

    A post ``keep_out`` answers True for (its time, its text) moves to another time of its day: an everyday
    grumble that would read as part of an incident if it fell inside it.
    """
    ids = []
    day = 0
    while scene.timeline.hours(24 * day) < scene.end:
        low = scene.timeline.hours(24 * day)
        high = min(scene.end, scene.timeline.hours(24 * (day + 1)))
        for _ in range(round(per_day * scene.rng.uniform(0.8, 1.2))):
            text = scene.timeline.unique_text(
                lambda: scene.finish(
                    bank.say(scene.rng, "trickle") + bank.say(scene.rng, "trickle_feel"),
                    "angry",
                    limit=300,
                    bank=bank,
                )
            )
            when = scene.timeline.active_time(low, high)
            while keep_out and keep_out(when, text):
                when = scene.timeline.active_time(low, high)
            ids.append(scene.timeline.add(when, scene.pool.pick(), text, feed=feed, brand=brand, heat=0.4))
        day += 1
    return ids


def mild_big_grumble(scene: Scene, hour: float, text: str, brand: str, feed: str) -> None:
    post_id = scene.timeline.add(
        scene.timeline.hours(hour), scene.kols[1], text, feed=feed, brand=brand, heat=0.2
    )
    scene.decoy("big_account_mild", "a big account's mild grumble that nobody picks up", [post_id])


def brand_background(
    scene: Scene, brands: list[BrandSpec], per_day: dict[str, float], whose: str = "brands'"
) -> None:
    """The brands' background talk of the 2020s (posts up to 300 characters), their repost-to-win giveaways
    listed as a decoy ("``whose`` repost-to-win giveaways")."""
    ids = scene.background(brands, per_day, limit=300)
    scene.decoy("giveaway", f"{whose} repost-to-win giveaways", ids["giveaway"])


def everyday_trickle(
    scene: Scene,
    bank: PhraseBank,
    per_day: float,
    brand: str | None,
    feed: str,
    description: str,
    *,
    slots: tuple[str, str] | None = None,
    keep_out: Callable[[datetime, str], bool] | None = None,
) -> None:
    """A ``trickle`` listed as an ``everyday_trickle`` decoy; ``slots`` = (grumble, feeling) names the bank's
    slots to write it from in place of ``trickle`` and ``trickle_feel``."""
    if slots is not None:
        bank = bank.with_slots(trickle=bank.slots[slots[0]], trickle_feel=bank.slots[slots[1]])
    ids = trickle(scene, bank, per_day, brand, feed, keep_out=keep_out)
    scene.decoy("everyday_trickle", description, ids)


def repeat_ranter(
    scene: Scene,
    followers: int,
    bank: PhraseBank,
    slot: str,
    count: int,
    hours: tuple[float, float],
    description: str,
    *,
    feed: str,
    brand: str,
) -> None:
    """An ordinary account with ``followers`` posting ``repeat_rants``, listed as a ``repeat_ranter`` decoy."""
    rants = repeat_rants(scene, ordinary(scene, followers), bank, slot, count, hours, feed=feed, brand=brand)
    scene.decoy("repeat_ranter", description, rants)


def grassroots(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A phone battery swells; the first post has 312 followers and only the echoes give it away."""
    bank = PhraseBank.load(*GADGET)
    scene = Scene("grassroots", seed, at(2023, 6, 5), 4, bank, authors=1500)
    brand_background(scene, PHONE_BRANDS, BACKGROUND_MODERN)
    phone = PhraseBank.load(*GADGET, "phone")
    first = ordinary(scene, 312)
    blogger = scene.pool.mid_size(40_000, 90_000)
    official = scene.official("锐思手机")
    early = {"echo": 0.45, "complaint": 0.35, "onlooker": 0.12, "repost": 0.08}
    plan = IncidentPlan(
        id="phone-battery",
        brand="锐思",
        product="R9 Pro 手机",
        fault="电池发烫鼓包",
        bank=phone,
        feed="weibo-search:锐思",
        waves=[
            Wave(21.8, 28, early, 1.3, 12.0),
            Wave(44.6, 150, SPREAD, 1.5, 7.0),
            Wave(62.0, 140, DENIAL, 1.5, 8.0),
        ],
        scripted=[
            Scripted(21.6, first, phone.slots["seed_post"][0], heat=3.0),
            Scripted(36.2, first, phone.slots["seed_followup"][0], heat=2.0),
            Scripted(44.5, blogger, phone.slots["mid_post"][0], heat=6.0),
            Scripted(61.5, official, phone.slots["official_statements"][0], part_of_incident=False, heat=2.0),
            Scripted(62.5, blogger, phone.slots["mid_followup"][0], heat=5.0),
        ],
        topic_after=50.0,
        limit=300,
    )
    scene.incident(plan)
    mild_big_grumble(scene, 30.4, "小米的新系统更新完有点耗电，再观察两天。", "小米", "weibo-search:手机")
    truth = scene.truth(
        "草根起点：一位只有三百多粉丝的用户发帖说锐思R9 Pro充电发烫、电池鼓包，起初只有零星附和；第二天一位数码博主"
        "汇总网友私信后扩散，随后出现维权威胁、官方回应和媒体报道。"
    )
    return scene.timeline.lines(), truth


def two_faults(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One car maker, two faults at once: the screen goes black, and the car will not charge."""
    bank = PhraseBank.load(*GADGET)
    scene = Scene("two_faults", seed, at(2024, 3, 11), 5, bank, authors=1800)
    brand_background(scene, CAR_BRANDS, scaled(BACKGROUND_MODERN, 1.3))
    official = scene.official("澜行汽车")
    for incident_id, fault, bank_name, start, statement_at, first_reach in (
        ("ev-screen", "中控屏黑屏", "ev_screen", 33.2, 70.0, 2_400),
        ("ev-charge", "充不上电", "ev_charge", 57.8, 88.0, 860),
    ):
        fault_bank = PhraseBank.load(*GADGET, "ev_common", bank_name)
        owner = ordinary(scene, first_reach)
        plan = IncidentPlan(
            id=incident_id,
            brand="澜行",
            product="L7 电动车",
            fault=fault,
            bank=fault_bank,
            feed="weibo-search:澜行",
            waves=[
                Wave(start + 0.1, 125, SPREAD, 1.5, 7.0),
                Wave(start + 26.0, 120, OWNERS, 1.5, 8.0),
                Wave(statement_at + 0.2, 45, DENIAL, 1.4, 6.0),
            ],
            scripted=[
                Scripted(start, owner, fault_bank.slots["seed_post"][0], heat=4.0),
                Scripted(
                    statement_at,
                    official,
                    fault_bank.slots["official_statements"][0],
                    part_of_incident=False,
                    heat=2.0,
                ),
            ],
            topic_after=start + 10.0,
            limit=300,
        )
        scene.incident(plan)
    mild_big_grumble(
        scene, 20.5, "特斯拉超充站今天排了二十分钟队，周末出行的人真多。", "特斯拉", "weibo-search:新能源车"
    )
    truth = scene.truth(
        "同一品牌两个并发故障：澜行L7车主先集中反映行驶中中控屏黑屏，一天后另一批车主反映充不上电。两者时间重叠、"
        "品牌相同，必须是两个事件。"
    )
    return scene.timeline.lines(), truth


def slow_burn(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A water heater that leaks: a handful of posts a week at first, dozens a day four weeks later."""
    bank = PhraseBank.load("common", "modern", "consumer")
    scene = Scene("slow_burn", seed, at(2022, 11, 1), 28, bank, authors=2500)
    brand_background(scene, HEATER_BRANDS, scaled(BACKGROUND_MODERN, 0.42))
    everyday_trickle(
        scene,
        bank,
        12,
        "速达快递",
        "weibo-search:快递",
        "a steady dozen complaints a day about a late courier, every day",
    )
    heater = PhraseBank.load("common", "modern", "consumer", "water_heater")
    first = ordinary(scene, 146)
    quiet = {"complaint": 0.45, "echo": 0.4, "onlooker": 0.1, "repost": 0.05}
    official = scene.official("康沃热水器")
    plan = IncidentPlan(
        id="heater-leak",
        brand="康沃",
        product="燃气热水器",
        fault="热水器漏水",
        bank=heater,
        feed="weibo-search:康沃",
        waves=[
            Wave(40.0, 12, quiet, 2.0, 60.0),
            Wave(7 * 24, 30, quiet, 2.0, 60.0),
            Wave(13 * 24, 60, SPREAD, 2.0, 50.0),
            Wave(18 * 24, 100, OWNERS, 2.0, 45.0),
            Wave(23 * 24, 100, DENIAL, 1.6, 30.0),
        ],
        scripted=[
            Scripted(39.8, first, heater.slots["seed_post"][0], heat=1.0),
            Scripted(23 * 24 + 2.0, official, heater.slots["official_statements"][0], part_of_incident=False),
        ],
        topic_after=16 * 24.0,
        limit=300,
    )
    scene.incident(plan)
    truth = scene.truth(
        "慢热：康沃燃气热水器漏水的抱怨在四周里慢慢增长，第一周只有零星几条，第四周每天几十条；同期每天都有十来条"
        "与之无关的快递延误抱怨（日常涓流），不应报警。"
    )
    return scene.timeline.lines(), truth


def traditional(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A Taiwan/Hong Kong bubble-tea chain and a wave of sick customers, in Traditional Chinese."""
    trad = PhraseBank.load("common", "modern", "consumer", "trad")
    simplified = PhraseBank.load("common", "modern", "consumer")
    scene = Scene("traditional", seed, at(2023, 8, 14), 4, trad, authors=1500)
    ids = scene.background(TEA_BRANDS, scaled(BACKGROUND_MODERN, 0.85), limit=300, traditional=True)
    scene.background(
        PHONE_BRANDS, {"grumble": 25, "daily": 25, "unrelated_news": 8}, limit=300, bank=simplified
    )
    scene.decoy("giveaway", "drink shops' share-to-win giveaways", ids["giveaway"])
    tea = PhraseBank.load("common", "modern", "consumer", "trad", "bubble_tea")
    reposts = simplified.with_slots(
        brand="茶语时光",
        product=["奶茶", "珍珠奶茶"],
        fault_short=["上吐下泻", "拉肚子"],
        echo=tea.slots["s_echo"],
        onlooker=tea.slots["s_onlooker"],
        repost_comment=tea.slots["s_repost"],
        topic=["茶语时光食物中毒", "茶语时光"],
        fault_detail=["听说好多人进了急诊", "卫生局已经介入了", "新闻都报了"],
    )
    first = ordinary(scene, 780)
    official = scene.official("茶語時光官方")
    statements = tea.slots["official_statements"]
    plan = IncidentPlan(
        id="tea-poisoning",
        brand="茶語時光",
        product="手搖飲（珍珠奶茶等）",
        fault="飲用後上吐下瀉（疑似食物中毒）",
        bank=tea,
        feed="weibo-search:茶語時光",
        waves=[
            Wave(20.6, 120, SPREAD, 1.4, 6.0),
            Wave(40.0, 130, OWNERS, 1.5, 7.0),
            Wave(46.5, 100, DENIAL, 1.4, 6.0),
        ],
        scripted=[
            Scripted(20.5, first, tea.slots["seed_post"][0], heat=3.0),
            Scripted(46.0, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(70.0, official, statements[1], part_of_incident=False, heat=3.0),
        ],
        topic_after=30.0,
        limit=300,
        traditional=True,
        alt_bank=reposts,
        alt_share=0.25,
    )
    scene.incident(plan)
    truth = scene.truth(
        "繁體中文：台灣與香港均有門市的手搖飲連鎖「茶語時光」，多名顧客飲用後上吐下瀉，衛生局介入，企業先否認後道歉；"
        "大陸網友以簡體轉發。背景為繁體的手搖飲討論與日常，以及部分簡體日常貼文。"
    )
    return scene.timeline.lines(), truth


def noise_day(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Two days with nothing to page about and every kind of decoy (the second day is 15 March)."""
    bank = PhraseBank.load(*GADGET, "noise")
    scene = Scene("noise_day", seed, at(2023, 3, 14), 2, bank, authors=1500)
    brand_background(scene, PHONE_BRANDS, BACKGROUND_MODERN)
    rng = scene.rng
    timeline = scene.timeline

    launch = []
    origin = timeline.hours(19.5)
    for index in range(320):
        when = timeline.burst_time(origin, 1.2, 3.5)
        if when is None:
            continue
        if index % 40 == 0:
            author, slot, heat = rng.choice(scene.media), "launch_news", 3.0
        elif index % 25 == 0:
            author, slot, heat = rng.choice(scene.kols), "launch", 4.0
        else:
            author, slot, heat = scene.pool.fresh(), "launch", 1.5
        mood = "" if slot == "launch_news" else "happy"
        text = timeline.unique_text(lambda s=slot, m=mood: scene.finish(bank.say(rng, s), m, limit=300))
        launch.append(timeline.add(when, author, text, feed="weibo-search:锐思", brand="锐思", heat=heat))
    scene.decoy(
        "positive_viral", "a phone launch going viral: hundreds of excited posts in a few hours", launch
    )

    repeat_ranter(
        scene,
        37,
        bank,
        "rant",
        20,
        (32, 44),
        "one 37-follower account posting the same anger twenty times",
        feed="weibo-search:快递",
        brand="速达快递",
    )

    big = []
    for index in range(8):
        author = scene.kols[index % len(scene.kols)]
        when = timeline.active_time(timeline.hours(8 + index * 4), timeline.hours(12 + index * 4))
        text = scene.finish(bank.say(rng, "big_neutral"), "", limit=300, typo_rate=0.0)
        big.append(timeline.add(when, author, text, feed="weibo-search:锐思", brand="锐思", heat=1.0))
    scene.decoy("big_account_neutral", "big accounts' neutral posts mentioning a brand", big)

    everyday_trickle(
        scene, bank, 14, "速达快递", "weibo-search:快递", "the everyday trickle of late-courier grumbles"
    )

    consumer_day = []
    for index in range(70):
        if index % 2 == 0:
            author, slot, mood = rng.choice(scene.media + scene.news_accounts), "news_315", ""
        else:
            author, slot, mood = scene.pool.pick(), "user_315", "neutral"
        text = timeline.unique_text(lambda s=slot, m=mood: scene.finish(bank.say(rng, s), m, limit=300))
        # The gala is broadcast at 20:00 on the 15th; what it exposed is posted from then on.
        opens = 24 + 20.2 if "晚会" in text else 24 + 6
        when = timeline.active_time(timeline.hours(opens), timeline.hours(48))
        consumer_day.append(timeline.add(when, author, text, feed="weibo-search:315", brand=None, heat=1.0))
    scene.decoy("news_315", "consumer-rights-day news and chatter full of 曝光, 投诉, 维权", consumer_day)
    mild_big_grumble(scene, 15.2, "华为的客服电话打了半天才接通，有点无语。", "华为", "weibo-search:手机")
    truth = scene.truth(
        "纯噪声的两天（第二天是3·15）：新机发布引发的正面刷屏、一个小号把同一句怒骂发二十遍、大号的中性帖、"
        "每天的快递抱怨涓流、3·15新闻和抽奖。没有任何事件，任何 warning 都是误报。"
    )
    return scene.timeline.lines(), truth


# --- a bank's service failure -------------------------------------------------------------------------------

BANK_BRANDS = [
    BrandSpec("华信银行", ["App", "信用卡", "储蓄卡", "理财", "房贷"], "华信银行", "weibo-search:华信银行"),
    BrandSpec("招商银行", ["App", "信用卡", "理财", "储蓄卡"], "招商银行", "weibo-search:银行"),
    BrandSpec("工商银行", ["App", "储蓄卡", "房贷", "信用卡"], "中国工商银行", "weibo-search:银行"),
    BrandSpec("建设银行", ["App", "房贷", "信用卡"], "中国建设银行", "weibo-search:银行"),
    BrandSpec("农业银行", ["App", "储蓄卡", "理财"], "中国农业银行", "weibo-search:银行"),
    BrandSpec("中国银行", ["App", "信用卡", "储蓄卡"], "中国银行", "weibo-search:银行"),
    BrandSpec("交通银行", ["App", "信用卡", "理财"], "交通银行", "weibo-search:银行"),
    BrandSpec("平安银行", ["App", "信用卡", "理财"], "平安银行", "weibo-search:银行"),
]
BANK = ("common", "modern", "consumer", "bank")
# Reactions once the story has a name: the bank has apologised, people check their money and the press follows.
AFTERMATH = {
    "repost": 0.3,
    "onlooker": 0.2,
    "escalation": 0.15,
    "complaint": 0.1,
    "media": 0.1,
    "kol": 0.08,
    "echo": 0.07,
}
BANK_NEWS = (
    (
        47.2,
        "【华信银行App升级后现故障 用户称重复扣款】多名用户反映，华信银行手机银行升级新版本后，付款出现重复扣款，客服热线难以接通。",
    ),
    (58.6, '【华信银行转账"处理中"超24小时 客服热线难接通】记者连续拨打华信银行客服热线，均提示坐席忙。'),
    (64.1, "【华信银行致歉：系统故障致重复扣款，将于48小时内原路退回】"),
    (70.3, "【华信银行系统故障追踪：受影响用户有多少？补偿方案何时公布？】"),
    (81.5, "【律师：银行系统故障致客户产生违约金等损失，可依法主张赔偿】"),
    (88.4, "【华信银行公布故障处理进展：重复扣款已基本退回，每户补偿88元】"),
)


def extra_incident_posts(
    scene: Scene,
    truth: dict[str, Any],
    times: list[datetime],
    write: Callable[[datetime], tuple[Author, str, dict[str, Any] | None]],
    *,
    feed: str | Callable[[str, str | None], str],
    brand: str,
) -> None:
    """Add posts about an incident beyond its waves (written by ``write``) and list them in its truth.

    ``feed`` is one feed, or a route from a post's text and the id it reposts to the feed that fetched it.
    """
    for when in sorted(times):
        author, text, extra = write(when)
        fetched_by = feed(text, (extra or {}).get("repost_of")) if callable(feed) else feed
        truth["post_ids"].append(
            scene.timeline.add(when, author, text, feed=fetched_by, brand=brand, heat=1.0, extra=extra)
        )


def statement_waves(
    scene: Scene,
    truth: dict[str, Any],
    bank: PhraseBank,
    waves: tuple[tuple[float, int, float, str, str, str], ...],
    *,
    feed: str | Callable[[str, str | None], str],
    brand: str,
) -> None:
    """For each (origin hour, count, scale, statement id, slot, repost slot): a burst of reactions to one of the
    brand's statements, as ``statement_reactions`` writes them, added to the incident."""
    for origin, count, scale, statement, slot, reposts in waves:
        extra_incident_posts(
            scene,
            truth,
            bursts(scene, origin, count, 1.2, scale),
            statement_reactions(scene, bank, statement, slot, reposts),
            feed=feed,
            brand=brand,
        )


def aftermath_waves(
    scene: Scene,
    truth: dict[str, Any],
    bank: PhraseBank,
    waves: tuple[tuple[float, int, float, float, dict[str, str]], ...],
    *,
    feed: str | Callable[[str, str | None], str],
    brand: str,
) -> None:
    """For each (origin hour, count, shape, scale, fixed slots): a burst of posts from the days after the
    incident, as ``looking_back`` writes them, added to the incident."""
    for origin, count, shape, scale, fixed in waves:
        extra_incident_posts(
            scene,
            truth,
            bursts(scene, origin, count, shape, scale),
            looking_back(scene, bank, fixed),
            feed=feed,
            brand=brand,
        )


def bursts(scene: Scene, origin: float, count: int, shape: float, scale: float) -> list[datetime]:
    """``count`` times from a gamma-shaped burst ``origin`` hours in (fewer when the burst runs past the end)."""
    times = [scene.timeline.burst_time(scene.timeline.hours(origin), shape, scale) for _ in range(count)]
    return [when for when in times if when is not None]


def statement_reactions(
    scene: Scene,
    bank: PhraseBank,
    statement: str,
    slot: str = "apology_reaction",
    repost_slot: str = "apology_repost",
) -> Callable[[datetime], tuple[Author, str, dict[str, Any] | None]]:
    """Writes the public's answers to a brand's ``statement``: a third are reposts of it with a few words
    (``repost_slot``), the rest angry posts from ``slot``, a quarter of them under the topic's hashtag."""
    rng = scene.rng

    def write(when: datetime) -> tuple[Author, str, dict[str, Any] | None]:
        if rng.random() < 0.35:
            text = scene.finish(bank.say(rng, repost_slot), "", limit=300, bank=bank)
            return scene.pool.fresh(), text, {"repost_of": statement}
        fixed: dict[str, str] = {}
        text = bank.say(rng, slot, fixed)
        if rng.random() < 0.25:
            text = "#" + bank.say(rng, "topic", fixed) + "#" + text
        render = lambda: scene.finish(text, "angry", limit=300, bank=bank)  # noqa: E731
        return scene.pool.fresh(), scene.timeline.unique_text(render), None

    return write


def news_items(
    scene: Scene,
    headlines: tuple[tuple[float, str], ...],
    *,
    brand: str,
    feed: str = "rss:news",
    site: str = "news.example.cn",
) -> list[str]:
    """RSS items, ``(hour, headline)``, from the scene's media accounts in turn; their ids."""
    ids = []
    for index, (hour, headline) in enumerate(headlines):
        when = scene.timeline.hours(hour)
        ids.append(
            scene.timeline.add(
                when,
                scene.media[index % len(scene.media)],
                headline,
                feed=feed,
                brand=brand,
                source="rss",
                url=f"https://{site}/{when:%Y%m%d}/{scene.rng.randint(10_000, 99_999)}.html",
            )
        )
    return ids


def repeat_rants(
    scene: Scene,
    author: Author,
    bank: PhraseBank,
    slot: str,
    count: int,
    hours: tuple[float, float],
    *,
    feed: str,
    brand: str,
) -> list[str]:
    """One account posting the same anger (``slot``) ``count`` times between two hours of the scene."""
    timeline = scene.timeline
    return [
        timeline.add(
            timeline.active_time(timeline.hours(hours[0]), timeline.hours(hours[1])),
            author,
            scene.finish(bank.say(scene.rng, slot), "", limit=300, bank=bank),
            feed=feed,
            brand=brand,
            heat=0.1,
        )
        for _ in range(count)
    ]


def giveaway_entries(
    scene: Scene, bank: PhraseBank, prize: str, times: list[datetime], *, feed: str, brand: str
) -> list[str]:
    """Reposts entering the repost-to-win giveaway ``prize`` (``giveaway_entry``), some tagging two friends."""
    rng = scene.rng
    entries = []
    for when in sorted(times):
        text = bank.say(rng, "giveaway_entry")
        if rng.random() < 0.4:
            text += " @" + rng.choice(scene.pool.users).name + " @" + rng.choice(scene.pool.users).name
        entries.append(
            scene.timeline.add(
                when,
                scene.pool.pick(),
                text,
                feed=feed,
                brand=brand,
                heat=0.1,
                extra={"repost_of": prize},
            )
        )
    return entries


def celebrity_campaign(
    scene: Scene,
    bank: PhraseBank,
    official: Author,
    star: Author,
    *,
    hours: tuple[float, float],
    ad_heat: float,
    fans: tuple[float, int, float, float],
    happy: tuple[int, float, float],
    giveaway: tuple[float, tuple[float, int]],
    feed: str,
    brand: str,
    route: Callable[[str, str | None], str],
    viral: str,
    entered: str,
) -> None:
    """A launch the brand's official account announces (``launch_official``) at ``hours[0]`` and a celebrity
    reposts (``star_post``) at ``hours[1]``; ``fans`` = (from hour, count, shape, scale) of fans' posts bursting
    (``fan_lead``/``fan_core``/``fan_tail``), two in three reposting the star; ``happy`` = (count, from hour, to
    hour) of happy customers (``launch``): a ``positive_viral`` decoy (``viral`` describes it), the ad first.
    Then the brand's ``official_giveaway`` = (hour, (entries from hour, count)): a ``giveaway`` decoy
    (``entered``)."""
    rng, timeline = scene.rng, scene.timeline
    ad = timeline.add(
        timeline.hours(hours[0]),
        official,
        bank.slots["launch_official"][0],
        feed=feed,
        brand=brand,
        heat=ad_heat,
    )
    star_text = bank.slots["star_post"][0]
    star_post = timeline.add(
        timeline.hours(hours[1]), star, star_text, feed=feed, brand=brand, heat=0.5, extra={"repost_of": ad}
    )
    launch = [ad, star_post]
    for when in sorted(bursts(scene, *fans)):
        text = timeline.unique_text(
            lambda: scene.finish(bank.render(rng, "{fan_lead}{fan_core}{fan_tail}"), "", limit=300, bank=bank)
        )
        root = None
        if rng.random() < 0.65:
            text, root = Scene._repost(text, Quoted(star_post, star.name, star_text, ad), 300)
        launch.append(
            timeline.add(
                when,
                scene.pool.fresh(),
                text,
                feed=route(text, root),
                brand=brand,
                heat=0.3,
                extra={"repost_of": root} if root else None,
            )
        )
    count, start, end = happy
    for _ in range(count):
        text = timeline.unique_text(
            lambda: scene.finish(bank.say(rng, "launch"), "happy", limit=300, bank=bank)
        )
        when = timeline.active_time(timeline.hours(start), timeline.hours(end))
        launch.append(
            timeline.add(when, scene.pool.pick(), text, feed=route(text, None), brand=brand, heat=0.6)
        )
    scene.decoy("positive_viral", viral, launch)
    hour, entries = giveaway
    scene.decoy(
        "giveaway", entered, official_giveaway(scene, bank, official, hour, entries, feed=feed, brand=brand)
    )


def keywords_route(scene: Scene, searches: tuple[tuple[str, str], ...]) -> Callable[[str, str | None], str]:
    """Which keyword search fetched a post: the first of ``searches`` (word, feed) whose word the post or the
    post it reposts says, else the timeline."""
    timeline = scene.timeline
    texts: dict[str, str] = {}

    def route(text: str, root: str | None) -> str:
        if root is not None and root not in texts:
            texts.update((draft.id, draft.text) for draft in timeline.drafts)
        said = text + (texts[root] if root is not None else "")
        return next((feed for word, feed in searches if word in said), "weibo-timeline")

    return route


def keyword_route(
    scene: Scene, brand_word: str, brand_feed: str, category_word: str, category_feed: str
) -> Callable[[str, str | None], str]:
    """Which keyword search fetched a post: the brand's own when the post or the post it reposts says
    ``brand_word``, else the category search when either says ``category_word``, else the timeline."""
    return keywords_route(scene, ((brand_word, brand_feed), (category_word, category_feed)))


def looking_back(
    scene: Scene, bank: PhraseBank, fixed_slots: dict[str, str]
) -> Callable[[datetime], tuple[Author, str, dict[str, Any] | None]]:
    """Writes posts from the days after an incident (``aftermath``, with ``fixed_slots`` such as the day it
    happened), a fifth of them under the topic's hashtag."""
    rng = scene.rng

    def write(when: datetime) -> tuple[Author, str, dict[str, Any] | None]:
        def render() -> str:
            fixed = dict(fixed_slots)
            text = bank.render(rng, "{aftermath}", fixed)
            if rng.random() < 0.2:
                text = "#" + bank.say(rng, "topic", fixed) + "#" + text
            return scene.finish(text, "angry", limit=300, bank=bank)

        return scene.pool.fresh(), scene.timeline.unique_text(render), None

    return write


def official_giveaway(
    scene: Scene,
    bank: PhraseBank,
    official: Author,
    hour: float,
    entries: tuple[float, int],
    *,
    feed: str,
    brand: str,
) -> list[str]:
    """The brand's repost-to-win giveaway (``giveaway_post``) at ``hour`` and ``entries`` = (from hour, count)
    reposts entering it over the next day or so: the giveaway's id first."""
    timeline = scene.timeline
    prize = timeline.add(
        timeline.hours(hour), official, bank.slots["giveaway_post"][0], feed=feed, brand=brand, heat=4.0
    )
    origin, count = entries
    return [
        prize,
        *giveaway_entries(
            scene, bank, prize, bursts(scene, origin, count, 1.2, 10.0), feed=feed, brand=brand
        ),
    ]


def category_background(
    scene: Scene, brands: list[BrandSpec], feed: str, bank: PhraseBank, **kinds: tuple[float, str]
) -> None:
    """Background posts a category search (``feed``) fetches: for each kind, (so many a day, the bank's slot to
    write them from), e.g. ``daily=(9, "shoe_daily")``."""
    scene.background(
        brands,
        {kind: per_day for kind, (per_day, _) in kinds.items()},
        limit=300,
        everyday_feed=feed,
        bank=bank.with_slots(**{kind: bank.slots[slot] for kind, (_, slot) in kinds.items()}),
    )


def scripted_series(
    origin: float,
    offsets: tuple[float, ...],
    authors: list[Author],
    texts: list[str],
    heats: tuple[float, ...] | float = 1.0,
) -> list[Scripted]:
    """The first posts of an incident: the n-th author posts the n-th text ``offsets[n]`` hours after ``origin``
    (with ``heats[n]``, or one heat for all)."""
    if not isinstance(heats, tuple):
        heats = (heats,) * len(offsets)
    return [
        Scripted(origin + offset, author, text, heat=heat)
        for offset, author, text, heat in zip(offsets, authors, texts, heats, strict=True)
    ]


def fresh_voices(
    scene: Scene,
    bank: PhraseBank,
    slot: str,
    mood: str,
    *,
    repost_of: str | None = None,
    traditional: bool = False,
) -> Callable[[datetime], tuple[Author, str, dict[str, Any] | None]]:
    """Writes posts from new accounts, each a fresh text from ``slot`` in ``mood`` (reposts of ``repost_of``
    when given)."""
    rng = scene.rng

    def write(when: datetime) -> tuple[Author, str, dict[str, Any] | None]:
        render = lambda: scene.finish(  # noqa: E731
            bank.say(rng, slot), mood, limit=300, traditional=traditional
        )
        author = scene.pool.fresh()  # before the text, as the recipes have always drawn them
        text = scene.timeline.unique_text(render)
        return author, text, {"repost_of": repost_of} if repost_of is not None else None

    return write


def incident_follow_up(
    scene: Scene,
    truth: dict[str, Any],
    bank: PhraseBank,
    *,
    statements: tuple[tuple[float, int, float, str, str, str], ...],
    aftermath: tuple[tuple[float, int, float, float, dict[str, str]], ...] = (),
    news: tuple[tuple[float, str], ...],
    feed: str | Callable[[str, str | None], str],
    brand: str,
) -> None:
    """What follows an incident, added to it: the reactions to the brand's ``statements`` (``statement_waves``),
    the days after (``aftermath_waves``), then the ``news`` items (RSS)."""
    statement_waves(scene, truth, bank, statements, feed=feed, brand=brand)
    aftermath_waves(scene, truth, bank, aftermath, feed=feed, brand=brand)
    truth["post_ids"].extend(news_items(scene, news, brand=brand))


def other_brand_mild(
    scene: Scene,
    hours: tuple[float, ...],
    texts: list[str],
    route: Callable[[str, str | None], str],
    description: str,
) -> None:
    """A few posts from new accounts, days apart, about another brand (none tagged): an ``other_brand_mild``
    decoy nobody picks up."""
    timeline = scene.timeline
    ids = [
        timeline.add(
            timeline.hours(hour), scene.pool.fresh(), text, feed=route(text, None), brand=None, heat=0.3
        )
        for hour, text in zip(hours, texts, strict=True)
    ]
    scene.decoy("other_brand_mild", description, ids)


def big_account_neutral(
    scene: Scene,
    posts: Iterable[tuple[float, Author, str]],
    description: str,
    *,
    feed: str,
    brand: str,
    heat: float = 0.4,
) -> None:
    """Big accounts' neutral posts about the brand, (hour, author, text): a ``big_account_neutral`` decoy."""
    timeline = scene.timeline
    ids = [
        timeline.add(timeline.hours(hour), author, text, feed=feed, brand=brand, heat=heat)
        for hour, author, text in posts
    ]
    scene.decoy("big_account_neutral", description, ids)


def bank_app(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A bank's app update debits payments twice and leaves transfers "处理中" for a day; a 386-follower start."""
    bank = PhraseBank.load(*BANK)
    scene = Scene("bank_app", seed, at(2024, 9, 9), 4, bank, authors=2000)
    brand_background(scene, BANK_BRANDS, scaled(BACKGROUND_MODERN, 1.15), "banks'")
    rng = scene.rng
    timeline = scene.timeline
    trad = PhraseBank.load("common", "modern", "consumer", "trad")
    scene.background(
        BANK_BRANDS, {"grumble": 5, "daily": 5, "unrelated_news": 2}, limit=300, bank=trad, traditional=True
    )

    app = PhraseBank.load(*BANK, "bank_app")
    hong_kong = app.with_slots(
        brand="華信銀行",
        echo=app.slots["hk_echo"],
        onlooker=app.slots["hk_onlooker"],
        repost_comment=app.slots["hk_repost"],
        topic=["華信銀行重複扣款", "華信銀行"],
    )
    first = ordinary(scene, 386)
    blogger = scene.pool.mid_size(50_000, 120_000)
    official = scene.official("华信银行")
    statements = app.slots["official_statements"]
    early = {"complaint": 0.5, "echo": 0.3, "onlooker": 0.1, "repost": 0.1}
    feed = "weibo-search:华信银行"
    plan = IncidentPlan(
        id="bank-app-debits",
        brand="华信银行",
        product="手机银行 App（新版本）",
        fault='重复扣款、转账长时间"处理中"、客服电话打不通',
        bank=app,
        feed=feed,
        waves=[
            Wave(32.3, 35, early, 1.3, 3.0),
            Wave(35.5, 65, SPREAD, 1.5, 4.0),
            Wave(44.2, 85, DENIAL, 1.4, 5.0),
            Wave(56.0, 100, OWNERS, 1.5, 5.0),
            Wave(63.5, 45, AFTERMATH, 1.5, 8.0),
            Wave(80.0, 35, AFTERMATH, 1.5, 6.0),
        ],
        scripted=[
            Scripted(32.15, first, app.slots["seed_post"][0], heat=3.0),
            Scripted(38.4, first, app.slots["seed_followup"][0], heat=2.5),
            Scripted(44.0, official, statements[0], part_of_incident=False, heat=2.0),
            Scripted(57.3, blogger, app.slots["mid_post"][0], heat=6.0),
            Scripted(62.5, official, statements[1], part_of_incident=False, heat=4.0),
            Scripted(66.0, blogger, app.slots["mid_followup"][0], heat=4.0),
            Scripted(86.0, official, statements[2], part_of_incident=False, heat=2.0),
        ],
        topic_after=40.0,
        limit=300,
        alt_bank=hong_kong,
        alt_share=0.08,
    )
    truth = scene.incident(plan)
    apology, progress = truth["brand_statement_ids"][1:]

    def hk_complaint(when: datetime) -> tuple[Author, str, dict[str, Any] | None]:
        def render() -> str:
            text = app.say(rng, "hk_complaint")
            while "道歉" in text and when < timeline.hours(63.0):
                text = app.say(rng, "hk_complaint")
            return scene.finish(text, "angry", limit=300, traditional=True, bank=app)

        return scene.pool.fresh(), timeline.unique_text(render), None

    extra_incident_posts(
        scene, truth, bursts(scene, 33.0, 10, 1.6, 10.0), hk_complaint, feed=feed, brand="华信银行"
    )
    extra_incident_posts(
        scene,
        truth,
        bursts(scene, 62.6, 60, 1.3, 7.0),
        statement_reactions(scene, app, apology),
        feed=feed,
        brand="华信银行",
    )
    extra_incident_posts(
        scene,
        truth,
        bursts(scene, 86.1, 15, 1.2, 3.0),
        statement_reactions(scene, app, progress),
        feed=feed,
        brand="华信银行",
    )
    truth["post_ids"].extend(
        news_items(scene, BANK_NEWS, brand="华信银行", feed="rss:finance", site="finance.example.cn")
    )

    big_account_neutral(
        scene,
        zip(
            (13.5, 39.5, 74.0),
            (scene.kols[0], scene.media[1], scene.kols[2]),
            app.slots["card_neutral"],
            strict=True,
        ),
        "big accounts' neutral posts about the bank's new credit card",
        feed=feed,
        brand="华信银行",
        heat=1.0,
    )
    repeat_ranter(
        scene,
        29,
        app,
        "queue_rant",
        16,
        (9, 20),
        "one 29-follower account ranting about the queue at one branch, sixteen times",
        feed=feed,
        brand="华信银行",
    )
    mild_big_grumble(
        scene,
        21.3,
        "招商银行App新版首页改得有点不习惯，找个转账入口找了半天。",
        "招商银行",
        "weibo-search:银行",
    )
    truth = scene.truth(
        "银行服务故障：华信银行（虚构）手机银行新版本上线后，付款重复扣款、转账“处理中”长达一天、客服电话打不通。"
        "首帖来自只有三百多粉丝的用户，随后大量客户附和、晒截图、求扩散，扬言向金融监管总局/12378投诉；银行先发"
        "避重就轻的“温馨提示”，次日致歉，事件继续发酵，媒体跟进。部分香港客户以繁体/粤语发帖。背景是各家银行的日常"
        "讨论与广告、日常生活；诱饵包括大号关于华信银行新信用卡的中性帖、一个小号反复吐槽网点排队、抽奖。"
    )
    return timeline.lines(), truth


# --- a skincare brand whose name is an everyday word -------------------------------------------------------

SKINCARE_BRANDS = [
    BrandSpec(
        "初雪", ["水乳套装", "洗面奶", "面霜", "防晒", "面膜", "卸妆油"], "初雪护肤", "weibo-search:初雪"
    ),
    BrandSpec("珀莱雅", ["双抗精华", "面霜", "水乳"], "珀莱雅", "weibo-search:护肤"),
    BrandSpec("薇诺娜", ["舒敏霜", "防晒", "面膜"], "薇诺娜", "weibo-search:护肤"),
    BrandSpec("兰蔻", ["小黑瓶", "粉水", "眼霜"], "兰蔻", "weibo-search:护肤"),
    BrandSpec("雅诗兰黛", ["小棕瓶", "眼霜", "面霜"], "雅诗兰黛", "weibo-search:护肤"),
    BrandSpec("欧莱雅", ["眼霜", "面霜", "精华"], "欧莱雅", "weibo-search:护肤"),
    BrandSpec("资生堂", ["红腰子", "防晒"], "资生堂", "weibo-search:护肤"),
    BrandSpec("素研", ["修护霜", "精华水"], "素研护肤", "weibo-search:护肤"),
    BrandSpec("花屿", ["面膜", "洁面"], "花屿HUAYU", "weibo-search:护肤"),
]
SKIN = ("common", "modern", "beauty")
SERUM_FEED = "weibo-search:初雪"
# The incident's phases, from the first post on Friday evening to the Monday after the apology.
FRIDAY_NIGHT = {"echo": 0.4, "complaint": 0.3, "onlooker": 0.18, "repost": 0.12}
SATURDAY = {"complaint": 0.3, "echo": 0.28, "repost": 0.2, "onlooker": 0.14, "escalation": 0.08}
AFTER_KOL = {
    "repost": 0.24,
    "complaint": 0.22,
    "echo": 0.2,
    "onlooker": 0.12,
    "escalation": 0.1,
    "kol": 0.07,
    "media": 0.05,
}
AFTER_STATEMENT = {
    "denial_reaction": 0.35,
    "repost": 0.18,
    "escalation": 0.17,
    "complaint": 0.12,
    "echo": 0.08,
    "kol": 0.05,
    "media": 0.05,
}
SUNDAY = {
    "complaint": 0.25,
    "escalation": 0.22,
    "repost": 0.18,
    "echo": 0.12,
    "denial_reaction": 0.1,
    "media": 0.07,
    "kol": 0.06,
}
MONDAY = {
    "repost": 0.28,
    "onlooker": 0.22,
    "escalation": 0.15,
    "complaint": 0.12,
    "media": 0.13,
    "echo": 0.1,
}
SERUM_NEWS = (
    (
        65.7,
        "【多名消费者称用初雪新款精华后过敏 客服回应：个人肤质问题】多名网友发帖称，使用初雪冰川修护精华两三天后出现红肿、刺痛、皮疹。",
    ),
    (82.3, "【初雪冰川修护精华被指致过敏 品牌称产品符合国家标准】"),
    (88.0, "【律师：化妆品致人过敏，消费者可主张医疗费、误工费等损失】"),
    (91.7, "【初雪致歉：冰川修护精华全渠道暂停销售 开封也可全额退款】"),
    (106.5, "【初雪精华过敏事件追踪：复检结果何时公布？就医费用怎么报？】"),
    (112.3, "【初雪公布处理进展：退款约2.1万单 就医费用报销通道开通】"),
)
SNOW_NEWS_RSS = ((31.2, 0), (33.4, 2), (36.8, 3), (38.5, 6))


def serum(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A skincare brand called 初雪 ("first snow"): its new serum hurts people's skin the week Beijing sees snow."""
    bank = PhraseBank.load(*SKIN)
    scene = Scene("serum", seed, at(2023, 11, 30), 5, bank, authors=2200)
    brand_background(scene, SKINCARE_BRANDS, scaled(BACKGROUND_MODERN, 1.1))
    rng = scene.rng
    timeline = scene.timeline
    serum_bank = PhraseBank.load(*SKIN, "serum")
    snow = PhraseBank.load("common", "modern", "first_snow")
    official = scene.official("初雪护肤")

    def post(hour: float, author: Author, text: str, heat: float, **extra: Any) -> str:
        return timeline.add(
            timeline.hours(hour), author, text, feed=SERUM_FEED, brand="初雪", heat=heat, **extra
        )

    # The launch: a livestream sell-out on Thursday evening, paid posts, happy first impressions.
    streamer = scene.pool.special("主播安琪Angel", 6_800_000, True, "kol")
    bloggers = [scene.pool.mid_size(30_000, 400_000) for _ in serum_bank.slots["launch_kol"]]
    launch = [
        post(10.0, official, serum_bank.slots["launch_official"][0], 3.0),
        post(13.1, streamer, serum_bank.slots["streamer_post"][0], 2.0),
        post(22.7, streamer, serum_bank.slots["streamer_after"][0], 5.0),
        post(23.2, official, serum_bank.slots["launch_official"][1], 2.5),
        post(32.2, official, serum_bank.slots["launch_official"][2], 1.5),
    ]
    for hour, blogger, text in zip((11.4, 15.8, 18.6), bloggers, serum_bank.slots["launch_kol"], strict=True):
        launch.append(post(hour, blogger, serum_bank.render(rng, text), 1.5))
    happy_times = bursts(scene, 20.0, 190, 1.3, 2.5) + [
        timeline.active_time(timeline.hours(24 + 8), timeline.hours(48 + 20)) for _ in range(35)
    ]
    for when in sorted(happy_times):
        text = timeline.unique_text(
            lambda: scene.finish(serum_bank.say(rng, "launch"), "happy", limit=300, bank=serum_bank)
        )
        launch.append(timeline.add(when, scene.pool.fresh(), text, feed=SERUM_FEED, brand="初雪", heat=0.8))
    scene.decoy(
        "positive_viral",
        "the serum's launch buzz: a livestream sell-out on Thursday evening, paid posts, happy first impressions",
        launch,
    )
    entries = official_giveaway(scene, serum_bank, official, 12.0, (12.1, 45), feed=SERUM_FEED, brand="初雪")
    scene.decoy("giveaway", "the brand's launch giveaway and the reposts that enter it", entries)

    # 初雪 in its everyday meaning: Beijing's first snow on Friday morning, one photo going viral.
    def snow_post(when: datetime, slot: str, author: Author | None = None, heat: float = 0.6) -> str:
        def render() -> str:
            fixed: dict[str, str] = {}
            if slot == "snow":
                text = snow.render(rng, "{snow_lead}{snow_core}{snow_tail}", fixed)
                if rng.random() < 0.3:
                    text = snow.say(rng, "snow_tag", fixed) + text
                return scene.finish(text, "happy", limit=300, bank=snow)
            mood = {"snow_grumble": "angry", "snow_news": ""}.get(slot, "neutral")
            typo_rate = 0.0 if slot == "snow_news" else 0.06
            return scene.finish(snow.say(rng, slot, fixed), mood, limit=300, typo_rate=typo_rate, bank=snow)

        author = author or scene.pool.fresh()
        return timeline.add(
            when, author, timeline.unique_text(render), feed=SERUM_FEED, brand=None, heat=heat
        )

    photographer = scene.pool.special("京城随手拍", 1_900_000, True, "kol")
    viral = timeline.add(
        timeline.hours(30.7),
        photographer,
        snow.slots["snow_viral"][0],
        feed=SERUM_FEED,
        brand=None,
        heat=12.0,
    )
    snow_ids = [viral]
    for _ in range(22):  # before the snow: the forecast, other cities, songs
        slot = "snow_before" if rng.random() < 0.6 else "snow_other"
        snow_ids.append(snow_post(timeline.active_time(timeline.hours(0), timeline.hours(30)), slot))
    for when in sorted(bursts(scene, 30.4, 360, 1.4, 3.5)):
        roll = rng.random()
        if roll < 0.1:
            chosen = timeline.add(
                when,
                scene.pool.fresh(),
                rng.choice(["太美了", "转发微博", "好美！！", "北京的雪", "❄❄❄", "绝了", "想去"]),
                feed=SERUM_FEED,
                brand=None,
                heat=0.2,
                extra={"repost_of": viral},
            )
        elif roll < 0.14:
            chosen = snow_post(when, "snow_news", rng.choice(scene.news_accounts), heat=2.0)
        elif roll < 0.27:
            chosen = snow_post(when, "snow_grumble")
        else:
            chosen = snow_post(when, "snow")
        snow_ids.append(chosen)
    for day, count in ((2, 30), (3, 12), (4, 8)):
        for _ in range(count):
            low, high = timeline.hours(24 * day), timeline.hours(24 * (day + 1))
            slot = "snow_after" if rng.random() < 0.7 else "snow_other"
            snow_ids.append(snow_post(timeline.active_time(low, high), slot))
    for hour, index in SNOW_NEWS_RSS:
        when = timeline.hours(hour)
        snow_ids.append(
            timeline.add(
                when,
                rng.choice(scene.news_accounts),
                snow.render(rng, snow.slots["snow_news"][index]),
                feed="rss:news",
                brand=None,
                source="rss",
                url=f"https://news.example.cn/{when:%Y%m%d}/{rng.randint(10_000, 99_999)}.html",
            )
        )
    scene.decoy(
        "homonym",
        "初雪 in its everyday meaning: Beijing's first snow of the winter on Friday morning (one photo post goes "
        "viral), snow talk, songs and wishes the rest of the week; not about the brand",
        snow_ids,
    )

    # The incident: a 7,480-follower beauty account on Friday evening, a verified KOL on Saturday afternoon,
    # the brand's "符合国家标准" on Saturday night, its apology on Sunday evening, progress on Monday.
    first = scene.pool.special("栗子的护肤日记", 7_480, False, "user")
    kol = scene.pool.special("护肤研究员Yuki", 412_000, True, "kol")
    followups = serum_bank.slots["seed_followups"]
    statements = serum_bank.slots["official_statements"]
    plan = IncidentPlan(
        id="serum-allergy",
        brand="初雪",
        product="冰川修护精华（小冰瓶）",
        fault="用后过敏：红肿、刺痛、皮疹、闷痘（烂脸）",
        bank=serum_bank,
        feed=SERUM_FEED,
        waves=[
            Wave(44.8, 40, FRIDAY_NIGHT, 1.3, 3.0),
            Wave(55.5, 85, SATURDAY, 1.5, 4.0),
            Wave(62.6, 110, AFTER_KOL, 1.5, 5.0),
            Wave(69.7, 75, AFTER_STATEMENT, 1.4, 5.0),
            Wave(80.0, 40, SUNDAY, 1.5, 6.0),
            Wave(100.0, 30, MONDAY, 1.5, 6.0),
        ],
        scripted=[
            Scripted(44.67, first, serum_bank.slots["seed_post"][0], heat=8.0),
            Scripted(47.67, first, followups[0], heat=6.0),
            Scripted(59.33, first, followups[1], heat=6.0),
            Scripted(62.5, kol, serum_bank.slots["kol_post"][0], heat=6.0),
            Scripted(69.5, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(91.0, official, statements[1], part_of_incident=False, heat=5.0),
            Scripted(92.5, first, followups[2], heat=4.0),
            Scripted(94.2, kol, serum_bank.slots["kol_followup"][0], heat=3.0),
            Scripted(111.0, official, statements[2], part_of_incident=False, heat=2.0),
        ],
        topic_after=56.0,
        limit=300,
    )
    truth = scene.incident(plan)
    _, apology, progress = truth["brand_statement_ids"]

    extra_incident_posts(
        scene,
        truth,
        bursts(scene, 91.1, 55, 1.3, 6.0),
        statement_reactions(scene, serum_bank, apology),
        feed=SERUM_FEED,
        brand="初雪",
    )
    extra_incident_posts(
        scene,
        truth,
        bursts(scene, 111.1, 14, 1.2, 3.0),
        statement_reactions(scene, serum_bank, progress, "progress_reaction"),
        feed=SERUM_FEED,
        brand="初雪",
    )
    truth["post_ids"].extend(news_items(scene, SERUM_NEWS, brand="初雪"))

    # A 35-follower customer whose pre-sale order has not shipped, the same rant again and again on Friday.
    repeat_ranter(
        scene,
        35,
        serum_bank,
        "ship_rant",
        14,
        (32, 48),
        "one 35-follower account ranting fourteen times that its pre-sale order has not shipped",
        feed=SERUM_FEED,
        brand="初雪",
    )
    big_account_neutral(
        scene,
        [(35.0, scene.media[0], serum_bank.slots["big_neutral"][0])],
        "a media account's neutral post about the brand's new serum",
        feed=SERUM_FEED,
        brand="初雪",
    )
    mild = post(39.2, scene.kols[3], serum_bank.slots["big_mild"][0], 0.2)
    scene.decoy(
        "big_account_mild",
        "a beauty commentator's mild grumble about the serum's dropper that nobody picks up",
        [mild],
    )

    # Everyday allergy and breakout grumbles about other brands, about ten a day.
    others = []
    for day in range(5):
        low, high = timeline.hours(24 * day), timeline.hours(24 * (day + 1))
        for _ in range(round(10 * rng.uniform(0.8, 1.2))):
            other = serum_bank.pick(rng, "trickle_brand")

            def render(other: str = other) -> str:
                text = serum_bank.render(rng, "{trickle}{trickle_feel}", {"tbrand": other})
                return scene.finish(text, "", limit=300, bank=serum_bank)

            text = timeline.unique_text(render)
            others.append(
                timeline.add(
                    timeline.active_time(low, high),
                    scene.pool.pick(),
                    text,
                    feed="weibo-search:护肤",
                    brand=other if other in text else None,
                    heat=0.4,
                )
            )
    scene.decoy(
        "everyday_trickle",
        "the everyday allergy and breakout grumbles about other skincare brands (and none), about ten a day",
        others,
    )
    truth = scene.truth(
        "品牌名是日常用词：护肤品牌“初雪”（虚构）新品冰川修护精华（小冰瓶）上市后，周五晚一位七千多粉丝的美妆博主发帖"
        "称用后红肿刺痛起疹，评论区大量用户附和；周六认证美妆博主汇总私信、皮肤科医生科普，品牌发“符合国家标准、建立"
        "耐受”的说明引发更大不满，维权威胁与媒体报道随之而来；周日晚品牌致歉、停售、开封可退，周一公布进展。诱饵："
        "周五早北京今冬初雪（“初雪”的日常含义，一条照片帖刷屏）、新品首发直播售罄的正面刷屏和抽奖、其他护肤品牌的日常"
        "过敏吐槽、一个小号反复吐槽预售不发货、大号关于新品的中性帖和小抱怨。"
    )
    return timeline.lines(), truth


# --- a mobile network goes down for an evening --------------------------------------------------------------

CARRIER_BRANDS = [
    BrandSpec(
        "星讯", ["5G套餐", "宽带", "流量包", "副卡", "家庭套餐", "学生卡"], "星讯移动", "weibo-search:星讯"
    ),
    BrandSpec("天联", ["5G套餐", "宽带", "流量包", "副卡"], "天联通信", "weibo-search:运营商"),
    BrandSpec("蓝湾", ["5G套餐", "流量包", "学生卡"], "蓝湾移动", "weibo-search:运营商"),
    BrandSpec("中国移动", ["5G套餐", "宽带", "流量包"], "中国移动", "weibo-search:运营商"),
    BrandSpec("中国联通", ["5G套餐", "宽带", "副卡"], "中国联通", "weibo-search:运营商"),
    BrandSpec("中国电信", ["5G套餐", "宽带", "家庭套餐"], "中国电信", "weibo-search:运营商"),
]
CARRIER = ("common", "modern", "carrier")
OUTAGE_FEED = "weibo-search:星讯"
SIGNAL_FEED = "weibo-search:信号"  # a category search: everything that says 信号, whoever it is about
DOWN = 67.68  # Wednesday 15 May 2024, 19:40: the network goes down in Zhejiang; back at 23:40
# Everyday grumbles that would read as part of the outage (words in ``outage_like``) keep out of these hours.
OUTAGE_HOURS = (DOWN - 0.25, DOWN + 4.6)
# The incident's phases: the first minutes, the surge, after the carrier's fault notice.
FIRST_MINUTES = {"complaint": 0.55, "echo": 0.45}
SURGE = {"complaint": 0.28, "echo": 0.3, "repost": 0.14, "onlooker": 0.14, "escalation": 0.08}
AFTER_NOTICE = {
    "denial_reaction": 0.26,
    "escalation": 0.2,
    "complaint": 0.16,
    "repost": 0.16,
    "echo": 0.08,
    "onlooker": 0.06,
    "media": 0.05,
    "kol": 0.03,
}
OUTAGE_NEWS = (
    (
        DOWN + 1.1,
        "【星讯移动浙江多地网络故障 大量用户手机无信号、无法通话】今晚7时40分左右起，杭州、宁波、绍兴等地多名星讯用户反映手机显示'无服务'，无法拨打电话、使用移动数据。",
    ),
    (DOWN + 4.4, "【星讯：浙江地区网络已全面恢复 补偿方案明日公布】"),
    (DOWN + 15.4, "【星讯公布断网补偿：1GB流量加5元话费 网友吐槽“抠门”】"),
    (DOWN + 20.5, "【律师：运营商网络中断致用户损失，可依据服务协议主张赔偿】"),
    (DOWN + 38.3, "【浙江通信管理局：已要求星讯移动彻查断网原因 依规做好用户补偿】"),
)


def outage(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A carrier's network goes down across a region one weekday evening, amid its own daily grumbles."""
    bank = PhraseBank.load(*CARRIER)
    scene = Scene("outage", seed, at(2024, 5, 13), 5, bank, authors=2200)
    brand_background(scene, CARRIER_BRANDS, BACKGROUND_MODERN, "carriers'")
    timeline = scene.timeline
    net = PhraseBank.load(*CARRIER, "outage")
    scene.background(
        CARRIER_BRANDS,
        {"grumble": 7, "daily": 6, "unrelated_news": 4},
        limit=300,
        everyday_feed=SIGNAL_FEED,
        bank=bank.with_slots(
            grumble=net.slots["signal_grumble"],
            daily=net.slots["signal_daily"],
            unrelated_news=net.slots["signal_news"],
        ),
    )
    official = scene.official("星讯移动")
    texts: dict[str, str] = {}

    def route(text: str, root: str | None) -> str:
        """A keyword search finds a post that says the word, and the reposts of a post that does."""
        if root is not None and root not in texts:
            texts.update((draft.id, draft.text) for draft in timeline.drafts)
        if "星讯" in text or (root is not None and "星讯" in texts[root]):
            return OUTAGE_FEED
        return SIGNAL_FEED if "信号" in text else "weibo-timeline"

    def during_outage(when: datetime) -> bool:
        return timeline.hours(OUTAGE_HOURS[0]) <= when < timeline.hours(OUTAGE_HOURS[1])

    # The carrier's own everyday grumbles, dozens a day, and other carriers' users on poor signal.
    outage_like = net.slots["outage_like"]
    everyday_trickle(
        scene,
        net,
        40,
        "星讯",
        OUTAGE_FEED,
        "the carrier's own everyday grumbles, about forty a day: bills, upsold plans, customer-service waits, "
        "switching carriers, slow data in the subway",
        keep_out=lambda when, text: during_outage(when) and any(word in text for word in outage_like),
    )
    names = net.slots["other_names"]
    everyday_trickle(
        scene,
        net,
        12,
        None,
        SIGNAL_FEED,
        "other carriers' users (and unnamed ones) grumbling about poor signal in lifts, garages and tunnels, "
        "about a dozen a day",
        slots=("other_trickle", "other_feel"),
        keep_out=lambda when, text: during_outage(when) and not any(name in text for name in names),
    )

    # Tuesday noon: the new plan and its celebrity ad, reposted by fans thousands of times; its giveaway.
    celebrity_campaign(
        scene,
        net,
        official,
        scene.pool.special("林屿", 8_600_000, True, "kol"),
        hours=(35.5, 36.0),
        ad_heat=15.0,
        fans=(36.05, 170, 1.3, 2.0),
        happy=(40, 36, 60),
        giveaway=(36.4, (36.5, 45)),
        feed=OUTAGE_FEED,
        brand="星讯",
        route=route,
        viral="the carrier's new 5G plan and its celebrity ad on Tuesday noon: the star's repost, fans' reposts "
        "by the hundred, happy customers switching plans",
        entered="the new plan's repost-to-win giveaway and the reposts that enter it",
    )

    # Wednesday evening: the network goes down; the first posts are short, from ordinary accounts.
    firsts = [ordinary(scene, followers) for followers in (134, 87, 256, 63, 198)]
    local = scene.pool.special("杭州吃喝玩乐指南", 860_000, True, "kol")
    seeds = net.slots["seed_posts"]
    statements = net.slots["official_statements"]
    plan = IncidentPlan(
        id="network-outage",
        brand="星讯",
        product="移动网络（信号、通话、移动数据）",
        fault="浙江多地网络中断：手机无服务，打不了电话、上不了网（约四小时）",
        bank=net,
        feed=OUTAGE_FEED,
        waves=[
            Wave(DOWN + 0.03, 60, FIRST_MINUTES, 1.3, 0.2),
            Wave(DOWN + 0.2, 200, SURGE, 1.4, 0.45),
            Wave(DOWN + 1.35, 60, AFTER_NOTICE, 1.4, 0.6),
        ],
        scripted=[
            *scripted_series(DOWN, (0.012, 0.03, 0.05, 0.075, 0.1), firsts, seeds),
            Scripted(DOWN + 0.45, local, net.slots["local_post"][0], heat=4.0),
            Scripted(DOWN + 0.6, firsts[0], net.slots["seed_followup"][0], heat=2.0),
            Scripted(DOWN + 0.95, scene.media[1], net.slots["media_post"][0], heat=5.0),
            Scripted(DOWN + 1.3, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(DOWN + 4.1, official, statements[1], part_of_incident=False, heat=3.0),
            Scripted(DOWN + 14.85, official, statements[2], part_of_incident=False, heat=4.0),
            Scripted(DOWN + 16.2, scene.kols[0], net.slots["kol_next_day"][0], heat=2.0),
        ],
        topic_after=DOWN + 0.45,
        limit=300,
        route=route,
    )
    truth = scene.incident(plan)
    notice, restored, compensation = truth["brand_statement_ids"]
    incident_follow_up(
        scene,
        truth,
        net,
        statements=(
            (DOWN + 1.32, 30, 0.6, notice, "denial_reaction", "outage_repost"),
            (DOWN + 4.12, 28, 0.5, restored, "restore_reaction", "restore_repost"),
            (DOWN + 14.87, 40, 2.5, compensation, "compensation_reaction", "compensation_repost"),
        ),
        # The days after: what the evening cost people, threats, waiting for the compensation.
        aftermath=(
            (DOWN + 11.5, 30, 2.0, 2.5, {"last_night": "昨晚"}),
            (104.5, 15, 1.6, 3.0, {"last_night": "前天晚上"}),
        ),
        news=OUTAGE_NEWS,
        feed=route,
        brand="星讯",
    )

    # One 41-follower customer and the same bill, again and again, all week.
    repeat_ranter(
        scene,
        41,
        net,
        "bill_rant",
        18,
        (0, 120),
        "one 41-follower account ranting eighteen times, all week, about 38 yuan on its bill",
        feed=OUTAGE_FEED,
        brand="星讯",
    )
    blogger = scene.kols[2]
    big_account_neutral(
        scene,
        [(40.3, blogger, net.slots["big_neutral"][0])],
        "a tech blogger's neutral post about the carrier's new plan",
        feed=OUTAGE_FEED,
        brand="星讯",
    )
    mild = timeline.add(
        timeline.hours(21.2), blogger, net.slots["big_mild"][0], feed=OUTAGE_FEED, brand="星讯", heat=0.2
    )
    scene.decoy(
        "big_account_mild",
        "the same blogger's mild grumble about a forty-minute wait at the carrier's shop, picked up by nobody",
        [mild],
    )
    truth = scene.truth(
        "运营商网络故障：虚构运营商“星讯移动”平日每天就有几十条自己的吐槽（乱扣费、推销套餐、客服难打、携号转网难、地铁里"
        "网速慢）。周三晚7点40分左右浙江多地星讯网络中断：手机无服务、打不了电话、上不了网。几个粉丝寥寥的普通用户"
        "几分钟内先发“没信号了？”“是我一个人断网了吗”，随后几百条短帖涌来：附和（“+1 杭州也是”）、用WiFi发帖、"
        "玩笑、愤怒、工信部/12300/12315投诉和索赔、携号转网的威胁；约一小时后媒体报道，星讯发“故障说明”，四个小时后"
        "发恢复公告，次日公布被骂“抠门”的补偿（1GB流量+5元话费），之后两天仍有人算损失。很多帖子不提品牌，来自"
        "时间线或“信号”分类搜索。诱饵：星讯自己的日常吐槽涓流、其他运营商的信号吐槽、周二的新套餐与明星代言刷屏及"
        "抽奖、一个小号全周反复骂同一笔话费、数码博主关于星讯的中性帖和无人理会的小抱怨。"
    )
    return timeline.lines(), truth


# --- a food-delivery app: a partner kitchen makes people ill ----------------------------------------------

TAKEOUT_FEED = "weibo-search:外卖"  # a category search: everything that says 外卖, whoever it is about
DELIVERY_FEED = "weibo-search:速食达"
DELIVERY_BRANDS = [
    BrandSpec("速食达", ["会员", "超级会员", "红包", "准时宝", "跑腿", "买药"], "速食达外卖", DELIVERY_FEED),
    BrandSpec("美团外卖", ["会员", "红包", "拼好饭", "跑腿"], "美团外卖", TAKEOUT_FEED),
    BrandSpec("饿了么", ["会员", "红包", "跑腿"], "饿了么", TAKEOUT_FEED),
    BrandSpec("快马外卖", ["会员", "红包", "夜宵"], "快马外卖", TAKEOUT_FEED),
    BrandSpec("食刻到家", ["会员", "红包", "夜宵"], "食刻到家", TAKEOUT_FEED),
]
DELIVERY = ("common", "modern", "delivery")
LUNCH = (
    59.6  # Wednesday 10 July 2024, 11:36: the first post about a partner kitchen's lunch making people ill
)
# The incident's phases: the first people to fall ill, the afternoon, the evening after the local account and
# the press, the next day's anger and threats.
FIRST_ILL = {"complaint": 0.6, "echo": 0.4}
AFTERNOON = {"complaint": 0.3, "echo": 0.32, "repost": 0.14, "onlooker": 0.16, "escalation": 0.08}
EVENING = {
    "repost": 0.22,
    "echo": 0.18,
    "complaint": 0.18,
    "onlooker": 0.18,
    "escalation": 0.14,
    "media": 0.05,
    "kol": 0.05,
}
NEXT_DAY = {
    "escalation": 0.3,
    "repost": 0.22,
    "onlooker": 0.18,
    "denial_reaction": 0.1,
    "media": 0.12,
    "kol": 0.08,
}
DELIVERY_NEWS = (
    (
        LUNCH + 8.0,
        "【南京多名市民吃外卖后上吐下泻 涉事商家为连锁快餐“味禾记”】7月10日下午起，多名网友称中午通过速食达平台点了味禾记的卤肉饭、鸡腿饭后出现腹泻、呕吐、发热等症状，部分人已到医院就诊。",
    ),
    (LUNCH + 10.1, "【速食达：已下线南京地区味禾记全部门店 配合市场监管部门调查】"),
    (LUNCH + 22.3, "【南京市场监管部门通报：味禾记涉事门店及中央厨房暂停经营 留样送检】"),
    (LUNCH + 24.5, "【速食达公布补偿方案：全额退款加200元红包 网友：误工费呢】"),
    (LUNCH + 30.2, "【律师：吃外卖致病，消费者可主张赔偿损失及十倍赔偿 平台未尽审核义务须担责】"),
    (LUNCH + 52.6, "【味禾记中央厨房米饭卤汁检出蜡样芽孢杆菌超标 速食达终止合作】"),
)


def delivery(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A busy food-delivery app: one lunchtime a partner kitchen chain's meals make people ill."""
    bank = PhraseBank.load(*DELIVERY)
    scene = Scene("delivery", seed, at(2024, 7, 8), 5, bank, authors=2400)
    brand_background(scene, DELIVERY_BRANDS, scaled(BACKGROUND_MODERN, 1.1), "delivery apps'")
    rng = scene.rng
    timeline = scene.timeline
    category_background(
        scene,
        DELIVERY_BRANDS,
        TAKEOUT_FEED,
        bank,
        grumble=(8, "takeout_grumble"),
        daily=(10, "takeout_daily"),
    )
    official = scene.official("速食达外卖")
    # A keyword search finds a post that says the word, and the reposts of a post that does.
    route = keyword_route(scene, "速食达", DELIVERY_FEED, "外卖", TAKEOUT_FEED)

    # The app's own everyday grumbles, about fifty a day; the few that sound like a bad meal keep out of the
    # incident's days.
    sick_like = bank.slots["sick_like"]
    own = []
    for day in range(5):
        low, high = timeline.hours(24 * day), timeline.hours(24 * (day + 1))
        for _ in range(round(50 * rng.uniform(0.8, 1.2))):
            when = timeline.active_time(low, high)
            after = when >= timeline.hours(LUNCH - 1)

            def render(after: bool = after) -> str:
                while True:
                    text = scene.finish(
                        bank.say(rng, "trickle") + bank.say(rng, "trickle_feel"), "angry", limit=300
                    )
                    if not (after and any(word in text for word in sick_like)):
                        return text

            text = timeline.unique_text(render)
            own.append(
                timeline.add(when, scene.pool.pick(), text, feed=DELIVERY_FEED, brand="速食达", heat=0.4)
            )
    scene.decoy(
        "everyday_trickle",
        "the app's own everyday grumbles, about fifty a day: late orders, cold food, riders, coupons that do "
        "not apply, the membership renewing itself, wrong items, slow refunds",
        own,
    )
    # Upset stomachs after other things: other shops, street food, canteens, other apps, leftovers.
    others = []
    for day in range(5):
        low, high = timeline.hours(24 * day), timeline.hours(24 * (day + 1))
        for _ in range(round(5 * rng.uniform(0.8, 1.2))):
            text = timeline.unique_text(
                lambda: scene.finish(
                    bank.render(rng, "{other_trickle}{other_feel}"), "", limit=300, bank=bank
                )
            )
            when = timeline.active_time(low, high)
            others.append(
                timeline.add(when, scene.pool.pick(), text, feed=route(text, None), brand=None, heat=0.4)
            )
    scene.decoy(
        "everyday_trickle",
        "everyday grumbles about an upset stomach after other shops, street food, canteens, other apps or "
        "leftovers, about five a day (the category search fetches those that say 外卖)",
        others,
    )

    # Tuesday: the 一元午餐节 with a celebrity promo, fans' reposts by the hundred, happy customers; its giveaway.
    celebrity_campaign(
        scene,
        bank,
        official,
        scene.pool.special("苏沐", 7_900_000, True, "kol"),
        hours=(34.5, 34.8),
        ad_heat=12.0,
        fans=(34.85, 165, 1.3, 2.2),
        happy=(45, 35, 86),  # the campaign runs three lunchtimes
        giveaway=(35.2, (35.3, 45)),
        feed=DELIVERY_FEED,
        brand="速食达",
        route=route,
        viral="the app's 一元午餐节 on Tuesday: the celebrity's promo, fans' reposts by the hundred, happy "
        "customers who got a one-yuan lunch over three days",
        entered="the campaign's repost-to-win giveaway and the reposts that enter it",
    )

    # Wednesday lunchtime: a partner kitchen chain's rice and braising sauce make people ill across Nanjing.
    firsts = [ordinary(scene, followers) for followers in (186, 94, 341, 1_240, 57)]
    finder = ordinary(scene, 612)
    local = scene.pool.special("南京吃喝玩乐", 1_320_000, True, "kol")
    nurse = scene.pool.special("急诊科的小周护士", 38_600, True, "user")
    regulator = scene.pool.special("南京市场监管", 420_000, True, "media")
    seeds = bank.slots["seed_posts"]
    followups = bank.slots["seed_followup"]
    statements = bank.slots["official_statements"]
    plan = IncidentPlan(
        id="partner-kitchen-food-poisoning",
        brand="速食达",
        product="外卖餐品（合作连锁快餐“味禾记”的卤肉饭、鸡腿饭等）",
        fault="食品安全：南京多家味禾记门店午餐致大量用户腹泻、呕吐、发热（中央厨房米饭卤汁蜡样芽孢杆菌超标），另有异物",
        bank=bank,
        feed=DELIVERY_FEED,
        waves=[
            Wave(LUNCH + 0.6, 35, FIRST_ILL, 1.6, 1.0),
            Wave(LUNCH + 1.6, 140, AFTERNOON, 1.5, 1.5),
            Wave(LUNCH + 6.6, 80, EVENING, 1.4, 1.8),
            Wave(LUNCH + 21.5, 40, NEXT_DAY, 1.5, 4.0),
        ],
        scripted=[
            *scripted_series(LUNCH, (0.03, 0.33, 0.9, 1.55, 1.9), firsts, seeds, (1.0, 1.0, 1.5, 2.0, 1.0)),
            Scripted(LUNCH + 2.4, finder, bank.slots["foreign_object_post"][0], heat=3.0),
            Scripted(LUNCH + 2.9, firsts[0], followups[0], heat=2.0),
            Scripted(LUNCH + 4.2, local, bank.slots["local_post"][0], heat=5.0),
            Scripted(LUNCH + 6.9, nurse, bank.slots["nurse_post"][0], heat=6.0),
            Scripted(LUNCH + 7.4, scene.media[0], bank.slots["media_post"][0], heat=5.0),
            Scripted(LUNCH + 9.2, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(LUNCH + 11.5, firsts[2], followups[1], heat=1.5),
            Scripted(LUNCH + 21.9, regulator, bank.slots["regulator_post"][0], heat=4.0),
            Scripted(LUNCH + 23.4, official, statements[1], part_of_incident=False, heat=4.0),
            Scripted(LUNCH + 26.4, scene.kols[2], bank.slots["kol_next_day"][0], heat=2.0),
            Scripted(LUNCH + 51.9, official, statements[2], part_of_incident=False, heat=3.0),
        ],
        topic_after=LUNCH + 4.2,
        limit=300,
        route=route,
    )
    truth = scene.incident(plan)
    first_notice, compensation, progress = truth["brand_statement_ids"]

    # Others dig up what they once found in the chain's food.
    foreign_objects = fresh_voices(scene, bank, "foreign_object", "angry")
    extra_incident_posts(
        scene, truth, bursts(scene, LUNCH + 2.6, 16, 1.3, 2.0), foreign_objects, feed=route, brand="速食达"
    )
    incident_follow_up(
        scene,
        truth,
        bank,
        statements=(
            (LUNCH + 9.22, 35, 1.0, first_notice, "denial_reaction", "statement_repost"),
            (LUNCH + 23.42, 45, 2.5, compensation, "compensation_reaction", "compensation_repost"),
            (LUNCH + 51.92, 20, 2.0, progress, "progress_reaction", "progress_repost"),
        ),
        # The days after: the night in the bathroom, the bills, threats, the sealed shops.
        aftermath=(
            (LUNCH + 19.6, 35, 2.0, 2.0, {"yesterday": "昨天"}),
            (105.0, 15, 1.6, 3.0, {"yesterday": "前天"}),
        ),
        news=DELIVERY_NEWS,
        feed=route,
        brand="速食达",
    )

    # One 23-follower customer and the membership that renewed itself, again and again, all week.
    repeat_ranter(
        scene,
        23,
        bank,
        "renewal_rant",
        20,
        (0, 120),
        "one 23-follower account ranting twenty times, all week, about a 15-yuan membership renewal it never "
        "asked for",
        feed=DELIVERY_FEED,
        brand="速食达",
    )
    big_account_neutral(
        scene,
        zip((10.3, 39.0), (scene.media[4], scene.kols[0]), bank.slots["big_neutral"], strict=True),
        "a business media account's post on the app's quarterly numbers and a food blogger's neutral review of "
        "the one-yuan lunch",
        feed=DELIVERY_FEED,
        brand="速食达",
    )
    mild_big_grumble(scene, 20.2, bank.slots["big_mild"][0], "速食达", DELIVERY_FEED)
    truth = scene.truth(
        "外卖平台食品安全：虚构外卖App“速食达”平日每天就有五十条左右自己的吐槽（超时、饭凉、骑手态度、红包用不了、"
        "会员自动续费、送错、退款慢）。周三中午11点半起，南京多家合作连锁快餐“味禾记”门店的午餐让人腹泻、呕吐、发烧："
        "先是几个粉丝寥寥的普通用户（“吃完拉肚子了，有人一样吗”），随后附和（“我也是！中午点的…”）、同事群体中招、"
        "异物照片、本地生活号汇总、急诊护士、本地媒体报道；晚上平台发说明（下线门店、先行赔付订单金额）被骂敷衍，"
        "次日市场监管通报、平台致歉并公布补偿（退款+200元红包+报销医疗费）引发争论，周五公布检测结果（蜡样芽孢杆菌超标）"
        "并终止合作。很多帖子不提平台名，来自“外卖”分类搜索或时间线。诱饵：速食达自己的日常吐槽涓流、其他店铺和平台"
        "的日常闹肚子吐槽、周二明星代言的一元午餐节刷屏及抽奖、一个小号全周反复骂会员自动续费、大号的中性帖和无人理会"
        "的配送费小抱怨。"
    )
    return timeline.lines(), truth


# --- a sportswear brand's ad is called out as insulting to women -------------------------------------------

BACKLASH_FEED = "weibo-search:跃动"
SHOE_FEED = "weibo-search:运动鞋"  # a category search: everything that says 运动鞋, whoever it is about
SPORTS_BRANDS = [
    BrandSpec(
        "跃动", ["跑鞋", "篮球鞋", "卫衣", "运动裤", "瑜伽裤", "板鞋", "飞翎3"], "跃动运动", BACKLASH_FEED
    ),
    BrandSpec("安踏", ["跑鞋", "篮球鞋", "羽绒服"], "安踏", SHOE_FEED),
    BrandSpec("李宁", ["跑鞋", "篮球鞋", "卫衣"], "李宁", SHOE_FEED),
    BrandSpec("特步", ["跑鞋", "板鞋"], "特步", SHOE_FEED),
    BrandSpec("耐克", ["跑鞋", "篮球鞋", "运动裤"], "耐克", SHOE_FEED),
    BrandSpec("阿迪达斯", ["跑鞋", "板鞋", "运动服"], "阿迪达斯", SHOE_FEED),
]
SPORTSWEAR = ("common", "modern", "backlash")
AD_OUT = 66.0  # Wednesday 16 October 2024, 18:00: the brand posts its new women's-line ad
CALLED_OUT = 68.25  # 20:15: the first post that objects to it
# The incident's phases: the first objections, the uproar after a blogger's critique, Thursday morning before
# the apology, after the apology.
FIRST_OBJECTIONS = {"complaint": 0.55, "echo": 0.45}
UPROAR = {
    "complaint": 0.2,
    "echo": 0.2,
    "repost": 0.22,
    "escalation": 0.2,
    "onlooker": 0.14,
    "media": 0.02,
    "kol": 0.02,
}
THURSDAY_MORNING = {
    "escalation": 0.3,
    "repost": 0.2,
    "complaint": 0.15,
    "onlooker": 0.15,
    "media": 0.1,
    "kol": 0.1,
}
AFTER_APOLOGY = {
    "denial_reaction": 0.35,
    "escalation": 0.2,
    "repost": 0.2,
    "onlooker": 0.1,
    "media": 0.08,
    "kol": 0.07,
}
BACKLASH_NEWS = (
    (82.4, "【跃动新广告被指物化女性 品牌致歉并下架宣传片】"),
    (86.1, "【跃动广告风波：道歉信被网友指“像AI写的” 多名消费者称已退货】"),
    (91.2, "【跃动再次致歉：审片负责人停职 线下广告48小时内撤换】"),
    (99.6, "【律师：广告贬低女性或违反广告法“良好风尚”条款 消费者可向市场监管部门举报】"),
    (106.3, "【从跃动“轻燃”风波看品牌广告审核：为什么一再翻车】"),
)


def backlash(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A sportswear brand's new ad is called out one evening as objectifying women: boycotts, two apologies."""
    bank = PhraseBank.load(*SPORTSWEAR)
    scene = Scene("backlash", seed, at(2024, 10, 14), 5, bank, authors=2000)
    brand_background(scene, SPORTS_BRANDS, BACKGROUND_MODERN, "sportswear brands'")
    timeline = scene.timeline
    category_background(scene, SPORTS_BRANDS, SHOE_FEED, bank, daily=(9, "shoe_daily"))
    official = scene.official("跃动运动")
    # A keyword search finds a post that says the word, and the reposts of a post that does.
    route = keyword_route(scene, "跃动", BACKLASH_FEED, "运动鞋", SHOE_FEED)

    everyday_trickle(
        scene,
        bank,
        10,
        "跃动",
        BACKLASH_FEED,
        "the brand's own everyday grumbles, about ten a day: sizing, slow delivery, soles wearing out, "
        "customer service",
    )
    everyday_trickle(
        scene,
        bank,
        6,
        None,
        SHOE_FEED,
        "everyday grumbles about other (fictional or unnamed) brands' running shoes in the 运动鞋 search: "
        "soles, glue, sizes, blisters, about six a day",
        slots=("other_trickle", "other_feel"),
    )

    # Monday noon: a new running shoe endorsed by a marathon runner, fans' reposts by the hundred; its giveaway.
    celebrity_campaign(
        scene,
        bank,
        official,
        scene.pool.special("何屿川", 3_400_000, True, "kol"),
        hours=(12.0, 12.4),
        ad_heat=12.0,
        fans=(12.45, 150, 1.3, 2.0),
        happy=(36, 13, 60),
        giveaway=(12.9, (12.95, 40)),
        feed=BACKLASH_FEED,
        brand="跃动",
        route=route,
        viral="the brand's new running shoe (飞翎3) endorsed by a marathon runner on Monday noon: his repost, "
        "fans' reposts by the hundred, happy buyers",
        entered="the launch's repost-to-win giveaway and the reposts that enter it",
    )

    # Wednesday 18:00: the ad (the brand's own post, listed nowhere); from 20:15 people object to it.
    ad_text = bank.slots["ad_post"][0]
    ad = timeline.add(timeline.hours(AD_OUT), official, ad_text, feed=BACKLASH_FEED, brand="跃动", heat=2.0)
    firsts = [ordinary(scene, followers) for followers in (212, 87, 534, 1_460)]
    blogger_name = bank.slots["blogger"][0]
    blogger = scene.pool.special(blogger_name, 51_800, True, "user")
    blogger_text = bank.slots["blogger_post"][0]
    statements = bank.slots["official_statements"]
    plan = IncidentPlan(
        id="ad-backlash",
        brand="跃动",
        product="“轻燃”女子跑鞋系列的宣传片（广告视频）",
        fault="广告被指物化女性、制造身材焦虑（辱女）：抵制、退货、两次道歉（不是产品质量问题）",
        bank=bank,
        feed=BACKLASH_FEED,
        waves=[
            Wave(CALLED_OUT + 0.15, 30, FIRST_OBJECTIONS, 1.5, 0.6),
            Wave(CALLED_OUT + 1.7, 120, UPROAR, 1.4, 1.3),
            Wave(79.0, 35, THURSDAY_MORNING, 1.5, 1.3),
            Wave(81.75, 50, AFTER_APOLOGY, 1.4, 2.5),
        ],
        scripted=[
            *scripted_series(
                CALLED_OUT, (0.0, 0.22, 0.5, 0.85), firsts, bank.slots["seed_posts"], (1.0, 1.0, 1.5, 2.0)
            ),
            Scripted(CALLED_OUT + 1.6, blogger, blogger_text, heat=6.0),
            Scripted(80.6, scene.media[0], bank.slots["media_post"][0], heat=5.0),
            Scripted(81.67, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(83.2, blogger, bank.slots["blogger_followup"][0], heat=3.0),
            Scripted(90.5, official, statements[1], part_of_incident=False, heat=3.0),
            Scripted(92.0, scene.kols[0], bank.slots["kol_post"][0], heat=2.0),
        ],
        topic_after=CALLED_OUT + 1.6,
        limit=300,
        route=route,
    )
    truth = scene.incident(plan)
    first_apology, second_apology = truth["brand_statement_ids"]
    critique = next(draft.id for draft in timeline.drafts if draft.text == blogger_text)

    # Reposts of the ad with a few words against it; a few people saying it is only an ad; the day after next.
    for times, write in (
        (
            bursts(scene, CALLED_OUT + 0.1, 22, 1.3, 1.5),
            fresh_voices(scene, bank, "ad_comment", "angry", repost_of=ad),
        ),
        (bursts(scene, CALLED_OUT + 2.5, 16, 1.5, 8.0), fresh_voices(scene, bank, "defender", "neutral")),
        (bursts(scene, 104.0, 22, 1.6, 3.0), looking_back(scene, bank, {"yesterday": "前天"})),
    ):
        extra_incident_posts(scene, truth, times, write, feed=route, brand="跃动")
    incident_follow_up(
        scene,
        truth,
        bank,
        statements=(
            (CALLED_OUT + 1.65, 50, 1.5, critique, "blogger_reaction", "blogger_repost"),
            (81.69, 40, 2.0, first_apology, "apology_reaction", "apology_repost"),
            (90.52, 28, 2.5, second_apology, "second_reaction", "second_repost"),
        ),
        news=BACKLASH_NEWS,
        feed=route,
        brand="跃动",
    )

    # One 37-follower customer and a refund that will not come, again and again, all week.
    repeat_ranter(
        scene,
        37,
        bank,
        "refund_rant",
        15,
        (0, 120),
        "one 37-follower account ranting fifteen times, all week, about a 399-yuan refund that has not come",
        feed=BACKLASH_FEED,
        brand="跃动",
    )
    # A similar-named (fictional) outdoor brand's new ad that a few people find cringe; nobody picks it up.
    other_brand_mild(
        scene,
        (37.3, 59.2, 85.6, 111.5),
        bank.slots["other_ad"],
        route,
        "four posts, days apart, finding a similar-named outdoor brand's (跃途, fictional) new jacket ad cringe; "
        "nobody picks them up",
    )
    big_account_neutral(
        scene,
        [(34.3, scene.media[4], bank.slots["big_neutral"][0])],
        "a business media account's post on the brand's quarterly sales",
        feed=BACKLASH_FEED,
        brand="跃动",
    )
    mild_big_grumble(scene, 21.4, bank.slots["big_mild"][0], "跃动", BACKLASH_FEED)
    truth = scene.truth(
        "广告翻车（辱女）：虚构运动品牌“跃动”平日每天有十来条自己的吐槽（鞋码偏小、发货慢、鞋底磨平、客服敷衍）。"
        "周一中午马拉松运动员代言的新跑鞋首发，粉丝刷屏并抽奖。周三晚6点跃动发布“轻燃”女子系列宣传片，8点15分起"
        "几个普通用户先发“这广告什么意思？看完很不舒服”，随后附和、转发广告质问；9点50分一位五万粉的跑步博主发逐段"
        "分析（男款讲突破、女款讲变瘦被看），截图和转发刷屏，很多人说“再也不买了”“已退货”；次日早上媒体报道，9点40分"
        "官方致歉被骂“像AI写的”，傍晚第二次道歉（承认物化女性、负责人停职、撤广告）后反应分化；也有少数人辩护"
        "（“一个广告而已”）；周五仍有余波。这不是产品质量问题。约三分之一的帖子不提品牌，来自时间线或“运动鞋”"
        "分类搜索。诱饵：跃动自己的日常吐槽涓流、其他运动鞋的日常吐槽、代言新品刷屏及抽奖、一个小号全周反复催退款、"
        "名字相近的户外品牌“跃途”的广告被几个人吐槽尬（无人理会）、财经媒体关于跃动销量的中性帖、大号无人理会的鞋码小抱怨。"
    )
    return timeline.lines(), truth


# --- a ride-hailing app's prices: the same trip costs its old users more (大数据杀熟) ---------------------------

PRICING_FEED = "weibo-search:行途"
SHASHU_FEED = (
    "weibo-search:大数据杀熟"  # a category search: everything that says 大数据杀熟, whoever it is about
)
TAXI_FEED = "weibo-search:打车"  # a category search: everything that says 打车, whoever it is about
TRAVEL_BRANDS = [
    BrandSpec("行途", ["快车", "专车", "顺风车", "特惠快车", "拼车"], "行途出行", PRICING_FEED),
    BrandSpec("滴滴出行", ["快车", "专车", "顺风车", "代驾"], "滴滴出行", TAXI_FEED),
    BrandSpec("高德打车", ["特惠快车", "聚合打车"], "高德地图", TAXI_FEED),
    BrandSpec("曹操出行", ["专车", "快车"], "曹操出行", TAXI_FEED),
    BrandSpec("T3出行", ["快车", "专车"], "T3出行", TAXI_FEED),
    BrandSpec("快马打车", ["快车", "拼车"], "快马打车", TAXI_FEED),
]
PRICING = ("common", "modern", "pricing")
COMPARED = 45.2  # Tuesday 17 December 2024, 21:12: a user finds her trip costs 27 yuan more than her friend's
TESTED = 60.67  # Wednesday 12:40: a blogger's five-phone test and its table
DENIED = 67.5  # Wednesday 19:30: the app says there is no 大数据杀熟 (coupons, supply and demand)
ADMITTED = 88.0  # Thursday 16:00: a coupon-distribution "bug", refunds of the difference
# The incident's phases: the first comparisons that night, the next morning, after the blogger's table, after
# the denial, Thursday morning.
FIRST_COMPARISONS = {"complaint": 0.5, "echo": 0.35, "repost": 0.15}
NEXT_MORNING = {"complaint": 0.35, "echo": 0.3, "repost": 0.15, "onlooker": 0.15, "escalation": 0.05}
AFTER_TEST = {
    "complaint": 0.22,
    "echo": 0.22,
    "repost": 0.2,
    "onlooker": 0.14,
    "escalation": 0.16,
    "media": 0.03,
    "kol": 0.03,
}
AFTER_DENIAL = {
    "denial_reaction": 0.3,
    "escalation": 0.22,
    "repost": 0.16,
    "complaint": 0.12,
    "echo": 0.08,
    "onlooker": 0.06,
    "media": 0.03,
    "kol": 0.03,
}
THURSDAY = {"escalation": 0.3, "repost": 0.2, "complaint": 0.15, "onlooker": 0.15, "media": 0.1, "kol": 0.1}
PRICING_NEWS = (
    (
        TESTED + 3.2,
        "【网友实测：同一行程不同手机打车价最多差22元 行途回应：与优惠券、实时供需有关】有网友发帖称，与朋友同时用行途叫车，自己的老会员账号比朋友的新账号贵了27元；一位博主用五台手机实测，老账号预估价普遍更高。",
    ),
    (DENIED + 0.8, "【行途否认“大数据杀熟”：价格差异来自优惠券和实时供需】"),
    (80.4, "【“老用户更贵”引质疑 市场监管部门：已关注行途价格投诉 将约谈平台】"),
    (ADMITTED + 0.6, "【行途再回应：优惠券发放系统存在技术故障 将退还差价】"),
    (93.2, "【律师：平台利用算法对老用户差别定价 涉嫌违反个人信息保护法】"),
    (109.5, "【从行途“杀熟”风波看算法定价：技术故障还是商业选择？】"),
)


def pricing(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A ride-hailing app charges its old members more than new users for the same trip (大数据杀熟)."""
    bank = PhraseBank.load(*PRICING)
    scene = Scene("pricing", seed, at(2024, 12, 16), 5, bank, authors=2300)
    brand_background(scene, TRAVEL_BRANDS, scaled(BACKGROUND_MODERN, 1.1), "ride-hailing apps'")
    timeline = scene.timeline
    category_background(
        scene, TRAVEL_BRANDS, TAXI_FEED, bank, grumble=(6, "taxi_grumble"), daily=(8, "taxi_daily")
    )
    official = scene.official("行途出行")
    # A keyword search finds a post that says the word, and the reposts of a post that does.
    route = keywords_route(scene, (("行途", PRICING_FEED), ("大数据杀熟", SHASHU_FEED), ("打车", TAXI_FEED)))

    everyday_trickle(
        scene,
        bank,
        40,
        "行途",
        PRICING_FEED,
        "the app's own everyday grumbles, about forty a day: late or cancelling drivers, detours, slow refunds, "
        "customer-service bots, pop-up ads, surge pricing at rush hour and in the snow, cancellation fees",
    )
    everyday_trickle(
        scene,
        bank,
        5,
        None,
        SHASHU_FEED,
        "everyday talk in the 大数据杀熟 search about other things (plane tickets, video memberships, shops, "
        "supermarket apps), tips and explainers, about five a day",
        slots=("shashu_trickle", "shashu_feel"),
    )
    # The brand's search also finds 行途 inside 旅行途中 (on a trip).
    trips = _homonyms(scene, bank, PRICING_FEED, "行途")
    scene.decoy(
        "homonym", "posts about being on a trip (旅行途中) that the brand's search (行途) fetches", trips
    )

    # Monday noon: the year-end travel festival with a celebrity, fans' reposts by the hundred; its giveaway.
    celebrity_campaign(
        scene,
        bank,
        official,
        scene.pool.special("沈星禾", 6_200_000, True, "kol"),
        hours=(12.0, 12.3),
        ad_heat=12.0,
        fans=(12.35, 160, 1.3, 2.2),
        happy=(45, 13, 110),  # the festival's coupons run all week
        giveaway=(12.8, (12.85, 45)),
        feed=PRICING_FEED,
        brand="行途",
        route=route,
        viral="the app's 年终出行节 on Monday noon: the celebrity's repost, fans' reposts by the hundred, happy "
        "customers using the festival's coupons through the week",
        entered="the festival's repost-to-win giveaway and the reposts that enter it",
    )

    # Tuesday 21:12: the same trip costs an old member on an iPhone 27 yuan more than a friend's new Android.
    first = ordinary(scene, 438)
    others = [ordinary(scene, followers) for followers in (156, 73, 1_120)]
    blogger_name = bank.slots["blogger"][0]
    blogger = scene.pool.special(blogger_name, 68_400, True, "user")
    test_text = bank.slots["blogger_post"][0]
    seeds = bank.slots["seed_posts"]
    followups = bank.slots["seed_followups"]
    statements = bank.slots["official_statements"]
    plan = IncidentPlan(
        id="old-user-pricing",
        brand="行途",
        product="打车（及酒店）预估价：老用户、会员、iPhone 账号比新用户、安卓账号贵",
        fault="大数据杀熟：同一行程、同一时间，不同账号 / 手机价格不同，老会员更贵（不是产品故障，是定价公平问题）",
        bank=bank,
        feed=PRICING_FEED,
        waves=[
            Wave(COMPARED + 0.2, 35, FIRST_COMPARISONS, 1.5, 0.9),
            Wave(55.0, 40, NEXT_MORNING, 1.5, 2.0),
            Wave(TESTED + 0.1, 130, AFTER_TEST, 1.4, 1.6),
            Wave(DENIED + 0.1, 50, AFTER_DENIAL, 1.4, 2.0),
            Wave(79.0, 35, THURSDAY, 1.5, 1.5),
        ],
        scripted=[
            *scripted_series(COMPARED, (0.0, 0.35, 0.7, 1.4), [first, *others], seeds, (3.0, 1.0, 1.0, 1.5)),
            Scripted(COMPARED + 2.1, first, followups[0], heat=2.0),
            Scripted(TESTED, blogger, test_text, heat=6.0),
            Scripted(64.3, scene.media[0], bank.slots["media_post"][0], heat=5.0),
            Scripted(DENIED, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(69.7, blogger, bank.slots["blogger_followup"][0], heat=4.0),
            Scripted(81.6, scene.kols[2], bank.slots["lawyer_post"][0], heat=3.0),
            Scripted(ADMITTED, official, statements[1], part_of_incident=False, heat=3.0),
            Scripted(90.5, scene.kols[0], bank.slots["kol_after"][0], heat=2.0),
            Scripted(110.2, first, followups[1], heat=1.5),
        ],
        topic_after=TESTED,
        limit=300,
        route=route,
    )
    truth = scene.incident(plan)
    denial, admission = truth["brand_statement_ids"]
    test = next(draft.id for draft in timeline.drafts if draft.text == test_text)

    # Hong Kong and Taiwan onlookers, in Traditional Chinese.
    from_abroad = fresh_voices(scene, bank, "trad_onlooker", "neutral", traditional=True)
    extra_incident_posts(
        scene, truth, bursts(scene, 62.0, 12, 1.5, 8.0), from_abroad, feed=route, brand="行途"
    )
    incident_follow_up(
        scene,
        truth,
        bank,
        statements=(
            (TESTED + 0.05, 35, 1.5, test, "blogger_reaction", "blogger_repost"),
            (DENIED + 0.02, 35, 1.2, denial, "denial_reaction", "denial_repost"),
            (ADMITTED + 0.02, 40, 2.0, admission, "bugfix_reaction", "bugfix_repost"),
        ),
        # The days after: comparing prices before every ride, refunds of a few yuan, memberships cancelled.
        aftermath=(
            (ADMITTED + 3.0, 25, 1.8, 2.0, {"first_day": "前天", "statement_day": "今天"}),
            (104.0, 30, 1.6, 3.0, {"first_day": "周二", "statement_day": "昨天"}),
        ),
        news=PRICING_NEWS,
        feed=route,
        brand="行途",
    )

    # One 42-follower customer and a hotel refund that will not come, again and again, all week.
    repeat_ranter(
        scene,
        42,
        bank,
        "refund_rant",
        17,
        (0, 120),
        "one 42-follower account ranting seventeen times, all week, about a 286-yuan hotel refund",
        feed=PRICING_FEED,
        brand="行途",
    )
    # Another (fictional) travel app's small pricing grumbles, days apart; nobody picks them up.
    other_brand_mild(
        scene,
        (14.6, 39.3, 110.8),
        bank.slots["other_app"],
        route,
        "three posts, days apart, about another travel app's (云程旅行, fictional) hotel and ticket prices going "
        "up; nobody picks them up",
    )
    big_account_neutral(
        scene,
        zip((33.7, 18.4), (scene.media[4], scene.kols[0]), bank.slots["big_neutral"], strict=True),
        "a business media account's post on the app's quarterly results and an industry commentator's neutral "
        "look at the festival's coupons",
        feed=PRICING_FEED,
        brand="行途",
    )
    mild_big_grumble(scene, 20.3, bank.slots["big_mild"][0], "行途", PRICING_FEED)
    truth = scene.truth(
        "大数据杀熟（定价公平，不是产品故障）：虚构出行App“行途”（打车、酒店）平日每天就有四十条左右自己的吐槽（司机迟到、"
        "绕路、退款慢、客服机器人、开屏广告、高峰和雨雪天加价、取消费）。周一中午明星代言的“年终出行节”发券刷屏并抽奖。"
        "周二晚9点12分，一位四百多粉丝的普通用户发帖：和闺蜜同时叫车，同一个行程，自己用了五年的老会员账号、iPhone"
        "比闺蜜新注册的安卓号贵了27块（截图）；当晚几个普通用户晒出自己的比价（“我也试了，老用户贵了十几块”“三台手机"
        "三个价”），次日中午一位六万多粉的测评博主用五台手机实测并发表格（最多差22.4元），随后转发、比价、退会员、"
        "卸载、12315和市场监管投诉、价格法/消费者权益保护法/个人信息保护法的讨论，媒体报道；周三晚行途否认"
        "（“不存在大数据杀熟，差异来自优惠券和实时供需”）被嘲，博主不用券再测仍是老账号最贵；周四市场监管部门表示将约谈，"
        "下午行途改口称“优惠券发放系统技术故障”，道歉并退还差价、加发20元券、第三方审计，反应不一；周五仍有余波，港台"
        "网友也有零星繁体评论。很多帖子不提品牌，来自“大数据杀熟”“打车”分类搜索或时间线。诱饵：行途自己的日常吐槽涓流、"
        "“大数据杀熟”搜索里关于机票、视频会员等的日常吐槽、品牌搜索抓到的“旅行途中”、年终出行节明星代言刷屏及抽奖、"
        "一个小号全周反复催酒店退款、另一家旅行App（云程旅行）无人理会的涨价小抱怨、财经媒体和行业博主的中性帖、大号无人"
        "理会的开屏广告小抱怨。"
    )
    return timeline.lines(), truth


# --- a period-tracking app shares its users' pregnancy data with ad SDKs ----------------------------------------

YUEXI_FEED = "weibo-search:月汐"
PRIVACY_SEARCH = "weibo-search:隐私"  # a category search: everything that says 隐私, whoever it is about
PERIOD_SEARCH = "weibo-search:经期"  # a category search: everything that says 经期, whoever it is about
PERIOD_APPS = [
    BrandSpec(
        "月汐",
        ["经期预测", "备孕模式", "孕期模式", "会员", "桌面小组件", "体温曲线", "社区"],
        "月汐App",
        YUEXI_FEED,
    ),
    BrandSpec("美柚", ["经期记录", "孕期模式", "会员", "社区"], "美柚", PERIOD_SEARCH),
    BrandSpec("小粉日历", ["经期记录", "小组件", "会员"], "小粉日历App", PERIOD_SEARCH),
    BrandSpec("暖芽孕育", ["孕期模式", "孕期课程", "产检提醒"], "暖芽孕育", PERIOD_SEARCH),
    BrandSpec("棉棉经期", ["经期记录", "痛经记录"], "棉棉经期", PERIOD_SEARCH),
]
PERIOD_TRACKER = ("common", "modern", "privacy")
LOGGED = 44.8  # Tuesday 15 April 2025, 20:48: a user logged a pregnancy test yesterday and got a call today
CAPTURED = 62.2  # Wednesday 14:12: a tech blogger's capture of the app's traffic to ad SDKs
ANONYMISED = 68.5  # Wednesday 20:30: the app says the data is anonymised and lawful
SUSPENDED = 89.0  # Thursday 17:00: the app apologises, suspends the SDKs, commissions an audit
# The first night's calls and echoes; after the capture, many who do not use the app ask, warn and leave.
FIRST_CALLS = {"complaint": 0.5, "echo": 0.4, "repost": 0.1}
AFTER_CAPTURE = {
    "repost": 0.22,
    "onlooker": 0.2,
    "escalation": 0.2,
    "echo": 0.16,
    "complaint": 0.14,
    "kol": 0.08,
}
PRIVACY_NEWS = (
    (
        CAPTURED + 4.1,
        "【网友称在经期App记录验孕后接到月子中心电话 博主抓包称孕期数据流向广告SDK】多名网友发帖称，在“月汐”App记录验孕、备孕等信息后接到月子中心、母婴机构的推销电话；一位科技博主抓包称，App会向第三方广告SDK发送设备标识和孕期状态。",
    ),
    (ANONYMISED + 0.7, "【月汐回应“孕期数据外泄”：数据经匿名化处理 符合法律法规】"),
    (81.3, "【网信部门：已关注“经期App共享孕期数据”问题 将依法核查】"),
    (SUSPENDED + 0.5, "【月汐致歉：暂停第三方广告SDK 委托独立机构审计】"),
    (92.4, "【律师：经期、孕期信息属敏感个人信息 向第三方提供须取得单独同意】"),
    (107.5, "【从月汐事件看健康类App：你的经期数据去了哪里】"),
)


def privacy(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A period-tracking app is found sharing its users' pregnancy data with ad SDKs; no product fault."""
    bank = PhraseBank.load(*PERIOD_TRACKER)
    scene = Scene("privacy", seed, at(2025, 4, 14), 5, bank, authors=2300)
    brand_background(scene, PERIOD_APPS, BACKGROUND_MODERN, "women's health apps'")
    timeline = scene.timeline
    category_background(
        scene, PERIOD_APPS, PERIOD_SEARCH, bank, grumble=(6, "period_grumble"), daily=(9, "period_daily")
    )
    category_background(
        scene, PERIOD_APPS, PRIVACY_SEARCH, bank, grumble=(4, "privacy_grumble"), daily=(3, "privacy_daily")
    )
    official = scene.official("月汐App")
    # A keyword search finds a post that says the word, and the reposts of a post that does.
    route = keywords_route(scene, (("月汐", YUEXI_FEED), ("隐私", PRIVACY_SEARCH), ("经期", PERIOD_SEARCH)))

    everyday_trickle(
        scene,
        bank,
        15,
        "月汐",
        YUEXI_FEED,
        "the app's own everyday grumbles, about fifteen a day: ads, membership pop-ups, sync, reminders, "
        "predictions, the shop's prices",
    )
    everyday_trickle(
        scene,
        bank,
        9,
        None,
        PRIVACY_SEARCH,
        "everyday privacy chatter in the 隐私 search about nobody in particular: spam calls after buying a flat "
        "or a car, delivery labels, apps asking for contacts, tips; about nine a day",
        slots=("privacy_trickle", "privacy_feel"),
    )

    # Monday evening: version 7.0 with a celebrity, fans' reposts by the hundred; its giveaway.
    celebrity_campaign(
        scene,
        bank,
        official,
        scene.pool.special("乔语棠", 6_900_000, True, "kol"),
        hours=(19.0, 19.4),
        ad_heat=12.0,
        fans=(19.45, 150, 1.3, 2.0),
        happy=(40, 19.5, 64),  # happy users until the Wednesday afternoon
        giveaway=(19.8, (19.85, 40)),
        feed=YUEXI_FEED,
        brand="月汐",
        route=route,
        viral="the app's version 7.0 with a celebrity on Monday evening: her repost, fans' reposts by the "
        "hundred, happy users of the new version and the one-yuan membership",
        entered="the launch's repost-to-win giveaway and the reposts that enter it",
    )

    # Tuesday 20:48: she logged a positive test yesterday, and a postpartum-care centre called today.
    first = ordinary(scene, 416)
    others = [ordinary(scene, followers) for followers in (132, 58, 903)]
    blogger = scene.pool.special(bank.slots["blogger"][0], 46_200, True, "user")
    capture_text = bank.slots["blogger_post"][0]
    followups = bank.slots["seed_followups"]
    statements = bank.slots["official_statements"]
    plan = IncidentPlan(
        id="pregnancy-data-sharing",
        brand="月汐",
        product="月汐 App 的经期、备孕、孕期记录",
        fault="用户记录的验孕、孕周、末次月经等连同设备标识和手机号哈希被传给第三方广告SDK，用户接到月子中心、母婴机构的"
        "推销电话（隐私与数据共享问题，不是产品故障）",
        bank=bank,
        feed=YUEXI_FEED,
        waves=[
            Wave(LOGGED + 0.2, 30, FIRST_CALLS, 1.5, 1.2),
            Wave(56.0, 35, SPREAD, 1.5, 2.5),
            Wave(CAPTURED + 0.1, 115, AFTER_CAPTURE, 1.4, 1.8),
            Wave(ANONYMISED + 0.1, 50, DENIAL, 1.4, 2.0),
            Wave(80.0, 35, AFTERMATH, 1.5, 2.0),
        ],
        scripted=[
            *scripted_series(
                LOGGED,
                (0.0, 0.45, 0.95, 2.3),
                [first, *others],
                bank.slots["seed_posts"],
                (3.0, 1.0, 1.0, 1.5),
            ),
            Scripted(LOGGED + 1.6, first, followups[0], heat=2.5),
            Scripted(CAPTURED, blogger, capture_text, heat=6.0),
            Scripted(65.6, scene.media[0], bank.slots["media_post"][0], heat=5.0),
            Scripted(ANONYMISED, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(70.9, blogger, bank.slots["blogger_followup"][0], heat=4.0),
            Scripted(82.0, scene.kols[2], bank.slots["lawyer_post"][0], heat=3.0),
            Scripted(SUSPENDED, official, statements[1], part_of_incident=False, heat=3.0),
            Scripted(91.2, scene.kols[0], bank.slots["kol_after"][0], heat=2.0),
            Scripted(105.5, first, followups[1], heat=1.5),
        ],
        topic_after=CAPTURED,
        limit=300,
        route=route,
    )
    truth = scene.incident(plan)
    denial, apology = truth["brand_statement_ids"]
    capture = next(draft.id for draft in timeline.drafts if draft.text == capture_text)

    # Doubters (a hospital leak?), people asking how to export their data and delete their accounts, and Hong
    # Kong and Taiwan onlookers in Traditional Chinese.
    for times, write in (
        (bursts(scene, LOGGED + 2.0, 10, 1.5, 8.0), fresh_voices(scene, bank, "doubter", "neutral")),
        (bursts(scene, CAPTURED + 0.8, 20, 1.5, 6.0), fresh_voices(scene, bank, "how_to", "neutral")),
        (
            bursts(scene, CAPTURED + 2.0, 10, 1.5, 8.0),
            fresh_voices(scene, bank, "trad_onlooker", "neutral", traditional=True),
        ),
    ):
        extra_incident_posts(scene, truth, times, write, feed=route, brand="月汐")
    incident_follow_up(
        scene,
        truth,
        bank,
        statements=(
            (CAPTURED + 0.05, 30, 1.5, capture, "capture_reaction", "capture_repost"),
            (ANONYMISED + 0.02, 35, 1.2, denial, "denial_reaction", "denial_repost"),
            (SUSPENDED + 0.02, 35, 2.0, apology, "second_reaction", "second_repost"),
        ),
        # The days after: the calls that keep coming, accounts deleted, other apps, paper calendars.
        aftermath=(
            (SUSPENDED + 3.0, 20, 1.8, 2.0, {"first_night": "前天", "statement_day": "今天"}),
            (104.0, 25, 1.6, 3.0, {"first_night": "周二", "statement_day": "昨天"}),
        ),
        news=PRIVACY_NEWS,
        feed=route,
        brand="月汐",
    )

    # One 27-follower user whose records a sync lost, again and again, all week.
    repeat_ranter(
        scene,
        27,
        bank,
        "sync_rant",
        18,
        (0, 120),
        "one 27-follower account ranting eighteen times, all week, that a sync lost its three years of records",
        feed=YUEXI_FEED,
        brand="月汐",
    )
    # Another (fictional) app's small privacy grumbles, days apart; nobody picks them up.
    other_brand_mild(
        scene,
        (16.4, 58.1, 100.7),
        bank.slots["other_app"],
        route,
        "three posts, days apart, about another app's (轻盈记, a fictional calorie counter) permissions and "
        "privacy policy; nobody picks them up",
    )
    big_account_neutral(
        scene,
        zip((10.5, 22.3), (scene.media[4], scene.kols[0]), bank.slots["big_neutral"], strict=True),
        "a business media account's post on the app's funding round and an industry commentator's neutral look "
        "at women's health apps",
        feed=YUEXI_FEED,
        brand="月汐",
    )
    mild_big_grumble(scene, 33.2, bank.slots["big_mild"][0], "月汐", YUEXI_FEED)
    truth = scene.truth(
        "隐私与数据共享（不是产品故障）：虚构经期与女性健康App“月汐”平日每天有十几条自己的吐槽（开屏广告、会员弹窗、同步失败、"
        "提醒不响、预测不准），也有夸奖、提问和小技巧。周一晚明星代言的7.0版本上线，粉丝刷屏并抽奖。周二晚8点48分，一位"
        "四百多粉丝的普通用户发帖：“我昨天在App里记了验孕，今天就接到月子中心的电话？？”，当晚几个普通用户说出类似经历"
        "（母婴店加微信、备孕推试孕纸、流产后还在推奶粉），附和、转发、怀疑是医院泄露的声音都有；次日中午一位四万多粉的科技"
        "博主抓包，显示记录“验孕阳性”后App向禾点广告SDK和观澜数据发送设备标识、孕周、末次月经和手机号MD5，随后转发、举报"
        "（12377、网信办、个人信息保护法敏感个人信息与单独同意）、律师、注销账号、导出数据、媒体报道；周三晚月汐称“数据经过"
        "匿名化处理，符合法律法规”被嘲，博主再抓包反驳；周四网信部门表示将核查，下午月汐致歉（暂停第三方广告SDK、要求合作方"
        "删除数据、独立审计、一键注销），反应不一；周五仍有余波，港台网友也有零星繁体评论。很多帖子不提品牌，来自“隐私”“经期”"
        "分类搜索或时间线。诱饵：月汐自己的日常吐槽涓流、“隐私”搜索里关于骚扰电话和快递面单的日常吐槽、7.0版本明星代言刷屏"
        "及抽奖、一个小号全周反复骂同步丢了记录、另一款App（轻盈记）无人理会的权限小抱怨、财经媒体和行业博主的中性帖、大号"
        "无人理会的会员弹窗小抱怨。"
    )
    return timeline.lines(), truth


# --- a streaming platform's VIP members now see ads, and casting to the TV costs extra ----------------------------

STREAM_FEED = "weibo-search:云帆"
MEMBER_FEED = "weibo-search:会员"  # a category search: everything that says 会员, whoever it is about
CAST_FEED = "weibo-search:投屏"  # a category search: everything that says 投屏, whoever it is about
STREAMING_BRANDS = [
    BrandSpec(
        "云帆",
        ["青梧记", "电视端", "弹幕", "片库", "儿童模式", "倍速播放", "自制综艺", "纪录片频道"],
        "云帆视频",
        STREAM_FEED,
    ),
    BrandSpec("爱奇艺", ["自制剧", "综艺", "弹幕", "片库"], "爱奇艺", MEMBER_FEED),
    BrandSpec("腾讯视频", ["动漫", "自制剧", "体育频道", "弹幕"], "腾讯视频", MEMBER_FEED),
    BrandSpec("优酷", ["综艺", "纪录片", "少儿频道"], "优酷", MEMBER_FEED),
    BrandSpec("芒果TV", ["综艺", "自制剧", "直播"], "芒果TV", MEMBER_FEED),
    BrandSpec("哔哩哔哩", ["番剧", "纪录片", "弹幕"], "哔哩哔哩", MEMBER_FEED),
]
STREAMING = ("common", "modern", "streaming")
PREMIERE = 19.5  # Monday 14 July 2025, 19:30: the platform announces its summer drama 《青梧记》, on at 20:00
FIRST_AD = 44.235  # Tuesday 20:14: a VIP member gets 45 seconds of ads before episode 7
BLOGGER_TEST = 61.5  # Wednesday 13:30: a blogger tests his annual VIP on twelve dramas and the TV
REPLY = 69.75  # Wednesday 21:45: the platform's "说明": 会员专属推荐 under 30 seconds, 投屏 now an SVIP right
WALKED_BACK = 90.5  # Thursday 18:30: ads off for VIP, casting back at 1080P, the upgrade refunded, an apology
# The storm's phases: the first evening, Wednesday morning, after the blogger's test, after the reply, Thursday
# (the consumer association, the lawyer).
FIRST_EVENING = {"complaint": 0.45, "echo": 0.4, "repost": 0.15}
WEDNESDAY_MORNING = {"complaint": 0.3, "echo": 0.28, "repost": 0.2, "onlooker": 0.17, "escalation": 0.05}
AFTER_BLOGGER = {
    "complaint": 0.2,
    "echo": 0.16,
    "repost": 0.22,
    "onlooker": 0.22,
    "escalation": 0.14,
    "media": 0.03,
    "kol": 0.03,
}
AFTER_REPLY = {
    "denial_reaction": 0.3,
    "repost": 0.18,
    "escalation": 0.2,
    "onlooker": 0.12,
    "complaint": 0.1,
    "echo": 0.04,
    "media": 0.03,
    "kol": 0.03,
}
CONSUMER_DAY = {
    "escalation": 0.28,
    "repost": 0.2,
    "onlooker": 0.2,
    "complaint": 0.12,
    "media": 0.1,
    "kol": 0.1,
}
STREAMING_NEWS = (
    (
        BLOGGER_TEST + 3.4,
        "【视频平台被指“会员还要看广告” 投屏需另购SVIP】多名网友发帖称，开通云帆视频VIP会员后，观看剧集前仍需观看约45秒的片头推荐，且不能跳过；投屏到电视则提示需补差价升级SVIP。该平台会员服务协议于7月10日更新。",
    ),
    (REPLY + 0.7, "【云帆视频回应“会员看广告”：为会员专属推荐 不超过30秒】"),
    (82.9, "【消保委：单方变更已售会员权益 涉嫌侵害消费者公平交易权】"),
    (WALKED_BACK + 0.5, "【云帆视频致歉：VIP片头推荐下线 投屏恢复1080P】"),
    (94.6, "【律师：会员权益单方面缩水 平台应承担违约责任】"),
    (108.4, "【从“会员还要看广告”看视频平台的会员套娃】"),
)


def streaming(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A streaming platform quietly shows its VIP members ads and puts casting behind a new tier; no product
    fault."""
    bank = PhraseBank.load(*STREAMING)
    scene = Scene("streaming", seed, at(2025, 7, 14), 5, bank, authors=2300)
    brand_background(scene, STREAMING_BRANDS, scaled(BACKGROUND_MODERN, 1.1), "video platforms'")
    timeline = scene.timeline
    category_background(
        scene, STREAMING_BRANDS, MEMBER_FEED, bank, grumble=(6, "member_grumble"), daily=(8, "member_daily")
    )
    category_background(scene, STREAMING_BRANDS, CAST_FEED, bank, daily=(5, "cast_daily"))
    official = scene.official("云帆视频")
    # A keyword search finds a post that says the word, and the reposts of a post that does.
    route = keywords_route(scene, (("云帆", STREAM_FEED), ("会员", MEMBER_FEED), ("投屏", CAST_FEED)))

    everyday_trickle(
        scene,
        bank,
        25,
        "云帆",
        STREAM_FEED,
        "the platform's own everyday grumbles, about twenty-five a day: buffering, devices logged out, titles "
        "taken down, subtitles out of sync, the customer-service bot, crashes, splash ads",
    )
    everyday_trickle(
        scene,
        bank,
        6,
        None,
        CAST_FEED,
        "everyday casting troubles in the 投屏 search about nobody's membership: meeting rooms, hotel TVs, TV "
        "boxes, projectors; about six a day",
        slots=("cast_trickle", "cast_feel"),
    )
    # The brand's search also finds 云帆 in 李白's 直挂云帆济沧海 (graduations, exams) and in shops' names.
    sails = _homonyms(scene, bank, STREAM_FEED, "云帆")
    scene.decoy(
        "homonym",
        "posts quoting 直挂云帆济沧海 (graduations, exams) or naming shops called 云帆 that the brand's search "
        "fetches",
        sails,
    )

    # Monday evening: the summer drama 《青梧记》 premieres, its lead reposts, fans by the hundred; its giveaway.
    celebrity_campaign(
        scene,
        bank,
        official,
        scene.pool.special("林叙白", 7_400_000, True, "kol"),
        hours=(PREMIERE, PREMIERE + 0.55),
        ad_heat=12.0,
        fans=(PREMIERE + 0.6, 170, 1.3, 2.4),
        happy=(50, 20.5, 70),  # happy viewers until Wednesday evening
        giveaway=(PREMIERE + 1.0, (PREMIERE + 1.05, 45)),
        feed=STREAM_FEED,
        brand="云帆",
        route=route,
        viral="the platform's summer drama 《青梧记》 on Monday evening: its lead's repost, fans' posts by the "
        "hundred, happy viewers through Wednesday",
        entered="the drama's repost-to-win giveaway and the reposts that enter it",
    )

    # Tuesday 20:14: a VIP member gets 45 seconds of ads before episode 7; another cannot cast it to the TV.
    first = ordinary(scene, 287)
    others = [ordinary(scene, followers) for followers in (412, 95, 1_360)]
    digger = ordinary(scene, 2_310)
    consumers = scene.pool.special(bank.slots["consumer_name"][0], 386_000, True, "media")
    blogger = scene.pool.special(bank.slots["blogger"][0], 86_300, True, "user")
    test_text = bank.slots["blogger_post"][0]
    followups = bank.slots["seed_followups"]
    statements = bank.slots["official_statements"]
    plan = IncidentPlan(
        id="vip-ads-and-casting-paywall",
        brand="云帆",
        product="云帆视频VIP会员：剧集片头广告（“会员专属推荐”）与电视投屏",
        fault="VIP会员看剧前须看约45秒不能跳过的广告，投屏改为SVIP专属、须补差价，会员协议悄悄修改（会员权益缩水、"
        "套娃收费，不是产品故障）",
        bank=bank,
        feed=STREAM_FEED,
        waves=[
            Wave(FIRST_AD + 0.15, 45, FIRST_EVENING, 1.5, 0.9),
            Wave(55.5, 40, WEDNESDAY_MORNING, 1.5, 2.0),
            Wave(BLOGGER_TEST + 0.1, 110, AFTER_BLOGGER, 1.4, 2.0),
            Wave(REPLY + 0.1, 50, AFTER_REPLY, 1.4, 2.0),
            Wave(80.0, 30, CONSUMER_DAY, 1.5, 2.0),
        ],
        scripted=[
            *scripted_series(
                FIRST_AD,
                (0.0, 0.28, 0.63, 1.45),
                [first, *others],
                bank.slots["seed_posts"],
                (3.0, 1.5, 1.0, 2.0),
            ),
            Scripted(FIRST_AD + 1.9, first, followups[0], heat=2.5),
            Scripted(57.67, digger, bank.slots["agreement_post"][0], heat=4.0),
            Scripted(BLOGGER_TEST, blogger, test_text, heat=6.0),
            Scripted(64.33, scene.media[0], bank.slots["media_post"][0], heat=5.0),
            Scripted(REPLY, official, statements[0], part_of_incident=False, heat=3.0),
            Scripted(71.17, blogger, bank.slots["blogger_followup"][0], heat=4.0),
            Scripted(82.5, consumers, bank.slots["consumer_post"][0], heat=4.0),
            Scripted(83.67, scene.kols[2], bank.slots["lawyer_post"][0], heat=3.0),
            Scripted(WALKED_BACK, official, statements[1], part_of_incident=False, heat=3.0),
            Scripted(93.0, scene.kols[0], bank.slots["kol_after"][0], heat=2.0),
            Scripted(108.0, first, followups[1], heat=1.5),
        ],
        topic_after=46.5,  # #会员还要看广告# forms late on Tuesday night
        limit=300,
        route=route,
    )
    truth = scene.incident(plan)
    reply, walk_back = truth["brand_statement_ids"]
    test = next(draft.id for draft in timeline.drafts if draft.text == test_text)

    # Memes and one-line reactions, defenders and shrugs, how to turn off auto-renewal, and Hong Kong and Taiwan
    # onlookers in Traditional Chinese.
    for times, write in (
        (bursts(scene, BLOGGER_TEST + 1.0, 30, 1.5, 5.0), fresh_voices(scene, bank, "meme", "neutral")),
        (bursts(scene, BLOGGER_TEST + 2.5, 8, 1.5, 8.0), fresh_voices(scene, bank, "shrug", "neutral")),
        (bursts(scene, BLOGGER_TEST + 3.0, 12, 1.5, 6.0), fresh_voices(scene, bank, "how_to", "neutral")),
        (
            bursts(scene, BLOGGER_TEST + 3.5, 8, 1.5, 8.0),
            fresh_voices(scene, bank, "trad_onlooker", "neutral", traditional=True),
        ),
    ):
        extra_incident_posts(scene, truth, times, write, feed=route, brand="云帆")
    incident_follow_up(
        scene,
        truth,
        bank,
        statements=(
            (BLOGGER_TEST + 0.05, 28, 1.5, test, "blogger_reaction", "blogger_repost"),
            (REPLY + 0.02, 30, 1.2, reply, "denial_reaction", "denial_repost"),
            (WALKED_BACK + 0.02, 30, 2.0, walk_back, "second_reaction", "second_repost"),
        ),
        # The days after: no more ads, the TV works again, refunds, auto-renewal switched off for good.
        aftermath=(
            (WALKED_BACK + 3.0, 18, 1.8, 2.0, {"first_night": "前天", "statement_day": "今天"}),
            (104.0, 22, 1.6, 3.0, {"first_night": "周二", "statement_day": "昨天"}),
        ),
        news=STREAMING_NEWS,
        feed=route,
        brand="云帆",
    )

    # One 29-follower user whose account was stolen, again and again, all week.
    repeat_ranter(
        scene,
        29,
        bank,
        "account_rant",
        16,
        (0, 120),
        "one 29-follower account ranting sixteen times, all week, that its stolen account has not been returned",
        feed=STREAM_FEED,
        brand="云帆",
    )
    # Another (fictional) platform's small membership grumbles, days apart; nobody picks them up.
    other_brand_mild(
        scene,
        (13.7, 57.9, 105.2),
        bank.slots["other_app"],
        route,
        "three posts, days apart, about another video platform's (麦田视频, fictional) membership price and "
        "auto-renewal; nobody picks them up",
    )
    big_account_neutral(
        scene,
        zip((10.5, 34.3), (scene.media[4], scene.kols[0]), bank.slots["big_neutral"], strict=True),
        "a business media account's post on the platform's quarterly results and an industry commentator's "
        "neutral look at the drama's first day",
        feed=STREAM_FEED,
        brand="云帆",
    )
    mild_big_grumble(scene, 15.2, bank.slots["big_mild"][0], "云帆", STREAM_FEED)
    truth = scene.truth(
        "会员权益缩水、套娃收费（不是产品故障）：虚构视频平台“云帆视频”（大家叫云帆）平日每天就有二十多条自己的吐槽（卡顿、"
        "设备挤下线、片源下架、字幕不同步、客服机器人、闪退、开屏广告）。周一晚暑期独播古装剧《青梧记》开播，主演转发、粉丝"
        "刷屏并抽奖。周二晚8点14分，一位两百多粉丝的年卡会员发帖：点开《青梧记》第七集先放了45秒广告，跳过按钮写着“SVIP"
        "可跳过”；当晚几个普通用户接连发现（投屏到电视提示“SVIP专属权益，补差价15元/月”，以为手机中毒），阴阳怪气和玩梗"
        "（“感谢某平台让我重新认识了会员二字”“建议改名叫广告平台”“会员=会看广告的人员”），#会员还要看广告# 话题形成；"
        "大多数帖子不点名，只说某平台、某视频App、某帆、云烦、yf。周三上午有人扒出会员服务协议7月10日悄悄修改，中午一位"
        "八万多粉的追剧博主用年卡实测12部剧并录屏，随后转发、表情包、关自动续费、退会员、12315和消保委投诉、媒体报道、港台"
        "网友繁体评论、少数人替平台说话；周三晚云帆发“说明”（会员专属推荐不超过30秒，投屏升级为SVIP权益，首月9.9元，"
        "VIP仍可480P投屏）被嘲，博主再测反驳；周四上午消保委发消费提示并约谈平台，律师发帖，傍晚云帆致歉（VIP片头推荐"
        "下线、投屏恢复1080P、补差价可退、送7天会员），反应不一；周五仍有余波。很多帖子来自“会员”“投屏”分类搜索或时间线。"
        "诱饵：云帆自己的日常吐槽涓流、“投屏”搜索里会议室、酒店电视、盒子的日常投屏问题、品牌搜索抓到的“直挂云帆济沧海”"
        "和叫云帆的小店、《青梧记》开播刷屏及抽奖、一个小号全周反复骂账号被盗、另一家视频平台（麦田视频）无人理会的会员"
        "小抱怨、财经媒体和行业博主的中性帖、大号无人理会的弹幕字体小抱怨。"
    )
    return timeline.lines(), truth


# --- an airline cancels a batch of evening flights in a thunderstorm and leaves its passengers on the floor --------

AIRLINE_FEED = "weibo-search:青鸾"
FLIGHT_FEED = "weibo-search:航班"  # a category search: everything that says 航班, whoever it is about
AIRPORT_FEED = "weibo-search:机场"  # a category search: everything that says 机场, whoever it is about
AIRLINES = [
    BrandSpec(
        "青鸾",
        ["经济舱", "公务舱", "App", "里程会员", "机上餐食", "值机服务", "行李额", "武汉—清迈航线"],
        "青鸾航空",
        AIRLINE_FEED,
    ),
    BrandSpec("国航", ["经济舱", "公务舱", "凤凰知音会员", "机上餐食"], "中国国际航空", FLIGHT_FEED),
    BrandSpec("东航", ["经济舱", "App", "机上餐食"], "东方航空", FLIGHT_FEED),
    BrandSpec("南航", ["经济舱", "明珠会员", "机上餐食", "App"], "南方航空", FLIGHT_FEED),
    BrandSpec("海航", ["公务舱", "经济舱", "机上餐食"], "海南航空", FLIGHT_FEED),
    BrandSpec("川航", ["机上餐食", "经济舱"], "四川航空", FLIGHT_FEED),
    BrandSpec("春秋航空", ["特价票", "行李额", "经济舱"], "春秋航空", FLIGHT_FEED),
    BrandSpec("厦航", ["经济舱", "白鹭会员", "机上餐食"], "厦门航空", FLIGHT_FEED),
]
AIRLINE = ("common", "modern", "airline")
KIND_ACT = 12.33  # Monday 4 August 2025, 12:20: a passenger's clip of a flight attendant and an old woman
STORM = 41.0  # Tuesday 17:00: a thunderstorm over Wuhan; 天河机场 stops departures until about 21:30
NOTICE = 42.75  # Tuesday 18:45: the airline's 航班调整通知
CANCELLED = 43.4  # Tuesday 19:24: a passenger at the gate: QL2317 cancelled, "天气原因不予补偿"
FEVER = 49.67  # Wednesday 01:40: a mother, her daughter at 38.9 degrees on the terminal floor
FLOOR = 50.4  # Wednesday 02:24: a photographer's picture of a hundred people sleeping on the floor
TRAVEL_BLOGGER = 56.83  # Wednesday 08:50: a travel blogger stranded with her team sums it up
FORCE_MAJEURE = 58.5  # Wednesday 10:30: the airline's 情况说明: 不可抗力, expenses at the passengers' cost
APOLOGY = 83.0  # Thursday 11:00: weather and aircraft rotation; refunds, expenses, 400 yuan each
# The airline's own everyday grumbles that would read as part of the night (delays, the hotline, refunds,
# overbooking, a late arrival) keep out of the storm's hours and the morning after.
STORM_NIGHT = (STORM - 1.0, 62.0)
STORM_WORDS = ("延误", "客服", "退票", "改签", "超售", "晚到", "流量控制", "登机口")
# The storm's phases: the first evening at the gates, dawn on the floor, after the blogger, after the "不可抗力",
# Thursday (the regulator, the lawyer, the press).
AT_THE_GATE = {"complaint": 0.5, "echo": 0.35, "repost": 0.15}
DAWN = {"complaint": 0.35, "echo": 0.25, "repost": 0.18, "onlooker": 0.12, "escalation": 0.1}
AFTER_TRAVEL_BLOGGER = {
    "complaint": 0.2,
    "echo": 0.15,
    "repost": 0.25,
    "onlooker": 0.2,
    "escalation": 0.12,
    "media": 0.04,
    "kol": 0.04,
}
AFTER_FORCE_MAJEURE = {
    "denial_reaction": 0.3,
    "repost": 0.2,
    "escalation": 0.2,
    "onlooker": 0.12,
    "complaint": 0.1,
    "echo": 0.02,
    "media": 0.03,
    "kol": 0.03,
}
REGULATOR_DAY = {
    "escalation": 0.28,
    "repost": 0.2,
    "onlooker": 0.2,
    "complaint": 0.12,
    "media": 0.1,
    "kol": 0.1,
}
AIRLINE_NEWS = (
    (
        TRAVEL_BLOGGER + 2.5,
        "【武汉天河机场雷雨夜多个航班取消 上千旅客滞留】8月5日晚，受强雷雨天气影响，青鸾航空多个武汉始发航班取消。有旅客反映航司不提供食宿、不予退票，客服热线无法接通。",
    ),
    (FORCE_MAJEURE + 0.6, "【青鸾航空回应航班取消：属不可抗力 食宿费用由旅客自理】"),
    (68.67, "【民航中南地区管理局约谈青鸾航空 要求妥善处置滞留旅客诉求】"),
    (APOLOGY + 0.5, "【青鸾航空致歉：全额退票 报销食宿 每位旅客补偿400元】"),
    (87.6, "【律师：航班取消属非自愿退票 航司不得收取退票费】"),
    (106.2, "【雷雨季航班取消，航司的地面预案在哪里？】"),
)
STORM_NEWS_RSS = ((37.6, 0), (41.3, 1), (42.4, 2), (44.5, 4), (46.0, 3), (55.8, 5))


def airline(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """An airline cancels a batch of evening flights at its hub in a thunderstorm and will not house, feed or
    refund its passengers; its hotline does not answer. A service failure, not a product fault."""
    bank = PhraseBank.load(*AIRLINE)
    scene = Scene("airline", seed, at(2025, 8, 4), 5, bank, authors=2300)
    brand_background(scene, AIRLINES, BACKGROUND_MODERN, "airlines'")
    rng = scene.rng
    timeline = scene.timeline
    category_background(scene, AIRLINES, FLIGHT_FEED, bank, daily=(8, "flight_daily"))
    category_background(
        scene, AIRLINES, AIRPORT_FEED, bank, grumble=(3, "airport_grumble"), daily=(6, "airport_daily")
    )
    official = scene.official("青鸾航空")
    # A keyword search finds a post that says the word, and the reposts of a post that does.
    route = keywords_route(scene, (("青鸾", AIRLINE_FEED), ("航班", FLIGHT_FEED), ("机场", AIRPORT_FEED)))

    def in_storm_night(when: datetime, text: str) -> bool:
        hour = (when - scene.start).total_seconds() / 3600
        return STORM_NIGHT[0] <= hour <= STORM_NIGHT[1] and any(word in text for word in STORM_WORDS)

    everyday_trickle(
        scene,
        bank,
        20,
        "青鸾",
        AIRLINE_FEED,
        "the airline's own everyday grumbles, about twenty a day: delays, lost and broken luggage, seat-selection "
        "and baggage fees, overbooking, the hotline, refund fees, the food",
        keep_out=in_storm_night,
    )
    everyday_trickle(
        scene,
        bank,
        7,
        None,
        FLIGHT_FEED,
        "everyday flight gripes in the 航班 search about other airlines or none: delays, fees, overbooking, "
        "changed times, remote stands; about seven a day",
        slots=("flight_trickle", "flight_feel"),
    )
    # The brand's search also finds 青鸾 in its everyday senses: the mythical bird, hairpins, games, a tea house.
    birds = _homonyms(scene, bank, AIRLINE_FEED, "青鸾")
    scene.decoy(
        "homonym",
        "posts about 青鸾 the mythical bird (dramas, games, a bronze mirror, hairpins, a peak, a tea house, a "
        "nickname) that the brand's search fetches",
        birds,
    )

    # Monday noon: a passenger's clip of a flight attendant looking after an old woman goes viral; the airline
    # thanks its crew, a media account picks it up, people share their own stories. And the new-route giveaway.
    passenger = scene.pool.special(bank.slots["kind_passenger"][0], 2_140, False, "user")
    kind_text = bank.slots["kind_post"][0]
    clip_id = timeline.add(
        timeline.hours(KIND_ACT), passenger, kind_text, feed=route(kind_text, None), brand="青鸾", heat=14.0
    )
    thanks_text = bank.slots["kind_official"][0]
    kind = [
        clip_id,
        timeline.add(
            timeline.hours(KIND_ACT + 3.85),
            official,
            thanks_text,
            feed=AIRLINE_FEED,
            brand="青鸾",
            heat=6.0,
            extra={"repost_of": clip_id},
        ),
    ]
    media_text = bank.slots["kind_media"][0]
    kind.append(
        timeline.add(
            timeline.hours(KIND_ACT + 6.2),
            scene.media[1],
            media_text,
            feed=route(media_text, None),
            brand="青鸾",
            heat=3.0,
        )
    )
    for when in sorted(bursts(scene, KIND_ACT + 0.3, 150, 1.3, 3.5)):
        text = timeline.unique_text(
            lambda: scene.finish(
                bank.render(rng, "{kind_lead}{kind_core}{kind_tail}"), "", limit=300, bank=bank
            )
        )
        root = None
        if rng.random() < 0.7:
            root = clip_id
        kind.append(
            timeline.add(
                when,
                scene.pool.fresh(),
                text,
                feed=route(text, root),
                brand="青鸾",
                heat=0.3,
                extra={"repost_of": root} if root else None,
            )
        )
    for _ in range(45):
        text = timeline.unique_text(
            lambda: scene.finish(bank.say(rng, "kind_story"), "happy", limit=300, bank=bank)
        )
        when = timeline.active_time(timeline.hours(KIND_ACT + 1.0), timeline.hours(40.0))
        kind.append(
            timeline.add(when, scene.pool.pick(), text, feed=route(text, None), brand="青鸾", heat=0.6)
        )
    scene.decoy(
        "positive_viral",
        "a passenger's clip of a flight attendant looking after an old woman with Alzheimer's on Monday noon: the "
        "airline's thanks, a media post, reposts by the hundred, people's own stories of kind crews until Tuesday",
        kind,
    )
    entries = official_giveaway(scene, bank, official, 10.0, (10.05, 40), feed=AIRLINE_FEED, brand="青鸾")
    scene.decoy(
        "giveaway", "the new Wuhan–Chiang Mai route's repost-to-win giveaway and its entries", entries
    )

    # The same thunderstorm, not about the airline: forecasts, the storm over the city, other airlines' flights
    # waiting it out, a lightning photo going viral, the news, and the days after.
    def storm_post(when: datetime, slot: str, author: Author | None = None, heat: float = 0.5) -> str:
        def render() -> str:
            if slot == "storm":
                text = bank.render(rng, "{storm_lead}{storm_core}{storm_tail}")
                if rng.random() < 0.3:
                    text = bank.say(rng, "storm_tag") + text
                return scene.finish(text, "neutral", limit=300, bank=bank)
            mood = {"storm_grumble": "angry", "storm_news": ""}.get(slot, "neutral")
            typo_rate = 0.0 if slot == "storm_news" else 0.06
            return scene.finish(bank.say(rng, slot), mood, limit=300, typo_rate=typo_rate, bank=bank)

        author = author or scene.pool.fresh()
        text = timeline.unique_text(render)
        return timeline.add(when, author, text, feed=route(text, None), brand=None, heat=heat)

    photographer = scene.pool.special("江城随手拍", 1_640_000, True, "kol")
    lightning_text = bank.slots["storm_viral"][0]
    lightning = timeline.add(
        timeline.hours(STORM + 1.6),
        photographer,
        lightning_text,
        feed=route(lightning_text, None),
        brand=None,
        heat=10.0,
    )
    storm_ids = [lightning]
    for _ in range(16):  # the forecast, from Tuesday morning
        storm_ids.append(
            storm_post(timeline.active_time(timeline.hours(31.0), timeline.hours(STORM)), "storm_forecast")
        )
    for when in sorted(bursts(scene, STORM - 0.3, 190, 1.4, 1.6)):
        roll = rng.random()
        if roll < 0.08 and when > timeline.hours(STORM + 1.6):
            storm_ids.append(
                timeline.add(
                    when,
                    scene.pool.fresh(),
                    rng.choice(
                        ["太震撼了", "转发微博", "绝了", "⚡⚡⚡", "这是真的吗", "武汉的雷", "好吓人"]
                    ),
                    feed="weibo-timeline",
                    brand=None,
                    heat=0.2,
                    extra={"repost_of": lightning},
                )
            )
        elif roll < 0.3:
            storm_ids.append(storm_post(when, "storm_airport"))
        elif roll < 0.42:
            storm_ids.append(storm_post(when, "storm_grumble"))
        else:
            storm_ids.append(storm_post(when, "storm"))
    for when in sorted(bursts(scene, 45.5, 24, 1.3, 1.0)):  # once the storm has passed, flights leave
        storm_ids.append(storm_post(when, "storm_airport_late"))
    for day, count in ((2, 24), (3, 10), (4, 7)):
        for _ in range(count):
            low, high = timeline.hours(24 * day), timeline.hours(24 * (day + 1))
            storm_ids.append(storm_post(timeline.active_time(low, high), "storm_after"))
    for hour, index in STORM_NEWS_RSS:
        when = timeline.hours(hour)
        storm_ids.append(
            timeline.add(
                when,
                rng.choice(scene.news_accounts),
                bank.render(rng, bank.slots["storm_news"][index]),
                feed="rss:news",
                brand=None,
                source="rss",
                url=f"https://news.example.cn/{when:%Y%m%d}/{rng.randint(10_000, 99_999)}.html",
            )
        )
    scene.decoy(
        "weather",
        "the same thunderstorm over Wuhan on Tuesday, not about the airline: forecasts, lightning, rain, hail and "
        "floods in the city (one lightning photo going viral), other airlines' flights at 天河机场 delayed until "
        "the storm passed, weather news, and the heat and rainbows of the days after",
        storm_ids,
    )

    # Tuesday 19:24: QL2317 is cancelled at the gate; "天气原因不予补偿"; the app only rebooks; the hotline is busy.
    first = ordinary(scene, 264)
    others = [ordinary(scene, followers) for followers in (91, 530, 1_870)]
    mother = ordinary(scene, 3_900)
    photographer_night = scene.pool.mid_size(20_000, 30_000)
    blogger = scene.pool.special(bank.slots["blogger"][0], 138_000, True, "user")
    summary_text = bank.slots["blogger_post"][0]
    followups = bank.slots["seed_followups"]
    statements = bank.slots["official_statements"]
    plan = IncidentPlan(
        id="storm-cancellations-stranded",
        brand="青鸾",
        product="青鸾航空武汉天河机场始发的晚间航班（QL2317、QL8861等9班）与地面服务、客服热线",
        fault="雷雨天取消9个晚间航班后，以“天气原因不予补偿”为由不协助食宿、不给退票、只能改签到两天后，客服热线打不通，"
        "上千旅客在候机楼滞留过夜（服务失当，不是产品故障）",
        bank=bank,
        feed=AIRLINE_FEED,
        waves=[
            Wave(CANCELLED + 0.1, 70, AT_THE_GATE, 1.4, 1.3),
            Wave(54.0, 42, DAWN, 1.5, 2.0),
            Wave(TRAVEL_BLOGGER + 0.1, 75, AFTER_TRAVEL_BLOGGER, 1.4, 2.0),
            Wave(FORCE_MAJEURE + 0.1, 55, AFTER_FORCE_MAJEURE, 1.4, 2.5),
            Wave(78.0, 28, REGULATOR_DAY, 1.5, 2.5),
        ],
        scripted=[
            Scripted(NOTICE, official, statements[0], part_of_incident=False, heat=1.5),
            *scripted_series(
                CANCELLED,
                (0.0, 0.35, 0.8, 1.5),
                [first, *others],
                bank.slots["seed_posts"],
                (3.0, 1.5, 1.5, 2.5),
            ),
            Scripted(46.2, first, followups[0], heat=3.0),
            Scripted(FEVER, mother, bank.slots["fever_post"][0], heat=5.0),
            Scripted(FLOOR, photographer_night, bank.slots["floor_post"][0], heat=6.0),
            Scripted(TRAVEL_BLOGGER, blogger, summary_text, heat=6.0),
            Scripted(FORCE_MAJEURE, official, statements[1], part_of_incident=False, heat=3.0),
            Scripted(61.2, scene.media[0], bank.slots["media_post"][0], heat=5.0),
            Scripted(64.5, scene.kols[2], bank.slots["lawyer_post"][0], heat=3.0),
            Scripted(69.2, blogger, bank.slots["blogger_followup"][0], heat=4.0),
            Scripted(APOLOGY, official, statements[2], part_of_incident=False, heat=3.0),
            Scripted(86.5, scene.kols[0], bank.slots["kol_after"][0], heat=2.0),
            Scripted(106.67, first, followups[1], heat=1.5),
        ],
        topic_after=55.0,  # #天河机场旅客滞留一夜# and the like form by Wednesday morning
        limit=300,
        route=route,
    )
    truth = scene.incident(plan)
    _, force_majeure, apology = truth["brand_statement_ids"]
    summary = next(draft.id for draft in timeline.drafts if draft.text == summary_text)

    # The night and the dawn on the terminal floor, stranded Hong Kong and Taiwan travellers in Traditional Chinese, how to get
    # a refund and where to complain, and the mockery of "安全是最大的服务".
    for times, write in (
        (bursts(scene, CANCELLED + 2.6, 22, 1.3, 2.0), fresh_voices(scene, bank, "night", "neutral")),
        (bursts(scene, 53.0, 10, 1.5, 1.0), fresh_voices(scene, bank, "dawn", "neutral")),
        (
            bursts(scene, CANCELLED + 1.0, 12, 1.4, 4.0),
            fresh_voices(scene, bank, "trad_passenger", "neutral", traditional=True),
        ),
        (bursts(scene, TRAVEL_BLOGGER + 2.0, 14, 1.5, 6.0), fresh_voices(scene, bank, "how_to", "neutral")),
        (bursts(scene, FORCE_MAJEURE + 1.0, 16, 1.5, 4.0), fresh_voices(scene, bank, "mock", "neutral")),
    ):
        extra_incident_posts(scene, truth, times, write, feed=route, brand="青鸾")
    incident_follow_up(
        scene,
        truth,
        bank,
        statements=(
            (TRAVEL_BLOGGER + 0.05, 22, 1.5, summary, "blogger_reaction", "blogger_repost"),
            (FORCE_MAJEURE + 0.02, 34, 1.2, force_majeure, "denial_reaction", "denial_repost"),
            (APOLOGY + 0.02, 28, 2.0, apology, "second_reaction", "second_repost"),
        ),
        # The days after: home at last, refunds, receipts, the 400 yuan, 12326 calling back.
        aftermath=(
            (APOLOGY + 5.0, 15, 1.8, 2.0, {"first_night": "周二", "statement_day": "今天"}),
            (101.0, 20, 1.6, 3.0, {"first_night": "周二", "statement_day": "昨天"}),
        ),
        news=AIRLINE_NEWS,
        feed=route,
        brand="青鸾",
    )

    # One 31-follower passenger whose suitcase has been lost for nine days, again and again, all week.
    repeat_ranter(
        scene,
        31,
        bank,
        "luggage_rant",
        17,
        (0, 120),
        "one 31-follower account ranting seventeen times, all week, that the airline lost its suitcase nine days "
        "ago",
        feed=AIRLINE_FEED,
        brand="青鸾",
    )
    # Another (fictional) airline's small fee grumbles, days apart; nobody picks them up.
    other_brand_mild(
        scene,
        (15.3, 60.2, 103.8),
        bank.slots["other_airline"],
        route,
        "three posts, days apart, about another airline's (云雀航空, fictional) baggage allowance, fees and seats; "
        "nobody picks them up",
    )
    big_account_neutral(
        scene,
        zip((9.5, 20.6), (scene.media[4], scene.kols[0]), bank.slots["big_neutral"], strict=True),
        "a business media account's post on the airline's July traffic and new route, and an aviation "
        "commentator's neutral note on the summer peak and the thunderstorm season",
        feed=AIRLINE_FEED,
        brand="青鸾",
    )
    mild_big_grumble(scene, 30.2, bank.slots["big_mild"][0], "青鸾", AIRLINE_FEED)
    truth = scene.truth(
        "服务失当（不是产品故障）：虚构航空公司“青鸾航空”（基地武汉天河机场，大家叫青鸾，航班号QL开头）平日每天就有二十条"
        "左右自己的吐槽（延误、行李丢失摔坏、选座和行李收费、超售、客服电话难打、退票手续费、餐食）。周一中午一位乘客发视频："
        "青鸾乘务员全程照顾独自乘机的阿尔茨海默症老人，航司转发致谢、媒体跟进、网友刷屏，另有新航线转发抽奖。周二傍晚武汉"
        "强雷暴，全城刷屏、天河机场各航司大面积延误（别家雨停后陆续起飞）。晚7点24分，一位两百多粉的乘客在登机口发帖："
        "QL2317取消，柜台说改签到后天，食宿“天气原因不予补偿”；随后多个晚间航班取消，App只能改签到周四、退票按钮是灰的，"
        "客服热线整夜打不通。滞留旅客通宵发帖（地上铺纸板睡觉、柜台排长队、凌晨孩子发烧38.9度的母亲、一位两万多粉的摄影"
        "博主拍下满地睡人），很多帖子只写航班号、某航、航空公司或航司，港台旅客写繁体（粤语）。周三早上一位十几万粉的旅行"
        "博主（自己也被困）汇总：9个航班、一千多人、别家都飞了；上午青鸾发“情况说明”（不可抗力、免费改签、食宿自理、“安全是"
        "最大的服务”）被群嘲；随后媒体报道、12326和民航局投诉、律师讲解（天气原因可不赔偿，但应协助食宿、退票不得收费）、"
        "博主用航班动态反驳；晚上民航中南局约谈。周四上午青鸾致歉（雷雨叠加飞机调配，全额退票、报销食宿、每人补偿400元、"
        "相关人员停职），反应不一；周五余波。诱饵：青鸾自己的日常吐槽涓流、“航班”搜索里别家航司的日常吐槽、品牌搜索抓到的"
        "神鸟青鸾等同名帖子、乘务员暖心视频刷屏及新航线抽奖、同一场雷暴的天气刷屏（含别家航班延误、闪电照片走红、天气新闻）、"
        "一个小号全周反复骂行李丢失、另一家航司（云雀航空）无人理会的收费小抱怨、财经媒体和民航博主的中性帖、大号无人理会的"
        "座椅间距小抱怨。"
    )
    return timeline.lines(), truth


# --- a smart lock's night-time firmware update locks its owners out (and some of them in) -----------------------

QIAN_FEED = "weibo-search:栖安"
LOCK_FEED = "weibo-search:智能锁"  # a category search: everything that says 智能锁, whoever it is about
LOCK_BRANDS = [
    BrandSpec(
        "栖安",
        ["Q5指纹锁", "Q7 Pro", "F1人脸锁", "S3猫眼锁", "Q7 Pro人脸锁", "全自动指纹锁"],
        "栖安智能锁",
        QIAN_FEED,
    ),
    BrandSpec("小米", ["智能门锁", "人脸识别锁", "猫眼锁"], "小米智能家居", LOCK_FEED),
    BrandSpec("德施曼", ["指纹锁", "猫眼锁", "人脸识别锁"], "德施曼智能锁", LOCK_FEED),
    BrandSpec("凯迪仕", ["智能锁", "全自动锁"], "凯迪仕智能锁", LOCK_FEED),
    BrandSpec("鹿客", ["指纹锁", "猫眼锁"], "鹿客智能锁", LOCK_FEED),
    BrandSpec("萤石", ["智能锁", "猫眼锁"], "萤石", LOCK_FEED),
    BrandSpec("飞利浦", ["指纹锁", "智能锁"], "飞利浦智能锁", LOCK_FEED),
]
SMART_LOCK = ("common", "modern", "smartlock")
KID_HOME = 19.67  # Monday 20 October 2025, 19:40: a mother's clip of her son opening the door by fingerprint
PRESALE = 36.0  # Tuesday 12:00: the brand's 双11 presale giveaway
UPDATE = 67.5  # Wednesday 19:30: the brand announces App 5.0 and firmware v3.2.0, to install itself at night
LOCKED_OUT = 69.87  # Wednesday 21:52: an owner and her daughter in the corridor, the lock says 系统升级中
LOCKSMITH = 72.83  # Thursday 00:50: a locksmith's ninth job of the night, all the same brand
BLOGGER = 80.67  # Thursday 08:40: a home-tech blogger sums up two hundred messages
LOCAL_NEWS = 82.25  # Thursday 10:15: a local news account
NETWORK = 83.5  # Thursday 11:30: the brand's first reply: 极个别用户, 家庭网络不稳定, press the reset key
CONSUMERS = 88.5  # Thursday 16:30: a consumer association has summoned "某品牌"
ROLLBACK = 93.0  # Thursday 21:00: an apology, a firmware defect, rollback to v3.1.8, receipts paid back
PROGRESS = 111.0  # Friday 15:00: 96.8% restored, engineers at the remaining doors
# From the update on, the everyday grumbles that read like a lock that will not open (the App offline, a slow
# fingerprint, a lock that will not answer) are the storm's own; the everyday trickles draw from their other
# grumbles then.
LOOK_ALIKE_FROM = UPDATE
# The storm's phases: the first night, Thursday morning, after the blogger, after the "网络问题" reply, the
# consumer association's afternoon.
FIRST_NIGHT = {"complaint": 0.5, "echo": 0.35, "repost": 0.15}
MORNING_AFTER = {"complaint": 0.35, "echo": 0.25, "repost": 0.18, "onlooker": 0.14, "escalation": 0.08}
AFTER_SUMMARY = {
    "complaint": 0.2,
    "echo": 0.15,
    "repost": 0.25,
    "onlooker": 0.2,
    "escalation": 0.12,
    "media": 0.04,
    "kol": 0.04,
}
AFTER_NETWORK = {
    "denial_reaction": 0.3,
    "repost": 0.2,
    "escalation": 0.2,
    "onlooker": 0.12,
    "complaint": 0.1,
    "echo": 0.02,
    "media": 0.03,
    "kol": 0.03,
}
SUMMONED = {
    "escalation": 0.28,
    "repost": 0.2,
    "onlooker": 0.2,
    "complaint": 0.12,
    "media": 0.1,
    "kol": 0.1,
}
# Friday: locks still waiting for an engineer, people deciding what to do with theirs, the press.
FRIDAY = {"onlooker": 0.3, "repost": 0.22, "escalation": 0.2, "complaint": 0.12, "media": 0.08, "kol": 0.08}
LOCK_NEWS = (
    (
        LOCAL_NEWS + 0.8,
        "【多地用户称智能门锁夜间自动升级后打不开门】10月22日晚起，多地栖安智能门锁用户反映，门锁在夜间自动升级固件后显示“系统升级中”，指纹、密码、App均无法开锁，部分老人被困屋内，客服热线长时间占线。",
    ),
    (NETWORK + 0.7, "【栖安回应门锁故障：极个别用户因家庭网络不稳定致升级未完成】"),
    (CONSUMERS + 1.0, "【消保委约谈智能门锁企业 要求承担开锁换锁等合理费用】"),
    (ROLLBACK + 0.5, "【栖安致歉：门锁固件存在缺陷 已回滚并报销开锁费用】"),
    (106.6, "【律师：固件缺陷致门锁无法使用 消费者可主张开锁住宿等损失】"),
    (112.4, "【智能门锁该不该“静默升级”？从栖安事件看智能家居的OTA】"),
)


def gated_trickle(
    scene: Scene,
    bank: PhraseBank,
    per_day: float,
    brand: str | None,
    feed: str,
    description: str,
    *,
    slots: tuple[str, str, str],
    safe_from: float,
) -> None:
    """An everyday trickle (``slots`` = all grumbles, the grumbles safe to post once an incident may be on,
    the feelings) listed as an ``everyday_trickle`` decoy: from ``safe_from`` hours on, a post is written from the
    safe grumbles only (the others would read as part of the incident)."""
    rng, timeline = scene.rng, scene.timeline
    every, safe, feel = slots
    ids = []
    day = 0
    while timeline.hours(24 * day) < scene.end:
        low = timeline.hours(24 * day)
        high = min(scene.end, timeline.hours(24 * (day + 1)))
        for _ in range(round(per_day * rng.uniform(0.8, 1.2))):
            when = timeline.active_time(low, high)
            slot = safe if when >= timeline.hours(safe_from) else rng.choice((every, safe))
            text = timeline.unique_text(
                lambda: scene.finish(bank.say(rng, slot) + bank.say(rng, feel), "angry", limit=300, bank=bank)  # noqa: B023
            )
            ids.append(timeline.add(when, scene.pool.pick(), text, feed=feed, brand=brand, heat=0.4))
        day += 1
    scene.decoy("everyday_trickle", description, ids)


def smartlock(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A smart-lock brand's night-time firmware update leaves its owners' doors shut: fingerprints, codes and the
    App fail, some are locked out with their children and some locked in; the brand blames home networks, then
    apologises and rolls the firmware back."""
    bank = PhraseBank.load(*SMART_LOCK)
    scene = Scene("smartlock", seed, at(2025, 10, 20), 5, bank, authors=2300)
    brand_background(scene, LOCK_BRANDS, BACKGROUND_MODERN, "lock brands'")
    rng = scene.rng
    timeline = scene.timeline
    category_background(
        scene,
        LOCK_BRANDS,
        LOCK_FEED,
        bank,
        daily=(7, "lock_daily"),
        ask=(5, "lock_ask"),
        grumble=(4, "lock_grumble"),
        safety=(3, "lock_safety"),
    )
    official = scene.official("栖安智能锁")
    # A keyword search finds a post that says the word, and the reposts of a post that does.
    route = keyword_route(scene, "栖安", QIAN_FEED, "智能锁", LOCK_FEED)

    gated_trickle(
        scene,
        bank,
        10,
        "栖安",
        QIAN_FEED,
        "the brand's own everyday grumbles, about ten a day: batteries, installation fees and delays, the App's ads "
        "and pushes, the peephole camera, prices that dropped for 双11, customer service; those that read like a lock "
        "that will not open (the App offline, a slow fingerprint) keep out of the days from the update on",
        slots=("trickle", "trickle_safe", "trickle_feel"),
        safe_from=LOOK_ALIKE_FROM,
    )
    gated_trickle(
        scene,
        bank,
        6,
        None,
        LOCK_FEED,
        "everyday lock troubles in the 智能锁 search about other (fictional or unnamed) brands: flat batteries, "
        "cold fingers, App pairing, worn panels, installers; about six a day; those that read like a lock that will "
        "not open keep out of the days from the update on",
        slots=("lock_trickle", "lock_trickle_safe", "lock_feel"),
        safe_from=LOOK_ALIKE_FROM,
    )
    # The brand's search also finds 栖安 in its everyday senses: a residential compound, a street, a guesthouse.
    homonyms = _homonyms(scene, bank, QIAN_FEED, "栖安")
    scene.decoy(
        "homonym",
        "posts about 栖安 in its everyday senses (栖安苑 and 栖安里, a guesthouse, a tea house, a cat, a novel's hero, "
        "心有所栖，身有所安) that the brand's search fetches",
        homonyms,
    )

    # Monday evening: a mother's clip of her son coming home alone, the lock telling her at work, goes viral; the
    # brand reposts it the next morning; people share their own stories. Tuesday noon: the presale giveaway.
    mother = scene.pool.special(bank.slots["viral_author"][0], 2_860, False, "user")
    viral_text = bank.slots["viral_post"][0]
    clip = timeline.add(
        timeline.hours(KID_HOME), mother, viral_text, feed=route(viral_text, None), brand="栖安", heat=16.0
    )
    kid = [
        clip,
        timeline.add(
            timeline.hours(33.5),
            official,
            bank.slots["viral_official"][0],
            feed=QIAN_FEED,
            brand="栖安",
            heat=5.0,
            extra={"repost_of": clip},
        ),
    ]
    for when in sorted(bursts(scene, KID_HOME + 0.25, 150, 1.3, 3.5)):
        text = timeline.unique_text(
            lambda: scene.finish(bank.render(rng, "{kid_lead}{kid_core}{kid_tail}"), "", limit=300, bank=bank)
        )
        root = clip if rng.random() < 0.7 else None
        kid.append(
            timeline.add(
                when,
                scene.pool.fresh(),
                text,
                feed=route(text, root),
                brand="栖安",
                heat=0.3,
                extra={"repost_of": root} if root else None,
            )
        )
    for _ in range(40):
        text = timeline.unique_text(
            lambda: scene.finish(bank.say(rng, "kid_story"), "happy", limit=300, bank=bank)
        )
        when = timeline.active_time(timeline.hours(KID_HOME + 1.0), timeline.hours(62.0))
        kid.append(
            timeline.add(when, scene.pool.pick(), text, feed=route(text, None), brand="栖安", heat=0.6)
        )
    scene.decoy(
        "positive_viral",
        "a mother's clip of her seven-year-old coming home alone on Monday evening (the lock knows his fingerprint "
        "and tells her at work): reposts by the hundred, the brand's repost on Tuesday morning, people's own "
        "stories of children and parents with smart locks until Wednesday",
        kid,
    )
    entries = official_giveaway(
        scene, bank, official, PRESALE, (PRESALE + 0.05, 40), feed=QIAN_FEED, brand="栖安"
    )
    scene.decoy("giveaway", "the brand's 双11 presale repost-to-win giveaway and its entries", entries)

    # Wednesday 21:52: an owner and her daughter in the corridor; the lock says 系统升级中; the key is inside.
    first = ordinary(scene, 342)
    others = [ordinary(scene, followers) for followers in (128, 76, 1_050)]
    locksmith = ordinary(scene, 1_930)
    consumers = scene.pool.special(bank.slots["consumer_name"][0], 412_000, True, "media")
    blogger = scene.pool.special(bank.slots["blogger"][0], 81_600, True, "user")
    summary_text = bank.slots["blogger_post"][0]
    followups = bank.slots["seed_followups"]
    statements = bank.slots["official_statements"]
    plan = IncidentPlan(
        id="firmware-lockout",
        brand="栖安",
        product="栖安联网智能门锁（Q5、Q7 Pro、F1）与10月22日晚夜间自动推送的固件v3.2.0（随栖安App 5.0）",
        fault="夜间自动升级固件后门锁卡在“系统升级中”，指纹、密码、NFC卡、App均无法开锁，部分全自动型号室内开门键失灵；"
        "用户被关在门外或困在屋内，机械钥匙多在屋里，客服热线整夜打不通，开锁破锁芯花费300到800元",
        bank=bank,
        feed=QIAN_FEED,
        waves=[
            Wave(LOCKED_OUT + 0.1, 70, FIRST_NIGHT, 1.4, 1.2),
            Wave(79.0, 38, MORNING_AFTER, 1.5, 1.5),
            Wave(BLOGGER + 0.1, 75, AFTER_SUMMARY, 1.4, 2.0),
            Wave(NETWORK + 0.1, 45, AFTER_NETWORK, 1.4, 2.0),
            Wave(CONSUMERS, 22, SUMMONED, 1.5, 2.5),
            Wave(104.0, 22, FRIDAY, 1.5, 3.0),
        ],
        scripted=[
            Scripted(UPDATE, official, statements[0], part_of_incident=False, heat=2.0),
            *scripted_series(
                LOCKED_OUT,
                (0.0, 0.28, 0.65, 1.1),
                [first, *others],
                bank.slots["seed_posts"],
                (6.0, 2.0, 1.0, 2.0),
            ),
            Scripted(71.67, first, followups[0], heat=3.0),
            Scripted(LOCKSMITH, locksmith, bank.slots["locksmith_post"][0], heat=30.0),
            Scripted(BLOGGER, blogger, summary_text, heat=6.0),
            Scripted(LOCAL_NEWS, scene.media[0], bank.slots["local_news_post"][0], heat=5.0),
            Scripted(NETWORK, official, statements[1], part_of_incident=False, heat=3.0),
            Scripted(85.17, blogger, bank.slots["blogger_followup"][0], heat=4.0),
            Scripted(86.67, scene.kols[2], bank.slots["lawyer_post"][0], heat=3.0),
            Scripted(CONSUMERS, consumers, bank.slots["consumer_post"][0], heat=4.0),
            Scripted(ROLLBACK, official, statements[2], part_of_incident=False, heat=3.0),
            Scripted(106.0, scene.kols[0], bank.slots["kol_after"][0], heat=2.0),
            Scripted(PROGRESS, official, statements[3], part_of_incident=False, heat=1.5),
            Scripted(116.5, first, followups[1], heat=1.5),
        ],
        topic_after=78.0,  # #智能锁升级后打不开门# and the like form by Thursday morning
        limit=300,
        route=route,
    )
    truth = scene.incident(plan)
    announcement, network, rollback, _ = truth["brand_statement_ids"]
    summary = next(draft.id for draft in timeline.drafts if draft.text == summary_text)

    # The first night outside and inside doors, Hong Kong and Taiwan owners in Traditional Chinese, the morning
    # after, how to get in and where to complain, and the mockery of "家庭网络问题".
    for times, write in (
        (bursts(scene, LOCKED_OUT + 0.5, 20, 1.3, 1.5), fresh_voices(scene, bank, "night", "neutral")),
        (bursts(scene, LOCKED_OUT + 0.6, 9, 1.3, 1.5), fresh_voices(scene, bank, "locked_in", "neutral")),
        (
            bursts(scene, LOCKED_OUT + 0.8, 9, 1.4, 4.0),
            fresh_voices(scene, bank, "trad_owner", "neutral", traditional=True),
        ),
        (bursts(scene, 78.5, 12, 1.5, 1.2), fresh_voices(scene, bank, "morning", "neutral")),
        (bursts(scene, BLOGGER + 1.0, 12, 1.5, 5.0), fresh_voices(scene, bank, "how_to", "neutral")),
        (bursts(scene, NETWORK + 0.8, 12, 1.5, 4.0), fresh_voices(scene, bank, "mock", "neutral")),
    ):
        extra_incident_posts(scene, truth, times, write, feed=route, brand="栖安")
    # Those still waiting for a locksmith, in a car or on a neighbour's sofa post through the small hours, more than
    # the everyday rhythm allows.
    small_hours = [timeline.hours(72.5 + rng.uniform(0.0, 3.0)).replace(microsecond=0) for _ in range(8)]
    extra_incident_posts(
        scene, truth, small_hours, fresh_voices(scene, bank, "night", "neutral"), feed=route, brand="栖安"
    )
    incident_follow_up(
        scene,
        truth,
        bank,
        statements=(
            (LOCKED_OUT + 0.9, 14, 1.4, announcement, "update_reaction", "update_repost"),
            (BLOGGER + 0.05, 20, 1.5, summary, "blogger_reaction", "blogger_repost"),
            (NETWORK + 0.02, 30, 1.2, network, "denial_reaction", "denial_repost"),
            (ROLLBACK + 0.02, 28, 2.0, rollback, "second_reaction", "second_repost"),
        ),
        # Friday: engineers at the door, receipts, keys cut, auto-update switched off, locks taken out.
        aftermath=(
            (ROLLBACK + 10.0, 12, 1.6, 2.0, {"first_night": "周三", "statement_day": "昨天"}),
            (108.0, 18, 1.6, 2.5, {"first_night": "周三", "statement_day": "昨天"}),
        ),
        news=LOCK_NEWS,
        feed=route,
        brand="栖安",
    )

    # One 33-follower owner whose door frame the installer cracked, again and again, all week.
    repeat_ranter(
        scene,
        33,
        bank,
        "install_rant",
        15,
        (0, 120),
        "one 33-follower account ranting fifteen times, all week, that the brand's installer cracked its door frame "
        "two weeks ago and nobody comes to fix it",
        feed=QIAN_FEED,
        brand="栖安",
    )
    # Another (fictional, similar-named) lock brand's small grumbles, days apart; nobody picks them up.
    other_brand_mild(
        scene,
        (14.2, 57.6, 101.3),
        bank.slots["other_lock"],
        route,
        "three posts, days apart, about another lock brand's (栖云, fictional) glossy panel, App registration and "
        "battery life; nobody picks them up",
    )
    big_account_neutral(
        scene,
        zip((10.5, 44.3), (scene.media[4], scene.kols[6]), bank.slots["big_neutral"], strict=True),
        "a business media account's post on the smart-lock market and the presale, and a home-appliance "
        "commentator's neutral look at smart homes, both naming the brand among others",
        feed=QIAN_FEED,
        brand="栖安",
    )
    mild_big_grumble(scene, 38.2, bank.slots["big_mild"][0], "栖安", QIAN_FEED)
    truth = scene.truth(
        "产品故障（固件升级）：虚构智能门锁品牌“栖安”（官方账号栖安智能锁，大家也叫栖安锁、qa，或只说某锁、这个锁）平日"
        "品牌搜索里每天有十条左右自己的吐槽（电池、安装费和迟到、App广告推送、猫眼画面、双11降价、客服），“智能锁”分类搜索"
        "里每天是各家门锁的日常（选购、安装、电池、安全担忧、别家的小毛病）。周一晚一位妈妈发视频：七岁儿子第一次自己放学"
        "回家，指纹开门、手机收到提醒，刷屏，栖安次日转发；周二双11预售抽奖。周三晚7点半栖安发布App 5.0和门锁固件"
        "v3.2.0，“今晚起夜间自动完成，醒来就是新门锁”。晚9点52分，一位三百多粉的普通用户发帖：家里智能锁打不开，屏幕一直"
        "显示“系统升级中”，指纹、密码、App都不行，和女儿站在楼道里，机械钥匙在屋里抽屉，客服占线（没提品牌）；随后有人的"
        "妈妈被全自动锁关在屋里、开锁师傅报价650要破锁芯、业主群六七家的栖安锁都打不开；当晚楼道里、车里、酒店里、邻居家的"
        "帖子，被关在屋里的老人孩子，港台用户繁体（粤语）发帖；凌晨一位开锁师傅说一晚九单全是同一个牌子。周四早上锁不上门、"
        "请假等师傅；8点40分一位八万多粉的家居博主汇总两百多条私信（栖安Q5、Q7 Pro、F1，固件3.2.0，9V应急供电没用，"
        "复位键在屋里），本地新闻账号报道；11点半栖安称“极个别用户，家庭网络不稳定，请长按复位键或使用机械钥匙”被群嘲"
        "（“钥匙在屋里，网络在屋里，我在屋外”），博主反驳、律师讲解、12315和黑猫投诉、消保委约谈“某品牌”；晚9点栖安致歉"
        "（固件缺陷，回滚到v3.1.8，工程师上门，开锁换锁住宿凭票报销，延保两年，今后升级须用户确认），反应不一；周五工程师"
        "上门、报销、配钥匙、关自动升级、拆锁，栖安公布处理进展。多数帖子不提品牌，来自“智能锁”分类搜索或时间线。诱饵："
        "栖安自己的日常吐槽涓流、“智能锁”搜索里别家门锁的日常小毛病、品牌搜索抓到的栖安苑等同名帖子、孩子指纹回家视频刷屏"
        "及双11抽奖、一个小号全周反复骂安装师傅打裂门框、另一个锁品牌（栖云）无人理会的小抱怨、财经媒体和家电博主的中性帖、"
        "大号无人理会的App推送小抱怨。"
    )
    return timeline.lines(), truth


RECIPES: dict[str, Recipe] = {
    "airline": airline,
    "backlash": backlash,
    "bank_app": bank_app,
    "delivery": delivery,
    "fridge": fridge,
    "grassroots": grassroots,
    "noise_day": noise_day,
    "outage": outage,
    "pricing": pricing,
    "privacy": privacy,
    "serum": serum,
    "slow_burn": slow_burn,
    "smartlock": smartlock,
    "streaming": streaming,
    "traditional": traditional,
    "two_faults": two_faults,
}


def _homonyms(scene: Scene, bank: PhraseBank, feed: str, brand: str) -> list[str]:
    """About three posts a day for five days that use the brand's name in another meaning (the bank's "homonym"
    phrases), as the brand's own search ``feed`` fetches and tags them."""
    rng, timeline = scene.rng, scene.timeline
    posts = []
    for day in range(5):
        low, high = timeline.hours(24 * day), timeline.hours(24 * (day + 1))
        for _ in range(round(3 * rng.uniform(0.8, 1.2))):
            text = timeline.unique_text(
                lambda: scene.finish(bank.say(rng, "homonym"), "happy", limit=300, bank=bank)
            )
            posts.append(
                timeline.add(
                    timeline.active_time(low, high), scene.pool.pick(), text, feed=feed, brand=brand, heat=0.4
                )
            )
    return posts
