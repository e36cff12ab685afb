"""Readers for the labelled data the classifier learns from and is measured on.

Every reader returns plain ``Example`` rows whose ``text`` is already in analysis form
(``monitor.normalize.normalize_text``), so training reads text exactly as the pipeline stores it.
The held-out sets (SMP2020 ``usual_test``, ChnSentiCorp hotels, the 酒店 rows of online_shopping) are only
read by ``heldout_*`` functions, which training never calls.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import InputError
from monitor.normalize import normalize_text

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
ESCALATION_DIR = Path(__file__).resolve().parent / "data" / "escalation"
REVIEWS_DIR = Path(__file__).resolve().parent / "data" / "reviews"
DATA_DIR_ENV = "TINGFENG_DATA_DIR"

SENTIMENTS = ("negative", "neutral", "positive")
ESCALATIONS = ("low", "medium", "high")

# SMP2020-EWECT emotions as the issue maps them; "surprise" has no sentiment and is left out.
SMP_SENTIMENT = {
    "angry": "negative",
    "sad": "negative",
    "fear": "negative",
    "happy": "positive",
    "neutral": "neutral",
}
CLUE_SENTIMENT = {
    "sadness": "negative",
    "anger": "negative",
    "disgust": "negative",
    "fear": "negative",
    "like": "positive",
    "happiness": "positive",
}
# covid19_weibo_7emo: 0 fear, 1 disgust, 2 optimism, 3 surprise, 4 gratitude, 5 sadness, 6 anger.
COVID_SENTIMENT = {
    "0": "negative",
    "1": "negative",
    "2": "positive",
    "4": "positive",
    "5": "negative",
    "6": "negative",
}
BINARY_SENTIMENT = {"0": "negative", "1": "positive"}

_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff\U0001f900-\U0001f9ff]")
_SEGMENT_SPACE = re.compile(r"(?<=[^\x00-\x7f]) +| +(?=[^\x00-\x7f])")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text in analysis form; ``source`` names the corpus it came from."""

    text: str
    label: str
    source: str


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The shared data directory: ``override``, else ``$TINGFENG_DATA_DIR``, else ``../shared/data``."""
    if override is not None:
        return Path(override)
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "data"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, recorded in model metadata."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def strip_emoticons(text: str) -> str:
    """Drop ``[表情]`` tags and emoji: weibo_senti_100k labels were derived from them."""
    return _EMOJI.sub("", _EMOTICON.sub("", text)).strip()


def _require(path: Path) -> Path:
    if not path.is_file():
        raise InputError(
            f"training data file not found: {path} (set ${DATA_DIR_ENV} or check ../shared/data)"
        )
    return path


def _examples(rows: Iterable[tuple[str, str]], source: str, mapping: dict[str, str]) -> Iterator[Example]:
    for raw, label in rows:
        mapped = mapping.get(str(label).strip())
        if mapped is None or not raw:
            continue
        text = normalize_text(raw)
        if text:
            yield Example(text, mapped, source)


def _smp(path: Path, source: str) -> Iterator[Example]:
    rows = json.loads(_require(path).read_text(encoding="utf-8"))
    return _examples(((r["content"], r["label"]) for r in rows), source, SMP_SENTIMENT)


def _csv_rows(path: Path, *, encoding: str = "utf-8") -> Iterator[dict[str, str]]:
    with _require(path).open(encoding=encoding, newline="") as handle:
        yield from csv.DictReader(handle)


def sentiment_pool(root: Path) -> dict[str, list[Example]]:
    """The sentiment training pool, by source; never contains a held-out set."""
    pool: dict[str, list[Example]] = {}
    smp = root / "smp2020_ewect"
    for name in ("virus_train", "virus_eval_labeled", "virus_test_labeled"):
        pool[f"smp_{name}"] = list(_smp(smp / f"{name}.txt", f"smp_{name}"))

    clue = []
    for name in ("valid", "test"):
        with _require(root / "clue_emotion2020" / f"{name}.txt").open(encoding="utf-8") as handle:
            rows = (json.loads(line) for line in handle if line.strip())
            clue.extend(_examples(((r["content"], r["label"]) for r in rows), "clue", CLUE_SENTIMENT))
    pool["clue"] = clue

    covid_rows = _csv_rows(root / "covid19_weibo_7emo" / "labeledData.csv", encoding="utf-8-sig")
    # Half the covid file is oversampled duplicate rows: keep each (text, label) once.
    seen = set()
    unique = []
    for row in covid_rows:
        key = (row["review"], row["label"])
        if key not in seen:
            seen.add(key)
            unique.append(key)
    pool["covid"] = list(_examples(unique, "covid", COVID_SENTIMENT))

    weibo = []
    senti = root / "weibo_senti_100k_partial"
    for path in sorted([*senti.glob("paddlehub_ernie/*.tsv"), *senti.glob("tdm_senti/*.csv")]):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                label, _, text = line.rstrip("\n").partition("\t")
                if label in BINARY_SENTIMENT:
                    weibo.append((text, label))
    pool["weibo_senti"] = [
        Example(stripped, ex.label, "weibo_senti")
        for ex in _examples(weibo, "weibo_senti", BINARY_SENTIMENT)
        if (stripped := strip_emoticons(ex.text))
    ]

    pool["waimai"] = list(
        _examples(
            ((r["review"], r["label"]) for r in _csv_rows(root / "waimai_10k" / "waimai_10k.csv")),
            "waimai",
            BINARY_SENTIMENT,
        )
    )
    shopping = _csv_rows(root / "online_shopping_10_cats" / "online_shopping_10_cats.csv")
    # 酒店 rows overlap the held-out ChnSentiCorp hotel set.
    pool["shopping"] = list(
        _examples(
            ((r["review"], r["label"]) for r in shopping if r["cat"] != "酒店"), "shopping", BINARY_SENTIMENT
        )
    )

    pool["car"] = list(_car(root / "bdci2018_car" / "train_2.csv"))
    pool["senticnet"] = list(_senticnet(root / "senticnet_zh_reviews"))
    pool["osm"] = list(_osm(root / "osm_weibo_2022"))
    return pool


def _car(path: Path) -> Iterator[Example]:
    # A post has one row per aspect: all-neutral posts are neutral, one-sided posts take that side.
    by_post: dict[str, tuple[str, set[str]]] = {}
    for row in _csv_rows(path):
        text, values = by_post.setdefault(row["content_id"], (row["content"], set()))
        values.add(row["sentiment_value"].strip())
    for text, values in by_post.values():
        polar = values - {"0"}
        if len(polar) > 1:
            continue
        label = {"-1": "negative", "1": "positive"}.get(next(iter(polar)), "neutral") if polar else "neutral"
        norm = normalize_text(text)
        if norm:
            yield Example(norm, label, "car")


def _senticnet(folder: Path) -> Iterator[Example]:
    for domain in ("camera", "car", "notebook", "phone"):
        sentences = _require(folder / f"{domain}_sentence.txt").read_text(encoding="utf-8").splitlines()
        labels = _require(folder / f"{domain}_label.txt").read_text(encoding="utf-8").splitlines()
        yield from _examples(zip(sentences, labels, strict=False), "senticnet", BINARY_SENTIMENT)


def join_segmented(text: str) -> str:
    """Undo the word segmentation of osm_weibo_2022 (spaces between CJK characters)."""
    return _SEGMENT_SPACE.sub("", text.strip())


def _osm_rows(folder: Path, split: str) -> Iterator[tuple[str, str]]:
    reviews = _require(folder / f"{split}_review.txt").read_text(encoding="utf-8").splitlines()
    labels = _require(folder / f"{split}_label.txt").read_text(encoding="utf-8").splitlines()
    for review, label in zip(reviews, labels, strict=False):
        yield join_segmented(review), label.strip()


def _osm(folder: Path) -> Iterator[Example]:
    # 0 positive, 1 weak negative, 2 anger, 3 anxiety: comments on public incidents.
    mapping = {"0": "positive", "1": "negative", "2": "negative", "3": "negative"}
    for split in ("train", "evl"):
        yield from _examples(_osm_rows(folder, split), "osm", mapping)


def sentiment_dev(root: Path) -> list[Example]:
    """The SMP2020 ``usual_eval`` development set: the only public set used for tuning."""
    return list(_smp(root / "smp2020_ewect" / "usual_eval_labeled.txt", "smp_usual_eval"))


def _labelled_rows(path: Path, field: str, allowed: tuple[str, ...]) -> list[dict]:
    """Rows of one of the project's labelled JSONL files; each needs a text and ``field`` among ``allowed``."""
    rows = []
    with _require(path).open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON: {exc.msg}", file=str(path), line=line_no) from exc
            if row.get(field) not in allowed or not isinstance(row.get("text"), str):
                raise InputError(
                    f"needs a text and {field} {'|'.join(allowed)}", file=str(path), line=line_no
                )
            rows.append(row)
    return rows


