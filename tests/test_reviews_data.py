"""Checks on the project's hand-labelled consumer-review set (classifiers/data/reviews)."""

import csv
import json
from pathlib import Path

import pytest
from fixtures.labelled import load as load_rows
from fixtures.labelled import squash

from classifiers.corpus import data_dir

MINIMUM = {"train": 700, "dev": 150}
FIELDS = {"id", "text", "sentiment", "register", "script", "domain"}
ALLOWED = {
    "sentiment": {"negative", "neutral", "positive"},
    "register": {"weibo", "forum", "comment", "review"},
    "script": {"simplified", "traditional"},
}


def load(split: str) -> list[dict]:
    return load_rows("reviews", split)


@pytest.mark.parametrize("split", ["train", "dev"])
def test_rows_have_valid_fields_and_unique_ids_and_texts(split):
    rows = load(split)
    assert len(rows) >= MINIMUM[split]
    assert len({row["id"] for row in rows}) == len(rows)
    assert len({squash(row["text"]) for row in rows}) == len(rows)
    for row in rows:
        assert set(row) == FIELDS, row["id"]
        assert row["id"].startswith(f"rev-{split}-")
        assert row["text"].strip() and row["domain"], row["id"]
        for field, allowed in ALLOWED.items():
            assert row[field] in allowed, (row["id"], field, row[field])


@pytest.mark.parametrize("split", ["train", "dev"])
def test_labels_are_balanced_and_both_scripts_present(split):
    rows = load(split)
    count = {s: sum(row["sentiment"] == s for row in rows) for s in ALLOWED["sentiment"]}
    assert min(count["negative"], count["positive"]) >= 0.35 * len(rows), count
    assert count["neutral"] >= 0.05 * len(rows), count
    traditional = sum(row["script"] == "traditional" for row in rows)
    assert 0.08 * len(rows) <= traditional <= 0.25 * len(rows)


def test_no_dev_text_in_train():
    train = {squash(row["text"]) for row in load("train")}
    assert [row["id"] for row in load("dev") if squash(row["text"]) in train] == []


def _heldout_texts(root: Path) -> set[str]:
    """Texts of the held-out sets, compared by exact match only (never printed)."""
    texts = set()
    hotels = root / "chnsenticorp_htl" / "ChnSentiCorp_htl_all.csv"
    with hotels.open(encoding="utf-8", newline="") as handle:
        texts.update(squash(r["review"] or "") for r in csv.DictReader(handle))
    shopping = root / "online_shopping_10_cats" / "online_shopping_10_cats.csv"
    with shopping.open(encoding="utf-8", newline="") as handle:
        texts.update(squash(r["review"] or "") for r in csv.DictReader(handle) if r["cat"] == "酒店")
    usual = json.loads((root / "smp2020_ewect" / "usual_test_labeled.txt").read_text(encoding="utf-8"))
    texts.update(squash(r["content"]) for r in usual)
    texts.discard("")
    return texts


def test_no_text_from_the_held_out_sets():
    root = data_dir()
    if not (root / "chnsenticorp_htl").is_dir():
        pytest.skip(f"shared data not found at {root}")
    held_out = _heldout_texts(root)
    found = [
        row["id"] for split in ("train", "dev") for row in load(split) if squash(row["text"]) in held_out
    ]
    assert found == []
