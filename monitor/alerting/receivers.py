"""Sending one outbox message to one receiver: the network side of alerting.

Every sender takes its client (``httpx.Client``, an SMTP factory, a text stream) as a parameter and raises
``DeliveryError`` (``retryable`` says whether another attempt may succeed). Error messages never carry a URL or a
secret: robot URLs hold access tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import sys
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, TextIO

import httpx

from monitor.alerting import message
from monitor.alerting.config import (
    AppriseReceiver,
    ConsoleReceiver,
    DingTalkReceiver,
    EmailReceiver,
    FeishuReceiver,
    LogReceiver,
    NullReceiver,
    ReceiverConfig,
    SlackReceiver,
    WebhookReceiver,
    WeComReceiver,
)
from monitor.errors import DeliveryError

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Tingfeng-Signature"
TIMESTAMP_HEADER = "X-Tingfeng-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SmtpFactory = Callable[[EmailReceiver, float], smtplib.SMTP]


def secret(env: str | None, file: str | None, *, receiver: str, what: str = "secret") -> str | None:
    """Read a secret from the environment variable ``env`` or the file ``file`` (never from the config)."""
    if env:
        value = os.environ.get(env)
        if not value:
            raise DeliveryError(
                f"{what}: environment variable {env} is not set", receiver=receiver, retryable=False
            )
        return value.strip()
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DeliveryError(
                f"{what}: cannot read {file}: {exc.strerror}", receiver=receiver, retryable=False
            ) from None
    return None


def _url(config: Any) -> str:
    url = config.url or secret(config.url_env, config.url_file, receiver=config.name, what="url")
    return url


# -- signatures (also used by the tests' receiving server) ----------------------------------------------------


def webhook_signature(key: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(key, "<timestamp>.<body>")."""
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def dingtalk_sign(key: str, timestamp_ms: int) -> str:
    """DingTalk robot 加签: base64(HMAC-SHA256(key, "<ms>\\n<key>")), before URL encoding."""
    digest = hmac.new(key.encode(), f"{timestamp_ms}\n{key}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(key: str, timestamp_s: int) -> str:
    """Feishu bot signature: base64(HMAC-SHA256 keyed by "<s>\\n<key>" over an empty message)."""
    digest = hmac.new(f"{timestamp_s}\n{key}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# -- senders ---------------------------------------------------------------------------------------------------


def send(
    config: ReceiverConfig,
    payload: dict[str, Any],
    *,
    http: httpx.Client,
    now: datetime,
    smtp: SmtpFactory | None = None,
    console: TextIO | None = None,
    timeout: float = 10.0,
) -> None:
    """Deliver ``payload`` (an outbox message) to the receiver ``config``; raises DeliveryError."""
    if isinstance(config, ConsoleReceiver):
        stream = console or sys.stdout
        stream.write(f"── {payload['fired_at']} → {config.name} ──\n{message.text(payload)}\n\n")
        stream.flush()
    elif isinstance(config, LogReceiver):
        # One line per notification in the log; the whole message only when debugging.
        logger.info("alert to %s: %s", config.name, message.subject(payload))
        logger.debug("%s", message.text(payload))
    elif isinstance(config, NullReceiver):
        return  # a message queued before its receiver was made silent: nobody to tell
    elif isinstance(config, WebhookReceiver):
        _webhook(config, payload, http, now, timeout)
    elif isinstance(config, DingTalkReceiver):
        _dingtalk(config, payload, http, now, timeout)
    elif isinstance(config, WeComReceiver):
        body = {"msgtype": "markdown", "markdown": {"content": _clip_bytes(message.markdown(payload), 4000)}}
        _check_errcode(_post(config.name, _url(config), http, json_body=body, timeout=timeout), config.name)
    elif isinstance(config, FeishuReceiver):
        _feishu(config, payload, http, now, timeout)
    elif isinstance(config, SlackReceiver):
        response = _post(config.name, _url(config), http, json_body=slack_body(payload), timeout=timeout)
        if response.text.strip() not in ("ok", ""):
            raise DeliveryError(f"Slack answered {response.text[:100]!r}", receiver=config.name)
    elif isinstance(config, EmailReceiver):
        _email(config, payload, smtp or default_smtp, timeout)
    elif isinstance(config, AppriseReceiver):
        _apprise(config, payload)
    else:  # pragma: no cover - the config union is closed
        raise DeliveryError(f"unsupported receiver type {type(config).__name__}", receiver=config.name)


def _post(
    name: str,
    url: str,
    http: httpx.Client,
    *,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
) -> httpx.Response:
    if json_body is not None:
        content = json.dumps(json_body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    try:
        response = http.post(url, content=content, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise DeliveryError("timed out", receiver=name) from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"cannot connect ({type(exc).__name__})", receiver=name) from None
    if response.status_code >= 400:
        retryable = response.status_code >= 500 or response.status_code in (408, 425, 429)
        raise DeliveryError(f"HTTP {response.status_code}", receiver=name, retryable=retryable)
    return response


def _check_errcode(response: httpx.Response, name: str, key: str = "errcode") -> None:
    try:
        data = response.json()
    except ValueError:
        raise DeliveryError("answer is not JSON", receiver=name) from None
    code = data.get(key, data.get("StatusCode", 0)) if isinstance(data, dict) else 0
    if code not in (0, None):
        text = data.get("errmsg") or data.get("msg") or ""
        raise DeliveryError(f"API error {code} {text}"[:200], receiver=name)


def _webhook(
    config: WebhookReceiver, payload: dict[str, Any], http: httpx.Client, now: datetime, timeout: float
):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {IDEMPOTENCY_HEADER: payload["id"]}
    key = secret(config.secret_env, config.secret_file, receiver=config.name)
    if key:
        timestamp = str(int(now.timestamp()))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = webhook_signature(key, timestamp, body)
    _post(config.name, _url(config), http, content=body, headers=headers, timeout=timeout)


def _dingtalk(
    config: DingTalkReceiver, payload: dict[str, Any], http: httpx.Client, now: datetime, timeout: float
):
    url = _url(config)
    key = secret(config.secret_env, config.secret_file, receiver=config.name)
    if key:
        timestamp = int(now.timestamp() * 1000)
        query = urllib.parse.urlencode({"timestamp": timestamp, "sign": dingtalk_sign(key, timestamp)})
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    body = {
        "msgtype": "markdown",
        "markdown": {"title": message.subject(payload)[:64], "text": message.markdown(payload)[:4500]},
    }
    _check_errcode(_post(config.name, url, http, json_body=body, timeout=timeout), config.name)


def feishu_card(payload: dict[str, Any]) -> dict[str, Any]:
    """An interactive card: coloured header, the markdown body, a button to the dashboard."""
    first = payload["notifications"][0]
    colour = {"critical": "red", "warning": "orange", "watch": "blue"}.get(first["severity"], "grey")
    if first["status"] == "resolved":
        colour = "green"
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": colour, "title": {"tag": "plain_text", "content": message.subject(payload)}},
        "elements": [
            {"tag": "div", "text": {"tag": "lark_md", "content": message.markdown(payload)[:8000]}},
            {
                "tag": "action",
                "actions": [
                    {
                        "tag": "button",
                        "type": "primary",
                        "text": {"tag": "plain_text", "content": "在看板中查看"},
                        "url": first["link"],
                    }
                ],
            },
        ],
    }


def _feishu(
    config: FeishuReceiver, payload: dict[str, Any], http: httpx.Client, now: datetime, timeout: float
):
    body: dict[str, Any] = {"msg_type": "interactive", "card": feishu_card(payload)}
    key = secret(config.secret_env, config.secret_file, receiver=config.name)
    if key:
        timestamp = int(now.timestamp())
        body = {"timestamp": str(timestamp), "sign": feishu_sign(key, timestamp), **body}
    _check_errcode(
        _post(config.name, _url(config), http, json_body=body, timeout=timeout), config.name, key="code"
    )


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """Block Kit: a header and a section per notification, with a plain ``text`` fallback."""
    blocks: list[dict[str, Any]] = []
    for note in payload["notifications"]:
        blocks.append(
            {"type": "header", "text": {"type": "plain_text", "text": message.headline(note)[:150]}}
        )
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": message.slack_mrkdwn(note)[:3000]}}
        )
        blocks.append({"type": "divider"})
    return {"text": message.subject(payload), "blocks": blocks[:50]}


def default_smtp(config: EmailReceiver, timeout: float) -> smtplib.SMTP:
    """An SMTP connection per the receiver's security (``ssl``, ``starttls`` or ``none``)."""
    context = ssl.create_default_context(cafile=config.ca_file) if config.security != "none" else None
    if config.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=timeout)
        if config.security == "starttls":
            client.starttls(context=context)
    return client


