"""Security: every page and API route needs a login or the token; push needs its token; forged forms are
refused; distinctive secrets never reach logs, pages or the database; model files cannot run code; and no URL
taken from a post is ever fetched (a canary server must see no request)."""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import re
import warnings
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.fault_suite.servers import LocalServer, Reply, WebhookReceiver
from benchmarks.fault_suite.tally import Tally
from benchmarks.fault_suite.workspace import (
    SECRETS,
    WEBHOOK_SECRET,
    environment,
    file_feed,
    monitor_command,
    run,
    scenario_lines,
    shifted,
    tail,
    write_config,
    write_lines,
)

logger = logging.getLogger(__name__)
warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
TOKEN = SECRETS["TINGFENG_API_TOKEN"]
PASSWORD = SECRETS["TINGFENG_WEB_PASSWORD"]


def run_family(work: Path) -> Tally:
    tally = Tally("security")
    os.environ.update(SECRETS)
    with (
        LocalServer(lambda hit: Reply(200, b"canary")) as canary,
        WebhookReceiver(WEBHOOK_SECRET) as receiver,
    ):
        db, config, log = _daemon_over_canary_posts(work, canary, receiver, tally)
        pages = _web(work, config, db, tally)
        _push(work, tally)
        _secrets_nowhere(tally, db, log, pages)
        tally.check(
            not canary.hits,
            f"outbound URLs: the canary got {len(canary.hits)} request(s): {[h.path for h in canary.hits][:5]}",
        )
        tally.figures["canary requests"] = str(len(canary.hits))
        tally.figures["webhook messages delivered (signed)"] = str(len(receiver.keys))
    _models(work, tally)
    return tally


# -- a daemon and a replay over posts full of URLs to the canary ------------------------------------------------


def _canary_posts(canary: LocalServer) -> list[str]:
    lines, _ = shifted(scenario_lines("fridge", 300), datetime.now(UTC) - timedelta(hours=2))
    out = []
    for index, line in enumerate(lines):
        post = json.loads(line)
        if index % 5 == 0:
            post["text"] += (
                f" 详情见 {canary.url(f'/text/{index}')} 和 www.127.0.0.1:{canary.httpd.server_address[1]}/x"
            )
            post["url"] = canary.url(f"/url/{index}")
            post["avatar"] = canary.url(f"/avatar/{index}.jpg")
        out.append(json.dumps(post, ensure_ascii=False))
    return out


def _daemon_over_canary_posts(work: Path, canary: LocalServer, receiver: WebhookReceiver, tally: Tally):
    lines = _canary_posts(canary)
    inbox = write_lines(work / "inbox.jsonl", lines)
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>c</title>'
        f"<item><guid>rss-1</guid><link>{canary.url('/rss-link')}</link><title>海尔冰箱门掉了</title>"
        f'<description>&lt;img src="{canary.url("/rss-img.png")}"&gt; 门掉了 {canary.url("/rss-text")}</description>'
        "</item></channel></rss>"
    ).encode()
    with LocalServer(lambda hit: Reply(200, rss, {"Content-Type": "application/rss+xml"})) as feed_server:
        db = work / "t.db"
        feeds = file_feed(inbox) + (
            f'[[feeds]]\nname = "news"\nkind = "rss"\nurl = "{feed_server.url("/feed")}"\ninterval = "1h"\njitter = 0\n'
            f'[[feeds]]\nname = "weibo"\nkind = "weibo"\nkeywords = ["海尔"]\nbase_url = "{feed_server.url("")}"\n'
            'cookie_env = "WEIBO_COOKIE"\ninterval = "1h"\njitter = 0\n'
            '[[feeds]]\nname = "partner"\nkind = "push"\ntoken_env = "TF_FAULTS_PUSH_TOKEN"\ninterval = "1h"\njitter = 0\n'
            "[push]\nport = 0\n"
        )
        config = write_config(work / "config", db=db, webhook_url=receiver.url("/hook"), feeds=feeds)
        log = work / "daemon.log"
        status = run(
            monitor_command("-vv", "run", "--once", "--config", str(config), "--db", str(db)),
            log,
            environment(),
        )
        tally.trials += 1
        tally.check(status in (0, 1), f"daemon over canary posts exited {status}: {tail(log)}")
        tally.check(
            any("/feed" in hit.path for hit in feed_server.hits),
            "daemon over canary posts: the RSS feed was not fetched",
        )
        cookies = [hit.headers.get("cookie", "") for hit in feed_server.hits if hit.path.startswith("/api")]
        tally.check(
            bool(cookies) and all(SECRETS["WEIBO_COOKIE"] in c for c in cookies),
            "the weibo feed did not send its cookie to its own configured host",
        )
    status = run(
        monitor_command(
            "replay",
            str(inbox),
            "--db",
            str(work / "replay.db"),
            "--alerts",
            str(work / "a.jsonl"),
            "--config",
            str(config),
        ),
        log,
        environment(),
    )
    tally.check(status == 0, f"replay over canary posts exited {status}")
    return db, config, log


