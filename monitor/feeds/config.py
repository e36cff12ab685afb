"""``feeds.toml``: what to watch and how often, validated when read.

Secrets (cookies, tokens, proxy passwords) never live here: a feed names the environment variable or the file
that holds them. Schedules are data with defaults, as APScheduler configures its ``job_defaults``::

    [defaults]                     # every feed inherits these unless it sets its own
    interval = "5m"
    [[feeds]]
    name = "brand-search"
    kind = "weibo"
    keywords = ["某品牌 冰箱"]
    cookie_env = "WEIBO_COOKIE"
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "x-auth-token", "proxy-authorization"}


def parse_seconds(value: Any) -> float:
    """``30`` or ``"30s"``, ``"5m"``, ``"1h30m"`` -> seconds; raises ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f'expected a duration such as 30, "30s", "5m" or "1h", got {value!r}')
    if isinstance(value, int | float):
        return float(value)
    text = value.strip() if isinstance(value, str) else ""
    if not text or _DURATION_PART.sub("", text) != "":
        raise ValueError(f'expected a duration such as 30, "30s", "5m" or "1h", got {value!r}')
    return sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(text))


Seconds = Annotated[float, BeforeValidator(parse_seconds), Field(ge=0)]


class QuietHours(BaseModel):
    """A daily window (local time) in which the feed is polled at ``interval`` instead of its usual pace."""

    model_config = ConfigDict(extra="forbid")

    start: time
    end: time
    interval: Seconds | None = None  # None: the feed's max_interval

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end are equal: the window would be empty")
        return self


class Schedule(BaseModel):
    """How often a feed runs; every field may be set in ``[defaults]`` or per feed."""

    model_config = ConfigDict(extra="forbid")

    interval: Seconds | None = None
    cron: str | None = None
    jitter: Seconds | None = None
    min_interval: Seconds | None = None
    max_interval: Seconds | None = None
    misfire_grace_time: Seconds | None = None
    adaptive: bool | None = None
    quiet_hours: list[QuietHours] | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {value!r}: {exc}") from None
        return value


class Defaults(Schedule):
    """``[defaults]``: the schedule every feed starts from."""

    interval: Seconds = 300.0
    jitter: Seconds = 15.0
    min_interval: Seconds = 30.0
    max_interval: Seconds = 3600.0
    misfire_grace_time: Seconds = 120.0
    adaptive: bool = True
    quiet_hours: list[QuietHours] = []
    timezone: str = "Asia/Shanghai"
    max_pages: int = Field(3, ge=1, le=100)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (expected an IANA name such as Asia/Shanghai)"
            ) from None
        return value


class HttpSettings(BaseModel):
    """``[http]``: how every HTTP feed fetches."""

    model_config = ConfigDict(extra="forbid")

    user_agent: str = "Tingfeng/0.1 (self-hosted complaint monitor; +https://github.com/tingfeng/tingfeng)"
    timeout: Seconds = 20.0
    connect_timeout: Seconds = 5.0
    retries: int = Field(3, ge=0, le=10)
    backoff: Seconds = 1.0
    backoff_max: Seconds = 60.0
    retry_after_max: Seconds = 120.0  # a longer Retry-After ends this run; the feed waits it out instead
    max_bytes: int = Field(10_000_000, ge=1024)
    per_host_concurrency: int = Field(2, ge=1, le=64)
    per_host_rate: float = Field(2.0, gt=0)  # requests per second to one host, all feeds together
    proxy: str | None = None  # a proxy URL without credentials
    proxy_env: str | None = None  # or the environment variable holding a proxy URL (may have credentials)

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not re.match(r"^(https?|socks5h?)://", value):
            raise ValueError(f"proxy must be an http://, https:// or socks5:// URL, got {value!r}")
        if "@" in value.split("//", 1)[1]:
            raise ValueError(
                "proxy URL holds credentials: put it in an environment variable and set proxy_env"
            )
        return value

    @model_validator(mode="after")
    def _bounds(self) -> HttpSettings:
        if self.backoff > self.backoff_max:
            raise ValueError(f"backoff ({self.backoff}s) is larger than backoff_max ({self.backoff_max}s)")
        return self


