"""Delivery to real local receivers: an HTTP server on 127.0.0.1 that checks signatures and payload shapes
the way DingTalk, Feishu, WeCom, Slack and a signed webhook consumer would, and an aiosmtpd mail server."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import urllib.parse
from datetime import UTC, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from monitor.alerting import Alerter, AlertingConfig, deliver_due, migrations
from monitor.events import AlertEvent
from monitor.store import open_db

T0 = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
SECRET = "SEC-test-секрет-密钥"
ROOT = Path(__file__).resolve().parent.parent


class Receiver:
    """What the local server saw: accepted messages per path (deduplicated by idempotency key) and every POST."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.accepted: dict[str, list[dict]] = {}
        self.keys: dict[str, int] = {}
        self.errors: list[str] = []
        self.down = False
        self.gate: threading.Event | None = None  # when set, requests wait on it (a slow receiver)
        self.arrived = threading.Event()
        self.lock = threading.Lock()


def verify(path: str, query: dict, headers, raw: bytes, body: dict) -> str | None:
    """The receiving side's checks, written from each service's documentation, independently of our sender."""
    if path == "/dingtalk":
        ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        expected = base64.b64encode(
            hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
        )
        if sign != expected.decode():
            return "sign not match"
        if (
            body.get("msgtype") != "markdown"
            or not body["markdown"].get("title")
            or not body["markdown"].get("text")
        ):
            return "bad markdown"
    elif path == "/feishu":
        ts = body.get("timestamp", "")
        expected = base64.b64encode(
            hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
        ).decode()
        if body.get("sign") != expected:
            return "sign not match"
        card = body.get("card", {})
        if (
            body.get("msg_type") != "interactive"
            or "title" not in card.get("header", {})
            or not card.get("elements")
        ):
            return "bad card"
    elif path == "/webhook":
        ts = headers.get("X-Tingfeng-Timestamp", "")
        expected = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
        if headers.get("X-Tingfeng-Signature") != expected:
            return "bad signature"
        if not body.get("notifications") or "incident_id" not in body["notifications"][0]:
            return "bad payload"
    elif path == "/wecom" and (
        body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("content")
    ):
        return "bad markdown"
    elif path == "/slack" and (not body.get("text") or body["blocks"][1]["text"]["type"] != "mrkdwn"):
        return "bad blocks"
    return None


@pytest.fixture
def server():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parsed = urllib.parse.urlsplit(self.path)
            body = json.loads(raw or b"{}")
            with state.lock:
                state.posts.append((parsed.path, body))
            state.arrived.set()
            if state.gate is not None:
                state.gate.wait(30)
            if state.down:
                return self._answer(503, {"error": "down"})
            problem = verify(parsed.path, urllib.parse.parse_qs(parsed.query), self.headers, raw, body)
            if problem:
                state.errors.append(f"{parsed.path}: {problem}")
                # DingTalk and Feishu report errors in a 200 answer, as the real services do
                return self._answer(200, {"errcode": 310000, "code": 19021, "errmsg": problem})
            key = self.headers.get("Idempotency-Key") or json.dumps(body, sort_keys=True)
            with state.lock:
                state.keys[key] = state.keys.get(key, 0) + 1
                if state.keys[key] == 1:
                    state.accepted.setdefault(parsed.path, []).append(body)
            if parsed.path == "/slack":
                return self._answer(200, None, b"ok")
            self._answer(200, {"errcode": 0, "code": 0, "errmsg": "ok"})

        def _answer(self, status, data, raw=None):
            payload = raw if raw is not None else json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except BrokenPipeError:  # the sender was killed while we held its request
                pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    if state.gate is not None:
        state.gate.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "t.db")
    migrations.apply(database)
    return database


@pytest.fixture(autouse=True)
def secret_env(monkeypatch):
    monkeypatch.setenv("TEST_ALERT_SECRET", SECRET)


