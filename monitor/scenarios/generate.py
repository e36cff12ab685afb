"""Regenerate the shipped scenario files: ``python -m monitor.scenarios.generate [--out DIR] [--seed N]``.

The output is a pure function of the phrase banks, the recipes and the seed: running it again rewrites the
shipped files byte-identically.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from monitor.scenarios.recipes import RECIPES
from monitor.scenarios.timeline import write_json, write_jsonl

logger = logging.getLogger(__name__)

DEFAULT_SEED = 20110920
SCENARIO_DIR = Path(__file__).parent


def generate(name: str, out_dir: Path, seed: int = DEFAULT_SEED) -> tuple[Path, Path]:
    """Write ``<name>.jsonl`` and ``<name>.truth.json`` into ``out_dir``; return both paths."""
    lines, truth = RECIPES[name](seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    posts_path = out_dir / f"{name}.jsonl"
    truth_path = out_dir / f"{name}.truth.json"
    write_jsonl(posts_path, lines)
    write_json(truth_path, truth)
    logger.info("wrote %s (%d lines)", posts_path, len(lines))
    return posts_path, truth_path


def generate_all(out_dir: Path = SCENARIO_DIR, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write every scenario; return the paths written."""
    paths: list[Path] = []
    for name in sorted(RECIPES):
        paths.extend(generate(name, out_dir, seed))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate Tingfeng's replay scenarios and their ground truth."
    )
    parser.add_argument(
        "--out", type=Path, default=SCENARIO_DIR, help="output directory (default: the package)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("names", nargs="*", help="scenarios to write (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in args.names or sorted(RECIPES):
        if name not in RECIPES:
            parser.error(f"unknown scenario {name!r}; known: {', '.join(sorted(RECIPES))}")
        generate(name, args.out, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
