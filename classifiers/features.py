"""Turning a batch of analysis-form texts into one sparse TF-IDF matrix, fast.

Two kinds of feature share one column space:

* character 1-3 grams, computed for the whole batch at once with numpy. Each n-gram is keyed exactly (a code
  point takes 21 bits, so a trigram fits a 64-bit integer without hashing or collisions) and looked up in a
  sorted key array. Emoticon tags (``[怒]``) and emoji become n-grams like any other characters; negation
  stays visible as bigrams such as 不好 / 没有.
* word unigrams and bigrams from rjieba (jieba's dictionary and segmentation, HMM off) with the project's user
  dictionary ``config/userdict.txt`` for brand, product and complaint slang.

Per-post Python work is one ``rjieba.cut`` and a dictionary lookup per word; everything else is array work.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger(__name__)

USERDICT_PATH = Path(__file__).resolve().parent.parent / "config" / "userdict.txt"
_BITS = 21  # every Unicode code point fits in 21 bits
_SEPARATORS = np.array([0, 0x20, 0x3000, 0x0A, 0x0D, 0x09], dtype=np.uint64)

_userdict_loaded: set[str] = set()


def load_userdict(path: Path = USERDICT_PATH) -> list[str]:
    """Add the words of a jieba-format user dictionary (``word [freq] [tag]`` per line) to rjieba."""
    import rjieba

    words = []
    if not path.is_file():
        return words
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        words.append(parts[0])
        if str(path) not in _userdict_loaded:
            rjieba.add_word(parts[0], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None, None)
    _userdict_loaded.add(str(path))
    return words


def char_ngram_keys(texts: Sequence[str], *, max_n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(row index, exact n-gram key) for every character 1..max_n gram of every text; whitespace breaks grams."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
    joined = "\x00".join(texts).lower() + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    codes[np.isin(codes, _SEPARATORS)] = 0
    rows_of_pos = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    valid = codes != 0
    all_rows = [rows_of_pos[valid]]
    all_keys = [codes[valid]]
    key = codes.copy()
    ok = valid.copy()
    for n in range(2, max_n + 1):
        # key of the n-gram starting at i: the (n-1)-gram key at i shifted, plus the char at i+n-1.
        key = (key[:-1] << np.uint64(_BITS)) | codes[n - 1 :]
        ok = ok[:-1] & valid[n - 1 :]
        all_rows.append(rows_of_pos[: len(ok)][ok])
        all_keys.append(key[ok])
    return np.concatenate(all_rows), np.concatenate(all_keys)


def char_document_frequency(texts: Sequence[str], *, batch: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique char n-gram keys, number of texts containing each), computed batch by batch."""
    keys_acc = np.zeros(0, np.uint64)
    df_acc = np.zeros(0, np.int64)
    for chunk in iter_batches(texts, batch):
        rows, keys = char_ngram_keys(chunk)
        order = np.lexsort((keys, rows))
        rows, keys = rows[order], keys[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (keys[1:] != keys[:-1])
        uniq, counts = np.unique(keys[first], return_counts=True)
        merged, inverse = np.unique(np.concatenate([keys_acc, uniq]), return_inverse=True)
        df_acc = np.bincount(inverse, weights=np.concatenate([df_acc, counts]), minlength=len(merged)).astype(
            np.int64
        )
        keys_acc = merged
    return keys_acc, df_acc


def word_tokens(text: str) -> list[str]:
    """Words and word bigrams of one text (rjieba, HMM off); single CJK characters are left to char grams."""
    import rjieba

    words = [w for w in rjieba.cut(text.lower(), False) if not w.isspace()]
    grams = [w for w in words if len(w) > 1]
    grams.extend(a + " " + b for a, b in zip(words, words[1:], strict=False))
    return grams


@dataclass
class Featurizer:
    """Fitted vocabulary and IDF weights; ``transform`` maps texts to L2-normalised sublinear TF-IDF rows."""

    char_keys: np.ndarray  # sorted uint64 n-gram keys, columns 0..len-1
    words: list[str]  # word / word-bigram columns follow the char columns
    idf: np.ndarray  # float32, one per column
    use_words: bool = True

    def __post_init__(self) -> None:
        self._word_index = {w: i + len(self.char_keys) for i, w in enumerate(self.words)}
        self._lookup: KeyLookup | None = None

    def char_columns(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of keys in the vocabulary, their columns)."""
        return self.index().find(keys)

    def index(self) -> KeyLookup:
        """The lookup from char n-gram keys to columns, built at first need."""
        if self._lookup is None:
            self._lookup = KeyLookup(self.char_keys)
        return self._lookup

    @property
    def n_features(self) -> int:
        return len(self.char_keys) + len(self.words)

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        *,
        min_df: int = 2,
        max_char: int = 300_000,
        max_words: int = 100_000,
        use_words: bool = True,
    ) -> Featurizer:
        """Keep the most document-frequent char grams and words (at least ``min_df`` documents)."""
        uniq, df = char_document_frequency(texts)
        char_keys, char_df = _top(uniq, df, min_df, max_char)
        order = np.argsort(char_keys, kind="stable")
        char_keys, char_df = char_keys[order], char_df[order]

        words: list[str] = []
        word_df: list[int] = []
        if use_words:
            load_userdict()
            counts: Counter[str] = Counter()
            for text in texts:
                counts.update(set(word_tokens(text)))
            ranked = sorted((w for w, c in counts.items() if c >= min_df), key=lambda w: (-counts[w], w))
            words = sorted(ranked[:max_words])
            word_df = [counts[w] for w in words]
        n_docs = len(texts)
        df_all = np.concatenate([char_df.astype(np.float64), np.asarray(word_df, dtype=np.float64)])
        idf = (np.log((1 + n_docs) / (1 + df_all)) + 1).astype(np.float32)
        return cls(char_keys=char_keys, words=words, idf=idf, use_words=use_words)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The feature matrix of ``texts`` (one row each)."""
        rows, keys = char_ngram_keys(texts)
        hit, cols = self.char_columns(keys)
        rows = rows[hit]
        if self.use_words:
            load_userdict()
            index = self._word_index
            word_rows: list[int] = []
            word_cols: list[int] = []
            for i, text in enumerate(texts):
                found = [c for c in map(index.get, word_tokens(text)) if c is not None]
                word_cols.extend(found)
                word_rows.extend([i] * len(found))
            rows = np.concatenate([rows, np.asarray(word_rows, dtype=np.int64)])
            cols = np.concatenate([cols, np.asarray(word_cols, dtype=np.int64)])
        data = np.ones(len(rows), dtype=np.float32)
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(texts), self.n_features), dtype=np.float32)
        matrix.sum_duplicates()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1
        matrix.data *= self.idf[matrix.indices]
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1
        matrix.data /= np.repeat(norms, np.diff(matrix.indptr)).astype(np.float32)
        return matrix

    def to_state(self) -> dict:
        return {
            "char_keys": self.char_keys,
            "words": list(self.words),
            "idf": self.idf,
            "use_words": bool(self.use_words),
        }

    @classmethod
    def from_state(cls, state: dict) -> Featurizer:
        return cls(
            char_keys=np.asarray(state["char_keys"], dtype=np.uint64),
            words=list(state["words"]),
            idf=np.asarray(state["idf"], dtype=np.float32),
            use_words=bool(state["use_words"]),
        )


