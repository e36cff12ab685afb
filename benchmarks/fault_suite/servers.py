"""Real local HTTP servers on 127.0.0.1 for the fault suite: a scripted server, a webhook receiver that
checks signatures and counts idempotency keys, and a canary that must never be called."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hit:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class LocalServer:
    """A threaded HTTP server; ``handle(hit) -> Reply`` answers every request, ``hits`` keeps them all."""

    def __init__(self, handle: Callable[[Hit], Reply] | None = None) -> None:
        self.handle = handle or (lambda hit: Reply(200, b"ok"))
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urllib.parse.urlsplit(self.path)
                hit = Hit(
                    self.command,
                    parts.path,
                    dict(urllib.parse.parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with server.lock:
                    server.hits.append(hit)
                reply = server.handle(hit)
                if reply.delay:
                    time.sleep(reply.delay)  # a slow peer, not a test of timing
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed or gave up

            do_GET = do_POST = do_PUT = do_HEAD = _serve  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a killed client's reset is expected
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class WebhookReceiver(LocalServer):
    """A signed-webhook consumer: checks the HMAC, counts deliveries per idempotency key; may be down."""

    def __init__(self, secret: str, delay: float = 0.0) -> None:
        self.secret = secret
        self.delay = delay
        self.down = False
        self.keys: dict[str, int] = {}
        self.bodies: dict[str, dict] = {}
        self.bad_signatures = 0
        self.refused = 0
        super().__init__(self._receive)

    def _receive(self, hit: Hit) -> Reply:
        if self.down:
            with self.lock:
                self.refused += 1
            return Reply(503, b'{"error": "down"}', delay=self.delay)
        stamp = hit.headers.get("x-tingfeng-timestamp", "")
        expected = (
            "sha256="
            + hmac.new(self.secret.encode(), stamp.encode() + b"." + hit.body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(hit.headers.get("x-tingfeng-signature", ""), expected):
            with self.lock:
                self.bad_signatures += 1
            return Reply(401, b'{"error": "bad signature"}')
        key = hit.headers.get("idempotency-key", "")
        with self.lock:
            self.keys[key] = self.keys.get(key, 0) + 1
            if self.keys[key] == 1:
                self.bodies[key] = json.loads(hit.body)
        return Reply(200, b'{"ok": true}', delay=self.delay)

    @property
    def resends(self) -> int:
        """Deliveries beyond the first per key: absorbed by the key, not doubled for the reader."""
        return sum(count - 1 for count in self.keys.values())
