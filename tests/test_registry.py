"""The analysts' loop end to end, on tiny models: label, train, compare, promote, switch, refuse, roll back.

The tiny models learn from a quarter of the escalation set and no public pool, so they know little general
sentiment: most tests gate them on the sets they are about (the escalation test set and the analysts' slice)
by pointing ``data_root`` at a directory without the public sets. One test keeps the public sets and shows
the gate catching what brand labels cost such a model there.
"""

import json
import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from classifiers import load_model
from classifiers.corpus import ESCALATION_DIR
from monitor import evaluation, registry
from monitor.config import load_config
from monitor.errors import InputError, ModelError
from monitor.labels import add_label, is_holdout
from monitor.normalize import normalize_text
from monitor.pipeline import Pipeline
from monitor.post import Post
from monitor.store import open_db

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
# Brand slang: on 星河's forums "炸裂" is high praise, which a general model reads as an explosion or anger.
PARTS = "拍照 续航 屏幕 外放 充电 信号 散热 性能 音质 手感 系统 夜景 防抖 快充 游戏帧率 降噪 颜值 做工 录像 指纹解锁 相机 网速 小窗 护眼 触控"
TAILS = ("真的炸裂", "直接炸裂", "太炸裂了", "炸裂了家人们", "简直炸裂")
PRAISE = [
    f"星河{model}的{part}{TAILS[i % 5]}" for model in ("X3", "Pad") for i, part in enumerate(PARTS.split())
]
# 星河's air conditioners show E4 when they fail: a plain complaint.
WHEN = "今天早上 刚开机 半夜 开了十分钟 第三次 新买的 修完 夏天一到 孩子在家 老人在家 昨天 开制冷 开制热 开除湿 周末 上班前 出差回来 一周两次 装好第二天 换了主板 刚交房 开学前 过年 下雨天 热浪来了"
CODES = ("又报E4", "报E4停机", "一直报E4", "显示E4", "跳E4")
FAULTS = [f"星河空调{when}{CODES[i % 5]}" for i, when in enumerate(WHEN.split())]
GOLD = {**{t: ("positive", "low") for t in PRAISE}, **{t: ("negative", "medium") for t in FAULTS}}


def _label_all(db):
    for text, (sentiment, escalation) in GOLD.items():
        add_label(db, task="sentiment", label=sentiment, text=text, labeller="ana", now=NOW)
        add_label(db, task="escalation", label=escalation, text=text, labeller="ana", now=NOW)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Three tiny models (no public pool, a quarter of the escalation set): the one in use, one that learned
    the brand's labels, and a deliberately worse one whose escalation labels were scrambled."""
    root = tmp_path_factory.mktemp("registry")
    rows = [
        json.loads(line) for line in (ESCALATION_DIR / "train.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    small, scrambled = root / "small.jsonl", root / "scrambled.jsonl"
    small.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[::4]), encoding="utf-8")
    rotate = {"low": "high", "medium": "low", "high": "medium"}
    scrambled.write_text(
        "".join(
            json.dumps({**r, "escalation": rotate[r["escalation"]]}, ensure_ascii=False) + "\n"
            for r in rows[::4]
        ),
        encoding="utf-8",
    )
    lab = open_db(root / "lab.db")
    _label_all(lab)
    out = {}
    for name, kwargs in {
        "base": {"labels": [], "escalation_train": small},
        "brand": {"escalation_train": small},
        "worse": {"labels": [], "escalation_train": scrambled},
    }.items():
        record = registry.train(
            lab,
            root / "models",
            use_pool=False,
            name=name,
            by="ana",
            now=NOW,
            data_root=root / "no-public-data",
            **kwargs,
        )
        out[name] = (record["version"], Path(record["path"]))
    out["small"] = small
    out["no_public"] = root / "no-public-data"
    return out