def make_config(server_url, receiver_type, **extra):
    return AlertingConfig.model_validate(
        {
            "route": {"receiver": "r", "group_by": ["incident_id"], "group_wait": "0s"},
            "receivers": [{"name": "r", "type": receiver_type, **extra}],
            "delivery": {"max_attempts": 4, "backoff_initial": "1m", "backoff_max": "10m"},
        }
    )


def event(incident="inc-1", severity="warning", status="firing", posts=10, when=T0):
    return AlertEvent(
        incident_id=incident,
        severity=severity,
        status=status,
        at=when,
        title="某品牌冰箱门脱落投诉",
        summary="多名用户称冰箱门脱落，有人扬言投诉 12315",
        post_ids=["p1", "p2"],
        reasons=["触达 20万", "升级词：12315"],
        labels={"brand": "acme", "feed": "weibo"},
        stats={"posts": posts, "reach": 200_000},
    )


def fill_outbox(db, config, n=3):
    alerter = Alerter(config, db)
    notes = alerter.submit([event(f"inc-{i}") for i in range(n)], T0)
    assert len(notes) == n
    return notes


@pytest.mark.parametrize(
    ("receiver_type", "path", "signed"),
    [
        ("dingtalk", "/dingtalk", True),
        ("feishu", "/feishu", True),
        ("webhook", "/webhook", True),
        ("wecom", "/wecom", False),
        ("slack", "/slack", False),
    ],
)
def test_each_receiver_delivers_signed_well_formed_messages(server, db, receiver_type, path, signed):
    extra = {"url": server.url + path}
    if signed:
        extra["secret_env"] = "TEST_ALERT_SECRET"
    config = make_config(server.url, receiver_type, **extra)
    fill_outbox(db, config, n=2)
    with httpx.Client() as http:
        report = deliver_due(db, config, http=http, now=T0)
    assert server.errors == []
    assert len(report.sent) == 2 and len(server.accepted[path]) == 2
    text = json.dumps(server.accepted[path], ensure_ascii=False)
    assert "冰箱门脱落" in text and "/incidents/inc-" in text


def test_wrong_secret_is_retried_then_dead_lettered(server, db, monkeypatch, caplog):
    monkeypatch.setenv("TEST_ALERT_SECRET", "wrong-secret-value")
    config = make_config(server.url, "dingtalk", url=server.url + "/dingtalk", secret_env="TEST_ALERT_SECRET")
    fill_outbox(db, config, n=1)
    now = T0
    with httpx.Client() as http:
        for _ in range(4):
            report = deliver_due(db, config, http=http, now=now)
            now += timedelta(hours=1)
    assert report.dead and db["alerting_outbox"].count == 0
    dead = next(db["alerting_dead_letters"].rows)
    assert dead["attempts"] == 4 and "310000" in dead["last_error"]
    assert "wrong-secret-value" not in caplog.text and server.url not in caplog.text


def test_missing_secret_env_goes_straight_to_dead_letters(server, db):
    config = make_config(server.url, "feishu", url=server.url + "/feishu", secret_env="NO_SUCH_VAR_FOR_TEST")
    fill_outbox(db, config, n=1)
    with httpx.Client() as http:
        report = deliver_due(db, config, http=http, now=T0)
    assert len(report.dead) == 1 and server.posts == []
    assert "NO_SUCH_VAR_FOR_TEST is not set" in next(db["alerting_dead_letters"].rows)["last_error"]


def test_receiver_down_then_up_gets_everything_once(server, db):
    config = make_config(server.url, "webhook", url=server.url + "/webhook", secret_env="TEST_ALERT_SECRET")
    fill_outbox(db, config, n=3)
    server.down = True
    with httpx.Client() as http:
        assert len(deliver_due(db, config, http=http, now=T0).retrying) == 3
        # backoff: 1m after the first failure, so nothing is due 30s later
        assert deliver_due(db, config, http=http, now=T0 + timedelta(seconds=30)).retrying == []
        assert len(deliver_due(db, config, http=http, now=T0 + timedelta(minutes=1)).retrying) == 3
        server.down = False
        report = deliver_due(db, config, http=http, now=T0 + timedelta(minutes=3))
        assert len(report.sent) == 3
        assert deliver_due(db, config, http=http, now=T0 + timedelta(hours=5)).sent == []
    ids = sorted(body["notifications"][0]["incident_id"] for body in server.accepted["/webhook"])
    assert ids == ["inc-0", "inc-1", "inc-2"]
    assert all(count == 1 for count in server.keys.values())