def read_escalation(path: Path) -> list[dict]:
    """Rows of a labelled escalation JSONL file (id, text, escalation, sentiment, register, script, domain)."""
    return _labelled_rows(path, "escalation", ESCALATIONS)


def escalation_examples(path: Path) -> tuple[list[Example], list[Example]]:
    """(escalation examples, sentiment examples) from one labelled escalation file."""
    escalation, sentiment = [], []
    for row in read_escalation(path):
        text = normalize_text(row["text"])
        if not text:
            continue
        escalation.append(Example(text, row["escalation"], "escalation_set"))
        if row.get("sentiment") in SENTIMENTS:
            sentiment.append(Example(text, row["sentiment"], "escalation_set"))
    return escalation, sentiment


def review_examples(path: Path) -> list[Example]:
    """Sentiment examples from the project's labelled consumer-review file (``classifiers/data/reviews``)."""
    examples = []
    for row in _labelled_rows(path, "sentiment", SENTIMENTS):
        text = normalize_text(row["text"])
        if text:
            examples.append(Example(text, row["sentiment"], "reviews"))
    return examples


# ---- held-out sets: read by evaluation only -------------------------------------------------------------


def heldout_smp_usual_test(root: Path) -> list[Example]:
    """SMP2020-EWECT ``usual_test`` mapped to three classes (surprise rows left out). Held out."""
    return list(_smp(root / "smp2020_ewect" / "usual_test_labeled.txt", "smp_usual_test"))


def heldout_chnsenticorp(root: Path) -> list[Example]:
    """ChnSentiCorp hotel reviews (binary). Held out."""
    rows = _csv_rows(root / "chnsenticorp_htl" / "ChnSentiCorp_htl_all.csv")
    return list(_examples(((r["review"], r["label"]) for r in rows), "chnsenticorp", BINARY_SENTIMENT))


def heldout_escalation(path: Path | None = None) -> list[Example]:
    """The project's escalation test set. Held out."""
    escalation, _ = escalation_examples(path or ESCALATION_DIR / "test.jsonl")
    return escalation
