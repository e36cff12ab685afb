"""Character n-gram keys, the vocabulary lookup and the TF-IDF rows."""

from __future__ import annotations

import numpy as np

from classifiers.features import Featurizer, KeyLookup, char_ngram_keys


def _grams(text: str) -> set[str]:
    _, keys = char_ngram_keys([text])
    out = set()
    for key in keys.tolist():
        chars = []
        while key:
            chars.append(chr(key & 0x1FFFFF))
            key >>= 21
        out.add("".join(reversed(chars)))
    return out


def test_char_grams_keep_negation_and_emoticons_and_stop_at_spaces():
    grams = _grams("不好 [怒]")
    assert {"不", "好", "不好", "[怒]", "[怒", "怒]"} <= grams
    assert not any(" " in g for g in grams)
    assert "好 [" not in grams and "好[" not in grams


def test_char_grams_are_per_text_and_case_folded():
    rows, keys = char_ngram_keys(["ab", "AB"])
    assert rows.tolist() == [0, 0, 1, 1, 0, 1]
    assert np.array_equal(keys[rows == 0], keys[rows == 1])


def test_lookup_finds_exactly_the_vocabulary_keys():
    rng = np.random.default_rng(0)
    vocab = np.unique(rng.integers(1, 2**62, 50_000, dtype=np.uint64))
    queries = np.concatenate(
        [vocab[rng.integers(0, len(vocab), 10_000)], rng.integers(1, 2**62, 5_000, dtype=np.uint64)]
    )
    hit, cols = KeyLookup(vocab).find(queries)
    expected = np.isin(queries, vocab)
    assert np.array_equal(hit, expected)
    assert np.array_equal(vocab[cols], queries[hit])


def test_transform_gives_unit_rows_and_empty_rows_for_unknown_text():
    featurizer = Featurizer.fit(["服务很好", "服务太差", "很好很好"], min_df=1, use_words=False)
    matrix = featurizer.transform(["服务很好", "ｘｙｚ", ""])
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert np.allclose(norms, [1.0, 0.0, 0.0], atol=1e-6)
    assert matrix.shape == (3, featurizer.n_features)
