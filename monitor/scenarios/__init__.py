"""Replay scenarios with ground truth: realistic Weibo-style timelines the demo and the benchmarks replay.

Each scenario is ``<name>.jsonl`` (contract posts in time order, re-observations as later lines with the same
id and an ``observed_at``) beside ``<name>.truth.json`` (its incidents and decoys). See README.md here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor.errors import InputError

SCENARIO_DIR = Path(__file__).parent
DEFAULT_SCENARIO = "fridge"
SCENARIOS = sorted(path.name.removesuffix(".truth.json") for path in SCENARIO_DIR.glob("*.truth.json"))


def scenario_path(name: str) -> Path:
    """The JSONL file of the named scenario."""
    path = SCENARIO_DIR / f"{name}.jsonl"
    if name not in SCENARIOS or not path.is_file():
        raise InputError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return path


def load_truth(name: str) -> dict[str, Any]:
    """The ground truth of the named scenario (incidents with their post ids, decoys)."""
    scenario_path(name)
    with (SCENARIO_DIR / f"{name}.truth.json").open(encoding="utf-8") as handle:
        return json.load(handle)


__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "SCENARIO_DIR", "load_truth", "scenario_path"]
