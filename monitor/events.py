"""What flows between detection and alerting: plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SEVERITIES = ("watch", "warning", "critical")
STATUSES = ("firing", "resolved")


@dataclass(slots=True)
class AlertEvent:
    """Detection's verdict on one incident at one moment: what alerting routes, groups and sends.

    ``labels`` carry what routes match on (severity, feed, brand, source, incident_id, and any feed tags).
    ``post_ids`` and ``reasons`` are ordered most important first (CONTRACT.md §3).
    """

    incident_id: str
    severity: str
    status: str
    at: datetime
    title: str
    summary: str
    post_ids: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    # Figures the message shows and "what changed since the last one" compares.
    stats: dict[str, float] = field(default_factory=dict)
