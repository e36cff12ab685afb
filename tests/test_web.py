"""The dashboard over a real replayed scenario (the fridge-door case): pages, actions, search, API, metrics."""

import json
import re
import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from monitor.config import load_config
from monitor.web import create_app
from monitor.web.store import connect

PASSWORD = "correct horse battery"
TOKEN = "t0ken-for-scripts-0123456789"
ENV = {"TINGFENG_WEB_PASSWORD": PASSWORD, "TINGFENG_API_TOKEN": TOKEN}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FEEDS_TOML = """
[[feeds]]
name = "brand-files"
kind = "file"
path = "var/inbox"
"""
_REPLAYED: dict[str, Path] = {}


def replayed_fridge(tmp_path_factory) -> Path:
    """The fridge scenario replayed once per test session through the whole pipeline (default model)."""
    if "fridge" not in _REPLAYED:
        from monitor.replay import replay
        from monitor.scenarios import scenario_path

        directory = tmp_path_factory.mktemp("fridge")
        replay(scenario_path("fridge"), directory / "fridge.db", directory / "alerts.jsonl")
        _REPLAYED["fridge"] = directory / "fridge.db"
    return _REPLAYED["fridge"]


def copy_db(source: Path, target: Path) -> Path:
    """A consistent copy (WAL included) that a test may change freely."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def config_dir(tmp_path: Path) -> Path:
    """The shipped configuration plus one file feed, so the feeds page has something to pause."""
    directory = tmp_path / "config"
    shutil.copytree(load_config().dir, directory)
    (directory / "feeds.toml").write_text(FEEDS_TOML, encoding="utf-8")
    return directory


@pytest.fixture
def web_db(tmp_path_factory, tmp_path) -> Path:
    return copy_db(replayed_fridge(tmp_path_factory), tmp_path / "web.db")


@pytest.fixture
def client(web_db, tmp_path):
    app = create_app(load_config(config_dir(tmp_path)), web_db, environ=ENV)
    client = TestClient(app, base_url="http://127.0.0.1:8642")
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 200
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post_form(client, url: str, page: str, **data):
    return client.post(
        url, data={"csrf_token": csrf_of(client.get(page).text), **data}, follow_redirects=False
    )


def rows(db_path: Path, sql: str, params=()):
    return list(connect(db_path).query(sql, params))


def top_incident(db_path: Path) -> dict:
    return rows(
        db_path,
        "select * from incidents where status != 'resolved' order by"
        " case severity when 'critical' then 3 when 'warning' then 2 else 1 end desc, n_posts desc limit 1",
    )[0]


# Pages ---------------------------------------------------------------------------------------------------


def test_the_replay_gave_the_pages_something_to_show(web_db):
    incident = top_incident(web_db)
    assert incident["severity"] in ("warning", "critical")
    assert "冰箱" in incident["title"] or "西门子" in incident["title"]


def test_the_incident_list_puts_the_most_severe_first_and_the_api_agrees(client, web_db):
    page = client.get("/incidents").text
    listed = client.get("/api/incidents").json()["incidents"]
    expected = rows(web_db, "select id from incidents where status != 'resolved' and severity is not null")
    assert {i["id"] for i in listed} == {r["id"] for r in expected}
    on_page = re.findall(r'<tr data-id="([^"]+)"', page)
    assert on_page == [i["id"] for i in listed]
    ranks = [{"watch": 1, "warning": 2, "critical": 3}[i["severity"]] for i in listed]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] == 3
    assert top_incident(web_db)["id"] in on_page
    everything = client.get("/api/incidents", params={"all": "1"}).json()["incidents"]
    assert len(everything) == len(rows(web_db, "select id from incidents")) > len(listed)


def test_the_incident_page_draws_its_timeline_from_its_posts_and_severity_changes(client, web_db):
    incident = top_incident(web_db)
    page = client.get(f"/incidents/{incident['id']}").text
    chart = page[page.index("<svg") : page.index("</svg>")]
    drawn = sum(int(n) for n in re.findall(r'data-posts="(\d+)"', chart))
    stored = rows(web_db, "select count(*) n from incident_posts where incident_id = ?", [incident["id"]])[0][
        "n"
    ]
    assert drawn == stored
    flags = re.findall(r'class="severity-change" data-severity="(\w+)"', chart)
    assert flags and flags[-1] == incident["peak_severity"]
    assert all(a != b for a, b in zip(flags, flags[1:], strict=False))  # changes only, no repeats
    api = client.get(f"/api/incidents/{incident['id']}").json()
    assert sum(b["posts"] for b in api["timeline"]["buckets"]) == stored


def test_the_incident_page_shows_evidence_with_links_reasons_and_alert_history(client, web_db):
    incident = top_incident(web_db)
    page = client.get(f"/incidents/{incident['id']}").text
    evidence = client.get(f"/api/incidents/{incident['id']}").json()["posts"]
    members = rows(web_db, "select count(*) n from incident_posts where incident_id = ?", [incident["id"]])
    assert len(evidence) == members[0]["n"]
    for post in evidence[:5]:  # the most influential first, each with its link
        assert str(escape(post["text"])) in page
        if post["url"]:
            assert f'href="{post["url"]}"' in page
    reasons = json.loads(incident["reasons"] or "[]")
    assert reasons
    for reason in reasons[:2]:
        assert str(escape(reason)) in page
    notifications = rows(web_db, "select title from alerts where incident_id = ?", [incident["id"]])
    history = page[page.index("通知记录") :]
    assert history.count("<tr><td>") == len(notifications) > 0


def test_an_unknown_incident_is_a_404_on_the_page_and_in_the_api(client):
    assert client.get("/incidents/no-such").status_code == 404
    assert client.get("/api/incidents/no-such").status_code == 404
    assert client.post("/api/incidents/no-such/ack", headers=AUTH).status_code == 404


# Actions on an incident --------------------------------------------------------------------------------


def test_acknowledge_and_unacknowledge_from_the_page(client, web_db):
    incident = top_incident(web_db)
    page = f"/incidents/{incident['id']}"
    assert post_form(client, f"{page}/ack", page).headers["location"] == page
    [ack] = rows(web_db, "select * from alerting_acks where incident_id = ?", [incident["id"]])
    assert (ack["severity"], ack["acked_by"]) == (incident["severity"], "admin")
    assert "已确认" in client.get(page).text
    post_form(client, f"{page}/unack", page)
    assert rows(web_db, "select * from alerting_acks where incident_id = ?", [incident["id"]]) == []


def test_silence_mutes_the_incident_for_the_chosen_hours(client, web_db):
    incident = top_incident(web_db)
    page = f"/incidents/{incident['id']}"
    post_form(client, f"{page}/silence", page, hours="8")
    [silence] = rows(web_db, "select * from alerting_silences")
    assert silence["matchers"] == f'["incident_id=\\"{incident["id"]}\\""]'
    length = datetime.fromisoformat(silence["ends_at"]) - datetime.fromisoformat(silence["starts_at"])
    assert length == timedelta(hours=8)
    assert "静默至" in client.get(page).text
    from monitor.alerting.store import load_silences

    [loaded] = load_silences(connect(web_db))  # alerting reads the row the dashboard wrote
    assert loaded.mutes({"incident_id": incident["id"]}, loaded.starts_at)
    assert not loaded.mutes({"incident_id": "another"}, loaded.starts_at)


def test_resolve_note_and_false_alarm(client, web_db):
    incident = top_incident(web_db)
    page = f"/incidents/{incident['id']}"
    post_form(client, f"{page}/note", page, text="已联系客服主管")
    assert "已联系客服主管" in client.get(page).text
    post_form(client, f"{page}/false-alarm", page)
    evidence = rows(web_db, "select count(*) n from incident_posts where incident_id = ?", [incident["id"]])[
        0
    ]["n"]
    labels = rows(web_db, "select task, label, labeller, origin from labels")
    assert len(labels) == evidence
    assert set(map(tuple, (r.values() for r in labels))) == {
        ("alert", "false_alarm", "admin", f"alert-feedback:{incident['id']}")
    }
    post_form(client, f"{page}/resolve", page)
    assert (
        rows(web_db, "select status from incidents where id = ?", [incident["id"]])[0]["status"] == "resolved"
    )
    assert incident["id"] not in {i["id"] for i in client.get("/api/incidents").json()["incidents"]}


def test_the_api_runs_the_same_actions_and_says_what_was_wrong(client, web_db):
    incident_id = top_incident(web_db)["id"]
    response = client.post(f"/api/incidents/{incident_id}/silence", json={"hours": 2}, headers=AUTH)
    assert response.status_code == 200 and response.json()["hours"] == 2
    bad = client.post(f"/api/incidents/{incident_id}/silence", json={"hours": "forever"}, headers=AUTH)
    assert bad.status_code == 400 and "number of hours" in bad.json()["error"]
    assert client.post(f"/api/incidents/{incident_id}/explode", headers=AUTH).status_code == 404
    assert len(rows(web_db, "select * from alerting_silences")) == 1
    silence_id = response.json()["silence_id"]
    assert client.post(f"/api/silences/{silence_id}/expire", headers=AUTH).json()["expired"]
    assert not any(s["active"] for s in client.get("/api/alerts", headers=AUTH).json()["silences"])


# Posts, labels, feeds, alerts, models ----------------------------------------------------------------------


def test_full_text_search_matches_short_and_long_words(client, web_db):
    for q, sql in (("冰箱", "%冰箱%"), ("关不上", "%关不上%")):
        expected = rows(
            web_db, "select count(*) n from posts where text like ? or author like ?", [sql, sql]
        )[0]["n"]
        found = client.get("/api/posts", params={"q": q, "limit": 500}).json()["posts"]
        assert len(found) == min(expected, 500) > 0
        assert all(q in p["text"] or q in (p["author"] or "") for p in found)
    page = client.get("/posts", params={"q": "关不上"}).text
    assert "<mark>关不上</mark>" in page


def test_search_filters_by_sentiment_escalation_and_date(client, web_db):
    found = client.get(
        "/api/posts", params={"sentiment": "negative", "escalation": "high", "limit": 500}
    ).json()
    assert found["posts"] and all(
        (p["sentiment"], p["escalation"]) == ("negative", "high") for p in found["posts"]
    )
    shanghai = ZoneInfo("Asia/Shanghai")
    day = client.get("/api/posts", params={"since": "2011-09-20", "until": "2011-09-20", "limit": 500}).json()
    local_days = [
        datetime.fromisoformat(p["created_at"]).astimezone(shanghai).date().isoformat() for p in day["posts"]
    ]
    everything = rows(web_db, "select created_at from posts where created_at is not null")
    expected = sum(
        datetime.fromisoformat(r["created_at"]).astimezone(shanghai).date().isoformat() == "2011-09-20"
        for r in everything
    )
    assert set(local_days) == {"2011-09-20"}
    assert len(local_days) == min(expected, 500)
    assert client.get("/api/posts", params={"since": "yesterday"}).status_code == 400


def test_labelling_from_the_queue_stores_the_label_and_moves_on(client, web_db):
    queue = client.get("/api/labels/queue", params={"task": "escalation"}).json()
    first = queue["posts"][0]
    response = post_form(
        client,
        "/labels",
        "/labels?task=escalation",
        task="escalation",
        source=first["source"],
        post_id=first["id"],
        label="high",
    )
    assert response.status_code == 303
    [label] = rows(web_db, "select source, post_id, task, label, labeller, origin from labels")
    assert label == {
        "source": first["source"],
        "post_id": first["id"],
        "task": "escalation",
        "label": "high",
        "labeller": "admin",
        "origin": "web",
    }
    after = client.get("/api/labels/queue", params={"task": "escalation"}).json()["posts"]
    assert first["id"] not in {p["id"] for p in after}
    bad = client.post(
        "/api/labels",
        json={"task": "escalation", "source": first["source"], "post_id": first["id"], "label": "huge"},
        headers=AUTH,
    )
    assert bad.status_code == 400


def test_pause_resume_and_run_a_feed(client, web_db):
    assert "brand-files" in client.get("/feeds").text
    post_form(client, "/feeds/brand-files/pause", "/feeds")
    assert rows(web_db, "select paused from feed_state where feed = 'brand-files'") == [{"paused": 1}]
    assert "已暂停" in client.get("/feeds").text
    post_form(client, "/feeds/brand-files/resume", "/feeds")
    post_form(client, "/feeds/brand-files/run", "/feeds")
    assert rows(web_db, "select paused from feed_state where feed = 'brand-files'") == [{"paused": 0}]
    commands = [r["command"] for r in rows(web_db, "select command from feed_commands order by id")]
    assert commands == ["pause", "resume", "run-now"]
    assert client.post("/api/feeds/unknown-feed/pause", headers=AUTH).status_code == 404


def test_the_alerts_page_lists_the_notifications_the_replay_sent(client, web_db):
    page = client.get("/alerts").text
    notifications = rows(web_db, "select incident_id from alerts")
    assert notifications
    section = page[page.index("已发通知") : page.index("发件箱</h2>")]
    assert section.count('href="/incidents/') == min(len(notifications), 100)
    api = client.get("/api/alerts", headers=AUTH).json()
    assert len(api["notifications"]) == min(len(notifications), 200)


def test_the_models_page_lists_registered_versions(client, web_db):
    connect(web_db)["models"].insert(
        {
            "version": "2026-11-23-brand",
            "created_at": "2026-11-23T10:00:00+08:00",
            "active": 1,
            "metrics": '{"smp2020": {"macro_f1": 0.7321}}',
            "notes": "品牌词补充",
        }
    )
    page = client.get("/models").text
    assert "2026-11-23-brand" in page and "0.7321" in page and "smp2020.macro_f1" in page


# API description, metrics, escaping ---------------------------------------------------------------------


def test_every_api_route_is_in_the_openapi_document(client):
    from monitor.web.api import routes

    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for route in routes():
        path = route.path
        if "{action}" in path:
            continue  # documented once per action below
        assert path in document["paths"], path
        assert set(document["paths"][path]) == {m.lower() for m in route.methods} - {"head"}, path
    for action in ("ack", "unack", "silence", "resolve", "note", "false-alarm"):
        assert f"/api/incidents/{{incident_id}}/{action}" in document["paths"]
    for action in ("pause", "resume", "run"):
        assert f"/api/feeds/{{feed}}/{action}" in document["paths"]


def test_metrics_count_what_the_store_holds(client, web_db):
    client.get("/incidents")
    text = client.get("/metrics").text
    posts = sum(float(v) for v in re.findall(r"^tingfeng_posts_total\{[^}]*\} (\S+)$", text, re.M))
    assert posts == rows(web_db, "select count(*) n from posts")[0]["n"]
    notifications = sum(
        float(v) for v in re.findall(r"^tingfeng_notifications_total\{[^}]*\} (\S+)$", text, re.M)
    )
    assert notifications == rows(web_db, "select count(*) n from alerts")[0]["n"]
    assert re.search(r'^tingfeng_incidents\{severity="\w+",status="\w+"\} [1-9]', text, re.M)
    assert re.search(
        r'^tingfeng_web_request_duration_seconds_count\{method="GET",route="/incidents",status="200"\} [1-9]',
        text,
        re.M,
    )


def test_post_text_and_links_from_outside_are_escaped(client, web_db):
    db = connect(web_db)
    db["posts"].insert(
        {
            "source": "weibo",
            "id": "evil",
            "text": "冰箱门<script>alert(1)</script>",
            "url": "javascript:alert(1)",
            "created_at": "2011-09-20T10:00:00+08:00",
            "first_seen_at": "2011-09-20T10:00:00+08:00",
        }
    )
    page = client.get("/posts", params={"q": "alert"}).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "javascript:alert" not in page