def email_message(config: EmailReceiver, payload: dict[str, Any]) -> EmailMessage:
    """A multipart/alternative message (plain text and HTML); its Message-ID is the outbox id."""
    mail = EmailMessage()
    mail["Subject"] = message.subject(payload)
    mail["From"] = config.from_addr
    mail["To"] = ", ".join(config.to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{payload['id']}@tingfeng>"
    mail.set_content(message.text(payload))
    mail.add_alternative(message.html_body(payload), subtype="html")
    return mail


def _email(config: EmailReceiver, payload: dict[str, Any], smtp: SmtpFactory, timeout: float) -> None:
    password = secret(config.password_env, config.password_file, receiver=config.name, what="password")
    try:
        with smtp(config, timeout) as client:
            if config.username and password:
                client.login(config.username, password)
            client.send_message(email_message(config, payload))
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError("SMTP login refused", receiver=config.name, retryable=False) from None
    except smtplib.SMTPResponseException as exc:
        retryable = exc.smtp_code < 500
        raise DeliveryError(f"SMTP {exc.smtp_code}", receiver=config.name, retryable=retryable) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP failed ({type(exc).__name__})", receiver=config.name) from None


def _apprise(config: AppriseReceiver, payload: dict[str, Any]) -> None:
    import apprise  # heavy import: only when an Apprise receiver is used

    notifier = apprise.Apprise()
    if not notifier.add(_url(config)):
        raise DeliveryError("Apprise does not understand the URL", receiver=config.name, retryable=False)
    ok = notifier.notify(
        title=message.subject(payload),
        body=message.markdown(payload),
        body_format=apprise.NotifyFormat.MARKDOWN,
    )
    if not ok:
        raise DeliveryError("Apprise could not deliver", receiver=config.name)


def _clip_bytes(text: str, limit: int) -> str:
    data = text.encode()
    return text if len(data) <= limit else data[:limit].decode(errors="ignore") + "…"