SENDER = """
import sys
from datetime import datetime
import httpx
from monitor.alerting import deliver_due, load_alerting_config
from monitor.store import open_db
db = open_db(sys.argv[1])
with httpx.Client() as http:
    deliver_due(db, load_alerting_config(sys.argv[2]), http=http, now=datetime.fromisoformat(sys.argv[3]))
"""


def test_kill_9_mid_delivery_loses_nothing_and_the_key_absorbs_the_resend(server, db, tmp_path):
    config_file = tmp_path / "alerting.toml"
    config_file.write_text(
        f"""
[route]
receiver = "hook"
group_wait = "0s"
[[receivers]]
name = "hook"
type = "webhook"
url = "{server.url}/webhook"
secret_env = "TEST_ALERT_SECRET"
""",
        encoding="utf-8",
    )
    from monitor.alerting import load_alerting_config

    config = load_alerting_config(config_file)
    fill_outbox(db, config, n=4)
    server.gate = threading.Event()  # the receiver holds the first request: the sender is mid-delivery
    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER, str(tmp_path / "t.db"), str(config_file), T0.isoformat()],
        cwd=ROOT,
        env={**os.environ, "TEST_ALERT_SECRET": SECRET},
    )
    try:
        assert server.arrived.wait(30), "the sender never reached the receiver"
        os.kill(sender.pid, signal.SIGKILL)
        sender.wait(10)
    finally:
        if sender.poll() is None:
            sender.kill()
    server.gate.set()
    server.gate = None
    assert sender.returncode == -signal.SIGKILL
    # The first message reached the receiver, but the sender died before recording it: it is still pending.
    assert db["alerting_outbox"].count_where("status = 'pending'") == 4
    with httpx.Client() as http:
        report = deliver_due(db, config, http=http, now=T0 + timedelta(seconds=5))
    assert len(report.sent) == 4
    accepted = sorted(body["notifications"][0]["incident_id"] for body in server.accepted["/webhook"])
    assert accepted == ["inc-0", "inc-1", "inc-2", "inc-3"]
    # exactly one resend, of the interrupted message, recognised by its idempotency key
    assert sorted(server.keys.values()) == [1, 1, 1, 2]


def test_apprise_url_receiver(server, db):
    port = server.url.rsplit(":", 1)[1]
    config = make_config(server.url, "apprise", url=f"json://127.0.0.1:{port}/apprise")
    fill_outbox(db, config, n=1)
    with httpx.Client() as http:
        assert len(deliver_due(db, config, http=http, now=T0).sent) == 1
    body = server.accepted["/apprise"][0]
    assert "冰箱门脱落" in body["title"] and "12315" in body["message"]


def test_console_receiver_prints_chinese_message(db, capsys):
    import io

    config = AlertingConfig()
    fill_outbox(
        db, AlertingConfig.model_validate({"route": {"receiver": "console", "group_wait": "0s"}}), n=1
    )
    stream = io.StringIO()
    with httpx.Client() as http:
        deliver_due(db, config, http=http, now=T0, console=stream)
    out = stream.getvalue()
    assert (
        "【预警·新告警】某品牌冰箱门脱落投诉" in out and "触达粉丝 20万" in out and "原因：触达 20万" in out
    )


# -- email -----------------------------------------------------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _email_config(port, **extra):
    return AlertingConfig.model_validate(
        {
            "route": {"receiver": "mail", "group_wait": "0s"},
            "receivers": [
                {
                    "name": "mail",
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": port,
                    "from": "tingfeng@example.com",
                    "to": ["pr@example.com", "ops@example.com"],
                    **extra,
                }
            ],
        }
    )


