"""Config errors name the file, the key path and what was expected: one bad file per message."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import MonitorConfig, load_file
from monitor.errors import ConfigError

BAD = Path(__file__).parent / "fixtures" / "config" / "monitor"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "invalid_toml.toml",
            "invalid TOML: Expected ']' at the end of a table declaration (at line 2, column 5)",
        ),
        ("unknown_key.toml", "databse: unknown key (check the spelling)"),
        ("unknown_nested_key.toml", "web.bind: unknown key (check the spelling)"),
        ("port_out_of_range.toml", "web.port: Input should be less than or equal to 65535 (got 70000)"),
        (
            "wrong_type.toml",
            "replay_batch: Input should be a valid integer, unable to parse string as an integer (got 'many')",
        ),
        ("not_utf8.toml", "not UTF-8 text (byte 12)"),
    ],
)
def test_each_bad_file_gets_its_precise_message(name, message):
    with pytest.raises(ConfigError) as info:
        load_file(BAD / name, MonitorConfig)
    assert str(info.value) == f"{BAD / name}: {message}"


def test_an_absent_file_means_defaults(tmp_path):
    assert load_file(tmp_path / "monitor.toml", MonitorConfig) == MonitorConfig()


def test_shipped_defaults_pass_check_config():
    result = subprocess.run([sys.executable, "-m", "monitor", "check-config"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


def test_check_config_exits_2_naming_file_and_key(tmp_path):
    shutil.copytree(Path(__file__).parent.parent / "config", tmp_path / "config")
    shutil.copy(BAD / "port_out_of_range.toml", tmp_path / "config" / "monitor.toml")
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "check-config", str(tmp_path / "config")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"config error: {tmp_path / 'config' / 'monitor.toml'}: web.port: "
        "Input should be less than or equal to 65535 (got 70000)"
    )
