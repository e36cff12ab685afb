"""Training: build the heads from the public pool, the project's escalation set and analysts' labels.

``python -m classifiers.train --default`` rebuilds the shipped model ``classifiers/models/default/`` from
``../shared/data`` (or ``$TINGFENG_DATA_DIR``) and ``classifiers/data/escalation/train.jsonl``. Training is
deterministic: the same data, parameters and seed give the same weights.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers import corpus
from classifiers.corpus import Example
from classifiers.features import USERDICT_PATH, Featurizer
from classifiers.model import DEFAULT_MODEL_DIR, ESCALATIONS, Classifier, save_model
from monitor.errors import InputError
from monitor.normalize import normalize_text

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

# Sources that carry three-class (neutral-aware) sentiment labels, and how much each counts for the
# polar-vs-neutral head. Review corpora are binary and train only the polarity head.
NEUTRAL_AWARE = {
    "smp_virus_train": 1.0,
    "smp_virus_eval_labeled": 1.0,
    "smp_virus_test_labeled": 1.0,
    "smp_usual_eval": 2.0,
    "car": 0.3,
    "escalation_set": 1.0,
    "reviews": 1.0,
    "analyst": 3.0,
}
# Relative weight of each source for the positive-vs-negative head (before capping large sources).
POLARITY_WEIGHT = {
    "weibo_senti": 0.5,
    "shopping": 3.0,
    "waimai": 3.0,
    "senticnet": 2.0,
    "smp_virus_train": 2.0,
    "smp_virus_eval_labeled": 2.0,
    "smp_virus_test_labeled": 2.0,
    "smp_usual_eval": 4.0,
    "escalation_set": 2.0,
    "reviews": 3.0,
    "analyst": 6.0,
}
# Words that make a "negative review" possibly high, so it is not used as a weak "medium" example.
_HIGH_CUES = re.compile(
    r"12315|12345|消协|消费者协会|市场监管|工商局|媒体|记者|曝光|律师|起诉|法院|维权|转发|扩散|着火|起火|爆炸|冒烟|"
    r"漏电|触电|中毒|住院|医院|烫伤|受伤|划伤|玻璃|自燃|刹车"
)


@dataclass
class TrainParams:
    """Hyperparameters; chosen on SMP2020 usual_eval and cross-validation of the escalation train set."""

    min_df: int = 2
    max_char: int = 250_000
    max_words: int = 100_000
    use_words: bool = False
    source_cap: int = 30_000  # a source larger than this counts as if it had this many examples
    c_polar: float = 1.0
    c_polarity: float = 4.0
    c_escalation: float = 16.0
    weak_escalation: float = 0.3  # total weight of weak escalation examples relative to the labelled set
    weak_sample: int = 20_000  # weak escalation examples drawn (seeded) from the pool
    thresholds: tuple[float, float] = (0.3, 0.55)
    include_dev: bool = True  # the final model learns from usual_eval too, after tuning on it
    use_reviews: bool = True  # the project's consumer-review set (classifiers/data/reviews/train.jsonl)
    neutral_aware: dict[str, float] = field(default_factory=lambda: dict(NEUTRAL_AWARE))
    polarity_weight: dict[str, float] = field(default_factory=lambda: dict(POLARITY_WEIGHT))


@dataclass
class TrainingData:
    """Everything one training run reads, with the hashes of the files it came from."""

    sentiment: list[Example]
    escalation: list[Example]
    weak_escalation: list[Example]
    file_hashes: dict[str, str]


def collect(
    *,
    use_pool: bool = True,
    data_root: Path | None = None,
    escalation_train: Path | None = None,
    extra_labels: Iterable[Mapping] | None = None,
    include_dev: bool = True,
    use_reviews: bool = True,
    reviews_train: Path | None = None,
) -> TrainingData:
    """Read the training data: public pool (optional), the escalation train set, the project's consumer-review
    set (optional), analysts' labels."""
    sentiment: list[Example] = []
    weak: list[Example] = []
    hashes: dict[str, str] = {}
    if use_pool:
        root = corpus.data_dir(data_root)
        pool = corpus.sentiment_pool(root)
        for name in sorted(pool):
            sentiment.extend(pool[name])
        if include_dev:
            sentiment.extend(corpus.sentiment_dev(root))
        weak = _weak_escalation(pool)
        for path in sorted(p for p in root.rglob("*") if p.is_file() and _is_training_file(p, root)):
            hashes[str(path.relative_to(root))] = corpus.file_sha256(path)
    esc_path = escalation_train or corpus.ESCALATION_DIR / "train.jsonl"
    escalation, esc_sentiment = corpus.escalation_examples(esc_path)
    sentiment.extend(esc_sentiment)
    hashes[f"escalation/{esc_path.name}"] = corpus.file_sha256(esc_path)
    # The review set goes with the public pool: a use_pool=False model stays one of the escalation set and the
    # analysts' labels alone, as the registry's small-model checks expect.
    if use_pool and use_reviews:
        reviews_path = reviews_train or corpus.REVIEWS_DIR / "train.jsonl"
        sentiment.extend(corpus.review_examples(reviews_path))
        hashes[f"reviews/{reviews_path.name}"] = corpus.file_sha256(reviews_path)
    if USERDICT_PATH.is_file():
        hashes["config/userdict.txt"] = corpus.file_sha256(USERDICT_PATH)
    if extra_labels is not None:
        extra_sent, extra_esc, digest = _analyst_examples(extra_labels)
        sentiment.extend(extra_sent)
        escalation.extend(extra_esc)
        hashes["analyst_labels"] = digest
    return TrainingData(sentiment, escalation, weak, hashes)


