"""Detection settings: every threshold the detector uses, with defaults, validated when loaded.

Loaded from ``config/detection.toml`` by ``monitor.config``; every field has a default, so an empty file (or no
file) gives the shipped behaviour. Cross-field checks (watch ≤ warning ≤ critical, cooling before resolving)
live in validators whose messages name the keys involved.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

SEVERITY_LEVELS = ("watch", "warning", "critical")


def _rank(severity: str | None) -> int:
    return SEVERITY_LEVELS.index(severity) + 1 if severity in SEVERITY_LEVELS else 0


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComplaintRule(_Section):
    """Which classified posts count as complaints (only complaints form incidents)."""

    min_negative: float = Field(0.5, ge=0, le=1)
    escalation_levels: list[str] = ["medium", "high"]
    max_positive: float = Field(0.5, ge=0, le=1)
    high_escalation_score: float = Field(0.6, ge=0, le=1)

    @model_validator(mode="after")
    def _levels_known(self) -> ComplaintRule:
        unknown = sorted(set(self.escalation_levels) - {"low", "medium", "high"})
        if unknown:
            raise ValueError(
                f"complaint.escalation_levels: unknown level(s) {unknown}; use low, medium, high"
            )
        return self


# Fault words by family (Simplified: Traditional text is converted first). A complaint naming a family's word
# names that fault: complaints of one brand naming the same family are one fault however they word it ("滴水",
# "漏水"), incidents naming different families are different faults, and a post naming none is a reaction to
# whatever the brand's people are talking about. Broad on purpose: they are kinds of fault, not one product's.
FAULT_TERMS: dict[str, list[str]] = {
    "漏水": ["漏水", "滴水", "渗水", "渗漏", "漏了水", "往下滴", "漏液"],
    "漏气": ["漏气", "燃气味", "煤气味", "漏油"],
    "漏电": ["漏电", "触电", "电到手", "麻手"],
    "起火": ["起火", "着火", "自燃", "爆炸", "冒烟", "烧焦"],
    "过热": ["发烫", "过热", "烫手", "发热严重", "烫得"],
    "电池": ["鼓包", "电池膨胀", "掉电", "耗电", "续航缩水"],
    "屏幕": ["黑屏", "花屏", "闪屏", "白屏", "蓝屏", "屏幕失灵", "触屏失灵", "屏幕不亮"],
    "死机": ["死机", "闪退", "卡死", "自动重启", "反复重启", "无限重启"],
    "充电": ["充电", "充不上电", "充不进电", "充不了电", "无法充电", "不充电"],
    "关门": ["关不上", "关不严", "关不紧", "关不住", "合不拢", "关不到位", "自己弹开", "门封"],
    "异响": ["异响", "噪音大", "响声大", "嗡嗡响", "咔咔响"],
    "制冷": ["不制冷", "不冷了", "结霜", "结冰"],
    "制热": ["不制热", "不出热水", "忽冷忽热", "打不着火", "点不着火"],
    "食安": [
        "拉肚子", "腹泻", "呕吐", "想吐", "上吐下泻", "食物中毒", "肠胃炎", "肚子痛", "肚子疼", "变质", "异物", "吃出",
    ],
    "刹车": ["刹车失灵", "刹不住", "断轴", "失速", "自动加速", "方向盘失灵", "熄火"],
    "异味": ["异味", "甲醛", "臭味", "刺鼻"],
    "开裂": ["开裂", "断裂", "裂开了", "掉漆", "生锈", "锈穿", "脱落", "变形"],
    # Reactions of skin and body to what is put on or in it (skincare, make-up, medicine, detergent, clothes).
    "过敏": [
        "过敏", "红肿", "刺痛", "烂脸", "起疹子", "红疹", "疹子", "瘙痒", "奇痒", "爆痘", "闷痘", "皮炎", "又红又肿", "又红又痒",
    ],
    # Service failures, in any industry (banks, shops, apps, couriers, carriers).
    "支付": [
        "重复扣款", "重复扣费", "重复支付", "扣了两次", "扣两次", "扣了两遍", "扣两遍", "扣了两笔", "扣了双份", "扣咗两次",
        "多扣", "乱扣费", "乱扣钱", "莫名扣费", "莫名扣款", "偷偷扣费", "盗刷", "付款失败", "支付失败", "转账处理中", "交易处理中", "支付处理中", "显示处理中", "没到账",
        "未到账", "不到账", "没有到账", "到不了账", "转账失败", "转不出去", "转账卡住", "提现失败", "提不了现",
        "对方没收到", "对方说没收到", "钱没到", "资金冻结",
    ],
    "登录": [
        "登不上", "登录不了", "登陆不了", "登录不上", "登陆不上", "登不进", "无法登录", "登录失败", "登录异常", "账号被封",
        "被封号", "封号", "账号被盗", "被盗号", "账户被冻结", "账户冻结", "收不到验证码", "验证码收不到",
    ],
    "宕机": [
        "宕机", "瘫痪", "服务器崩", "系统崩", "app崩", "崩溃了", "app打不开", "网页打不开", "页面打不开", "软件打不开",
        "无法访问", "进不去了", "加载不出来", "网络异常", "服务中断", "停服",
        "没信号", "无信号", "信号没了", "没有信号", "无服务", "断网", "网断了", "没网了", "上不了网", "无法上网",
        "打不了电话", "打不出电话", "电话打不出去", "4g没了", "5g没了",
    ],
    "物流": [
        "不发货", "没发货", "丢件", "快递丢了", "包裹丢了", "物流不动", "物流停滞", "物流没更新", "没收到货",
        "收不到货", "还没到货", "送错", "快递延误", "物流延误", "配送延误", "超时未送达", "不派送", "虚假签收",
    ],
    # What the brand says rather than what it sells: an advert, a promo film, a poster or its copy, called
    # offensive or misleading (a backlash names no product fault, only the ad).
    "广告": ["广告", "宣传片", "广告片", "文案", "海报"],
    # Companions (grouping.companion_faults): they go with any fault.
    "客服": [
        "打不通", "没人接", "无人接听", "坐席忙", "联系不上", "打唔通", "搵唔到人", "转人工", "客服不理", "不回复",
        "机器人客服", "踢皮球", "推来推去",
    ],
    "退款": [
        "拒绝退款", "不给退款", "不给退", "退款失败", "退不了", "退款没到", "还没退", "没退回", "不退款", "退款被拒",
        "拒不退款", "拒绝退货", "不给退货", "不给换",
    ],
}  # fmt: skip
# Families that go with any fault (a hotline nobody answers, a refund refused): a post naming one of them and no
# other family shares that family's word with others like it, but they never tell two faults apart.
COMPANION_FAULTS: list[str] = ["客服", "退款"]
# Complaint language: threats, calls to repost, what people say to a brand's answer. Every incident's later posts
# share it, whatever the fault, so it is left out of the words incidents are compared by.
REACTION_TERMS: list[str] = [
    "维权", "投诉", "曝光", "扩散", "转发", "帮忙转", "转起来", "律师", "起诉", "法律", "12315", "消协", "消保",
    "消基会", "消委会", "工商", "市场监管", "监管", "媒体", "记者", "报社", "电视台", "说法", "道歉", "回应", "声明",
    "质量问题", "不存在", "抵制", "退货", "退款", "赔偿", "索赔", "三包", "客服", "售后", "官方", "死磕", "集体",
    "支持", "围观", "关注", "求助", "消费者", "公关", "解释", "负责", "召回", "爆料", "个别", "使用不当",
]  # fmt: skip


# Mood words people add to any grumble ("无语", "习惯了"): left out of the words incidents are compared by, like
# complaint language, but they do not make a post a reaction.
MOOD_TERMS: list[str] = [
    "无语", "服了", "醉了", "呵呵", "心累", "气死", "烦死了", "习惯了", "绝了", "离谱", "受不了", "无力吐槽",
    "破防", "真的会谢",
]  # fmt: skip


class GroupingConfig(_Section):
    """How complaints are grouped into incidents by text similarity."""

    min_similarity: float = Field(0.12, gt=0, le=1)
    merge_similarity: float = Field(0.2, gt=0, le=1)
    merge_alerted_similarity: float = Field(0.3, gt=0, le=1)
    echo_markers: list[str] = [
        "也是", "也这样", "也一样", "一模一样", "同款", "同样", "同问", "+1", "我也", "不止我", "中招",
        "受害者", "同病相怜", "不是个例", "好多人",
    ]  # fmt: skip
    fault_terms: dict[str, list[str]] = FAULT_TERMS
    companion_faults: list[str] = COMPANION_FAULTS
    reaction_terms: list[str] = REACTION_TERMS
    mood_terms: list[str] = MOOD_TERMS
    echo_max_features: int = Field(8, ge=0)
    echo_min_containment: float = Field(0.6, gt=0, le=1)
    echo_max_chars: int = Field(20, ge=0)
    echo_window_hours: float = Field(2.0, gt=0)
    echo_min_authors: int = Field(3, ge=1)
    brand_from_reposts: int = Field(2, ge=0)
    brand_from_likeness: bool = True
    storm_own_share: float = Field(0.67, gt=0, le=1)
    storm_window_hours: float = Field(2.0, gt=0)
    storm_min_authors: int = Field(3, ge=1)
    storm_ratio: float = Field(4.0, gt=0)
    storm_weight: float = Field(2.5, ge=1)
    # A verified account named a brand plus only these words is the brand's own ("海尔官方微博", "格力电器").
    official_suffixes: list[str] = [
        "官方微博", "官方", "官博", "官微", "微博", "客服", "服务", "售后", "集团", "中国", "公司", "股份", "控股",
        "科技", "电器", "家电", "电子", "汽车", "手机", "银行", "冰箱", "空调", "洗衣机", "热水器", "智能",
        "旗舰店", "app",
    ]  # fmt: skip
    max_terms: int = Field(300, ge=10)
    match_window_hours: float = Field(72.0, gt=0)
    reopen_within_days: float = Field(14.0, ge=0)
    vocabulary_limit: int = Field(200_000, ge=1000)

    @model_validator(mode="after")
    def _one_family_per_word(self) -> GroupingConfig:
        seen: dict[str, str] = {}
        for family, words in self.fault_terms.items():
            for word in words:
                key = word.strip().lower()
                if not key:
                    raise ValueError(f"grouping.fault_terms.{family}: a word is empty")
                if seen.get(key, family) != family:
                    raise ValueError(
                        f"grouping.fault_terms.{family}: {word!r} is already a word of grouping.fault_terms.{seen[key]}"
                    )
                seen[key] = family
        unknown = sorted(set(self.companion_faults) - set(self.fault_terms))
        if unknown and self.fault_terms:  # with no families at all there is nothing for companions to name
            raise ValueError(f"grouping.companion_faults: {unknown} are not families of grouping.fault_terms")
        return self


class BaselineConfig(_Section):
    """The usual level of complaints, learned per feed/brand and per incident."""

    half_life_days: float = Field(7.0, gt=0)
    lag_hours: float = Field(24.0, ge=0)
    prior_per_day: float = Field(4.0, ge=0)
    prior_days: float = Field(1.0, gt=0)
    cluster_share: float = Field(0.25, ge=0, le=1)
    cluster_prior_per_day: float = Field(0.5, gt=0)
    cluster_prior_days: float = Field(1.0, gt=0)


class SpreadConfig(_Section):
    """How each author's voice is weighed, and engagement velocity measured."""

    reach_unit: int = Field(10_000, ge=1)
    reach_weight: float = Field(1.0, ge=0)
    verified_bonus: float = Field(1.0, ge=0)
    high_escalation_factor: float = Field(1.5, ge=1)
    media_name_hints: list[str] = [
        "新闻",
        "日报",
        "晚报",
        "早报",
        "时报",
        "财经",
        "媒体",
        "电视",
        "频道",
        "观察",
    ]
    velocity_window_hours: float = Field(2.0, gt=0)
    repost_weight: float = Field(1.0, ge=0)
    comment_weight: float = Field(1.0, ge=0)
    like_weight: float = Field(0.1, ge=0)
    min_complaint_share: float = Field(0.5, ge=0, le=1)


