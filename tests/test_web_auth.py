"""Login, API token and CSRF: nothing but /healthz without authentication, no forged state change."""

import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.config import load_config
from monitor.store import open_db
from monitor.web import create_app
from monitor.web.store import connect, set_password

PASSWORD = "correct horse battery"
TOKEN = "t0ken-for-scripts-0123456789"
ENV = {"TINGFENG_WEB_PASSWORD": PASSWORD, "TINGFENG_API_TOKEN": TOKEN}


@pytest.fixture
def app(db_path: Path):
    db = open_db(db_path)
    db["incidents"].insert(
        {
            "id": "inc-1",
            "title": "某品牌冰箱门关不上",
            "status": "growing",
            "severity": "warning",
            "n_posts": 3,
        }
    )
    db["alerting_alerts"].insert(  # alerting has notified about it, so it can be acknowledged
        {
            "incident_id": "inc-1",
            "severity": "warning",
            "status": "firing",
            "labels": '{"incident_id": "inc-1", "severity": "warning"}',
            "title": "某品牌冰箱门关不上",
            "summary": "",
            "post_ids": "[]",
            "reasons": "[]",
            "stats": "{}",
            "starts_at": "2026-11-23T10:00:00+08:00",
            "updated_at": "2026-11-23T10:00:00+08:00",
        }
    )
    db.close()
    return create_app(load_config(), db_path, environ=ENV)


@pytest.fixture
def client(app):
    return TestClient(app, base_url="http://127.0.0.1:8642")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, password=PASSWORD, **extra):
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": token, **extra},
        follow_redirects=False,
    )


def acks(db_path):
    return list(connect(db_path).query("select incident_id, acked_by from alerting_acks"))


@pytest.mark.parametrize(
    "path", ["/", "/incidents", "/incidents/inc-1", "/posts", "/labels", "/models", "/feeds", "/alerts"]
)
def test_pages_redirect_to_the_login_when_not_logged_in(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "path", ["/api/incidents", "/api/incidents/inc-1", "/api/openapi.json", "/metrics", "/api/feeds"]
)
def test_the_api_and_metrics_answer_401_when_not_authenticated(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "authentication required"


def test_only_healthz_and_static_files_are_open(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    assert client.get("/static/app.css").status_code == 200


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_page_asked_for(client):
    response = log_in(client, "wrong password")
    assert response.status_code == 401 and "用户名或密码不对" in response.text
    assert client.get("/incidents", follow_redirects=False).status_code == 303
    token = csrf_of(client.get("/login?next=/incidents/inc-1").text)
    response = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token, "next": "/incidents/inc-1"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/incidents/inc-1"
    assert "某品牌冰箱门关不上" in client.get("/incidents/inc-1").text


def test_the_login_never_redirects_to_another_site(client):
    assert log_in(client, next="//evil.example/phish").headers["location"] == "/incidents"


def test_a_login_form_without_the_csrf_token_is_refused(client):
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/incidents", follow_redirects=False).status_code == 303


def test_a_forged_form_post_without_the_csrf_token_changes_nothing(client, db_path):
    log_in(client)
    forged = client.post("/incidents/inc-1/ack", data={}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = client.post("/incidents/inc-1/ack", data={"csrf_token": "guessed"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert acks(db_path) == []
    # The same form with the page's token works: the refusal above was the CSRF check, nothing else.
    token = csrf_of(client.get("/incidents/inc-1").text)
    ok = client.post("/incidents/inc-1/ack", data={"csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    assert acks(db_path) == [{"incident_id": "inc-1", "acked_by": "admin"}]


def test_a_browser_api_call_needs_the_csrf_header_and_the_same_origin(client, db_path):
    log_in(client)
    assert client.post("/api/incidents/inc-1/ack", json={}).status_code == 403
    token = csrf_of(client.get("/incidents").text)
    cross_site = client.post(
        "/api/incidents/inc-1/ack", json={}, headers={"X-CSRF-Token": token, "Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    assert acks(db_path) == []
    same_site = client.post(
        "/api/incidents/inc-1/ack",
        json={},
        headers={"X-CSRF-Token": token, "Origin": "http://127.0.0.1:8642"},
    )
    assert same_site.status_code == 200 and same_site.json()["acked"] is True


def test_the_api_token_works_without_a_session_or_csrf_and_a_wrong_one_is_refused(client, db_path):
    assert client.get("/api/incidents", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert (
        client.post("/api/incidents/inc-1/ack", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert acks(db_path) == []
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert [i["id"] for i in client.get("/api/incidents", headers=auth).json()["incidents"]] == ["inc-1"]
    assert client.post("/api/incidents/inc-1/ack", headers=auth).status_code == 200
    assert acks(db_path) == [{"incident_id": "inc-1", "acked_by": "api-token"}]
    assert "tingfeng_posts" in client.get("/metrics", headers=auth).text


def test_no_token_configured_means_no_token_login(db_path):
    app = create_app(load_config(), db_path, environ={"TINGFENG_WEB_PASSWORD": PASSWORD})
    response = TestClient(app).get("/api/incidents", headers={"Authorization": "Bearer "})
    assert response.status_code == 401


def test_changing_the_password_logs_out_existing_sessions(client, db_path):
    log_in(client)
    assert client.get("/incidents", follow_redirects=False).status_code == 200
    set_password(connect(db_path), "admin", "a brand new password")
    assert client.get("/incidents", follow_redirects=False).status_code == 303


def test_logging_out_ends_the_session(client):
    log_in(client)
    token = csrf_of(client.get("/incidents").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/incidents", follow_redirects=False).status_code == 303


def test_repeated_failed_logins_are_slowed_down(client):
    for _ in range(10):
        assert log_in(client, "wrong password").status_code == 401
    response = log_in(client)
    assert response.status_code == 429
    assert client.get("/incidents", follow_redirects=False).status_code == 303


def test_no_secret_is_ever_rendered(client, db_path):
    log_in(client)
    db = connect(db_path)
    secrets = [PASSWORD, TOKEN, db["web_settings"].get("session_secret")["value"]]
    secrets.append(db["web_users"].get("admin")["password_hash"].split("$")[-1])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    pages = ["/incidents", "/incidents/inc-1", "/posts", "/labels", "/models", "/feeds", "/alerts", "/login"]
    bodies = [client.get(p).text for p in pages]
    bodies += [
        client.get(p, headers=auth).text
        for p in ["/api/incidents", "/api/openapi.json", "/metrics", "/api/feeds"]
    ]
    for body in bodies:
        for secret in secrets:
            assert secret not in body
    assert json.dumps(ENV) not in "".join(bodies)


def test_the_server_binds_to_loopback_by_default():
    assert load_config().monitor.web.host == "127.0.0.1"
