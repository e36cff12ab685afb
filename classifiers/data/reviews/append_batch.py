"""Append one batch of hand-written, hand-labelled reviews to train.jsonl or dev.jsonl.

The batch is plain text, one review a line: ``CODE|text`` where CODE is three letters (sentiment -/0/+,
register r/w/f/c for review/weibo/forum/comment, script s/t), optionally followed by ``:domain``. A line
``@d DOMAIN`` sets the domain for the lines after it; ``#`` starts a comment. The script only parses, checks
and numbers lines: every text is written by hand.

Usage: python append_batch.py {train,dev} BATCH_FILE [--dry-run]
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SENTIMENT = {"-": "negative", "0": "neutral", "+": "positive"}
REGISTER = {"r": "review", "w": "weibo", "f": "forum", "c": "comment"}
SCRIPT = {"s": "simplified", "t": "traditional"}


def squash(text: str) -> str:
    return "".join(text.split())


def shingles(text: str, n: int = 3) -> set[str]:
    t = squash(text)
    return {t[i : i + n] for i in range(max(1, len(t) - n + 1))}


def parse_batch(lines: list[str]) -> list[dict]:
    domain = None
    rows = []
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
        if len(code) != 3 or code[0] not in SENTIMENT or code[1] not in REGISTER or code[2] not in SCRIPT:
            sys.exit(f"line {no}: bad code {code!r}")
        row = {
            "text": text.strip(),
            "sentiment": SENTIMENT[code[0]],
            "register": REGISTER[code[1]],
            "script": SCRIPT[code[2]],
            "domain": (dom.strip() or domain),
        }
        if not row["domain"]:
            sys.exit(f"line {no}: no domain")
        if not 2 <= len(row["text"]) <= 400:
            sys.exit(f"line {no}: length {len(row['text'])} outside 2..400: {row['text']!r}")
        rows.append(row)
    return rows


def load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("split", choices=["train", "dev"])
    ap.add_argument("batch")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    rows = parse_batch(Path(args.batch).read_text(encoding="utf-8").splitlines())
    existing = {name: load(HERE / f"{name}.jsonl") for name in ("train", "dev")}
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
            if jac >= 0.5:
                print(f"near-duplicate ({jac:.2f}): {row['text']!r} ~ {text!r}", file=sys.stderr)
        others.append((row["text"], sh))
    start = max((int(r["id"].rsplit("-", 1)[1]) for r in existing[args.split]), default=0)
    out = [{"id": f"rev-{args.split}-{i:04d}", **row} for i, row in enumerate(rows, start + 1)]
    counts: dict[str, int] = {}
    for row in out:
        counts[row["sentiment"]] = counts.get(row["sentiment"], 0) + 1
    print(f"{len(out)} rows {counts}; {args.split} would have {start + len(out)}")
    if not args.dry_run:
        with (HERE / f"{args.split}.jsonl").open("a", encoding="utf-8") as fh:
            for row in out:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
