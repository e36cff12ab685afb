"""``config/alerting.toml``: the route tree, receivers, inhibit rules and delivery settings (Alertmanager's model).

Secrets (robot signing keys, webhook tokens, SMTP passwords) never live in this file: receivers name an
environment variable (``*_env``) or a file (``*_file``) that holds them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from monitor.alerting.matchers import parse_matchers
from monitor.errors import ConfigError

_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """``"30s"``, ``"5m"``, ``"4h"``, ``"1d"``, ``"1h30m"`` -> timedelta; raises ValueError otherwise."""
    if isinstance(value, timedelta):
        return value
    text = value.strip() if isinstance(value, str) else None
    if not text or _DURATION_PART.sub("", text) != "":
        raise ValueError(f'invalid duration {value!r}: expected a string such as "30s", "5m", "4h" or "1d"')
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(text))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, for messages and the CLI."""
    seconds = int(value.total_seconds())
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _check_matchers(value: list[str]) -> list[str]:
    parse_matchers(value)
    return value


Matchers = Annotated[list[str], BeforeValidator(lambda v: v if not isinstance(v, str) else [v])]


class RouteConfig(BaseModel):
    """One node of the route tree; unset options are inherited from the parent (Alertmanager semantics)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    receiver: str | None = None
    matchers: Matchers = []
    continue_: bool = Field(False, alias="continue")
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    routes: list[RouteConfig] = []

    _valid_matchers = field_validator("matchers")(_check_matchers)

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, value: list[str] | None) -> list[str] | None:
        if value and "..." in value and len(value) > 1:
            raise ValueError('"..." (group by every label) cannot be combined with other labels')
        return value

    @field_validator("group_interval", "repeat_interval")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


class InhibitRule(BaseModel):
    """Mute alerts matching ``target_matchers`` while one matching ``source_matchers`` fires with equal labels."""

    model_config = ConfigDict(extra="forbid")

    source_matchers: Matchers
    target_matchers: Matchers
    equal: list[str] = []

    _valid_matchers = field_validator("source_matchers", "target_matchers")(_check_matchers)

    @field_validator("source_matchers", "target_matchers")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one matcher (an empty list would match every alert)")
        return value


SECRET_KEYS = ("secret", "password", "token", "access_token", "key")


class _Receiver(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1)
    send_resolved: bool = True

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in SECRET_KEYS:
                if key in data:
                    raise ValueError(
                        f"{key!r} would put a secret in the config file: name an environment variable "
                        f"({key}_env) or a file ({key}_file) instead"
                    )
        return data


class _UrlReceiver(_Receiver):
    # The URL itself may carry a token (DingTalk access_token, WeCom key, Slack path): prefer url_env/url_file.
    url: str | None = None
    url_env: str | None = None
    url_file: str | None = None

    @model_validator(mode="after")
    def _one_url(self) -> _UrlReceiver:
        given = [key for key in ("url", "url_env", "url_file") if getattr(self, key)]
        if len(given) != 1:
            raise ValueError(
                f"receiver {self.name!r} needs exactly one of url, url_env, url_file (got {', '.join(given) or 'none'})"
            )
        if self.url and (credential := url_credential(self.url)):
            raise ValueError(
                f"receiver {self.name!r}: its url holds a credential ({credential}), which would put a secret in "
                "the config file: name an environment variable (url_env) or a file (url_file) that holds the URL"
            )
        return self


# Query parameters and URL paths through which chat robots and webhooks carry their token.
_TOKEN_PARAMS = {
    "access_token",
    "token",
    "key",
    "secret",
    "sign",
    "signature",
    "password",
    "api_key",
    "apikey",
}
_TOKEN_PATHS = (
    ("hooks.slack.com", "/services/"),
    ("open.feishu.cn", "/open-apis/bot/"),
    ("open.larksuite.com", "/open-apis/bot/"),
)
# Apprise schemes that do not hold a token themselves (generic JSON/XML/form posts to a URL).
_APPRISE_PLAIN = {"http", "https", "json", "jsons", "xml", "xmls", "form", "forms"}


def url_credential(url: str) -> str | None:
    """What in ``url`` is a credential (a token parameter, a password, a robot's token path), or None."""
    parts = urlsplit(url)
    if parts.password:
        return "a password before the host"
    for name in parse_qs(parts.query, keep_blank_values=True):
        if name.lower() in _TOKEN_PARAMS:
            return f"the {name}= parameter"
    host = (parts.hostname or "").lower()
    for robot_host, path in _TOKEN_PATHS:
        if host == robot_host and parts.path.startswith(path):
            return f"the token in the {robot_host} path"
    if parts.scheme.lower() not in _APPRISE_PLAIN and host not in ("127.0.0.1", "localhost", "::1"):
        return f"the {parts.scheme}:// service's token"
    return None


class _SignedReceiver(_UrlReceiver):
    secret_env: str | None = None
    secret_file: str | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> _SignedReceiver:
        if self.secret_env and self.secret_file:
            raise ValueError(f"receiver {self.name!r}: give secret_env or secret_file, not both")
        return self


class ConsoleReceiver(_Receiver):
    """Prints each message to standard output (the offline default)."""

    type: Literal["console"]


class LogReceiver(_Receiver):
    """Writes each message to the log at INFO."""

    type: Literal["log"]


class NullReceiver(_Receiver):
    """Sends nothing: alerts routed here are kept (dashboard, ``tingfeng alerts``) and notify no one, like
    Alertmanager's receiver without integrations."""

    type: Literal["none"]


class WebhookReceiver(_SignedReceiver):
    """POSTs the notifications as JSON; with a secret, signs the body (``X-Tingfeng-Signature``)."""

    type: Literal["webhook"]


class DingTalkReceiver(_SignedReceiver):
    """DingTalk group robot, markdown message, optional 加签 signing secret."""

    type: Literal["dingtalk"]


class WeComReceiver(_UrlReceiver):
    """WeCom (企业微信) group robot, markdown message."""

    type: Literal["wecom"]


class FeishuReceiver(_SignedReceiver):
    """Feishu / Lark custom bot, interactive card, optional signing secret."""

    type: Literal["feishu"]


class SlackReceiver(_UrlReceiver):
    """Slack incoming webhook, Block Kit message."""

    type: Literal["slack"]


class AppriseReceiver(_UrlReceiver):
    """Any service Apprise knows (its URL syntax); the URL usually holds a token, so use url_env/url_file."""

    type: Literal["apprise"]


class EmailReceiver(_Receiver):
    """Email over SMTP, HTML and plain text."""

    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    ca_file: str | None = None  # a CA bundle to trust (e.g. a private mail server's certificate)
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    from_addr: str = Field(alias="from")
    to: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _password(self) -> EmailReceiver:
        if self.password_env and self.password_file:
            raise ValueError(f"receiver {self.name!r}: give password_env or password_file, not both")
        if (self.password_env or self.password_file) and not self.username:
            raise ValueError(f"receiver {self.name!r}: a password needs a username")
        return self


ReceiverConfig = Annotated[
    ConsoleReceiver
    | LogReceiver
    | NullReceiver
    | WebhookReceiver
    | DingTalkReceiver
    | WeComReceiver
    | FeishuReceiver
    | SlackReceiver
    | AppriseReceiver
    | EmailReceiver,
    Field(discriminator="type"),
]


class DeliveryConfig(BaseModel):
    """How the outbox sends: attempts, backoff, timeout, and whether a replay sends for real."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(12, ge=1, le=100)
    backoff_initial: Duration = timedelta(seconds=10)
    backoff_max: Duration = timedelta(minutes=30)
    timeout: Duration = timedelta(seconds=10)
    send_on_replay: bool = False


def _default_route() -> RouteConfig:
    return RouteConfig(
        receiver="console",
        group_by=["incident_id"],
        group_wait=timedelta(seconds=30),
        group_interval=timedelta(minutes=5),
        repeat_interval=timedelta(hours=4),
    )


class AlertingConfig(BaseModel):
    """The whole ``alerting.toml``; every option has a default that works offline."""

    model_config = ConfigDict(extra="forbid")

    dashboard_url: str = "http://127.0.0.1:8642"
    # An incident that has grown by this factor since its last notification is notified again.
    growth_factor: float = Field(2.0, gt=1.0)
    evidence_posts: int = Field(5, ge=0, le=20)
    route: RouteConfig = Field(default_factory=_default_route)
    receivers: list[ReceiverConfig] = Field(
        default_factory=lambda: [ConsoleReceiver(name="console", type="console")]
    )
    inhibit_rules: list[InhibitRule] = []
    delivery: DeliveryConfig = DeliveryConfig()

    @model_validator(mode="after")
    def _cross_references(self) -> AlertingConfig:
        names: dict[str, int] = {}
        for index, receiver in enumerate(self.receivers):
            if receiver.name in names:
                raise ValueError(f"receivers[{index}].name: duplicate receiver name {receiver.name!r}")
            names[receiver.name] = index
        if self.route.receiver is None:
            raise ValueError("route.receiver: the root route needs a receiver (the default for every alert)")
        if self.route.matchers:
            raise ValueError("route.matchers: the root route matches every alert and cannot have matchers")
        for path, node in _walk(self.route, "route"):
            if node.receiver is not None and node.receiver not in names:
                defined = ", ".join(sorted(names)) or "none"
                raise ValueError(f"{path}.receiver: unknown receiver {node.receiver!r} (defined: {defined})")
        return self

    def receiver(self, name: str) -> ReceiverConfig:
        """The receiver called ``name`` (validated to exist for every route)."""
        for receiver in self.receivers:
            if receiver.name == name:
                return receiver
        raise ConfigError(f"unknown receiver {name!r}", key="receivers")


def _walk(node: RouteConfig, path: str):
    yield path, node
    for index, child in enumerate(node.routes):
        yield from _walk(child, f"{path}.routes[{index}]")


def load_alerting_config(path: str | Path) -> AlertingConfig:
    """Read ``alerting.toml`` (a file, or a config directory holding one); an absent file gives the defaults."""
    from monitor.config import load_file

    path = Path(path)
    return load_file(path / "alerting.toml" if path.is_dir() else path, AlertingConfig)