@pytest.fixture
def db(tmp_path, models):
    db = open_db(tmp_path / "monitor.db")
    _label_all(db)
    for name in ("base", "brand", "worse"):
        registry.register(db, models[name][1], by="ana", now=NOW)
    return db


def _pipeline(db, model_path):
    return Pipeline(load_config(), db, load_model(model_path))


def _classify(pipeline, post_id, text, at):
    post = Post.from_dict({"id": post_id, "text": text, "source": "weibo", "created_at": at.isoformat()})
    pipeline.process([post], now=at)
    return pipeline.db.execute(
        "select model_version, sentiment, escalation from classifications where post_id = ?", [post_id]
    ).fetchall()


def test_brand_labels_teach_a_model_that_compare_shows_better_and_the_running_pipeline_switches_to(
    db, models
):
    base_version, base_path = models["base"]
    brand_version, _ = models["brand"]
    base = load_model(base_path)
    wrong = sum(
        (p.sentiment, p.escalation) != GOLD[t]
        for t, p in zip(GOLD, base.predict([normalize_text(t) for t in GOLD]), strict=True)
    )
    assert wrong >= 20, "the model in use should get the brand's posts wrong"

    sets = evaluation.heldout(db, data_root=models["no_public"])
    assert {s.name for s in sets} == {"analyst_sentiment", "analyst_escalation", "escalation_test"}
    comparison = evaluation.compare(
        evaluation.evaluate(base, sets), evaluation.evaluate(load_model(models["brand"][1]), sets)
    )
    held = comparison.sets["analyst_sentiment"]
    assert held.n == sum(is_holdout(t) for t in GOLD)
    # 16 held-out posts: the gain is large, and the bootstrap interval never reaches below no change.
    assert held.row("accuracy").delta > 0.2 and held.row("accuracy").low >= 0
    assert comparison.regressions(registry.TOLERANCE) == []

    pipeline = _pipeline(db, base_path)
    before = base.predict([normalize_text("星河X3的屏幕真的炸裂")])[0]
    assert _classify(pipeline, "1", "星河X3的屏幕真的炸裂", NOW) == [
        (base_version, before.sentiment, before.escalation)
    ]
    result = registry.promote(
        db,
        brand_version,
        by="ana",
        reason="knows 炸裂 and E4",
        current_path=base_path,
        data_root=models["no_public"],
        now=NOW,
    )
    assert (result.version, result.previous, result.forced) == (brand_version, base_version, False)
    assert registry.active_version(db) == brand_version

    pipeline.tick(NOW + timedelta(minutes=1))  # the daemon ticks once a minute
    assert pipeline.classifier.version == brand_version
    later = NOW + timedelta(minutes=2)
    assert _classify(pipeline, "2", "星河X3的音质真的炸裂", later) == [(brand_version, "positive", "low")]

    row = registry.get(db, brand_version)
    assert (row["active"], row["promoted_by"]) == (1, "ana")
    events = [
        (e["action"], e["version"], e["by"], e["reason"])
        for e in registry.history(db)
        if e["action"] != "register"
    ]
    assert events == [
        ("baseline", base_version, "ana", "in use before the first promotion"),
        ("promote", brand_version, "ana", "knows 炸裂 and E4"),
    ]


def test_a_worse_candidate_is_refused_unless_forced_with_a_reason(db, models):
    brand_version, worse_version = models["brand"][0], models["worse"][0]
    registry.promote(
        db, brand_version, by="ana", current_path=models["base"][1], data_root=models["no_public"], now=NOW
    )
    with pytest.raises(
        registry.PromotionRefused, match=r"refusing to promote .*escalation_test: macro_f1"
    ) as refused:
        registry.promote(db, worse_version, by="bo", data_root=models["no_public"], now=NOW)
    assert any("escalation_test" in line for line in refused.value.regressions)
    assert registry.active_version(db) == brand_version
    event = registry.history(db, worse_version)[-1]
    assert (event["action"], event["by"], event["previous_version"]) == ("refused", "bo", brand_version)
    assert json.loads(event["details"])["regressions"] == refused.value.regressions

    with pytest.raises(InputError, match="needs a reason"):
        registry.promote(db, worse_version, by="bo", force=True, now=NOW)
    result = registry.promote(
        db, worse_version, by="bo", force=True, reason="boss wants it", data_root=models["no_public"], now=NOW
    )
    assert result.forced and registry.active_version(db) == worse_version
    event = registry.history(db, worse_version)[-1]
    assert (event["action"], event["forced"], event["reason"]) == ("promote", 1, "boss wants it")