class HealthSettings(BaseModel):
    """``[health]``: when a feed counts as unhealthy and raises an ops alert."""

    model_config = ConfigDict(extra="forbid")

    error_streak: int = Field(3, ge=1)  # consecutive failed runs
    empty_window: Seconds = 21600.0  # a feed that used to bring posts has brought none for this long
    history: int = Field(500, ge=10)  # runs kept per feed in feed_runs
    severity: Literal["watch", "warning", "critical"] = "warning"


class PushServer(BaseModel):
    """``[push]``: the HTTP endpoint that ``push`` feeds receive posts on."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8643, ge=0, le=65535)
    max_bytes: int = Field(5_000_000, ge=1024)


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name")
    return value


class _Feed(Schedule):
    """What every feed kind shares."""

    name: str
    enabled: bool = True
    source: str | None = None  # the posts' `source`; default per kind
    keywords: list[str] = []  # keep only posts containing one of these (weibo: also the search query)
    exclude: list[str] = []  # drop posts containing one of these
    tags: dict[str, str] = {}  # labels for routing and the dashboard, e.g. brand = "海尔"
    max_pages: int | None = Field(None, ge=1, le=100)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"feed name {value!r} must be lower-case letters, digits, '-', '_' or '.' (at most 64)"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = {"kind", "feed", "source"} & set(value)
        if reserved:
            raise ValueError(f"tag {sorted(reserved)[0]!r} is reserved (set by the monitor itself)")
        return value

    @model_validator(mode="after")
    def _schedule(self) -> _Feed:
        if self.interval is not None and self.cron is not None:
            raise ValueError("set either interval or cron, not both")
        if (
            self.min_interval is not None
            and self.max_interval is not None
            and self.min_interval > self.max_interval
        ):
            raise ValueError(
                f"min_interval ({self.min_interval:g}s) is larger than max_interval ({self.max_interval:g}s)"
            )
        return self


class _HttpFeed(_Feed):
    url: str

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"url must start with http:// or https://, got {value!r}")
        return value


class RssFeed(_HttpFeed):
    """RSS or Atom, RSSHub routes included (``/weibo/keyword/:kw``, ``/weibo/user/:uid``)."""

    kind: Literal["rss"]


class WeiboFeed(_Feed):
    """The Weibo mobile JSON API: a keyword search or one user's timeline."""

    kind: Literal["weibo"]
    mode: Literal["search", "user"] = "search"
    uid: str | None = None
    realtime: bool = True  # search: newest first (type=61) rather than "all" (type=1)
    cookie_env: str | None = "WEIBO_COOKIE"
    cookie_file: str | None = None
    long_text: bool = True  # fetch the full text of posts Weibo cuts short
    base_url: str = "https://m.weibo.cn"

    @field_validator("cookie_env")
    @classmethod
    def _cookie_env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @model_validator(mode="after")
    def _target(self) -> WeiboFeed:
        if self.mode == "search" and not self.keywords:
            raise ValueError("mode 'search' needs keywords (the search query)")
        if self.mode == "user" and not (self.uid and self.uid.isdigit()):
            raise ValueError("mode 'user' needs uid, the user's numeric id")
        return self


class FieldMap(BaseModel):
    """Where a JSON API keeps each post field: dotted paths inside one item (``user.name``, ``stats.0``)."""

    model_config = ConfigDict(extra="forbid")

    id: str = "id"
    text: str = "text"
    url: str | None = None
    author: str | None = None
    author_followers: str | None = None
    author_verified: str | None = None
    created_at: str | None = None
    reposts: str | None = None
    comments: str | None = None
    likes: str | None = None


