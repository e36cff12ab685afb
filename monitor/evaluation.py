"""Score models on the held-out sets, the analysts' held-out slice included, and compare two on the same data.

The public sets and the project's escalation test set are read by ``classifiers.evaluate.heldout_sets``; the
analysts' slice is ``monitor.labels.holdout_labels`` (never trained on). Metrics follow
``classifiers.evaluate``: accuracy, macro-F1 and per-class F1; ChnSentiCorp is binary (positive vs negative).

A comparison scores both models on exactly the same examples and says which differences matter: a paired
bootstrap (seeded) gives a 95% interval for each difference, and a difference matters when its interval
leaves out zero.
"""

from __future__ import annotations

import functools
import logging
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlite_utils

from classifiers import Classifier
from monitor.labels import ESCALATIONS, SENTIMENTS, holdout_labels
from monitor.normalize import normalize_text

logger = logging.getLogger(__name__)

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0
# (labels, the class whose F1 is the set's key figure) by kind of set.
KINDS = {
    "sentiment": (SENTIMENTS, "negative"),
    "binary": (("negative", "positive"), "negative"),
    "escalation": (ESCALATIONS, "high"),
}
SET_KINDS = {
    "smp2020_usual_test": "sentiment",
    "chnsenticorp_htl": "binary",
    "escalation_test": "escalation",
    "analyst_sentiment": "sentiment",
    "analyst_escalation": "escalation",
}


@dataclass(frozen=True)
class HeldOutSet:
    """One held-out set: analysis-form texts and their gold labels."""

    name: str
    kind: str
    texts: tuple[str, ...]
    gold: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return KINDS[self.kind][0]

    @property
    def key_class(self) -> str:
        return KINDS[self.kind][1]


@dataclass
class SetResult:
    """One model's predictions on one set, as class indices."""

    data: HeldOutSet
    gold: np.ndarray
    pred: np.ndarray

    def metrics(self) -> dict:
        """The figures ``classifiers.evaluate`` reports, confusion matrix included."""
        labels = self.data.labels
        f1 = {
            label: float(v) for label, v in zip(labels, _f1(self.gold, self.pred, len(labels)), strict=True)
        }
        present = _present(len(labels), self.gold, self.pred)
        matrix = np.zeros((len(labels), len(labels)), dtype=int)
        np.add.at(matrix, (self.gold, self.pred), 1)
        n = len(self.gold)
        return {
            "n": n,
            "accuracy": float(np.mean(self.gold == self.pred)) if n else 0.0,
            "macro_f1": float(np.mean([f1[label] for label, p in zip(labels, present, strict=True) if p])),
            f"{self.data.key_class}_f1": f1[self.data.key_class],
            "per_class_f1": f1,
            "confusion": {"labels": list(labels), "matrix": matrix.tolist()},
        }


@dataclass
class Evaluation:
    """A model's results on every held-out set."""

    version: str
    sets: dict[str, SetResult]

    def report(self) -> dict:
        """The same shape as ``classifiers.evaluate.evaluate_classifier`` (``format_report`` prints it)."""
        return {
            "model": self.version,
            "snownlp": None,
            "sets": {n: r.metrics() for n, r in self.sets.items()},
        }

    def metrics(self) -> dict:
        """Per-set figures without confusion matrices, as the registry stores them."""
        return {
            name: {k: v for k, v in result.metrics().items() if k != "confusion"}
            for name, result in self.sets.items()
        }


def _present(n_classes: int, *arrays: np.ndarray) -> np.ndarray:
    """Classes that occur in the gold labels or the predictions: macro-F1 averages over these (as sklearn
    does), so a small analysts' slice holding one class is not scored as if the others were missed."""
    mask = np.zeros(n_classes, dtype=bool)
    for values in arrays:
        mask[np.unique(values)] = True
    return mask


