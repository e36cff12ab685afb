"""Held-out evaluation and its report, on tiny stand-in sets."""

from __future__ import annotations

import json

import pytest
from test_classifiers_model import write_tiny_set

from classifiers import format_report, train_model
from classifiers.evaluate import evaluate_model


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    train = write_tiny_set(root / "train.jsonl")
    model = train_model(root / "model", use_pool=False, escalation_train=train, evaluate=False)
    data = root / "data"
    (data / "smp2020_ewect").mkdir(parents=True)
    rows = [
        {"id": 1, "content": "手机用了三天就坏了，客服也不理人", "label": "angry"},
        {"id": 2, "content": "这家店的蛋糕真好吃，推荐", "label": "happy"},
        {"id": 3, "content": "明天下午三点开会", "label": "neutral"},
        {"id": 4, "content": "天哪居然这样", "label": "surprise"},
    ]
    (data / "smp2020_ewect" / "usual_test_labeled.txt").write_text(json.dumps(rows, ensure_ascii=False))
    (data / "chnsenticorp_htl").mkdir()
    (data / "chnsenticorp_htl" / "ChnSentiCorp_htl_all.csv").write_text(
        "label,review\n1,服务很好，下次还来\n0,衣服质量太差，洗一次就掉色\n", encoding="utf-8"
    )
    test = write_tiny_set(root / "test.jsonl", copies=1)
    return model, data, test


def test_every_held_out_set_gets_counts_metrics_and_a_confusion_matrix(setup):
    model, data, test = setup
    report = evaluate_model(model, with_snownlp=False, data_root=data, escalation_test=test)
    sets = report["sets"]
    assert set(sets) == {"smp2020_usual_test", "chnsenticorp_htl", "escalation_test"}
    assert sets["smp2020_usual_test"]["n"] == 3  # surprise has no sentiment class
    assert sets["chnsenticorp_htl"]["confusion"]["labels"] == ["negative", "positive"]
    assert "high_f1" in sets["escalation_test"]
    for result in sets.values():
        matrix = result["confusion"]["matrix"]
        assert sum(map(sum, matrix)) == result["n"]
        correct = sum(matrix[i][i] for i in range(len(matrix)))
        assert result["accuracy"] == pytest.approx(correct / result["n"])


def test_report_text_names_each_set_and_its_metrics(setup):
    model, data, test = setup
    text = format_report(evaluate_model(model, with_snownlp=False, data_root=data, escalation_test=test))
    for needle in (
        "smp2020_usual_test (n=3)",
        "chnsenticorp_htl (n=2)",
        "escalation_test",
        "macro-F1",
        "high-f1",
    ):
        assert needle in text
    assert "confusion" in text


def test_snownlp_is_scored_on_the_same_sentiment_sets_when_installed(setup):
    pytest.importorskip("snownlp")
    model, data, test = setup
    report = evaluate_model(model, with_snownlp=True, data_root=data, escalation_test=test)
    assert report["sets"]["smp2020_usual_test"]["snownlp"]["n"] == 3
    assert report["sets"]["chnsenticorp_htl"]["snownlp"]["n"] == 2
    assert "snownlp" not in report["sets"]["escalation_test"]
    assert "SnowNLP" in format_report(report)