def _is_training_file(path: Path, root: Path) -> bool:
    rel = path.relative_to(root).as_posix()
    held_out = rel.startswith("chnsenticorp_htl/") or rel == "smp2020_ewect/usual_test_labeled.txt"
    unused = rel.startswith("ced_weibo_rumor/") or rel.endswith("README.md")
    return not held_out and not unused


def _analyst_examples(labels: Iterable[Mapping]) -> tuple[list[Example], list[Example], str]:
    sentiment, escalation = [], []
    digest = hashlib.sha256()
    for i, row in enumerate(labels):
        raw = row.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise InputError(f"label {i} has no text")
        sent, esc = row.get("sentiment"), row.get("escalation")
        if sent is not None and sent not in corpus.SENTIMENTS:
            raise InputError(f"label {i}: sentiment must be one of {corpus.SENTIMENTS}, not {sent!r}")
        if esc is not None and esc not in ESCALATIONS:
            raise InputError(f"label {i}: escalation must be one of {ESCALATIONS}, not {esc!r}")
        text = normalize_text(raw)
        digest.update(f"{text}\t{sent}\t{esc}\n".encode())
        if sent:
            sentiment.append(Example(text, sent, "analyst"))
        if esc:
            escalation.append(Example(text, esc, "analyst"))
    return sentiment, escalation, digest.hexdigest()


def _weak_escalation(pool: dict[str, list[Example]]) -> list[Example]:
    """Weak escalation labels: negative reviews are complaints (medium) unless they hint at more; praise,
    neutral posts and everyday negative moods on Weibo are low."""
    weak = []
    for name in ("waimai", "shopping"):
        for ex in pool.get(name, []):
            if ex.label == "negative" and not _HIGH_CUES.search(ex.text):
                weak.append(Example(ex.text, "medium", name))
            elif ex.label == "positive":
                weak.append(Example(ex.text, "low", name))
    for name in ("smp_virus_train", "smp_virus_eval_labeled", "smp_virus_test_labeled", "clue", "covid"):
        weak.extend(
            Example(ex.text, "low", name) for ex in pool.get(name, []) if not _HIGH_CUES.search(ex.text)
        )
    return weak


def _source_weights(examples: list[Example], relative: Mapping[str, float], cap: int) -> np.ndarray:
    counts = Counter(ex.source for ex in examples)
    return np.array([relative.get(ex.source, 1.0) * min(1.0, cap / counts[ex.source]) for ex in examples])


