"""Routing, grouping, inhibition, silences and acks over a simulated clock, against a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerting import Alerter, AlertingConfig, load_alerting_config, migrations
from monitor.alerting.store import iso
from monitor.events import AlertEvent
from monitor.store import open_db

T0 = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
CONFIG_DIR = __import__("pathlib").Path(__file__).resolve().parent.parent / "config"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def event(incident="inc-1", severity="warning", status="firing", posts=10, brand="acme", when=T0, **labels):
    return AlertEvent(
        incident_id=incident,
        severity=severity,
        status=status,
        at=when,
        title=f"{brand} 冰箱门投诉 {incident}",
        summary="多名用户反映冰箱门脱落",
        post_ids=[f"p{i}" for i in range(min(int(posts), 5))],
        reasons=["触达 20万", "出现 12315 投诉字样"],
        labels={"brand": brand, "feed": "weibo", "source": "weibo", **labels},
        stats={"posts": posts, "reach": posts * 10_000},
    )


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "t.db")
    migrations.apply(database)
    return database


@pytest.fixture
def config():
    return load_alerting_config(CONFIG_DIR)


def run_day(alerter, timeline, end, step=timedelta(minutes=10)):
    """Feed ``timeline(t) -> list[AlertEvent]`` every ``step`` from T0 to ``end``; collect what was notified."""
    notes = []
    now = T0
    while now <= end:
        notes += alerter.submit(timeline(now), now)
        now += step
    return notes


def growing_incident(acks=None):
    def timeline(now):
        hours = (now - T0).total_seconds() / 3600
        if hours >= 10:
            return [event(status="resolved", severity="critical", posts=95, when=now)]
        posts = 3 + int(hours * 8)  # 3 -> 83 over the day
        severity = "watch" if hours < 1 else "warning" if hours < 4 else "critical"
        return [event(severity=severity, posts=posts, when=now)]

    return timeline


def count(notes, receiver):
    return [(n.kind, n.fired_at) for n in notes if n.receiver == receiver]


def test_growing_incident_over_a_day_gives_a_few_notices_per_channel(db, config):
    alerter = Alerter(config, db)
    notes = []
    now = T0
    timeline = growing_incident()
    while now <= at(12):
        if now == at(5.5):
            db["alerting_acks"].insert({"incident_id": "inc-1", "severity": "critical", "acked_at": iso(now)})
        notes += alerter.submit(timeline(now), now)
        now += timedelta(minutes=10)
    console = count(notes, "console")
    pager = count(notes, "pager")
    digest = count(notes, "digest")
    # watch goes to the digest after 10m; warning new at 09:00 (+30s wait); grew 11 -> 27 (x2) at ~10:00;
    # critical at 12:00; then acked at 13:30 (no repeat at 16:00); resolved at 18:00.
    assert [kind for kind, _ in digest] == ["new"]
    assert digest[0][1] == at(10 / 60)
    assert [kind for kind, _ in console] == ["new", "update", "update", "resolved"]
    assert console[0][1] == at(1) + timedelta(seconds=30)
    assert console[-1][1] == at(10) + timedelta(seconds=30)
    # pager: critical at 12:00 at once (group_wait 0s), one repeat at 13:00 (1h), acked at 13:30, resolved.
    assert pager == [("new", at(4)), ("repeat", at(5)), ("resolved", at(10))]
    # Every notification is in the outbox and in the alerts table before it is returned.
    assert db["alerts"].count == len(notes)
    assert db["alerting_outbox"].count == len(notes)
    update = next(
        n for n in notes if n.receiver == "console" and n.kind == "update" and n.severity == "critical"
    )
    assert any(change.startswith("级别：预警 → 严重") for change in update.changes)


def test_without_ack_repeats_follow_repeat_interval(db, config):
    alerter = Alerter(config, db)
    notes = run_day(alerter, growing_incident(), at(12))
    pager = count(notes, "pager")
    # critical from 12:00 to 18:00: new + a repeat every hour (13..17) + resolved
    assert [kind for kind, _ in pager] == ["new"] + ["repeat"] * 5 + ["resolved"]
    console = [kind for kind, _ in count(notes, "console")]
    # 4h repeat on the PR channel: the 12:00:30 update repeats at 16:00:30
    assert console == ["new", "update", "update", "repeat", "resolved"]


def test_contract_fields_and_unique_ids(db, config):
    notes = run_day(Alerter(config, db), growing_incident(), at(12))
    rows = [n.to_contract() for n in notes]
    for row in rows:
        assert set(row) >= {
            "alert_id",
            "incident_id",
            "severity",
            "status",
            "fired_at",
            "title",
            "summary",
            "post_ids",
            "reasons",
        }
        assert row["severity"] in ("watch", "warning", "critical") and row["status"] in ("firing", "resolved")
        datetime.fromisoformat(row["fired_at"])
        json.dumps(row, ensure_ascii=False)
    assert len({row["alert_id"] for row in rows}) == len(rows)
    # What a resumed replay rewrites from the database is exactly what was returned.
    assert Alerter(config, db).contract_log() == rows


def test_the_outbox_holds_each_notification_as_plain_json(db, config):
    """Every message is what the receivers render: the returned notifications, plus labels, stats, evidence, link."""
    notes = run_day(Alerter(config, db), growing_incident(), at(12))
    sent = {}
    for row in db.query("select payload from alerting_outbox"):
        payload = json.loads(row["payload"])
        assert row["payload"] == json.dumps(payload, ensure_ascii=False)
        sent.update((n["alert_id"], n) for n in payload["notifications"])
    assert len(sent) == len(notes)
    for note in notes:
        told = sent[note.alert_id]
        assert list(told) == [*note.to_contract(), "labels", "stats", "evidence", "link"]
        assert {name: told[name] for name in note.to_contract()} == note.to_contract()
        assert (told["labels"], told["stats"]) == (note.labels, note.stats)
        assert told["evidence"] == [{"id": pid} for pid in note.post_ids[: config.evidence_posts]]
        assert told["link"] == f"{config.dashboard_url}/incidents/{note.incident_id}"


def test_evidence_names_each_post_by_its_source_or_by_its_first_stored_row(db, config):
    for source, post_id, text in [
        ("weibo", "1", "微博一"),
        ("rss", "1", "订阅一"),
        ("rss", "x:y", "带冒号的编号"),
    ]:
        db.execute(
            "insert into posts (source, id, text, author) values (?, ?, ?, '某用户')", [source, post_id, text]
        )
    incident = event(severity="critical")
    incident.post_ids = ["rss:1", "1", "x:y", "weibo:9", "nope:1"]
    Alerter(config, db).submit([incident], T0)
    evidence = json.loads(db.execute("select evidence from alerting_alerts").fetchone()[0])
    assert [(post.get("source"), post["id"], post.get("text")) for post in evidence] == [
        ("rss", "1", "订阅一"),  # source:id names one post
        ("weibo", "1", "微博一"),  # a bare id: the first stored
        ("rss", "x:y", "带冒号的编号"),  # an id that merely contains a colon
        (None, "weibo:9", None),  # not stored: the id alone
        (None, "nope:1", None),
    ]
    assert evidence[0] == {
        "author": "某用户",
        "author_followers": None,
        "id": "1",
        "source": "rss",
        "text": "订阅一",
        "url": None,
    }


def test_state_survives_a_new_alerter(db, config):
    """A restart (new Alerter on the same file) keeps timers: nothing is re-announced."""
    first = Alerter(config, db)
    notes = first.submit([event(when=T0)], T0)
    notes += first.flush(T0 + timedelta(minutes=1))
    assert [n.kind for n in notes] == ["new"]
    second = Alerter(config, db)
    assert second.submit([event(when=T0 + timedelta(minutes=2))], T0 + timedelta(minutes=2)) == []
    assert second.flush(T0 + timedelta(hours=3)) == []
    assert [n.kind for n in second.flush(T0 + timedelta(hours=4, minutes=1))] == ["repeat"]


def test_alert_state_held_in_memory_is_what_the_database_reads_back(tmp_path, config):
    # The running Alerter keeps its state in memory as the database reads it back: one that re-reads the database
    # before every call must tell exactly the same, in the same order, down to the stored messages.
    def timeline(now):
        hours = (now - T0).total_seconds() / 3600
        events = [
            event("a", severity="warning" if hours < 3 else "critical", posts=3 + int(hours * 6), when=now)
        ]
        if hours < 6:
            events.append(event("y", severity="watch", brand="beta", posts=2 + int(hours), when=now))
        if 1 <= hours < 4:  # joins the digest of beta after y
            events.append(event("b", severity="watch", brand="beta", posts=3, when=now))
        if 2 <= hours < 5:
            events.append(event("c", severity="watch", brand="other", posts=4, when=now))
        if hours >= 5:
            events.append(event("c", severity="watch", brand="other", status="resolved", when=now))
        return events

    def run(db, reread):
        alerter = Alerter(config, db)
        notes = []
        now = T0
        while now <= at(30):
            if reread:
                alerter.forget()
            notes += alerter.submit(timeline(now) if now <= at(8) else [], now)
            if reread:
                alerter.forget()
            notes += alerter.flush(now + timedelta(minutes=7))
            now += timedelta(minutes=20)
        outbox = [row["payload"] for row in db.query("select payload from alerting_outbox order by rowid")]
        for row in db.query("select labels, members from alerting_groups"):  # written as the encoder writes
            for text in row.values():
                assert text == json.dumps(json.loads(text), ensure_ascii=False, sort_keys=True)
        return [(n.to_contract(), n.labels, n.stats) for n in notes], outbox, alerter.contract_log()

    held = run(open_db(tmp_path / "held.db"), reread=False)
    reread = run(open_db(tmp_path / "reread.db"), reread=True)
    assert {n["receiver"] for n, _, _ in held[0]} == {"console", "pager", "digest"}
    assert held == reread


def test_a_failed_submit_inside_the_callers_transaction_leaves_nothing_and_is_told_on_retry(db, config):
    alerter = Alerter(config, db)
    db.execute(
        "create trigger refuse before insert on alerting_outbox begin select raise(abort, 'disk full'); end"
    )
    with db.atomic():  # the pipeline's transaction goes on after the alerting call failed
        db.execute("insert into feed_state (feed) values ('weibo')")
        with pytest.raises(sqlite3.IntegrityError, match="disk full"):
            alerter.submit([event(severity="critical")], T0)
    assert db.execute("select count(*) from feed_state").fetchone()[0] == 1
    for table in ("alerting_alerts", "alerting_groups", "alerts", "alerting_outbox"):
        assert db.execute(f"select count(*) from {table}").fetchone()[0] == 0, table
    db.execute("drop trigger refuse")
    with db.atomic():
        notes = alerter.submit([event(severity="critical")], T0)
    assert [(n.receiver, n.kind) for n in notes] == [("pager", "new")]


def test_resubmitting_the_same_events_does_not_double(db, config):
    alerter = Alerter(config, db)
    for _ in range(2):
        alerter.submit([event(when=T0)], T0)
        alerter.flush(T0 + timedelta(minutes=1))
    assert db["alerting_outbox"].count == 1


def test_critical_inhibits_watch_of_same_brand_until_it_resolves(db, config):
    alerter = Alerter(config, db)
    notes = alerter.submit([event("big", "critical", posts=50), event("small", "watch", posts=5)], T0)
    notes += alerter.flush(at(1))
    assert {(n.incident_id, n.receiver) for n in notes} == {("big", "console"), ("big", "pager")}
    # A second fault of the same brand reaching warning is news: never muted by the first one.
    second = alerter.submit([event("second", "warning", when=at(1))], at(1))
    second += alerter.flush(at(1.1))
    assert [(n.incident_id, n.receiver) for n in second] == [("second", "console")]
    other_brand = alerter.submit([event("elsewhere", "watch", brand="other", when=at(1))], at(1))
    other_brand += alerter.flush(at(1.5))
    assert [n.incident_id for n in other_brand] == ["elsewhere"]
    later = alerter.submit([event("big", "critical", status="resolved", posts=50, when=at(2))], at(2))
    later += alerter.flush(at(24))
    assert ("small", "new") in {(n.incident_id, n.kind) for n in later}
    assert ("big", "resolved") in {(n.incident_id, n.kind) for n in later}


def test_silence_mutes_until_it_ends(db, config):
    db["alerting_silences"].insert(
        {
            "id": "s1",
            "matchers": json.dumps(['brand="acme"']),
            "starts_at": iso(T0),
            "ends_at": iso(at(2)),
            "created_by": "test",
            "comment": "known issue",
        }
    )
    alerter = Alerter(config, db)
    notes = run_day(alerter, lambda now: [event(posts=10, when=now)], at(3))
    assert [(n.kind, n.fired_at) for n in notes] == [("new", at(2) + timedelta(seconds=30))]


def test_silence_on_other_labels_does_not_mute(db, config):
    db["alerting_silences"].insert(
        {"id": "s1", "matchers": json.dumps(['brand="zzz"']), "starts_at": iso(T0), "ends_at": iso(at(2))}
    )
    notes = Alerter(config, db).submit([event()], T0)
    notes += Alerter(config, db).flush(at(0.1))
    assert len(notes) == 1


def test_ack_is_void_after_severity_change(db, config):
    alerter = Alerter(config, db)
    alerter.submit([event(severity="warning")], T0)
    alerter.flush(at(0.1))
    db["alerting_acks"].insert({"incident_id": "inc-1", "severity": "warning", "acked_at": iso(at(0.2))})
    assert alerter.flush(at(8)) == []  # acked: no 4h repeats
    notes = alerter.submit([event(severity="critical", when=at(8))], at(8))
    notes += alerter.flush(at(8.1))
    assert {(n.receiver, n.kind) for n in notes} == {("console", "update"), ("pager", "new")}


def test_group_by_brand_batches_incidents_in_one_message(db):
    config = AlertingConfig.model_validate(
        {"route": {"receiver": "console", "group_by": ["brand"], "group_wait": "1m"}}
    )
    alerter = Alerter(config, db)
    alerter.submit([event("a")], T0)
    alerter.submit([event("b", when=T0 + timedelta(seconds=20))], T0 + timedelta(seconds=20))
    notes = alerter.flush(T0 + timedelta(minutes=2))
    assert {n.incident_id for n in notes} == {"a", "b"}
    assert db["alerting_outbox"].count == 1
    payload = json.loads(next(db["alerting_outbox"].rows)["payload"])
    assert [n["incident_id"] for n in payload["notifications"]] == ["a", "b"]


def test_replay_mode_holds_messages(db, config):
    alerter = Alerter(config, db, mode="replay")
    alerter.submit([event()], T0)
    alerter.flush(at(1))
    assert {row["status"] for row in db["alerting_outbox"].rows} == {"held"}


def test_continue_and_first_match_routing(config, db):
    alerter = Alerter(config, db)
    assert [r.receiver for r in alerter.routes_for({"severity": "critical"})] == ["console", "pager"]
    assert [r.receiver for r in alerter.routes_for({"severity": "warning"})] == ["console"]
    assert [r.id for r in alerter.routes_for({"severity": "other"})] == ["route"]
    assert [r.receiver for r in alerter.routes_for({"severity": "watch", "brand": "acme"})] == ["digest"]
    assert [r.receiver for r in alerter.routes_for({"severity": "watch"})] == ["nobody"]
    assert [r.receiver for r in alerter.routes_for({"severity": "warning", "brand": ""})] == ["console"]
    # Feed health goes to ops only, whatever its severity.
    assert [r.receiver for r in alerter.routes_for({"kind": "ops", "severity": "critical"})] == ["ops"]


def test_a_receiver_of_type_none_tells_nobody_and_the_alert_is_kept(config, db):
    # A brandless watch (the default config routes it to "nobody") is recorded but never notified; when it grows
    # to a warning it is routed like any other, and the alert it was goes with it.
    alerter = Alerter(config, db)
    notes = run_day(alerter, lambda now: [event("stray", severity="watch", brand="", when=now)], at(36))
    assert notes == []
    assert db["alerting_alerts"].count == 1
    assert db["alerting_outbox"].count == 0
    assert db["alerting_groups"].count == 0
    grown = alerter.submit([event("stray", severity="warning", brand="", when=at(37))], at(37))
    grown += alerter.flush(at(38))
    assert [(n.receiver, n.severity, n.kind) for n in grown] == [("console", "warning", "new")]


def test_one_flush_after_hours_tells_what_a_flush_every_minute_would(tmp_path, config):
    # A replay flushes lazily, once over many quiet minutes: the repeats, and what acks hold back, must come out
    # at the same ticks and in the same order as when every minute is flushed.
    def run(db, flush_times):
        alerter = Alerter(config, db)
        notes = alerter.submit(
            [event("a", severity="critical"), event("b", severity="warning"), event("c", severity="watch")],
            T0,
        )
        db["alerting_acks"].insert({"incident_id": "b", "severity": "warning", "acked_at": iso(T0)})
        for now in flush_times:
            notes += alerter.flush(now)
        notes += alerter.submit([event("a", severity="critical", status="resolved", when=at(9))], at(9))
        notes += alerter.flush(at(12))
        return [(n.receiver, n.kind, n.incident_id, n.fired_at) for n in notes]

    every_minute = run(open_db(tmp_path / "a.db"), [T0 + timedelta(minutes=m) for m in range(1, 9 * 60)])
    seldom = run(open_db(tmp_path / "b.db"), [at(0.01), at(3.3), at(7), at(9) - timedelta(minutes=1)])
    assert seldom == every_minute
    assert [kind for receiver, kind, *_ in every_minute if receiver == "pager"].count("repeat") >= 5


def test_inhibit_sources_kept_up_to_date_say_what_looking_at_every_firing_alert_says():
    import random

    from monitor.alerting.matchers import parse_matchers
    from monitor.alerting.mute import Inhibitor, InhibitSources, inhibited

    rules = (
        Inhibitor(parse_matchers(['severity="critical"']), parse_matchers(['severity="watch"']), ("brand",)),
        Inhibitor(parse_matchers(['severity=~"warning|critical"']), parse_matchers(["feed!=x"]), ()),
    )
    rng = random.Random(7)
    firing: dict[str, dict[str, str]] = {}
    sources = InhibitSources.of(rules, firing)
    for _ in range(300):
        alert_id = f"inc-{rng.randrange(8)}"
        if alert_id in firing:
            sources.remove(alert_id, firing.pop(alert_id))
        if rng.random() < 0.7:
            labels = {"severity": rng.choice(["watch", "warning", "critical"]), "feed": rng.choice("xy")}
            if rng.random() < 0.8:
                labels["brand"] = rng.choice(["acme", "zeta"])
            firing[alert_id] = labels
            sources.add(alert_id, labels)
        for target, labels in firing.items():
            assert sources.inhibit(target, labels) == inhibited(target, labels, firing, rules)
    assert sources.by_rule[0] and sources.by_rule[1]
