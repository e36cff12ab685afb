"""``tingfeng label`` and ``tingfeng model`` as an analyst uses them."""

import csv
import json
import os
import select
import sys
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from classifiers import DEFAULT_MODEL_DIR, load_model
from monitor import registry
from monitor.analyst_cli import TrainingProgress
from monitor.cli import cli, main
from monitor.labels import iter_labels
from monitor.normalize import normalize, normalize_text
from monitor.post import Post
from monitor.store import open_db, save_post

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _run(*args, input=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)
    return result


def _post(db, post_id, text, scores):
    post = Post.from_dict({"id": post_id, "text": text, "source": "weibo"})
    save_post(db, post, normalize(text), now=NOW, tags={"feed": "weibo"})
    db["classifications"].insert(
        {
            "source": "weibo",
            "post_id": post_id,
            "model_version": "m1",
            "sentiment": "negative",
            "p_negative": scores[0],
            "p_neutral": scores[1],
            "p_positive": scores[2],
            "escalation": "low",
            "escalation_score": 0.1,
            "classified_at": NOW.isoformat(),
        }
    )


@pytest.fixture
def posts_db(db_path):
    db = open_db(db_path)
    _post(db, "1", "星河X3的拍照真的炸裂", (0.40, 0.25, 0.35))
    _post(db, "2", "星河空调又报E4", (0.45, 0.25, 0.30))
    _post(db, "3", "星河X3的续航直接炸裂", (0.50, 0.20, 0.30))
    db.conn.commit()  # the command opens its own connection
    return db


def test_interactive_labelling_takes_one_key_per_post_and_saves_each_at_once(posts_db, db_path):
    result = _run("label", "--db", db_path, "--stored", "--by", "ana", input="3xs1")
    assert result.exit_code == 0
    assert "星河X3的拍照真的炸裂" in result.output and "模型拿不准" in result.output
    assert "1 负面 negative  2 中性 neutral  3 正面 positive  s 跳过 skip  q 退出 quit" in result.output
    assert result.output.rstrip().endswith("labelled 2, skipped 1")
    assert [(r["post_id"], r["label"], r["labeller"], r["origin"]) for r in iter_labels(posts_db)] == [
        ("1", "positive", "ana", "cli"),
        ("3", "negative", "ana", "cli"),
    ]


def test_quitting_keeps_what_was_labelled_and_the_next_session_starts_after_it(posts_db, db_path):
    result = _run("label", "--db", db_path, "--stored", "--task", "escalation", "--by", "ana", input="2q")
    assert result.output.rstrip().endswith("labelled 1, skipped 0")
    assert [(r["post_id"], r["task"], r["label"]) for r in iter_labels(posts_db)] == [
        ("1", "escalation", "medium")
    ]
    again = _run("label", "--db", db_path, "--stored", "--task", "escalation", input="q")
    assert "星河X3的拍照真的炸裂" not in again.output and "星河" in again.output


def test_import_reports_bad_rows_and_exits_1_and_export_writes_them_back(db_path, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "text,sentiment,escalation\n星河X3拍照炸裂,正面,低\n星河空调报E4,angry,\n", encoding="utf-8"
    )
    result = _run("label", "import", source, "--db", db_path, "--by", "ana")
    assert result.exit_code == 1
    assert "imported 2 labels (0 already present, 1 bad rows)" in result.output
    assert f"{source}:3: unknown sentiment label 'angry'" in result.output
    out = tmp_path / "out.csv"
    assert _run("label", "export", out, "--db", db_path, "--task", "escalation").output == (
        f"exported 1 labels to {out}\n"
    )
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["text"], r["task"], r["label"], r["labeller"]) for r in rows] == [
        ("星河X3拍照炸裂", "escalation", "low", "ana")
    ]


def test_alert_feedback_from_the_terminal(posts_db, db_path):
    posts_db["incidents"].insert({"id": "inc-1", "title": "E4", "status": "open"})
    posts_db["incident_posts"].insert(
        {"incident_id": "inc-1", "source": "weibo", "post_id": "2", "added_at": "x"}
    )
    result = _run("label", "feedback", "inc-1", "false_alarm", "--db", db_path, "--by", "ana")
    assert result.output == "added 1 escalation labels from incident inc-1 (false_alarm)\n"
    assert [(r["post_id"], r["label"]) for r in iter_labels(posts_db)] == [("2", "low")]