def _balance(weights: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Scale weights so every class carries the same total weight, keeping the overall mean at 1."""
    weights = weights.copy()
    classes = np.unique(y)
    for c in classes:
        mask = y == c
        weights[mask] *= weights.sum() / len(classes) / weights[mask].sum()
    return weights * (len(weights) / weights.sum())


def _logistic(x, y, weights: np.ndarray, c: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=1000, tol=1e-4, random_state=seed)
    model.fit(x, y, sample_weight=weights)
    return model


def fit_classifier(
    data: TrainingData,
    params: TrainParams | None = None,
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[Classifier, dict]:
    """Fit the featurizer and the three heads; returns the classifier and a summary of what it learned from."""
    params = params or TrainParams()
    step = progress or (lambda _name, _done, _total: None)
    total = 5
    step("features", 0, total)
    esc_all = data.escalation + data.weak_escalation
    texts = sorted({ex.text for ex in data.sentiment} | {ex.text for ex in esc_all})
    featurizer = Featurizer.fit(
        texts,
        min_df=params.min_df,
        max_char=params.max_char,
        max_words=params.max_words,
        use_words=params.use_words,
    )
    n = featurizer.n_features

    step("neutral head", 1, total)
    aware = [ex for ex in data.sentiment if ex.source in params.neutral_aware]
    if len({ex.label for ex in aware} & {"neutral"}) == 0 or len({ex.label for ex in aware}) < 2:
        raise InputError("training needs neutral and non-neutral sentiment labels")
    y_polar = np.array([ex.label != "neutral" for ex in aware], dtype=np.int8)
    w_polar = _balance(_source_weights(aware, params.neutral_aware, params.source_cap), y_polar)
    polar = _logistic(featurizer.transform([ex.text for ex in aware]), y_polar, w_polar, params.c_polar, seed)

    step("polarity head", 2, total)
    polar_examples = [ex for ex in data.sentiment if ex.label != "neutral"]
    if len({ex.label for ex in polar_examples}) < 2:
        raise InputError("training needs both positive and negative sentiment labels")
    y_pos = np.array([ex.label == "positive" for ex in polar_examples], dtype=np.int8)
    w_pos = _balance(_source_weights(polar_examples, params.polarity_weight, params.source_cap), y_pos)
    positive = _logistic(
        featurizer.transform([ex.text for ex in polar_examples]), y_pos, w_pos, params.c_polarity, seed
    )

    step("escalation head", 3, total)
    if {ex.label for ex in data.escalation} != set(ESCALATIONS):
        raise InputError("training needs escalation labels of all three levels (low, medium, high)")
    y_esc = np.array([ESCALATIONS.index(ex.label) for ex in esc_all])
    w_esc = np.ones(len(esc_all))
    w_esc[data.escalation.__len__() :] = _weak_share(len(data.escalation), len(data.weak_escalation), params)
    w_esc[: len(data.escalation)] *= np.array(
        [3.0 if ex.source == "analyst" else 1.0 for ex in data.escalation]
    )
    escalation = _logistic(
        featurizer.transform([ex.text for ex in esc_all]), y_esc, w_esc, params.c_escalation, seed
    )

    step("assemble", 4, total)
    weights = np.zeros((n, 5), dtype=np.float32)
    weights[:, 0] = polar.coef_[0]
    weights[:, 1] = positive.coef_[0]
    weights[:, 2:5] = escalation.coef_.T
    bias = np.concatenate([polar.intercept_, positive.intercept_, escalation.intercept_]).astype(np.float64)
    classifier = Classifier(featurizer, weights, bias, tuple(params.thresholds), "unversioned", {})
    summary = {
        "sentiment_examples": dict(sorted(Counter(ex.source for ex in data.sentiment).items())),
        "sentiment_classes": dict(sorted(Counter(ex.label for ex in data.sentiment).items())),
        "escalation_examples": len(data.escalation),
        "escalation_classes": dict(sorted(Counter(ex.label for ex in data.escalation).items())),
        "weak_escalation_examples": len(data.weak_escalation),
        "n_features": n,
    }
    step("done", total, total)
    return classifier, summary


def _weak_share(n_labelled: int, n_weak: int, params: TrainParams) -> float:
    if n_weak == 0:
        return 0.0
    return params.weak_escalation * n_labelled / n_weak


def train_model(
    out_dir: str | os.PathLike[str],
    *,
    extra_labels: Iterable[Mapping] | None = None,
    seed: int = 0,
    use_pool: bool = True,
    progress: Progress | None = None,
    name: str = "model",
    data_root: Path | None = None,
    escalation_train: Path | None = None,
    params: TrainParams | None = None,
    evaluate: bool = True,
) -> Path:
    """Train a model and save it to ``out_dir``; returns the directory.

    ``extra_labels`` are analysts' labels: mappings with ``text`` and optional ``sentiment`` / ``escalation``.
    ``progress(stage, done, total)`` is called as training advances. Metrics on the held-out sets are
    written into the metadata when ``evaluate`` is true and the shared data is available.
    """
    params = params or TrainParams()
    data = collect(
        use_pool=use_pool,
        data_root=data_root,
        escalation_train=escalation_train,
        extra_labels=extra_labels,
        include_dev=params.include_dev,
        use_reviews=params.use_reviews,
    )
    if len(data.weak_escalation) > params.weak_sample:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(data.weak_escalation), params.weak_sample, replace=False))
        data.weak_escalation = [data.weak_escalation[i] for i in keep]
    classifier, summary = fit_classifier(data, params, seed=seed, progress=progress)
    classifier.version = _version(name, data.file_hashes, params, seed)
    classifier.metadata = _metadata(classifier, data, summary, params, seed)
    out = save_model(classifier, Path(out_dir))
    if evaluate:
        from classifiers.evaluate import evaluate_classifier

        try:
            report = evaluate_classifier(classifier, data_root=data_root, with_snownlp=False)
        except InputError as exc:
            logger.warning("held-out evaluation skipped: %s", exc)
        else:
            classifier.metadata["metrics"] = {
                name: {k: v for k, v in result.items() if k != "confusion"}
                for name, result in report["sets"].items()
            }
            save_model(classifier, out)
    return out


def _version(name: str, hashes: dict[str, str], params: TrainParams, seed: int) -> str:
    digest = hashlib.sha256()
    for key in sorted(hashes):
        digest.update(f"{key}={hashes[key]}\n".encode())
    digest.update(repr((params, seed)).encode())
    return f"{name}-{_training_date().strftime('%Y.%m.%d')}-{digest.hexdigest()[:8]}"


def _training_date() -> dt.date:
    # SOURCE_DATE_EPOCH pins the date for byte-identical rebuilds (reproducible-builds.org convention).
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


def _metadata(
    classifier: Classifier, data: TrainingData, summary: dict, params: TrainParams, seed: int
) -> dict:
    import scipy
    import sklearn
    import skops

    return {
        "version": classifier.version,
        "trained_on": _training_date().isoformat(),
        "format": 1,
        "classes": {"sentiment": list(corpus.SENTIMENTS), "escalation": list(ESCALATIONS)},
        "escalation_thresholds": {"medium": params.thresholds[0], "high": params.thresholds[1]},
        "seed": seed,
        "params": {k: v for k, v in vars(params).items()},
        "data_sha256": data.file_hashes,
        "weights_sha256": hashlib.sha256(classifier.weights.tobytes()).hexdigest(),
        "training": summary,
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "skops": skops.__version__,
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m classifiers.train --default`` or ``--out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m classifiers.train", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--default", action="store_true", help=f"rebuild the shipped model in {DEFAULT_MODEL_DIR}"
    )
    target.add_argument("--out", type=Path, help="write the model to this directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=None, help="shared data (default ../shared/data)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def progress(stage: str, done: int, total: int) -> None:
        logger.info("[%d/%d] %s", done, total, stage)

    out = DEFAULT_MODEL_DIR if args.default else args.out
    name = "default" if args.default else "model"
    path = train_model(out, seed=args.seed, progress=progress, name=name, data_root=args.data_dir)
    logger.info("model written to %s", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