def _check_mail(inbox):
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["pr@example.com", "ops@example.com"]
    mail = email.message_from_bytes(envelope.content, policy=policy.default)
    assert "冰箱门脱落" in mail["Subject"]
    assert mail.get_body(("plain",)).get_content().count("冰箱门脱落") >= 1
    assert "<h2>" in mail.get_body(("html",)).get_content()
    assert mail["Message-ID"].endswith("@tingfeng>")


def test_email_plain_smtp(db):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = _email_config(port, security="none")
        fill_outbox(db, config, n=1)
        with httpx.Client() as http:
            assert len(deliver_due(db, config, http=http, now=T0).sent) == 1
    finally:
        controller.stop()
    _check_mail(inbox)


def test_email_starttls_with_login(db, certificate, monkeypatch):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"mail-pass")

    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
    )
    controller.start()
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "mail-pass")
    try:
        config = _email_config(
            port, security="starttls", ca_file=str(cert), username="bot", password_env="TEST_SMTP_PASSWORD"
        )
        fill_outbox(db, config, n=1)
        with httpx.Client() as http:
            assert len(deliver_due(db, config, http=http, now=T0).sent) == 1
    finally:
        controller.stop()
    assert logins == [(b"bot", b"mail-pass")]
    _check_mail(inbox)


def test_a_hostile_post_cannot_put_links_or_markup_into_alert_messages():
    from monitor.alerting import message

    note = {
        "severity": "warning",
        "status": "firing",
        "kind": "new",
        "title": "西门子冰箱门关不上",
        "summary": "代表帖：「看这里](https://evil.example/phish) [」",
        "reasons": ["<https://evil.example|点我>"],
        "post_ids": ["1"],
        "evidence": [
            {
                "id": "1",
                "author": "甲",
                "text": "看这里](https://evil.example/phish) [",
                "url": "javascript:alert(1)",
            },
            {"id": "2", "author": "乙", "text": "正常", "url": "https://m.weibo.cn/detail/2"},
        ],
        "link": "http://127.0.0.1:8642/incidents/inc-1",
        "stats": {},
    }
    payload = {"notifications": [note]}
    chat = message.markdown(payload)
    assert "javascript:" not in chat
    assert "](https://evil.example" not in chat  # the post's words stay words, not a link
    assert "(https://m.weibo.cn/detail/2)" in chat  # a plain http(s) link to a post is kept
    slack = message.slack_mrkdwn(note)
    assert "<https://evil.example|" not in slack and "javascript:" not in slack
    assert "javascript:" not in message.html_body(payload)


def test_a_message_made_at_a_china_time_is_due_at_the_same_instant_in_utc(tmp_path):
    import io
    from datetime import UTC, datetime, timedelta, timezone

    from monitor.alerting.outbox import deliver_due
    from monitor.store import open_db

    db = open_db(tmp_path / "o.db")
    made = datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    db["alerting_outbox"].insert(
        {
            "id": "m1",
            "receiver": "console",
            "group_key": "g",
            "created_at": made.isoformat(),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": made.isoformat(),
            "payload": json.dumps(
                {
                    "fired_at": made.isoformat(),
                    "notifications": [
                        {
                            "severity": "warning",
                            "status": "firing",
                            "kind": "new",
                            "title": "西门子冰箱门关不上",
                            "summary": "",
                            "reasons": [],
                            "post_ids": [],
                            "link": "http://127.0.0.1:8642/incidents/inc-1",
                            "stats": {},
                        }
                    ],
                }
            ),
        }
    )
    from monitor.alerting import load_alerting_config

    config = load_alerting_config(tmp_path)  # defaults: a console receiver
    deliver_due(db, config, http=None, now=datetime(2024, 6, 1, 3, 59, tzinfo=UTC), console=io.StringIO())
    assert db["alerting_outbox"].get("m1")["attempts"] == 0
    out = io.StringIO()
    deliver_due(db, config, http=None, now=datetime(2024, 6, 1, 4, 0, tzinfo=UTC), console=out)
    assert db["alerting_outbox"].get("m1")["status"] == "sent"
    assert "西门子冰箱门关不上" in out.getvalue()
