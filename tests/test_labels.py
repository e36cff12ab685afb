import csv
import json
from datetime import UTC, datetime

import pytest

from monitor.errors import InputError
from monitor.labels import (
    add_label,
    export_labels,
    holdout_labels,
    import_labels,
    is_holdout,
    iter_labels,
    labels_from_feedback,
    resolved_labels,
    training_labels,
)
from monitor.normalize import normalize
from monitor.post import Post
from monitor.store import open_db, save_post

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _post(db, post_id, text, source="weibo"):
    post = Post.from_dict({"id": post_id, "text": text, "source": source})
    save_post(db, post, normalize(post.text), now=NOW)


def _rows(db):
    return [(r["text"], r["task"], r["label"], r["labeller"]) for r in iter_labels(db)]


def test_a_label_is_stored_with_who_and_when_and_spreadsheet_names_are_understood(fresh_db):
    _post(fresh_db, "1", "星河冰箱门关不上")
    add_label(fresh_db, task="sentiment", label="负面", source="weibo", post_id="1", labeller="ana", now=NOW)
    add_label(fresh_db, task="escalation", label="Medium", text="冰箱又坏了", labeller="bo", now=NOW)
    rows = list(
        fresh_db.query("select source, post_id, text, task, label, labeller, origin, created_at from labels")
    )
    assert rows == [
        {
            "source": "weibo",
            "post_id": "1",
            "text": "星河冰箱门关不上",
            "task": "sentiment",
            "label": "negative",
            "labeller": "ana",
            "origin": "cli",
            "created_at": "2026-11-23T09:00:00+00:00",
        },
        {
            "source": None,
            "post_id": None,
            "text": "冰箱又坏了",
            "task": "escalation",
            "label": "medium",
            "labeller": "bo",
            "origin": "cli",
            "created_at": "2026-11-23T09:00:00+00:00",
        },
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "sentiment", "label": "angry", "text": "x"}, "unknown sentiment label 'angry'"),
        ({"task": "mood", "label": "low", "text": "x"}, "unknown task 'mood'"),
        (
            {"task": "sentiment", "label": "negative", "source": "weibo", "post_id": "9"},
            "no stored post weibo:9",
        ),
        ({"task": "sentiment", "label": "negative"}, "needs a text"),
    ],
)
def test_a_bad_label_is_refused_with_what_was_wrong(fresh_db, kwargs, message):
    with pytest.raises(InputError, match=message):
        add_label(fresh_db, labeller="ana", **kwargs)
    assert fresh_db["labels"].count == 0


def test_csv_import_reads_long_and_wide_rows_reports_bad_lines_and_never_stores_a_label_twice(
    fresh_db, tmp_path
):
    _post(fresh_db, "7", "客服一直踢皮球")
    path = tmp_path / "labels.csv"
    path.write_text(
        "text,task,label,sentiment,escalation,source,post_id\n"
        "星河X3拍照炸裂,sentiment,positive,,,,\n"
        "星河空调报E4,,,negative,medium,,\n"
        ",,,negative,,weibo,7\n"
        "没有标签的行,,,,,,\n"
        "星河空调又报E4,sentiment,angry,,,,\n",
        encoding="utf-8",
    )
    report = import_labels(fresh_db, path, labeller="ana", now=NOW)
    assert (report.added, report.repeated) == (4, 0)
    assert [(e.line, str(e).split(": ", 1)[1]) for e in report.bad] == [
        (5, "no label: give task and label, or sentiment and/or escalation"),
        (6, "unknown sentiment label 'angry' (expected one of: negative, neutral, positive)"),
    ]
    assert sorted(_rows(fresh_db)) == [
        ("客服一直踢皮球", "sentiment", "negative", "ana"),
        ("星河X3拍照炸裂", "sentiment", "positive", "ana"),
        ("星河空调报E4", "escalation", "medium", "ana"),
        ("星河空调报E4", "sentiment", "negative", "ana"),
    ]
    again = import_labels(fresh_db, path, labeller="ana", now=NOW)
    assert (again.added, again.repeated) == (0, 4)
    assert fresh_db["labels"].count == 4


def test_jsonl_import_skips_a_broken_line_and_keeps_the_rest(fresh_db, tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"text": "星河空调报E4", "escalation": "中"}\n{"text": broken\n\n[1, 2]\n'
        '{"text": "好用", "task": "sentiment", "label": "正面", "labeller": "bo"}\n',
        encoding="utf-8",
    )
    report = import_labels(fresh_db, path, labeller="ana", now=NOW)
    assert report.added == 2
    assert [e.line for e in report.bad] == [2, 4]
    assert sorted(_rows(fresh_db)) == [
        ("好用", "sentiment", "positive", "bo"),
        ("星河空调报E4", "escalation", "medium", "ana"),
    ]