BRAND = [
    f"星河{m}的{p}真的炸裂"
    for m in ("X3", "Pad", "Watch", "Buds")
    for p in [
        "拍照",
        "续航",
        "屏幕",
        "外放",
        "充电",
        "信号",
        "散热",
        "性能",
        "音质",
        "手感",
        "系统",
        "夜景",
        "防抖",
        "快充",
        "降噪",
    ]
]


def test_train_compare_promote_list_rollback_from_the_terminal(db_path, tmp_path, capsys, public_sets):
    labels = tmp_path / "brand.jsonl"
    labels.write_text(
        "".join(
            json.dumps({"text": t, "sentiment": "positive", "escalation": "low"}, ensure_ascii=False) + "\n"
            for t in BRAND
        ),
        encoding="utf-8",
    )
    assert _run("label", "import", labels, "--db", db_path, "--by", "ana").exit_code == 0

    trained = _run(
        "model", "train", "--no-pool", "--db", db_path, "--out", tmp_path / "models", "--by", "ana"
    )
    assert trained.exit_code == 0, trained.output
    version = trained.output.split("trained ", 1)[1].split()[0]
    assert version.startswith("analyst-")
    assert "neutral head" not in trained.output  # no progress bar outside a terminal
    assert (
        "analyst_sentiment" in trained.output and f"next: tingfeng model compare {version}" in trained.output
    )

    # Against the shipped default: better on the brand's held-out posts, much worse on the public sets.
    compared = _run("model", "compare", version, "--db", db_path)
    assert compared.exit_code == 0
    section = compared.output.split("analyst_sentiment")[1].split("\n\n")[0]
    assert "▲ better" in section
    assert "▼ worse" in compared.output.split("smp2020_usual_test")[1].split("\n\n")[0]
    assert "promote would refuse (tolerance 0.010):" in compared.output

    with pytest.raises(SystemExit) as refused:
        main(["model", "promote", version, "--db", str(db_path), "--by", "ana"])
    assert refused.value.code == 2
    assert f"error: refusing to promote {version}: worse than default-" in capsys.readouterr().err
    assert registry.active_version(open_db(db_path)) is None

    forced = _run("model", "promote", version, "--force", "--reason", "brand launch week", "--db", db_path)
    assert forced.exit_code == 0 and "— FORCED: brand launch week" in forced.output
    listed = _run("model", "list", "--db", db_path).output
    assert f"* {version}" in listed and "promote by" in listed and ": brand launch week" in listed

    # `tingfeng classify` answers with the model the monitor uses: the promoted one, unless --model says.
    post = json.dumps({"id": "c1", "text": BRAND[0], "source": "weibo"}, ensure_ascii=False) + "\n"
    promoted = _run("classify", "--db", db_path, input=post)
    assert promoted.exit_code == 0 and f"using model {version}, promoted in {db_path}" in promoted.stderr
    shipped = _run("classify", "--db", db_path, "--model", DEFAULT_MODEL_DIR, input=post)
    assert "using model" not in shipped.stderr
    expected = load_model(registry.active_model_path(open_db(db_path))).predict([normalize_text(BRAND[0])])
    assert json.loads(promoted.stdout)["sentiment_scores"] == pytest.approx(expected[0].sentiment_scores)
    assert json.loads(promoted.stdout)["sentiment_scores"] != json.loads(shipped.stdout)["sentiment_scores"]

    rolled = _run("model", "rollback", "--db", db_path, "--by", "bo", "--reason", "too eager")
    assert rolled.output.startswith("rolled back to default-") and f"(was {version})" in rolled.output
    assert registry.active_version(open_db(db_path)).startswith("default-")

    evaluated = _run("model", "evaluate", version, "--db", db_path)
    assert evaluated.output.startswith(f"model {version}")
    assert "analyst_sentiment (n=" in evaluated.output and "escalation_test (n=" in evaluated.output


def test_training_progress_shows_on_a_terminal_and_stays_quiet_in_a_pipe(monkeypatch, capsys):
    master, slave = os.openpty()
    with os.fdopen(slave, "w", encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        with TrainingProgress() as progress:
            progress("features", 0, 5)
            progress("evaluate", 5, 6)
            progress("done", 6, 6)
    chunks = []
    while select.select([master], [], [], 0.5)[0]:  # a pty hands its buffer over in pieces
        try:
            chunks.append(os.read(master, 65536))
        except OSError:  # EIO: the terminal's other end is closed and everything was read
            break
    os.close(master)
    shown = b"".join(chunks).decode("utf-8")
    assert "features" in shown and "done: 100%" in shown and "6/6" in shown
    monkeypatch.undo()
    with TrainingProgress() as progress:
        progress("done", 6, 6)
    assert capsys.readouterr().err == ""