class KeyLookup:
    """Exact lookup of uint64 keys in a fixed sorted key array, by two-choice hashing.

    ``np.searchsorted`` costs ~18 random reads per key on a 300k vocabulary; two hash tables of at least 4
    slots per key cost one or two. Keys that find both their slots taken (a handful) go to a small sorted
    overflow array searched the slow way.
    """

    _MULTIPLIERS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = np.asarray(keys, dtype=np.uint64)
        size = max(16, int(len(self.keys) * 4 - 1).bit_length())
        self.shift = np.uint64(64 - min(size, 26))
        # Columns as the tables hold them (int32), so that no step converts them; every key goes to the first table.
        pending = np.arange(len(self.keys), dtype=np.int32)
        pending_keys = self.keys
        self.tables = []
        for multiplier in self._MULTIPLIERS:
            table = np.full(1 << int(64 - int(self.shift)), -1, dtype=np.int32)
            slots = self._slot(pending_keys, multiplier)
            # One of the keys that share a slot keeps it (whichever the assignment wrote last), the rest try the
            # next table. Which one does not change any lookup's answer, and needs no sort of the slots.
            table[slots] = pending
            placed = table[slots] == pending
            self.tables.append((multiplier, table))
            pending = pending[~placed]
            pending_keys = self.keys[pending]
        self.overflow_cols = pending.astype(np.int64)
        self.overflow_keys = pending_keys

    def _slot(self, keys: np.ndarray, multiplier: np.uint64) -> np.ndarray:
        return ((keys * multiplier) >> self.shift).astype(np.int64)

    def find(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of queries present, column of each present query)."""
        cols = np.full(len(queries), -1, dtype=np.int64)
        todo = np.arange(len(queries))
        for multiplier, table in self.tables:
            candidate = table[self._slot(queries[todo], multiplier)].astype(np.int64)
            found = candidate >= 0
            found[found] = self.keys[candidate[found]] == queries[todo[found]]
            cols[todo[found]] = candidate[found]
            todo = todo[~found]
        if len(self.overflow_keys) and len(todo):
            pos = np.searchsorted(self.overflow_keys, queries[todo])
            pos = np.minimum(pos, len(self.overflow_keys) - 1)
            found = self.overflow_keys[pos] == queries[todo]
            cols[todo[found]] = self.overflow_cols[pos[found]]
        hit = cols >= 0
        return hit, cols[hit]


def _top(keys: np.ndarray, df: np.ndarray, min_df: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    keep = df >= min_df
    keys, df = keys[keep], df[keep]
    if len(keys) > limit:
        # Highest document frequency first; ties broken by key so the choice is deterministic.
        order = np.lexsort((keys, -df))[:limit]
        keys, df = keys[order], df[order]
    return keys, df


def iter_batches(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
