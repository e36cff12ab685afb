"""What the fault suite counts: per family, trials, faults, losses and bad inputs, plus failed checks.

The must-be-zero columns (posts lost, alerts lost, alerts doubled, bad inputs not handled, checks failed)
decide the exit status of ``make faults``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Tally:
    """One family's counts; ``check`` records a failed expectation with what was seen."""

    family: str
    trials: int = 0
    faults: int = 0
    posts_lost: int = 0
    alerts_lost: int = 0
    alerts_doubled: int = 0
    bad_tried: int = 0
    bad_handled: int = 0
    checks: int = 0
    failures: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def check(self, ok: bool, what: str) -> bool:
        """Count one check; when it fails, remember ``what`` (say what was expected and what was seen)."""
        self.checks += 1
        if not ok:
            self.failures.append(what)
            logger.error("%s: FAILED %s", self.family, what)
        return ok

    def finding(self, text: str) -> None:
        """Something the suite observed that is worth a maintainer's look but is not a failed check."""
        self.findings.append(text)
        logger.warning("%s: finding: %s", self.family, text)

    @property
    def bad_unhandled(self) -> int:
        return self.bad_tried - self.bad_handled

    @property
    def ok(self) -> bool:
        return not (
            self.posts_lost or self.alerts_lost or self.alerts_doubled or self.bad_unhandled or self.failures
        )


COLUMNS = (
    ("family", "family"),
    ("trials", "trials"),
    ("faults injected", "faults"),
    ("posts lost", "posts_lost"),
    ("alerts lost", "alerts_lost"),
    ("alerts doubled", "alerts_doubled"),
    ("bad inputs tried", "bad_tried"),
    ("bad inputs handled", "bad_handled"),
    ("checks", "checks"),
    ("checks failed", None),
    ("time", None),
)


def total(tallies: list[Tally]) -> Tally:
    out = Tally("**total**")
    for tally in tallies:
        for _, attr in COLUMNS[1:9]:
            setattr(out, attr, getattr(out, attr) + getattr(tally, attr))
        out.failures += tally.failures
        out.seconds += tally.seconds
    return out


def table(tallies: list[Tally]) -> str:
    """A markdown table, one row per family and a total."""
    header = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join(["---"] + ["---:"] * (len(COLUMNS) - 1)) + "|"
    lines = [header, rule]
    for tally in [*tallies, total(tallies)]:
        cells = []
        for _, attr in COLUMNS:
            if attr is None:
                continue
            cells.append(str(getattr(tally, attr)))
        cells.append(str(len(tally.failures)))
        cells.append(f"{tally.seconds:.0f}s")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
