"""What keeps an alert quiet: silences (operator-made, time-bounded) and inhibit rules (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.alerting.config import InhibitRule
from monitor.alerting.matchers import Matcher, all_match, parse_matchers


@dataclass(frozen=True, slots=True)
class Silence:
    """Mutes every alert whose labels match all ``matchers`` from ``starts_at`` until ``ends_at``."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str = ""
    comment: str = ""

    def active(self, now: datetime) -> bool:
        """Whether the silence is in force at ``now``."""
        return self.starts_at <= now < self.ends_at

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        """Whether it mutes an alert with ``labels`` at ``now``."""
        return self.active(now) and all_match(self.matchers, labels)


@dataclass(frozen=True, slots=True)
class Inhibitor:
    """A compiled inhibit rule."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    @classmethod
    def from_config(cls, rule: InhibitRule) -> Inhibitor:
        return cls(
            parse_matchers(rule.source_matchers), parse_matchers(rule.target_matchers), tuple(rule.equal)
        )

    def equal_values(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """The values of the ``equal`` labels, which a source and the target it inhibits share."""
        return tuple(str(labels.get(name, "")) for name in self.equal)


@dataclass(slots=True)
class InhibitSources:
    """The firing alerts able to inhibit others under ``rules``, kept up to date as alerts change.

    Whether an alert is inhibited is then a look-up, where ``inhibited`` looks at every firing alert.
    """

    rules: tuple[Inhibitor, ...]
    # Per rule: the values of its equal labels -> ids of the firing alerts its source matchers take.
    by_rule: list[dict[tuple[str, ...], set[str]]]

    @classmethod
    def of(cls, rules: tuple[Inhibitor, ...], firing: Mapping[str, Mapping[str, str]]) -> InhibitSources:
        """The sources among ``firing`` (alert id -> labels)."""
        sources = cls(rules, [{} for _ in rules])
        for alert_id, labels in firing.items():
            sources.add(alert_id, labels)
        return sources

    def add(self, alert_id: str, labels: Mapping[str, str]) -> None:
        """A firing alert with ``labels``."""
        for rule, index in zip(self.rules, self.by_rule, strict=True):
            if all_match(rule.source, labels):
                index.setdefault(rule.equal_values(labels), set()).add(alert_id)

    def remove(self, alert_id: str, labels: Mapping[str, str]) -> None:
        """An alert added with ``labels`` no longer firing with them."""
        for rule, index in zip(self.rules, self.by_rule, strict=True):
            index.get(rule.equal_values(labels), set()).discard(alert_id)

    def inhibit(self, alert_id: str, labels: Mapping[str, str]) -> bool:
        """``inhibited(alert_id, labels, firing, rules)``."""
        for rule, index in zip(self.rules, self.by_rule, strict=True):
            if all_match(rule.target, labels):
                ids = index.get(rule.equal_values(labels))
                if ids and (len(ids) > 1 or alert_id not in ids):
                    return True
        return False


def silenced_by(silences: Iterable[Silence], labels: Mapping[str, str], now: datetime) -> list[str]:
    """Ids of the silences muting ``labels`` at ``now``."""
    return [silence.id for silence in silences if silence.mutes(labels, now)]


def inhibited(
    alert_id: str,
    labels: Mapping[str, str],
    firing: Mapping[str, Mapping[str, str]],
    inhibitors: Iterable[Inhibitor],
) -> bool:
    """Whether a firing alert (other than this one) inhibits ``labels``; ``firing`` maps alert id to labels.

    As in Alertmanager, an alert matching both sides of a rule never inhibits itself.
    """
    for rule in inhibitors:
        if not all_match(rule.target, labels):
            continue
        for source_id, source_labels in firing.items():
            if source_id == alert_id or not all_match(rule.source, source_labels):
                continue
            if all(str(source_labels.get(name, "")) == str(labels.get(name, "")) for name in rule.equal):
                return True
    return False