class LevelRule(_Section):
    """One severity level reached by spread: enough voices, growing fast enough, within a window."""

    window_hours: float = Field(gt=0)
    min_authors: int = Field(ge=1)
    min_voices: float = Field(ge=0)
    min_growth: float = Field(ge=0)


class SeverityConfig(_Section):
    """Thresholds of watch / warning / critical, and the other ways to reach critical."""

    watch: LevelRule = LevelRule(window_hours=12, min_authors=2, min_voices=2, min_growth=1.5)
    warning: LevelRule = LevelRule(window_hours=12, min_authors=4, min_voices=4, min_growth=2.5)
    critical: LevelRule = LevelRule(window_hours=24, min_authors=12, min_voices=30, min_growth=4)
    sustained: LevelRule = LevelRule(window_hours=168, min_authors=8, min_voices=8, min_growth=2)
    burst: LevelRule = LevelRule(window_hours=2, min_authors=6, min_voices=6, min_growth=4)
    min_echo_authors: int = Field(2, ge=0)
    critical_velocity_per_hour: float = Field(3000.0, gt=0)
    critical_velocity_min_authors: int = Field(3, ge=1)
    critical_verified_authors: int = Field(2, ge=1)
    critical_verified_min_authors: int = Field(6, ge=1)
    critical_high_share: float = Field(0.4, gt=0, le=1)
    critical_high_min_authors: int = Field(8, ge=1)
    unbranded_max: str = "watch"

    @model_validator(mode="after")
    def _ordered(self) -> SeverityConfig:
        if self.unbranded_max not in SEVERITY_LEVELS + ("none",):
            raise ValueError(
                f"severity.unbranded_max: expected watch, warning, critical or none, got {self.unbranded_max!r}"
            )
        for key in ("min_authors", "min_voices", "min_growth"):
            values = [getattr(getattr(self, level), key) for level in SEVERITY_LEVELS]
            if values != sorted(values):
                raise ValueError(
                    f"severity.watch/warning/critical.{key} must not decrease from watch to critical, "
                    f"got {values}"
                )
        return self