def _f1(gold: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros(n_classes)
    for k in range(n_classes):
        tp = np.sum((gold == k) & (pred == k))
        wrong = np.sum((gold != k) & (pred == k)) + np.sum((gold == k) & (pred != k))
        out[k] = 2 * tp / (2 * tp + wrong) if tp else 0.0
    return out


@functools.lru_cache(maxsize=4)
def _public_sets(data_root: Path | None, escalation_test: Path | None) -> tuple[HeldOutSet, ...]:
    from classifiers.evaluate import heldout_sets

    return tuple(
        HeldOutSet(
            name, SET_KINDS.get(name, "sentiment"), tuple(e.text for e in ex), tuple(e.label for e in ex)
        )
        for name, ex in heldout_sets(data_root, escalation_test).items()
    )


def heldout(
    db: sqlite_utils.Database | None,
    *,
    data_root: Path | None = None,
    escalation_test: Path | None = None,
    public: bool = True,
) -> list[HeldOutSet]:
    """Every held-out set: the public ones (unless ``public`` is false) and the analysts' slice in ``db``."""
    sets = list(_public_sets(data_root, escalation_test)) if public else []
    if db is not None:
        rows = holdout_labels(db)
        for task, name in (("sentiment", "analyst_sentiment"), ("escalation", "analyst_escalation")):
            pairs = [(normalize_text(row["text"]), row[task]) for row in rows if row[task]]
            if pairs:
                texts, gold = zip(*pairs, strict=True)
                sets.append(HeldOutSet(name, SET_KINDS[name], texts, gold))
    return sets


def evaluate(classifier: Classifier, sets: list[HeldOutSet]) -> Evaluation:
    """Predict every set with ``classifier``."""
    results = {}
    for data in sets:
        index = {label: i for i, label in enumerate(data.labels)}
        if data.kind == "binary":
            # A binary set has no neutral: decide between the two polar classes.
            sentiment, _ = classifier.scores(list(data.texts))
            pred = (sentiment[:, 2] >= sentiment[:, 0]).astype(int)
        else:
            predictions = classifier.predict(list(data.texts))
            field_name = "escalation" if data.kind == "escalation" else "sentiment"
            pred = np.array([index[getattr(p, field_name)] for p in predictions], dtype=int)
        gold = np.array([index[g] for g in data.gold], dtype=int)
        results[data.name] = SetResult(data, gold, pred.reshape(len(gold)))
    return Evaluation(classifier.version, results)


# ---- comparison ------------------------------------------------------------------------------------------


@dataclass
class Difference:
    """One figure for both models: the candidate minus the current, with a 95% bootstrap interval."""

    metric: str
    current: float
    candidate: float
    low: float
    high: float

    @property
    def delta(self) -> float:
        return self.candidate - self.current

    @property
    def matters(self) -> bool:
        """The interval leaves out zero: more than noise."""
        return self.low > 0 or self.high < 0


@dataclass
class SetComparison:
    name: str
    n: int
    rows: list[Difference] = field(default_factory=list)

    def row(self, metric: str) -> Difference:
        return next(r for r in self.rows if r.metric == metric)


@dataclass
class Comparison:
    """Two models on the same held-out examples."""

    current: str
    candidate: str
    sets: dict[str, SetComparison]

    def regressions(self, tolerance: float, metrics: tuple[str, ...] = ("macro_f1", "key_f1")) -> list[str]:
        """Why the candidate is worse: each gated figure that fell by more than ``tolerance`` and beyond noise."""
        out = []
        for name, result in self.sets.items():
            for row in result.rows:
                gated = row.metric in metrics or ("key_f1" in metrics and row.metric == _key_metric(name))
                if gated and row.delta < -tolerance and row.high < 0:
                    out.append(
                        f"{name}: {row.metric} {row.current:.3f} → {row.candidate:.3f} "
                        f"({row.delta:+.3f}, 95% CI {row.low:+.3f}..{row.high:+.3f}; tolerance {tolerance:.3f})"
                    )
        return out

    def summary(self) -> dict:
        """Plain data for the registry's history."""
        return {
            "current": self.current,
            "candidate": self.candidate,
            "sets": {
                name: {
                    "n": s.n,
                    **{
                        r.metric: {
                            "current": round(r.current, 4),
                            "candidate": round(r.candidate, 4),
                            "low": round(r.low, 4),
                            "high": round(r.high, 4),
                        }
                        for r in s.rows
                        if "[" not in r.metric
                    },
                }
                for name, s in self.sets.items()
            },
        }


def _key_metric(set_name: str) -> str:
    return f"{KINDS[SET_KINDS.get(set_name, 'sentiment')][1]}_f1"


def compare(
    current: Evaluation,
    candidate: Evaluation,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Comparison:
    """Per set and per class differences (candidate − current) with paired-bootstrap 95% intervals."""
    out = {}
    for name, a in current.sets.items():
        b = candidate.sets.get(name)
        if b is None or len(a.gold) == 0:
            continue
        # One stream per set, so a set's interval does not depend on which other sets were there.
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        out[name] = _compare_set(a, b, rng, samples)
    return Comparison(current.version, candidate.version, out)


def _compare_set(a: SetResult, b: SetResult, rng: np.random.Generator, samples: int) -> SetComparison:
    gold, n_classes = a.gold, len(a.data.labels)
    # Each model's macro-F1 over its own classes (gold or predicted), as ``SetResult.metrics`` reports it.
    present_a, present_b = _present(n_classes, gold, a.pred), _present(n_classes, gold, b.pred)
    point_a, point_b = _figures(gold, a.pred, present_a, None), _figures(gold, b.pred, present_b, None)
    deltas = {key: [] for key in point_a}
    for start in range(0, samples, 100):
        # Poisson(1) weights: the usual fast stand-in for resampling with replacement.
        weights = rng.poisson(1.0, size=(min(100, samples - start), len(gold))).astype(np.float32)
        fa, fb = _figures(gold, a.pred, present_a, weights), _figures(gold, b.pred, present_b, weights)
        for key in deltas:
            deltas[key].append(fb[key] - fa[key])
    labels = a.data.labels
    names = {"accuracy": "accuracy", "macro_f1": "macro_f1"}
    names.update({f"f1_{k}": f"f1[{label}]" for k, label in enumerate(labels)})
    rows = []
    for key, name in names.items():
        spread = np.concatenate(deltas[key])
        low, high = np.percentile(spread, [2.5, 97.5])
        rows.append(Difference(name, float(point_a[key]), float(point_b[key]), float(low), float(high)))
    key_index = labels.index(a.data.key_class)
    key_row = rows[2 + key_index]
    rows.insert(
        2, Difference(_key_metric(a.data.name), key_row.current, key_row.candidate, key_row.low, key_row.high)
    )
    return SetComparison(a.data.name, len(gold), rows)


def _figures(gold: np.ndarray, pred: np.ndarray, present: np.ndarray, weights: np.ndarray | None) -> dict:
    """Accuracy, macro-F1 and per-class F1, for one weighting (None) or a batch of bootstrap weightings."""
    w = np.ones((1, len(gold)), dtype=np.float32) if weights is None else weights
    out = {"accuracy": (w @ (gold == pred).astype(np.float32)) / np.maximum(w.sum(axis=1), 1e-9)}
    f1s = []
    for k in range(len(present)):
        tp = w @ ((gold == k) & (pred == k)).astype(np.float32)
        wrong = w @ (((gold != k) & (pred == k)) | ((gold == k) & (pred != k))).astype(np.float32)
        f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + wrong, 1e-9), 0.0)
        out[f"f1_{k}"] = f1
        if present[k]:
            f1s.append(f1)
    out["macro_f1"] = np.mean(f1s, axis=0)
    if weights is None:
        return {key: float(value[0]) for key, value in out.items()}
    return out
