"""Classifier benchmark: held-out quality, throughput, peak memory and cold start, with SnowNLP alongside.

Run: ``.venv/bin/python benchmarks/classifier.py [--model DIR] [--snownlp-posts N]``. Prints a markdown table.

* Quality: ``classifiers.evaluate`` on SMP2020-EWECT usual_test, ChnSentiCorp hotels and the project's
  escalation test set (SnowNLP has no escalation head).
* Throughput: posts per second on one core (the process is pinned to one CPU, BLAS limited to one thread),
  start-up excluded, on real Weibo posts already in analysis form (texts are normalized beforehand, as the
  pipeline stores them), in batches of 1,000 as ``tingfeng classify`` sends them. SnowNLP is timed on a
  sample in the same run.
* Peak RSS and cold start are measured in fresh subprocesses: cold start is interpreter start, import, model
  load and the first prediction, timed from outside.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
os.environ.update(ONE_THREAD)

WORKER = r"""
import json, os, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
mode, model, texts_file = sys.argv[1], sys.argv[2], sys.argv[3]
texts = json.load(open(texts_file, encoding="utf-8"))
if mode == "ours":
    from classifiers import load_model
    clf = load_model(None if model == "-" else model)
    clf.predict(texts[:100])  # warm-up: lazy tables, page cache
    start = time.perf_counter()
    for i in range(0, len(texts), 1000):
        clf.predict(texts[i : i + 1000])
else:
    from snownlp import SnowNLP
    SnowNLP(texts[0]).sentiments
    start = time.perf_counter()
    for t in texts:
        SnowNLP(t).sentiments
elapsed = time.perf_counter() - start
# VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across fork+exec.
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
print(json.dumps({"posts": len(texts), "seconds": elapsed, "peak_rss_mb": rss}))
"""

COLD = {
    "ours": "from classifiers import load_model; m = load_model({model}); m.predict(['这家店太坑了'])",
    "snownlp": "from snownlp import SnowNLP; SnowNLP('这家店太坑了').sentiments",
}


def weibo_posts(limit: int) -> list[str]:
    """Real Weibo posts in analysis form: SMP2020 usual_test texts (labels unused), then virus_train."""
    from classifiers.corpus import data_dir
    from monitor.normalize import normalize_text

    root = data_dir()
    texts: list[str] = []
    for name in ("usual_test_labeled.txt", "virus_train.txt"):
        rows = json.loads((root / "smp2020_ewect" / name).read_text(encoding="utf-8"))
        texts.extend(t for t in (normalize_text(r["content"]) for r in rows) if t)
    return [texts[i % len(texts)] for i in range(limit)]


def run_worker(mode: str, model: str, texts: list[str], tmp: Path) -> dict:
    path = tmp / f"texts-{mode}.json"
    path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", WORKER, mode, model, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_start(mode: str, model: str, runs: int = 3) -> float:
    code = COLD[mode].format(model="None" if model == "-" else repr(model))
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(REPO)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def snownlp_available() -> bool:
    try:
        import snownlp  # noqa: F401
    except ImportError:
        return False
    return True


def fmt(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="-", help="model directory (default: the shipped model)")
    parser.add_argument("--posts", type=int, default=100_000, help="posts for our throughput run")
    parser.add_argument("--snownlp-posts", type=int, default=2_000, help="posts for SnowNLP's throughput run")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args(argv)
    import tempfile

    from classifiers.evaluate import evaluate_model

    snow = snownlp_available()
    if not snow:
        print("SnowNLP is not installed (pip install snownlp): its column is left empty", file=sys.stderr)
    rows: list[tuple[str, str, str]] = []
    if not args.skip_quality:
        report = evaluate_model(None if args.model == "-" else args.model, with_snownlp=snow)
        labels = {
            "smp2020_usual_test": "SMP2020-EWECT usual_test",
            "chnsenticorp_htl": "ChnSentiCorp hotels",
            "escalation_test": "escalation test set",
        }
        for name, result in report["sets"].items():
            other = result.get("snownlp") or {}
            title = labels.get(name, name)
            if name == "escalation_test":
                rows.append((f"{title}: high-vs-rest F1", fmt(result["high_f1"]), "—"))
                rows.append((f"{title}: macro-F1 (3 levels)", fmt(result["macro_f1"]), "—"))
                continue
            rows.append((f"{title}: accuracy", fmt(result["accuracy"]), fmt(other.get("accuracy"))))
            rows.append((f"{title}: macro-F1", fmt(result["macro_f1"]), fmt(other.get("macro_f1"))))
            rows.append((f"{title}: negative F1", fmt(result["negative_f1"]), fmt(other.get("negative_f1"))))

    texts = weibo_posts(args.posts)
    median_len = statistics.median(len(t) for t in texts)
    with tempfile.TemporaryDirectory() as tmp:
        ours = run_worker("ours", args.model, texts, Path(tmp))
        ours_rate = ours["posts"] / ours["seconds"]
        theirs = run_worker("snownlp", args.model, texts[: args.snownlp_posts], Path(tmp)) if snow else None
    theirs_rate = theirs["posts"] / theirs["seconds"] if theirs else None
    rows.append(
        (
            f"throughput, posts/s (one core, median {median_len:.0f} chars)",
            f"{ours_rate:,.0f}",
            f"{theirs_rate:,.0f}" if theirs_rate else "—",
        )
    )
    if theirs_rate:
        rows.append(("speed ratio vs SnowNLP", f"{ours_rate / theirs_rate:,.0f}×", "1×"))
    rows.append(
        ("peak RSS, MB", f"{ours['peak_rss_mb']:.0f}", f"{theirs['peak_rss_mb']:.0f}" if theirs else "—")
    )
    rows.append(
        (
            "cold start, s (process start to first prediction)",
            fmt(cold_start("ours", args.model), 2),
            fmt(cold_start("snownlp", args.model), 2) if snow else "—",
        )
    )
    print("| measure | Tingfeng | SnowNLP |")
    print("|---|---:|---:|")
    for name, a, b in rows:
        print(f"| {name} | {a} | {b} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