def test_rollback_restores_each_previous_version_and_the_pipeline_follows(db, models):
    (base_version, base_path), (brand_version, _), (worse_version, _) = (
        models["base"],
        models["brand"],
        models["worse"],
    )
    registry.promote(
        db, brand_version, by="ana", current_path=base_path, data_root=models["no_public"], now=NOW
    )
    registry.promote(
        db, worse_version, by="ana", force=True, reason="try it", data_root=models["no_public"], now=NOW
    )
    pipeline = _pipeline(db, base_path)
    pipeline.tick(NOW)
    assert pipeline.classifier.version == worse_version

    result = registry.rollback(db, by="bo", reason="worse on E4", now=NOW)
    assert (result.version, result.previous) == (brand_version, worse_version)
    pipeline.tick(NOW + timedelta(minutes=1))
    assert pipeline.classifier.version == brand_version
    assert registry.rollback(db, by="bo", now=NOW).version == base_version
    with pytest.raises(ModelError, match="nothing to roll back to"):
        registry.rollback(db, by="bo", now=NOW)
    assert registry.active_version(db) == base_version
    assert [e["action"] for e in registry.history(db) if e["action"] != "register"] == [
        "baseline",
        "promote",
        "promote",
        "rollback",
        "rollback",
    ]


def test_registry_rows_keep_metrics_data_hashes_and_survive_registering_again(db, models):
    brand_version, brand_path = models["brand"]
    registry.promote(
        db, brand_version, by="ana", current_path=models["base"][1], data_root=models["no_public"], now=NOW
    )
    registry.register(db, brand_path, by="ana", now=NOW)
    row = registry.get(db, brand_version)
    assert row["active"] == 1
    assert {"escalation_test", "analyst_sentiment", "analyst_escalation"} <= set(row["metrics"])
    assert set(row["data_hashes"]) >= {"analyst_labels", "escalation/small.jsonl"}
    assert "analyst_labels" not in registry.get(db, models["base"][0])["data_hashes"]
    n = sum(not is_holdout(t) for t in GOLD)
    assert row["notes"] == f"{n} sentiment and {n} escalation analyst labels (no public pool), seed 0"
    with pytest.raises(ModelError, match="no model version 'nope'"):
        registry.promote(db, "nope", by="ana")
    with pytest.raises(ModelError, match="already the active model"):
        registry.promote(db, brand_version, by="ana")


def test_training_again_on_the_same_labels_and_seed_gives_the_same_model(db, models, tmp_path):
    record = registry.train(
        db,
        tmp_path / "again",
        use_pool=False,
        name="brand",
        escalation_train=models["small"],
        data_root=models["no_public"],
        now=NOW,
    )
    assert record["version"] == models["brand"][0]
    first = json.loads((models["brand"][1] / "metadata.json").read_text(encoding="utf-8"))
    again = json.loads((Path(record["path"]) / "metadata.json").read_text(encoding="utf-8"))
    assert again["weights_sha256"] == first["weights_sha256"]


def _promote_brand_from(db, directory: Path, models) -> None:
    """Register the brand model's copy in ``directory`` and promote it over the base model."""
    registry.register(db, directory, by="ana", now=NOW)
    registry.promote(
        db,
        models["brand"][0],
        by="ana",
        current_path=models["base"][1],
        data_root=models["no_public"],
        now=NOW,
    )


