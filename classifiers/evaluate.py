"""Held-out evaluation: accuracy, macro-F1, negative-class F1, escalation F1 and confusion matrices.

The sets are the ones ``../shared/data/README.md`` holds out (SMP2020-EWECT ``usual_test``, ChnSentiCorp hotel
reviews) and the project's escalation test set. SnowNLP, when installed, is scored on the same texts:
its P(positive) below 0.4 is negative, above 0.6 positive, neutral in between (it has no neutral class and
no escalation head).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from classifiers import corpus
from classifiers.corpus import Example
from classifiers.model import ESCALATIONS, SENTIMENTS, Classifier, load_model
from monitor.errors import InputError

logger = logging.getLogger(__name__)

SNOWNLP_NEGATIVE_BELOW = 0.4
SNOWNLP_POSITIVE_ABOVE = 0.6


def _metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str], positive: str) -> dict:
    gold_a, pred_a = np.asarray(gold), np.asarray(pred)
    f1s = {}
    for label in labels:
        tp = int(np.sum((gold_a == label) & (pred_a == label)))
        fp = int(np.sum((gold_a != label) & (pred_a == label)))
        fn = int(np.sum((gold_a == label) & (pred_a != label)))
        f1s[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    matrix = [[int(np.sum((gold_a == g) & (pred_a == p))) for p in labels] for g in labels]
    return {
        "n": len(gold_a),
        "accuracy": float(np.mean(gold_a == pred_a)) if len(gold_a) else 0.0,
        "macro_f1": float(np.mean([f1s[label] for label in labels])),
        f"{positive}_f1": f1s[positive],
        "per_class_f1": f1s,
        "confusion": {"labels": list(labels), "matrix": matrix},
    }


def _sentiment3(model: Classifier, texts: list[str]) -> list[str]:
    return [p.sentiment for p in model.predict(texts)]


def _binary(model: Classifier, texts: list[str]) -> list[str]:
    # A binary set has no neutral: decide between the two polar classes.
    sentiment, _ = model.scores(texts)
    return ["positive" if p >= n else "negative" for n, _, p in sentiment.tolist()]


def _snownlp_scores(texts: list[str]) -> list[float] | None:
    try:
        from snownlp import SnowNLP
    except ImportError:
        return None
    return [SnowNLP(t).sentiments if t.strip() else 0.5 for t in texts]


def _snownlp3(scores: list[float]) -> list[str]:
    return [
        "negative" if s < SNOWNLP_NEGATIVE_BELOW else "positive" if s > SNOWNLP_POSITIVE_ABOVE else "neutral"
        for s in scores
    ]


def heldout_sets(
    data_root: Path | None = None, escalation_test: Path | None = None
) -> dict[str, list[Example]]:
    """The held-out sets by name; a missing public set is skipped with a warning."""
    root = corpus.data_dir(data_root)
    sets: dict[str, list[Example]] = {}
    readers: dict[str, Callable[[], list[Example]]] = {
        "smp2020_usual_test": lambda: corpus.heldout_smp_usual_test(root),
        "chnsenticorp_htl": lambda: corpus.heldout_chnsenticorp(root),
        "escalation_test": lambda: corpus.heldout_escalation(escalation_test),
    }
    for name, read in readers.items():
        try:
            sets[name] = read()
        except InputError as exc:
            logger.warning("held-out set %s skipped: %s", name, exc)
    if not sets:
        raise InputError(f"no held-out set could be read (looked in {root})")
    return sets


def evaluate_classifier(
    model: Classifier,
    *,
    with_snownlp: bool = False,
    data_root: Path | None = None,
    escalation_test: Path | None = None,
) -> dict:
    """Score ``model`` (and SnowNLP, if asked and installed) on every held-out set."""
    report: dict = {"model": model.version, "snownlp": None, "sets": {}}
    for name, examples in heldout_sets(data_root, escalation_test).items():
        texts = [ex.text for ex in examples]
        gold = [ex.label for ex in examples]
        if name == "escalation_test":
            result = _metrics(gold, [p.escalation for p in model.predict(texts)], ESCALATIONS, "high")
        elif name == "chnsenticorp_htl":
            result = _metrics(gold, _binary(model, texts), ("negative", "positive"), "negative")
        else:
            result = _metrics(gold, _sentiment3(model, texts), SENTIMENTS, "negative")
        if with_snownlp and name != "escalation_test":
            scores = _snownlp_scores(texts)
            if scores is not None:
                report["snownlp"] = "installed"
                if name == "chnsenticorp_htl":
                    snow = ["positive" if s >= 0.5 else "negative" for s in scores]
                    result["snownlp"] = _metrics(gold, snow, ("negative", "positive"), "negative")
                else:
                    result["snownlp"] = _metrics(gold, _snownlp3(scores), SENTIMENTS, "negative")
            else:
                report["snownlp"] = "not installed"
        report["sets"][name] = result
    return report


def evaluate_model(
    path_or_none: str | Path | None,
    *,
    with_snownlp: bool = False,
    data_root: Path | None = None,
    escalation_test: Path | None = None,
) -> dict:
    """Load a model (``None``: the shipped default) and score it on every held-out set."""
    model = load_model(path_or_none)
    return evaluate_classifier(
        model, with_snownlp=with_snownlp, data_root=data_root, escalation_test=escalation_test
    )


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def format_report(report: dict) -> str:
    """A plain-text table per held-out set, with SnowNLP's column when it was measured."""
    lines = [f"model {report['model']}"]
    if report.get("snownlp") == "not installed":
        lines.append("SnowNLP is not installed: install it (pip install snownlp) to compare side by side")
    for name, result in report["sets"].items():
        snow = result.get("snownlp")
        key_f1 = "high_f1" if "high_f1" in result else "negative_f1"
        lines.append("")
        lines.append(f"{name} (n={result['n']})")
        lines.append(
            f"  {'metric':<14}{'model':>9}{'SnowNLP':>10}" if snow else f"  {'metric':<14}{'model':>9}"
        )
        for label, key in (
            ("accuracy", "accuracy"),
            ("macro-F1", "macro_f1"),
            (key_f1.replace("_", "-"), key_f1),
        ):
            row = f"  {label:<14}{_fmt(result[key]):>9}"
            if snow:
                row += f"{_fmt(snow.get(key)):>10}"
            lines.append(row)
        labels = result["confusion"]["labels"]
        lines.append("  confusion (rows gold, columns predicted):")
        lines.append("  " + " " * 10 + "".join(f"{label:>9}" for label in labels))
        for label, row in zip(labels, result["confusion"]["matrix"], strict=True):
            lines.append(f"  {label:<10}" + "".join(f"{v:>9}" for v in row))
    return "\n".join(lines)
