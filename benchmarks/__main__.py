"""Run every benchmark in turn (``python -m benchmarks [NAME ...]``), each in its own process.

Each benchmark prints a markdown table; separate processes keep one benchmark's memory and warm caches out
of the next one's figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The fault suite has its own target (`make faults`): it is long and not a speed or quality figure.
SKIP = {"__init__", "__main__", "faults"}


def main(names: list[str]) -> int:
    available = sorted(p.stem for p in HERE.glob("*.py") if p.stem not in SKIP and not p.stem.startswith("_"))
    chosen = names or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)} (available: {', '.join(available)})", file=sys.stderr
        )
        return 2
    failed = []
    for name in chosen:
        print(f"\n## {name}\n", flush=True)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