class JsonFeed(_HttpFeed):
    """Any JSON API, described by where its items are and which fields mean what."""

    kind: Literal["json"]
    items: str = ""  # dotted path to the list of items; "" for a top-level list
    fields: FieldMap = FieldMap()
    next_cursor: str | None = None  # dotted path, in the whole response, to the next page's cursor
    cursor_param: str = "cursor"  # query parameter that sends a cursor back
    resume: bool = False  # a change feed: the next run starts from the last cursor instead of the top
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    header_env: dict[str, str] = {}  # header name -> environment variable holding its value (tokens)

    @field_validator("headers")
    @classmethod
    def _no_secret_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name.lower() in _SECRET_HEADERS:
                raise ValueError(
                    f'header {name!r} carries a secret: set it with header_env = {{ {name!r} = "ENV_VAR" }}'
                )
        return value

    @field_validator("header_env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for env in value.values():
            _env_name(env)
        return value


class FileFeed(_Feed):
    """A JSONL file, or a folder of them, in the contract's post format, read incrementally."""

    kind: Literal["file"]
    path: str
    pattern: str = "*.jsonl"
    batch: int = Field(500, ge=1, le=100_000)


class PushFeed(_Feed):
    """Posts other systems POST to ``/push/NAME`` on the push server (bearer token, contract format)."""

    kind: Literal["push"]
    token_env: str | None = None
    token_file: str | None = None

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @model_validator(mode="after")
    def _token(self) -> PushFeed:
        if not self.token_env and not self.token_file:
            raise ValueError("a push feed needs token_env or token_file (the bearer token senders present)")
        return self


class DemoFeed(_Feed):
    """The built-in offline demo: a replay scenario served over local HTTP in accelerated time."""

    kind: Literal["demo"]
    scenario: str = "fridge"
    speed: float = Field(600.0, gt=0, le=1_000_000)  # simulated seconds per real second


FeedConfig = Annotated[
    RssFeed | WeiboFeed | JsonFeed | FileFeed | PushFeed | DemoFeed, Field(discriminator="kind")
]
KINDS = ("rss", "weibo", "json", "file", "push", "demo")


class FeedsConfig(BaseModel):
    """``feeds.toml``: defaults, the HTTP layer, health rules and the list of feeds."""

    model_config = ConfigDict(extra="forbid")

    defaults: Defaults = Defaults()
    http: HttpSettings = HttpSettings()
    health: HealthSettings = HealthSettings()
    push: PushServer = PushServer()
    feeds: list[FeedConfig] = []

    @model_validator(mode="after")
    def _cross_checks(self) -> FeedsConfig:
        seen: set[str] = set()
        demos = 0
        for feed in self.feeds:
            if feed.name in seen:
                raise ValueError(f"feeds: two feeds are named {feed.name!r}; names must be unique")
            seen.add(feed.name)
            demos += feed.kind == "demo" and feed.enabled
            low = self.effective(feed, "min_interval")
            high = self.effective(feed, "max_interval")
            interval = self.effective(feed, "interval")
            if low > high:
                raise ValueError(
                    f"feed {feed.name!r}: min_interval ({low:g}s) is larger than max_interval ({high:g}s)"
                )
            if feed.cron is None and not low <= interval <= high:
                raise ValueError(
                    f"feed {feed.name!r}: interval ({interval:g}s) is outside min_interval..max_interval "
                    f"({low:g}s..{high:g}s)"
                )
            jitter = self.effective(feed, "jitter")
            if feed.cron is None and jitter >= interval:
                raise ValueError(
                    f"feed {feed.name!r}: jitter ({jitter:g}s) must be smaller than interval ({interval:g}s)"
                )
        if demos > 1:
            raise ValueError("feeds: at most one enabled demo feed (it sets the daemon's simulated clock)")
        return self

    def effective(self, feed: _Feed, name: str) -> Any:
        """A feed's own schedule setting, else the one in ``[defaults]``."""
        value = getattr(feed, name, None)
        return getattr(self.defaults, name) if value is None else value

    def feed(self, name: str) -> _Feed:
        """The feed called ``name``; KeyError naming the known ones otherwise."""
        for feed in self.feeds:
            if feed.name == name:
                return feed
        known = ", ".join(f.name for f in self.feeds) or "none"
        raise KeyError(f"no feed named {name!r} (configured: {known})")
