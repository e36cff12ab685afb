"""Operator configuration: TOML files under ``config/``, validated when read.

Each file has one pydantic model that holds every default; a file that is absent means "all defaults".
Every error names the file, the key path and what was expected, e.g.::

    config/alerting.toml: route.routes[0].receiver: unknown receiver 'pr-team' (defined: console)
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.errors import ConfigError

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class WebConfig(BaseModel):
    """The dashboard and API server."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8642, ge=1, le=65535)
    base_url: str = "http://127.0.0.1:8642"
    enabled: bool = True
    # Login: a password whose hash (scrypt) is stored in the database; set it with `tingfeng web passwd`,
    # or give the initial one by environment variable. Never written here.
    password_env: str = "TINGFENG_WEB_PASSWORD"
    token_env: str = "TINGFENG_API_TOKEN"
    # How long a login lasts; mark the cookie Secure when served over HTTPS (behind a TLS proxy).
    session_hours: float = Field(168.0, gt=0, le=24 * 366)
    secure_cookie: bool = False


class MonitorConfig(BaseModel):
    """``monitor.toml``: where things are and how the monitor presents time."""

    model_config = ConfigDict(extra="forbid")

    database: str = "var/tingfeng.db"
    model: str | None = None
    timezone: str = "Asia/Shanghai"
    replay_batch: int = Field(2000, ge=1, le=100_000)
    web: WebConfig = WebConfig()


@dataclass(frozen=True)
class Config:
    """Everything the operator configured, one validated model per file."""

    dir: Path
    monitor: MonitorConfig
    detection: Any
    alerting: Any
    feeds: Any

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the project root (the config dir's parent)."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.dir.parent / candidate


# file name -> (attribute, "module:Model"); models live beside the code that reads them.
SECTIONS: dict[str, tuple[str, str]] = {
    "monitor.toml": ("monitor", "monitor.config:MonitorConfig"),
    "detection.toml": ("detection", "monitor.detect:DetectionConfig"),
    "alerting.toml": ("alerting", "monitor.alerting:AlertingConfig"),
    "feeds.toml": ("feeds", "monitor.feeds:FeedsConfig"),
}


def load_config(directory: str | Path | None = None) -> Config:
    """Read and validate every config file in ``directory`` (default: the shipped ``config/``)."""
    directory = Path(directory) if directory is not None else DEFAULT_CONFIG_DIR
    if not directory.is_dir():
        raise ConfigError("not a directory", file=str(directory))
    values: dict[str, Any] = {}
    for file_name, (attribute, model_path) in SECTIONS.items():
        values[attribute] = load_file(directory / file_name, _model(model_path))
    return Config(dir=directory.resolve(), **values)


def load_file(path: Path, model: type[BaseModel]) -> BaseModel:
    """Validate one TOML file against ``model``; an absent file gives the model's defaults."""
    if not path.exists():
        return model()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc), file=str(path)) from None


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem: ``key.path: what was expected (got ...)``."""
    lines = []
    for error in exc.errors():
        key = _key_path(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling)"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif "input" in error and not isinstance(error["input"], dict | list):
            message = f"{message} (got {error['input']!r})"
        lines.append(f"{key}: {message}" if key else message)
    return "\n  ".join(lines)


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model(spec: str) -> type[BaseModel]:
    module_name, _, name = spec.partition(":")
    return getattr(importlib.import_module(module_name), name)