# -- the web app -------------------------------------------------------------------------------------------------


def _web(work: Path, config_dir: Path, db: Path, tally: Tally) -> list[str]:
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from monitor.config import load_config
    from monitor.web.app import create_app

    app = create_app(load_config(config_dir), db, environ=dict(SECRETS))
    incident = next(iter(_sql(db, "select id from incidents limit 1")), ("inc-none",))[0]
    pages: list[str] = []
    with TestClient(app, follow_redirects=False) as client:
        for route in app.routes:
            if not isinstance(route, Route):
                continue
            path = re.sub(r"\{incident_id\}", incident, route.path)
            path = re.sub(r"\{[a-z_]+\}", "x", path)
            for method in sorted(route.methods - {"HEAD"}):
                anonymous = client.request(method, path)
                public = route.path in ("/healthz", "/login") or (route.path == "/logout")
                refused = anonymous.status_code in (401, 403) or (
                    anonymous.status_code in (302, 303, 307)
                    and "/login" in anonymous.headers.get("location", "")
                )
                tally.faults += 1
                if not public:
                    tally.check(
                        refused, f"web: {method} {path} without login answered {anonymous.status_code}"
                    )
                wrong = client.request(method, path, headers={"Authorization": "Bearer wrong-token"})
                if not public:
                    tally.check(
                        wrong.status_code in (401, 403) or wrong.status_code in (302, 303, 307),
                        f"web: {method} {path} with a wrong token answered {wrong.status_code}",
                    )
                if method == "GET":
                    good = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
                    tally.check(
                        good.status_code < 500, f"web: GET {path} with the token answered {good.status_code}"
                    )
                    pages.append(good.text)
        for path in (
            "/posts?q=冰箱门",
            "/posts?q=门",
            "/api/posts?q=详情见",
            "/alerts",
            "/feeds",
            "/api/alerts",
        ):
            pages.append(client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).text)
    # A browser session (its own client): log in, then a form without the session's CSRF token is refused.
    with TestClient(app, follow_redirects=False) as browser:
        login_page = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text)
        form = {"username": "admin", "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
        logged_in = browser.post("/login", data=form)
        seen = browser.get("/incidents")
        tally.check(
            logged_in.status_code == 303 and seen.status_code == 200,
            f"web: login with the initial password answered {logged_in.status_code}, then /incidents {seen.status_code}",
        )
        forged = browser.post(f"/incidents/{incident}/note", data={"note": "forged"})
        tally.faults += 1
        tally.check(
            forged.status_code == 403, f"web: a form without its CSRF token answered {forged.status_code}"
        )
        foreign = browser.post(
            f"/incidents/{incident}/note",
            data={"note": "x", "csrf_token": "made-up"},
            headers={"Origin": "https://evil.example"},
        )
        tally.faults += 1
        tally.check(foreign.status_code == 403, f"web: a cross-site form answered {foreign.status_code}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"/incidents/{incident}").text)
        genuine = browser.post(
            f"/incidents/{incident}/note", data={"note": "ok", "csrf_token": csrf.group(1) if csrf else ""}
        )
        tally.check(
            genuine.status_code != 403,
            f"web: the same form with its CSRF token answered {genuine.status_code}",
        )
        pages.append(browser.get("/").text)
    tally.trials += 1
    return pages


def _sql(db: Path, sql: str) -> list[tuple]:
    from benchmarks.fault_suite.workspace import rows

    return rows(db, sql)


# -- push -------------------------------------------------------------------------------------------------------


def _push(work: Path, tally: Tally) -> None:
    from monitor.feeds.config import PushFeed
    from monitor.feeds.fetch import FetchContext
    from monitor.feeds.push import PushServer
    from monitor.store import open_db

    db = open_db(work / "push.db")
    feed = PushFeed(name="partner", kind="push", token_env="TF_FAULTS_PUSH_TOKEN")
    from monitor.feeds.store import ensure_tables

    ensure_tables(db)
    server = PushServer(
        db, [feed], FetchContext(env=dict(SECRETS)), host="127.0.0.1", port=0, max_bytes=1_000_000
    )
    server.start()
    body = json.dumps({"id": "p1", "text": "海尔冰箱门掉了"}, ensure_ascii=False).encode()
    try:
        with httpx.Client() as http:
            cases = {
                "no token": {},
                "wrong token": {"Authorization": "Bearer nope"},
                "token of another kind": {"Authorization": f"Bearer {TOKEN}"},
                "empty bearer": {"Authorization": "Bearer"},
            }
            for name, headers in cases.items():
                answer = http.post(server.url + "/push/partner", content=body, headers=headers)
                tally.faults += 1
                tally.check(answer.status_code == 401, f"push with {name} answered {answer.status_code}")
            tally.check(db["push_inbox"].count == 0, "push: a refused request left rows in the inbox")
            answer = http.post(
                server.url + "/push/partner",
                content=body,
                headers={"Authorization": f"Bearer {SECRETS['TF_FAULTS_PUSH_TOKEN']}"},
            )
            tally.check(
                answer.status_code == 202 and db["push_inbox"].count == 1,
                f"push with its token answered {answer.status_code}",
            )
    finally:
        server.stop()
        db.close()
    tally.trials += 1


# -- secrets ----------------------------------------------------------------------------------------------------


def _secrets_nowhere(tally: Tally, db: Path, log: Path, pages: list[str]) -> None:
    files = [p for p in db.parent.iterdir() if p.name.startswith(db.name)]
    database = b"".join(p.read_bytes() for p in files)
    logs = log.read_bytes()
    shown = "\n".join(pages).encode()
    tally.trials += 1
    for name, value in SECRETS.items():
        for where, blob in (("the database", database), ("the logs", logs), ("the pages", shown)):
            tally.check(value.encode() not in blob, f"secret {name} appears in {where}")
    tally.figures["secrets searched"] = (
        f"{len(SECRETS)} values in {len(files)} database files, {len(logs):,} bytes of log, {len(pages)} pages"
    )


# -- model files ------------------------------------------------------------------------------------------------


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _models(work: Path, tally: Tally) -> None:
    from classifiers import load_model
    from classifiers.model import DEFAULT_MODEL_DIR
    from monitor.errors import ModelError

    marker = work / "pwned"
    metadata = (DEFAULT_MODEL_DIR / "metadata.json").read_bytes()
    payload = pickle.dumps(_Payload(marker))
    schema_object = {
        "__class__": "system",
        "__module__": "os",
        "__loader__": "FunctionNode",
        "__id__": 1,
        "content": {"module_path": "os", "function": "system"},
    }
    evil_reduce = {
        "__class__": "_Payload",
        "__module__": "benchmarks.fault_suite.security",
        "__loader__": "ReduceNode",
        "__id__": 2,
        "__reduce__": {
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [
                schema_object,
                {
                    "__class__": "tuple",
                    "__module__": "builtins",
                    "__loader__": "TupleNode",
                    "content": [
                        {
                            "__class__": "str",
                            "__module__": "builtins",
                            "__loader__": "JsonNode",
                            "content": json.dumps(f"touch {marker}"),
                        }
                    ],
                },
            ],
        },
        "content": {},
    }

    def skops_zip(schema: dict, extra: dict[str, bytes] | None = None) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("schema.json", json.dumps(schema))
            for name, data in (extra or {}).items():
                archive.writestr(name, data)
        return buffer.getvalue()

    npy = io.BytesIO()
    import numpy as np

    np.save(npy, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    cases = {
        "a plain pickle named model.skops": payload,
        "a skops file whose schema calls os.system": skops_zip(
            {
                "protocol": 2,
                "__class__": "dict",
                "__module__": "builtins",
                "__loader__": "DictNode",
                "content": {"x": schema_object},
            }
        ),
        "a skops file with a __reduce__ node": skops_zip({"protocol": 2, **evil_reduce}),
        "a skops file with a pickled object array": skops_zip(
            {
                "protocol": 2,
                "__class__": "ndarray",
                "__module__": "numpy",
                "__loader__": "NdArrayNode",
                "type": "numpy",
                "file": "a.npy",
            },
            {"a.npy": npy.getvalue()},
        ),
        "a skops file with a pickled .bin blob": skops_zip(
            {
                "protocol": 2,
                "__class__": "_Payload",
                "__module__": "benchmarks.fault_suite.security",
                "__loader__": "ObjectNode",
                "file": "p.bin",
            },
            {"p.bin": payload},
        ),
    }
    for name, data in cases.items():
        directory = work / "models" / re.sub(r"\W+", "-", name)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "model.skops").write_bytes(data)
        (directory / "metadata.json").write_bytes(metadata)
        tally.faults += 1
        tally.bad_tried += 1
        try:
            load_model(directory)
        except ModelError:
            tally.bad_handled += 1
        except Exception as exc:  # noqa: BLE001
            tally.check(False, f"model file, {name}: {type(exc).__name__} instead of ModelError: {exc}")
        else:
            tally.check(False, f"model file, {name}: loaded")
        tally.check(not marker.exists(), f"model file, {name}: the payload ran")
    tally.trials += 1
