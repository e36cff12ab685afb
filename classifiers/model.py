"""The classifier: one feature pass, linear heads for sentiment and escalation, safe model files.

A model directory holds ``model.skops`` (plain numpy arrays, strings and numbers in a skops file: loading it
cannot run code) and ``metadata.json`` (versions, data hashes, metrics, date, classes).

Sentiment is two logistic heads over the same features: *is the post polar* (vs neutral) and *is a polar
post positive* (vs negative), combined as P(neutral) = 1 - s, P(positive) = s·q, P(negative) = s·(1 - q).
Review corpora only say positive or negative, so they train the polarity head alone and never teach the
model that neutral posts do not exist. Escalation is a three-class logistic head; its score is the expected
level (0 low, 0.5 medium, 1 high) and the level is read off the score with two thresholds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.features import Featurizer, iter_batches
from classifiers.skopsfile import read_state
from monitor.errors import ModelError

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"
MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
FORMAT_VERSION = 1
SENTIMENTS = ("negative", "neutral", "positive")
ESCALATIONS = ("low", "medium", "high")
_BATCH = 4096


@dataclass(frozen=True, slots=True)
class Prediction:
    """One post's classification, in the contract's terms (CONTRACT.md §2)."""

    sentiment: str
    sentiment_scores: dict[str, float]
    escalation: str
    escalation_score: float


@dataclass
class Classifier:
    """A loaded model: ``predict`` maps analysis-form texts to ``Prediction`` objects."""

    featurizer: Featurizer
    weights: np.ndarray  # (n_features, 5): polar, positive, esc_low, esc_medium, esc_high
    bias: np.ndarray  # (5,)
    thresholds: tuple[float, float]  # escalation score → medium, → high
    version: str
    metadata: dict

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(sentiment probabilities (n, 3) in SENTIMENTS order, escalation probabilities (n, 3))."""
        sentiment = np.zeros((len(texts), 3), dtype=np.float64)
        escalation = np.zeros((len(texts), 3), dtype=np.float64)
        for start, batch in zip(range(0, len(texts), _BATCH), iter_batches(texts, _BATCH), strict=True):
            logits = (self.featurizer.transform(batch) @ self.weights).astype(np.float64) + self.bias
            polar = _sigmoid(logits[:, 0])
            positive = _sigmoid(logits[:, 1])
            end = start + len(batch)
            sentiment[start:end, 0] = polar * (1 - positive)
            sentiment[start:end, 1] = 1 - polar
            sentiment[start:end, 2] = polar * positive
            esc = logits[:, 2:5]
            esc = np.exp(esc - esc.max(axis=1, keepdims=True))
            escalation[start:end] = esc / esc.sum(axis=1, keepdims=True)
        return sentiment, escalation

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify analysis-form texts (``monitor.normalize.normalize_text`` output), in order."""
        texts = list(texts)
        if not texts:
            return []
        sentiment, escalation = self.scores(texts)
        level = escalation_level(escalation)
        medium, high = self.thresholds
        labels = np.where(level >= high, 2, np.where(level >= medium, 1, 0))
        best = sentiment.argmax(axis=1)
        sent = sentiment.tolist()
        # Positional arguments: a keyword call builds a dict of them for every post.
        return [
            Prediction(
                SENTIMENTS[b], {"negative": s[0], "neutral": s[1], "positive": s[2]}, ESCALATIONS[e], v
            )
            for b, s, e, v in zip(best.tolist(), sent, labels.tolist(), level.tolist(), strict=True)
        ]

    def to_state(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "featurizer": self.featurizer.to_state(),
            "weights": self.weights,
            "bias": self.bias,
            "thresholds": [float(t) for t in self.thresholds],
        }


def escalation_level(probabilities: np.ndarray) -> np.ndarray:
    """Expected escalation level in 0..1 (low 0, medium 0.5, high 1) from (n, 3) probabilities."""
    return np.clip(probabilities[:, 1] * 0.5 + probabilities[:, 2], 0.0, 1.0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def save_model(classifier: Classifier, out_dir: Path) -> Path:
    """Write ``model.skops`` and ``metadata.json`` into ``out_dir`` (created if needed)."""
    import skops.io

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    skops.io.dump(classifier.to_state(), out_dir / MODEL_FILE, compression=8)  # ZIP_DEFLATED
    (out_dir / METADATA_FILE).write_text(
        json.dumps(classifier.metadata, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return out_dir


def load_model(path: str | Path | None = None) -> Classifier:
    """Load a model directory (or its ``model.skops``); ``None`` loads the shipped default model.

    Raises ``ModelError`` if the files are missing, unreadable, or hold any type outside the trusted list
    (``classifiers.skopsfile.TRUSTED_NODES``).
    """
    root = Path(path) if path is not None else DEFAULT_MODEL_DIR
    model_file = root if root.suffix == ".skops" else root / MODEL_FILE
    meta_file = model_file.parent / METADATA_FILE
    if not model_file.is_file():
        raise ModelError(f"model file not found: {model_file} (build the default with `make model`)")
    state = read_state(model_file)
    try:
        metadata = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read model metadata {meta_file}: {exc}") from exc
    classifier = classifier_from_state(state, metadata, where=str(model_file))
    classifier.featurizer.index()  # a model is loaded to be used: the loader's thread builds this too
    return classifier


def classifier_from_state(state: object, metadata: dict, *, where: str = "model") -> Classifier:
    """Check a loaded state dict's shape and build the classifier from it."""
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise ModelError(f"{where}: not a Tingfeng model of format {FORMAT_VERSION}")
    try:
        featurizer = Featurizer.from_state(state["featurizer"])
        weights = np.ascontiguousarray(state["weights"], dtype=np.float32)
        bias = np.asarray(state["bias"], dtype=np.float64)
        medium, high = (float(t) for t in state["thresholds"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{where}: malformed model state ({exc})") from exc
    if weights.shape != (featurizer.n_features, 5) or bias.shape != (5,):
        raise ModelError(f"{where}: weights {weights.shape} do not match {featurizer.n_features} features")
    version = str(metadata.get("version") or "unversioned")
    return Classifier(featurizer, weights, bias, (medium, high), version, metadata)
