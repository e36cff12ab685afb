"""The classifier's public behaviour: predictions, safe loading, reproducible training, the default model."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifiers import DEFAULT_MODEL_DIR, Prediction, load_model, train_model
from classifiers.model import MODEL_FILE
from monitor.errors import ModelError
from monitor.normalize import normalize_text

TINY = [
    ("空调漏电了，手一碰就麻，太危险了", "high", "negative"),
    ("热水器着火了，消防车都来了", "high", "negative"),
    ("商家不退款，我已经打了12315投诉", "high", "negative"),
    ("再不给说法我就找媒体曝光，求转发", "high", "negative"),
    ("准备起诉这家店，律师函已经发了", "high", "negative"),
    ("外卖送晚了一个小时，饭都凉了", "medium", "negative"),
    ("手机用了三天就坏了，客服也不理人", "medium", "negative"),
    ("衣服质量太差，洗一次就掉色", "medium", "negative"),
    ("快递丢件了，客服一直推脱", "medium", "negative"),
    ("耳机又断连了，售后太差", "medium", "negative"),
    ("今天天气真好，出去玩", "low", "positive"),
    ("新品超好用，转发抽奖送同款", "low", "positive"),
    ("这家店的蛋糕真好吃，推荐", "low", "positive"),
    ("服务很好，下次还来", "low", "positive"),
    ("今年315晚会曝光了几家企业", "low", "neutral"),
    ("明天下午三点开会", "low", "neutral"),
    ("地铁二号线周末正常运营", "low", "neutral"),
    ("公司发布了新款手机", "low", "neutral"),
]


def write_tiny_set(path: Path, rows=TINY, copies: int = 2) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(copies):
            for j, (text, escalation, sentiment) in enumerate(rows):
                record = {
                    "id": f"t{i}-{j}",
                    "text": text if i == 0 else text + "！",
                    "escalation": escalation,
                }
                record["sentiment"] = sentiment
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    train = write_tiny_set(root / "train.jsonl")
    return train_model(root / "model", use_pool=False, escalation_train=train, evaluate=False, seed=0)


def test_predict_gives_one_prediction_per_text_with_contract_fields(tiny_model_dir):
    model = load_model(tiny_model_dir)
    texts = [normalize_text(t) for t in ["空调漏电了", "今天天气真好", "", "快递丢件了" * 50]]
    predictions = model.predict(texts)
    assert len(predictions) == 4
    for p in predictions:
        assert isinstance(p, Prediction)
        assert p.sentiment in ("negative", "neutral", "positive")
        assert set(p.sentiment_scores) == {"negative", "neutral", "positive"}
        assert sum(p.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-9)
        assert p.sentiment == max(p.sentiment_scores, key=p.sentiment_scores.get)
        assert p.escalation in ("low", "medium", "high")
        assert 0.0 <= p.escalation_score <= 1.0
    assert model.predict([]) == []


def test_tiny_model_learns_its_training_labels(tiny_model_dir):
    model = load_model(tiny_model_dir)
    predictions = model.predict([text for text, _, _ in TINY])
    escalation_hits = sum(p.escalation == esc for p, (_, esc, _) in zip(predictions, TINY, strict=True))
    assert escalation_hits >= len(TINY) - 2


def test_metadata_records_versions_hashes_and_classes(tiny_model_dir):
    metadata = json.loads((tiny_model_dir / "metadata.json").read_text(encoding="utf-8"))
    model = load_model(tiny_model_dir)
    assert model.version == metadata["version"]
    assert metadata["classes"] == {
        "sentiment": ["negative", "neutral", "positive"],
        "escalation": ["low", "medium", "high"],
    }
    assert set(metadata["versions"]) >= {"python", "numpy", "scikit-learn", "skops"}
    assert len(metadata["data_sha256"]["escalation/train.jsonl"]) == 64


def test_same_seed_and_data_give_the_same_model(tmp_path, tiny_model_dir):
    train = write_tiny_set(tmp_path / "train.jsonl")
    again = train_model(tmp_path / "again", use_pool=False, escalation_train=train, evaluate=False, seed=0)
    first, second = load_model(tiny_model_dir), load_model(again)
    assert first.version == second.version
    assert np.array_equal(first.weights, second.weights)
    texts = ["空调漏电了", "服务很好", "快递丢件了"]
    assert first.predict(texts) == second.predict(texts)


def test_analyst_labels_change_what_the_model_predicts(tmp_path):
    train = write_tiny_set(tmp_path / "train.jsonl")
    brand_slang = [{"text": "小蓝盒又爆屏了", "escalation": "high", "sentiment": "negative"}] * 6
    model_dir = train_model(
        tmp_path / "m", use_pool=False, escalation_train=train, extra_labels=brand_slang, evaluate=False
    )
    assert load_model(model_dir).predict(["小蓝盒又爆屏了"])[0].escalation == "high"


def test_missing_model_is_a_clear_model_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "nowhere")


def test_a_model_file_that_would_run_code_is_refused(tmp_path):
    import os

    import skops.io

    marker = tmp_path / "pwned"
    payload = {"format": 1, "hook": (os.system, f"touch {marker}")}
    target = tmp_path / "evil"
    target.mkdir()
    skops.io.dump(payload, target / MODEL_FILE)
    with pytest.raises(ModelError, match="untrusted"):
        load_model(target)
    assert not marker.exists()


def test_a_pickle_blob_inside_the_zip_is_refused(tmp_path):
    import pickle

    target = tmp_path / "pickled"
    target.mkdir()
    schema = {
        "__class__": "dict",
        "__module__": "builtins",
        "__loader__": "ObjectNode",
        "content": {
            "__class__": "bytes",
            "__module__": "builtins",
            "__loader__": "BytesNode",
            "file": "x.bin",
        },
        "protocol": 2,
    }
    with zipfile.ZipFile(target / MODEL_FILE, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
        archive.writestr("x.bin", pickle.dumps({"a": 1}))
    with pytest.raises(ModelError, match="untrusted"):
        load_model(target)


def test_a_corrupt_model_file_is_a_model_error(tmp_path):
    (tmp_path / MODEL_FILE).write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path)


def test_fast_reader_and_skops_agree_on_the_default_model():
    import skops.io

    from classifiers.skopsfile import read_state

    path = DEFAULT_MODEL_DIR / MODEL_FILE
    ours, theirs = read_state(path), skops.io.load(path, trusted=[])
    assert ours.keys() == theirs.keys()
    assert np.array_equal(ours["weights"], theirs["weights"])
    assert np.array_equal(ours["featurizer"]["char_keys"], theirs["featurizer"]["char_keys"])
    assert ours["thresholds"] == theirs["thresholds"]


@pytest.fixture(scope="module")
def default_model():
    return load_model(None)


def test_traditional_and_simplified_posts_get_the_same_prediction(default_model):
    pairs = [
        ("這家店太坑了，我要去消協投訴，大家幫忙轉發！", "这家店太坑了，我要去消协投诉，大家帮忙转发！"),
        ("電熱毯漏電，手都麻了", "电热毯漏电，手都麻了"),
        ("服務很好，下次還來", "服务很好，下次还来"),
    ]
    for traditional, simplified in pairs:
        assert default_model.predict([normalize_text(traditional)]) == default_model.predict(
            [normalize_text(simplified)]
        )


HARD_NEGATIVES = [
    "新款耳机音质绝了！转发这条微博抽三位送同款，求转发[哈哈]",
    "超级好吃的一家店，强烈推荐，帮忙转发让更多人知道",
    "今年的315晚会又曝光了几家企业，大家买东西注意一点",
    "315消费者权益日，市场监管局发布了十大典型案例",
    "算了，懒得投诉了，周末愉快",
]
CLEAR_HIGHS = [
    "买的电动车充电时起火了，差点烧到孩子，厂家还不认账",
    "商家拒不退款，我已经向12315投诉了，不解决就起诉",
    "这家店卖假货，大家帮忙转发扩散，我要找媒体曝光",
]


def test_hard_negatives_stay_low_on_the_default_model(default_model):
    predictions = default_model.predict([normalize_text(t) for t in HARD_NEGATIVES])
    assert [p.escalation for p in predictions] == ["low"] * len(HARD_NEGATIVES)


def test_clear_threats_and_hazards_are_high_on_the_default_model(default_model):
    predictions = default_model.predict([normalize_text(t) for t in CLEAR_HIGHS])
    assert [p.escalation for p in predictions] == ["high"] * len(CLEAR_HIGHS)