class FastPathConfig(_Section):
    """A single negative, escalating post from a big or verified account."""

    enabled: bool = True
    min_followers: int = Field(500_000, ge=0)
    verified_min_followers: int = Field(50_000, ge=0)
    min_negative: float = Field(0.6, ge=0, le=1)
    min_escalation_score: float = Field(0.6, ge=0, le=1)
    severity: str = "warning"
    grumble_severity: str = "watch"

    @model_validator(mode="after")
    def _severities(self) -> FastPathConfig:
        for key in ("severity", "grumble_severity"):
            value = getattr(self, key)
            if value not in SEVERITY_LEVELS + ("none",):
                raise ValueError(f"fast_path.{key}: expected watch, warning, critical or none, got {value!r}")
        if _rank(self.grumble_severity) > _rank(self.severity):
            raise ValueError(
                "fast_path.grumble_severity must not exceed fast_path.severity "
                f"({self.grumble_severity!r} > {self.severity!r})"
            )
        return self


class LifecycleConfig(_Section):
    """new → growing → cooling → resolved, and how long unalerted candidates are kept."""

    cooling_after_hours: float = Field(6.0, gt=0)
    resolve_after_hours: float = Field(48.0, gt=0)
    candidate_ttl_hours: float = Field(72.0, gt=0)
    list_min_authors: int = Field(2, ge=1)
    reopen_severity: str = "watch"
    manual_reopen_severity: str = "warning"

    @model_validator(mode="after")
    def _cooling_first(self) -> LifecycleConfig:
        if self.cooling_after_hours >= self.resolve_after_hours:
            raise ValueError(
                "lifecycle.cooling_after_hours must be less than lifecycle.resolve_after_hours "
                f"({self.cooling_after_hours} >= {self.resolve_after_hours})"
            )
        for key in ("reopen_severity", "manual_reopen_severity"):
            if getattr(self, key) not in SEVERITY_LEVELS:
                raise ValueError(
                    f"lifecycle.{key}: expected watch, warning or critical, got {getattr(self, key)!r}"
                )
        return self


