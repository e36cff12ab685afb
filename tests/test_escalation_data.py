"""Checks on the project's hand-labelled escalation data set (classifiers/data/escalation)."""

from collections import Counter

import pytest
from fixtures.labelled import load as load_rows
from fixtures.labelled import squash

MINIMUM = {"train": 1600, "test": 450}
FIELDS = {"id", "text", "escalation", "sentiment", "register", "script", "domain"}
ALLOWED = {
    "escalation": {"low", "medium", "high"},
    "sentiment": {"negative", "neutral", "positive"},
    "register": {"weibo", "forum", "comment", "review"},
    "script": {"simplified", "traditional"},
}


def load(split: str) -> list[dict]:
    return load_rows("escalation", split)


@pytest.mark.parametrize("split", ["train", "test"])
def test_rows_have_valid_fields_and_unique_ids(split):
    rows = load(split)
    assert len(rows) >= MINIMUM[split]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        assert set(row) == FIELDS, row["id"]
        assert row["id"].startswith(f"esc-{split}-")
        assert 5 <= len(row["text"]) <= 200, row["id"]
        assert row["domain"], row["id"]
        for field, allowed in ALLOWED.items():
            assert row[field] in allowed, (row["id"], field, row[field])


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_level_and_both_scripts_present(split):
    rows = load(split)
    for field in ("escalation", "script"):
        counts = {value: 0 for value in ALLOWED[field]}
        for row in rows:
            counts[row[field]] += 1
        assert min(counts.values()) >= 0.1 * len(rows), (field, counts)


def test_no_test_text_in_train():
    train = {squash(row["text"]) for row in load("train")}
    leaked = [row["id"] for row in load("test") if squash(row["text"]) in train]
    assert leaked == []


def shingles(text: str) -> set[str]:
    t = squash(text)
    return {t[i : i + 3] for i in range(max(1, len(t) - 2))}


def test_no_test_text_near_duplicates_a_train_text():
    train = [shingles(row["text"]) for row in load("train")]
    index: dict[str, list[int]] = {}
    for i, grams in enumerate(train):
        for gram in grams:
            index.setdefault(gram, []).append(i)
    close = []
    for row in load("test"):
        mine = shingles(row["text"])
        shared = Counter(i for gram in mine for i in index.get(gram, ()))
        for i, n in shared.items():
            if n / (len(mine) + len(train[i]) - n) >= 0.5:
                close.append((row["id"], i))
    assert close == []