def test_an_unknown_file_kind_is_refused(fresh_db, tmp_path):
    path = tmp_path / "labels.xlsx"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="name the file .csv or .jsonl"):
        import_labels(fresh_db, path)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_export_then_import_into_another_store_gives_the_same_labels(fresh_db, tmp_path, suffix):
    add_label(
        fresh_db, task="sentiment", label="negative", text='门关不上, 说好的"保修"呢', labeller="ana", now=NOW
    )
    add_label(
        fresh_db, task="escalation", label="high", text="要去12315投诉", labeller="bo", origin="web", now=NOW
    )
    path = tmp_path / f"out{suffix}"
    assert export_labels(fresh_db, path) == 2
    other = open_db(tmp_path / "other.db")
    report = import_labels(other, path, labeller="someone-else")
    assert (report.added, report.bad) == (2, [])
    columns = ("text", "task", "label", "labeller", "origin", "created_at")
    assert [tuple(r[c] for c in columns) for r in iter_labels(other)] == [
        tuple(r[c] for c in columns) for r in iter_labels(fresh_db)
    ]
    if suffix == ".csv":
        with path.open(encoding="utf-8") as handle:
            assert next(csv.reader(handle))[:4] == ["id", "source", "post_id", "text"]
    else:
        assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["labeller"] == "ana"


def _incident(db, incident_id, posts):
    db["incidents"].insert({"id": incident_id, "title": "星河空调报E4", "status": "open"})
    for post_id, text, escalation in posts:
        _post(db, post_id, text)
        db["incident_posts"].insert(
            {"incident_id": incident_id, "source": "weibo", "post_id": post_id, "added_at": NOW.isoformat()}
        )
        db["classifications"].insert(
            {
                "source": "weibo",
                "post_id": post_id,
                "model_version": "m1",
                "sentiment": "negative",
                "escalation": escalation,
                "classified_at": NOW.isoformat(),
            }
        )


def test_alert_feedback_turns_evidence_posts_into_escalation_labels(fresh_db):
    _incident(fresh_db, "inc-1", [("1", "星河空调报E4，要去12315", "high"), ("2", "星河空调报E4", "low")])
    _incident(fresh_db, "inc-2", [("3", "星河发布会直播炸裂", "high")])
    assert labels_from_feedback(fresh_db, "inc-1", "confirmed", labeller="ana", now=NOW) == 2
    assert labels_from_feedback(fresh_db, "inc-2", "误报", labeller="ana", now=NOW) == 1
    rows = list(fresh_db.query("select post_id, task, label, origin from labels order by post_id"))
    assert rows == [
        {"post_id": "1", "task": "escalation", "label": "high", "origin": "alert-feedback:inc-1:confirmed"},
        {"post_id": "2", "task": "escalation", "label": "medium", "origin": "alert-feedback:inc-1:confirmed"},
        {"post_id": "3", "task": "escalation", "label": "low", "origin": "alert-feedback:inc-2:false_alarm"},
    ]
    with pytest.raises(InputError, match="incident 'nope' has no evidence posts"):
        labels_from_feedback(fresh_db, "nope", "confirmed")


def test_the_latest_label_wins_and_dashboard_false_alarms_count_as_low_escalation(fresh_db):
    add_label(fresh_db, task="sentiment", label="negative", text="星河X3拍照炸裂", labeller="ana", now=NOW)
    later = datetime(2026, 11, 24, tzinfo=UTC)
    add_label(fresh_db, task="sentiment", label="positive", text="星河X3拍照炸裂", labeller="bo", now=later)
    # What the dashboard writes for a false alarm; an explicit escalation label beats it.
    add_label(
        fresh_db, task="alert", label="false_alarm", text="发布会炸裂", labeller="ana", origin="web", now=NOW
    )
    add_label(
        fresh_db, task="alert", label="false_alarm", text="要起诉星河", labeller="ana", origin="web", now=NOW
    )
    add_label(fresh_db, task="escalation", label="high", text="要起诉星河", labeller="bo", now=NOW)
    assert sorted(resolved_labels(fresh_db), key=lambda r: r["text"]) == [
        {"text": "发布会炸裂", "sentiment": None, "escalation": "low"},
        {"text": "星河X3拍照炸裂", "sentiment": "positive", "escalation": None},
        {"text": "要起诉星河", "sentiment": None, "escalation": "high"},
    ]


def test_the_held_out_slice_is_about_a_fifth_stable_and_never_in_training(fresh_db):
    texts = [f"星河空调第{i}次报E4" for i in range(500)]
    fresh_db["labels"].insert_all(
        {
            "text": t,
            "task": "sentiment",
            "label": "negative",
            "labeller": "ana",
            "created_at": NOW.isoformat(),
        }
        for t in texts
    )
    held = {r["text"] for r in holdout_labels(fresh_db)}
    trained = {r["text"] for r in training_labels(fresh_db)}
    assert held | trained == set(texts)
    assert not held & trained
    assert 0.15 < len(held) / len(texts) < 0.25
    # Decided by the text alone (its analysis form): the same post in Traditional script stays on its side.
    assert {t for t in texts if is_holdout(t)} == held
    assert is_holdout("星河空調第1次報E4") == is_holdout("星河空调第1次报E4")