class NotifyConfig(_Section):
    """When a growing incident is re-announced at the same severity."""

    growth_factor: float = Field(1.5, gt=1)
    min_new_authors: int = Field(5, ge=1)
    min_interval_minutes: float = Field(60.0, ge=0)
    max_post_ids: int = Field(10, ge=1)
    max_reasons: int = Field(6, ge=1)


class BrandConfig(_Section):
    """A brand and the names it goes by in posts (Simplified, Traditional, English)."""

    aliases: list[str] = Field(min_length=1)
    # The brand's own accounts by exact name, for names the official-suffix rule does not recognise.
    official_accounts: list[str] = []


class DetectionConfig(_Section):
    """All of detection's settings (``config/detection.toml``)."""

    complaint: ComplaintRule = ComplaintRule()
    grouping: GroupingConfig = GroupingConfig()
    baseline: BaselineConfig = BaselineConfig()
    spread: SpreadConfig = SpreadConfig()
    severity: SeverityConfig = SeverityConfig()
    fast_path: FastPathConfig = FastPathConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    notify: NotifyConfig = NotifyConfig()
    brands: dict[str, BrandConfig] = {}

    @model_validator(mode="after")
    def _cross_checks(self) -> DetectionConfig:
        seen: dict[str, str] = {}
        for brand, spec in self.brands.items():
            for alias in spec.aliases:
                key = alias.strip().lower()
                if not key:
                    raise ValueError(f"brands.{brand}.aliases: an alias is empty")
                if key in seen and seen[key] != brand:
                    raise ValueError(
                        f"brands.{brand}.aliases: {alias!r} is already an alias of brands.{seen[key]}"
                    )
                seen[key] = brand
        return self