def test_a_promoted_model_that_cannot_be_loaded_leaves_the_running_one_in_place(db, models, tmp_path, caplog):
    copy = tmp_path / "copy"
    shutil.copytree(models["brand"][1], copy)
    _promote_brand_from(db, copy, models)
    (copy / "model.skops").write_bytes(b"not a model")
    pipeline = _pipeline(db, models["base"][1])
    with caplog.at_level(logging.ERROR, logger="monitor.registry"):
        assert registry.refresh_classifier(pipeline) is False
    assert pipeline.classifier.version == models["base"][0]
    assert "cannot switch to the promoted model" in caplog.text


def test_models_kept_beside_the_database_move_with_it(models, tmp_path):
    var = tmp_path / "var"
    db = open_db(var / "tingfeng.db")
    shutil.copytree(models["brand"][1], var / "models" / "brand")
    _promote_brand_from(db, var / "models" / "brand", models)
    assert db.execute("select path from models where active = 1").fetchone()[0] == "models/brand"
    db.close()

    moved = tmp_path / "restored" / "var"
    shutil.move(var, moved)
    db = open_db(moved / "tingfeng.db")
    assert registry.active_model_path(db) == moved / "models" / "brand"
    assert registry.promoted_model_in(moved / "tingfeng.db") == (
        models["brand"][0],
        moved / "models" / "brand",
    )
    assert load_model(registry.active_model_path(db)).version == models["brand"][0]
    from monitor.web import read  # the dashboard and its API show where the model is now

    assert {row["version"]: row["path"] for row in read.models(db)}[models["brand"][0]] == str(
        moved / "models" / "brand"
    )
    assert (
        registry.rollback(db, by="ana").version == models["base"][0]
    )  # the baseline outside var/ stays absolute


def test_the_gate_sees_what_brand_labels_cost_a_small_model_on_the_public_sets(db, models, public_sets):
    # With no public pool behind it, twenty "炸裂" praises pull the small model's idea of praise toward the
    # brand's slang: better on the analysts' slice, measurably worse on general Weibo and hotel reviews.
    with pytest.raises(registry.PromotionRefused) as refused:
        registry.promote(db, models["brand"][0], by="ana", current_path=models["base"][1], now=NOW)
    worse_sets = {line.split(":")[0] for line in refused.value.regressions}
    assert worse_sets == {"smp2020_usual_test", "chnsenticorp_htl"}
    assert refused.value.comparison.sets["analyst_sentiment"].row("accuracy").delta > 0


def test_a_monitor_started_on_a_store_runs_the_model_promoted_there(db, models, tmp_path):
    brand_version = models["brand"][0]
    registry.promote(
        db, brand_version, by="ana", current_path=models["base"][1], data_root=models["no_public"], now=NOW
    )
    db_path = tmp_path / "monitor.db"
    db.close()
    pipeline = Pipeline.open(None, db_path, mode="replay")
    assert pipeline.classifier.version == brand_version
    assert _classify(pipeline, "p1", "冰箱门关不上，客服不理人", NOW)[0][0] == brand_version
    pipeline.db.close()
    fresh = Pipeline.open(None, tmp_path / "new.db", mode="replay")  # nothing promoted: the shipped default
    assert fresh.classifier.version == load_model(None).version
    fresh.db.close()


def test_a_promotion_the_read_only_look_missed_still_decides_the_model(db, models, tmp_path, monkeypatch):
    import monitor.pipeline

    brand_version = models["brand"][0]
    registry.promote(
        db, brand_version, by="ana", current_path=models["base"][1], data_root=models["no_public"], now=NOW
    )
    db.close()
    # As when another process held the store locked at the look, or promoted right after it.
    monkeypatch.setattr(monitor.pipeline, "promoted_model_in", lambda path: None)
    pipeline = Pipeline.open(None, tmp_path / "monitor.db", mode="replay")
    assert pipeline.classifier.version == brand_version
    pipeline.db.close()
