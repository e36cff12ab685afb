"""Sentiment and escalation classifiers: fast linear heads over character n-grams, saved as skops files.

``train_model``, ``evaluate_model`` and ``format_report`` are imported on first use, so that loading and
predicting stay quick to start and ``python -m classifiers.train`` runs without a double import.
"""

from typing import Any

from classifiers.model import DEFAULT_MODEL_DIR, Classifier, Prediction, load_model

__all__ = [
    "DEFAULT_MODEL_DIR",
    "Classifier",
    "Prediction",
    "evaluate_model",
    "format_report",
    "load_model",
    "train_model",
]

_LAZY = {
    "train_model": "classifiers.train",
    "evaluate_model": "classifiers.evaluate",
    "format_report": "classifiers.evaluate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'classifiers' has no attribute {name!r}")
