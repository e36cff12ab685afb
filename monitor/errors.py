"""Tingfeng's exceptions.

One tree, so callers catch what they can handle and the CLI turns any of them into one clear line::

    MonitorError
    ├── ConfigError      a config file is missing, unreadable or invalid (names file and key path)
    ├── InputError       a post or an input file is malformed (names file and line)
    ├── StoreError       the database cannot be opened or written
    ├── ModelError       a model file is missing, unsafe or incompatible
    ├── FeedError        a feed could not be fetched or parsed
    └── DeliveryError    a notification could not be delivered
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class of every error Tingfeng raises on purpose."""


class ConfigError(MonitorError):
    """A configuration file is missing, unreadable or invalid."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.file = file
        self.key = key
        where = ":".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class InputError(MonitorError):
    """A post or an input file is malformed."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        where = file or ""
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        super().__init__(f"{where}: {message}" if where else message)


class StoreError(MonitorError):
    """The database cannot be opened, migrated or written."""


class ModelError(MonitorError):
    """A model file is missing, unsafe to load or incompatible."""


class FeedError(MonitorError):
    """A feed could not be fetched or its response could not be understood."""

    def __init__(self, message: str, *, feed: str | None = None, reason: str = "error"):
        self.feed = feed
        self.reason = reason
        super().__init__(f"feed {feed!r}: {message}" if feed else message)


class DeliveryError(MonitorError):
    """A notification could not be delivered to a receiver."""

    def __init__(self, message: str, *, receiver: str | None = None, retryable: bool = True):
        self.receiver = receiver
        self.retryable = retryable
        super().__init__(f"receiver {receiver!r}: {message}" if receiver else message)
