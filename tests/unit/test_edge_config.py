"""The agent's configuration fails at start with the field named; secrets never come from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import ConfigError, load

GOOD = """
area_id = "son-vi-khu-6"
agent_id = "nvh"
interval_s = 60

[broker]
host = "broker.example.vn"

[[devices]]
id = "Cổng chợ"
type = "camera_snapshot"
url = "http://192.168.1.64/ISAPI/Streaming/channels/102/picture"
auth = { username = "admin", password_env = "CAM_PASSWORD" }

[[devices]]
id = "uplink"
type = "tcp_link"
targets = ["203.162.4.191:53", "[2001:db8::1]:443"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_config_loads_with_state_dir_beside_it(tmp_path: Path) -> None:
    config = load(_write(tmp_path, GOOD))
    assert [d.id for d in config.devices] == ["Cổng chợ", "uplink"]
    assert config.state_dir == tmp_path / "state"
    assert config.broker.tls is True and config.broker.port == 8883


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('area_id = "son-vi-khu-6"', 'area_id = "Sơn Vi"'), "area_id"),
        (('type = "tcp_link"', 'type = "ping_link"'), "devices.1"),
        (
            ('targets = ["203.162.4.191:53", "[2001:db8::1]:443"]', 'targets = ["nohost"]'),
            "targets",
        ),
        (("interval_s = 60", "interval_s = 60\nintervall = 5"), "intervall"),
        (("http://192.168.1.64", "http://admin:pw@192.168.1.64"), "url"),
        (('password_env = "CAM_PASSWORD"', 'password = "hunter2"'), "auth"),
        (('id = "uplink"', 'id = "Cổng chợ"'), "devices"),
        (("interval_s = 60", "interval_s = 4"), "interval_s"),
        (("interval_s = 60", 'interval_s = 60\ntimezone = "Asia/Hanoi"'), "timezone"),
    ],
)
def test_errors_name_the_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as info:
        load(_write(tmp_path, GOOD.replace(old, new)))
    assert field in str(info.value)
    assert "hunter2" not in str(info.value)


def test_check_config_cli_exits_2_with_the_message(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('area_id = "son-vi-khu-6"', 'area_id = "Sơn Vi"'))
    result = subprocess.run(
        [sys.executable, "-m", "edge", "check-config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "area_id" in result.stderr
    good = subprocess.run(
        [sys.executable, "-m", "edge", "check-config", str(_write(tmp_path, GOOD))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert "2 devices" in good.stdout


def test_not_toml_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(_write(tmp_path, "area_id = "))


def test_the_shipped_example_is_valid() -> None:
    example = Path(__file__).parents[2] / "edge" / "agent.example.toml"
    config = load(example)
    assert config.broker.tls and config.broker.auth is not None
    assert "Cổng chợ" in [d.id for d in config.devices]


def test_relative_paths_mean_beside_the_config_file(tmp_path: Path) -> None:
    text = GOOD.replace(
        'host = "broker.example.vn"', 'host = "broker.example.vn"\nca_file = "ca.crt"'
    )
    text = text.replace('password_env = "CAM_PASSWORD"', 'password_file = "secrets/cam01"')
    config = load(_write(tmp_path, text))
    assert config.broker.ca_file == tmp_path / "ca.crt"
    camera = config.devices[0]
    assert camera.auth is not None and camera.auth.password_file == tmp_path / "secrets" / "cam01"  # type: ignore[union-attr]
    assert config.state_dir == tmp_path / "state"


def test_camera_references_live_with_the_agent_state(tmp_path: Path) -> None:
    config = load(_write(tmp_path, GOOD))
    camera = config.devices[0]
    assert camera.reference_dir == tmp_path / "state" / "camera-reference"  # type: ignore[union-attr]
    text = GOOD.replace(
        'type = "camera_snapshot"', 'type = "camera_snapshot"\nreference_dir = "refs"'
    )
    assert load(_write(tmp_path, text)).devices[0].reference_dir == tmp_path / "refs"  # type: ignore[union-attr]


def test_cameras_judge_day_and_night_in_the_site_zone_not_the_pcs(tmp_path: Path) -> None:
    """Vietnam by default; the agent's zone reaches every camera that does not name its own."""
    assert load(_write(tmp_path, GOOD)).devices[0].timezone == "Asia/Ho_Chi_Minh"  # type: ignore[union-attr]
    text = GOOD.replace("interval_s = 60", 'interval_s = 60\ntimezone = "Asia/Bangkok"')
    assert load(_write(tmp_path, text)).devices[0].timezone == "Asia/Bangkok"  # type: ignore[union-attr]
    own = text.replace(
        'type = "camera_snapshot"', 'type = "camera_snapshot"\ntimezone = "Asia/Vientiane"'
    )
    assert load(_write(tmp_path, own)).devices[0].timezone == "Asia/Vientiane"  # type: ignore[union-attr]
