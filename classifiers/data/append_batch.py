"""Append one batch of hand-written, hand-labelled lines to one of the project's own data sets.

The batch is plain text, one line a post or review: ``CODE|text``, CODE being one letter per labelled field
(see ``DATASETS``), optionally followed by ``:domain``. A line ``@d DOMAIN`` sets the domain for the lines after
it; ``#`` starts a comment. The script only parses, checks and numbers lines: every text is written by hand.
Exact duplicates of any split are refused; near duplicates (character-trigram Jaccard) are reported.

Usage: python classifiers/data/append_batch.py {escalation,reviews} SPLIT BATCH_FILE [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ESCALATION = {"h": "high", "m": "medium", "l": "low"}
SENTIMENT = {"-": "negative", "0": "neutral", "+": "positive"}
REGISTER = {"w": "weibo", "f": "forum", "c": "comment", "r": "review"}
SCRIPT = {"s": "simplified", "t": "traditional"}


@dataclass(frozen=True)
class Dataset:
    prefix: str  # ids are PREFIX-SPLIT-NNNN
    splits: tuple[str, ...]
    fields: tuple[tuple[str, dict[str, str]], ...]  # one code letter per field, in this order
    lengths: tuple[int, int]
    near: float  # near-duplicate warning threshold
    count_by: str


DATASETS = {
    "escalation": Dataset(
        "esc",
        ("train", "test"),
        (("escalation", ESCALATION), ("sentiment", SENTIMENT), ("register", REGISTER), ("script", SCRIPT)),
        (5, 200),
        0.6,
        "escalation",
    ),
    "reviews": Dataset(
        "rev",
        ("train", "dev"),
        (("sentiment", SENTIMENT), ("register", REGISTER), ("script", SCRIPT)),
        (2, 400),
        0.5,
        "sentiment",
    ),
}


def squash(text: str) -> str:
    return "".join(text.split())


def shingles(text: str, n: int = 3) -> set[str]:
    t = squash(text)
    return {t[i : i + n] for i in range(max(1, len(t) - n + 1))}


def parse_batch(lines: list[str], dataset: Dataset) -> list[dict]:
    domain = None
    rows = []
    low, high = dataset.lengths
    for no, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("@d "):
            domain = line[3:].strip()
            continue
        code, sep, text = line.partition("|")
        if not sep:
            sys.exit(f"line {no}: no '|' in {line!r}")
        code, _, dom = code.partition(":")
        code = code.strip()
        if len(code) != len(dataset.fields) or any(
            letter not in values for letter, (_, values) in zip(code, dataset.fields, strict=True)
        ):
            sys.exit(f"line {no}: bad code {code!r}")
        row = {"text": text.strip()}
        row.update(
            {name: values[letter] for letter, (name, values) in zip(code, dataset.fields, strict=True)}
        )
        row["domain"] = dom.strip() or domain
        if not row["domain"]:
            sys.exit(f"line {no}: no domain")
        if not low <= len(row["text"]) <= high:
            sys.exit(f"line {no}: length {len(row['text'])} outside {low}..{high}: {row['text']!r}")
        rows.append(row)
    return rows


def load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", choices=sorted(DATASETS))
    ap.add_argument("split")
    ap.add_argument("batch")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    dataset = DATASETS[args.dataset]
    if args.split not in dataset.splits:
        ap.error(f"split must be one of {', '.join(dataset.splits)}")
    folder = HERE / args.dataset
    rows = parse_batch(Path(args.batch).read_text(encoding="utf-8").splitlines(), dataset)
    existing = {name: load(folder / f"{name}.jsonl") for name in dataset.splits}
    seen = {squash(r["text"]): name for name, rs in existing.items() for r in rs}
    others = [(r["text"], shingles(r["text"])) for rs in existing.values() for r in rs]
    for row in rows:
        key = squash(row["text"])
        if key in seen:
            sys.exit(f"duplicate of a {seen[key]} line: {row['text']!r}")
        seen[key] = "this batch"
        sh = shingles(row["text"])
        for text, other in others:
            jac = len(sh & other) / max(1, len(sh | other))
            if jac >= dataset.near:
                print(f"near-duplicate ({jac:.2f}): {row['text']!r} ~ {text!r}", file=sys.stderr)
        others.append((row["text"], sh))
    start = max((int(r["id"].rsplit("-", 1)[1]) for r in existing[args.split]), default=0)
    out = [{"id": f"{dataset.prefix}-{args.split}-{i:04d}", **row} for i, row in enumerate(rows, start + 1)]
    counts: dict[str, int] = {}
    for row in out:
        counts[row[dataset.count_by]] = counts.get(row[dataset.count_by], 0) + 1
    print(f"{len(out)} rows {counts}; {args.split} would have {start + len(out)}")
    if not args.dry_run:
        with (folder / f"{args.split}.jsonl").open("a", encoding="utf-8") as fh:
            for row in out:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
