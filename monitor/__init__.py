"""听风 Tingfeng: the monitoring pipeline (fetch → normalize → store → classify → detect → alert)."""

from monitor.errors import (
    ConfigError,
    DeliveryError,
    FeedError,
    InputError,
    ModelError,
    MonitorError,
    StoreError,
)
from monitor.normalize import Normalized, normalize, normalize_text
from monitor.post import Post

__all__ = [
    "ConfigError",
    "DeliveryError",
    "FeedError",
    "InputError",
    "ModelError",
    "MonitorError",
    "Normalized",
    "Post",
    "StoreError",
    "normalize",
    "normalize_text",
]
