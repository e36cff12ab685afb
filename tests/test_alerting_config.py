"""alerting.toml validation: one bad file per error message, each naming the key path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerting import AlertingConfig, load_alerting_config
from monitor.alerting.config import parse_duration, url_credential
from monitor.alerting.matchers import parse_matcher, parse_matchers
from monitor.config import load_file
from monitor.errors import ConfigError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "alerting"
ROOT = Path(__file__).resolve().parent.parent

BAD_FILES = {
    "unknown_key.toml": "route.reciever_name: unknown key",
    "unknown_receiver.toml": "route.routes[0].receiver: unknown receiver 'pr-team' (defined: console)",
    "bad_matcher.toml": "route.routes[0].matchers: invalid matcher 'severity': expected name=\"value\"",
    "bad_regex.toml": "route.routes[0].matchers: invalid regular expression in matcher",
    "bad_duration.toml": "route.group_wait: invalid duration '5 minutes': expected a string such as \"30s\"",
    "zero_interval.toml": "route.repeat_interval: must be longer than 0s",
    "duplicate_receiver.toml": "receivers[1].name: duplicate receiver name 'console'",
    "root_without_receiver.toml": "route.receiver: the root route needs a receiver",
    "root_with_matchers.toml": "route.matchers: the root route matches every alert and cannot have matchers",
    "url_missing.toml": "receivers[1].webhook: receiver 'hook' needs exactly one of url, url_env, url_file (got none)",
    "two_secret_sources.toml": "receivers[1].dingtalk: receiver 'ding': give secret_env or secret_file, not both",
    "secret_in_file.toml": "receivers[1].dingtalk: 'secret' would put a secret in the config file",
    "token_in_url.toml": "receivers[1].dingtalk: receiver 'ding': its url holds a credential (the access_token= "
    "parameter), which would put a secret in the config file",
    "group_by_all_mixed.toml": 'route.group_by: "..." (group by every label) cannot be combined with other labels',
    "inhibit_without_source.toml": "inhibit_rules[0].source_matchers: needs at least one matcher",
    "email_password_without_username.toml": "receivers[1].email: receiver 'mail': a password needs a username",
    "email_without_recipients.toml": "receivers[1].email.to: List should have at least 1 item",
    "unknown_receiver_type.toml": "receivers[0]: Input tag 'pagerduty' found using 'type' does not match",
    "bad_security.toml": "receivers[1].email.security: Input should be 'starttls', 'ssl' or 'none'",
    "invalid_toml.toml": "invalid TOML",
}


def test_every_fixture_has_an_expected_message():
    assert sorted(p.name for p in FIXTURES.glob("*.toml")) == sorted(BAD_FILES)


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_gives_its_message(name):
    path = FIXTURES / name
    with pytest.raises(ConfigError) as caught:
        load_alerting_config(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert BAD_FILES[name] in message, message


@pytest.mark.parametrize("name", sorted(set(BAD_FILES) - {"invalid_toml.toml"}))
def test_the_project_loader_gives_the_same_key_path(name):
    with pytest.raises(ConfigError) as caught:
        load_file(FIXTURES / name, AlertingConfig)
    assert BAD_FILES[name].split(":")[0] in str(caught.value)


def test_shipped_config_and_defaults_load():
    config = load_alerting_config(ROOT / "config")
    assert {r.name for r in config.receivers} == {"console", "digest", "nobody", "ops", "pager"}
    assert AlertingConfig().route.receiver == "console"


@pytest.mark.parametrize(
    ("url", "credential"),
    [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6", "the key= parameter"),
        ("https://hooks.slack.com/services/T000/B000/XXXX", "the token in the hooks.slack.com path"),
        ("https://open.feishu.cn/open-apis/bot/v2/hook/2f8e", "the token in the open.feishu.cn path"),
        ("https://alert:hunter2@ops.example.com/hook", "a password before the host"),
        ("tgram://123456:ABC/987", "the tgram:// service's token"),
        ("https://ops.example.com/hooks/tingfeng", None),
        ("json://127.0.0.1:9000/apprise", None),
    ],
)
def test_credentials_in_receiver_urls_are_recognised(url, credential):
    assert url_credential(url) == credential


def test_durations():
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("1d").total_seconds() == 86400
    for bad in ("", "5", "5x", "h1", "1.5h"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_matchers():
    assert parse_matcher('brand="海尔"').matches({"brand": "海尔"})
    assert not parse_matcher('brand!="海尔"').matches({"brand": "海尔"})
    assert parse_matcher('severity=~"warning|critical"').matches({"severity": "critical"})
    assert not parse_matcher('severity=~"warn"').matches({"severity": "warning"})  # anchored
    assert parse_matcher('brand!~"a.*"').matches({})
    assert parse_matcher("feed=weibo").matches({"feed": "weibo"})
    matchers = parse_matchers(['{severity="critical", brand=~"a,b"}'])
    assert [str(m) for m in matchers] == ['severity="critical"', 'brand=~"a,b"']
