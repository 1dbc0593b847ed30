"""The gateway's pure parts: password format, ACL rendering, the folder it manages, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract import topics
from edge.config import load
from gateway import accounts, certs, ops, passwords
from gateway.__main__ import main
from gateway.accounts import Listener, Role
from gateway.render import Layout, acl_file
from gateway.settings import GatewayError, GatewaySettings


def test_our_hashes_have_mosquittos_format_and_verify() -> None:
    hashed = passwords.hash_password("mật khẩu", salt=b"0123456789ab")
    _, kind, iterations, salt, digest = hashed.split("$")
    assert (kind, iterations, salt) == ("7", "101", "MDEyMzQ1Njc4OWFi")
    assert len(digest) == 88  # base64 of a 64-byte SHA-512 digest
    assert passwords.verify("mật khẩu", hashed)
    assert not passwords.verify("mat khau", hashed)
    assert not passwords.verify("x", "$6$garbage")
    assert passwords.hash_password("x") != passwords.hash_password("x")  # fresh salt each time


def test_we_verify_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    assert tool is not None, "install the Debian package mosquitto (make deps)"
    path = tmp_path / "passwd"
    subprocess.run([tool, "-c", "-b", str(path), "alice", "s3cret pw"], check=True)
    user, hashed = path.read_text().strip().split(":", 1)
    assert user == "alice"
    assert passwords.verify("s3cret pw", hashed)
    assert not passwords.verify("s3cret", hashed)


def test_agent_names_cannot_collide_or_pass_for_a_service() -> None:
    assert accounts.agent_username("a-b", "c") != accounts.agent_username("a", "b-c")
    assert accounts.agent_username("son-vi-khu-6", "nvh") == "son-vi-khu-6/nvh"
    for service in (accounts.INGEST_USER, accounts.API_USER, accounts.bridge_username("x")):
        assert "/" not in service
    with pytest.raises(ValueError, match="area id"):
        accounts.agent_username("son-vi/#", "nvh")
    with pytest.raises(ValueError, match="agent id"):
        accounts.agent_username("son-vi", "+")


slugs = st.from_regex(topics.SLUG_PATTERN, fullmatch=True).filter(topics.is_slug)


@given(area=slugs, agent=slugs)
def test_the_agent_pattern_is_exactly_the_agents_own_grants(area: str, agent: str) -> None:
    # What Mosquitto does with "%u" for this agent's user name gives back its explicit grants.
    username = topics.agent_account(area, agent)
    patterns = topics.agent_pattern_grants()

    def fill(filters: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(f.replace(topics.ACL_USERNAME, username) for f in filters)

    explicit = topics.agent_grants(area, agent)
    assert fill(patterns.publish) == explicit.publish
    assert fill(patterns.subscribe) == explicit.subscribe
    for name in (*explicit.publish, *explicit.subscribe):
        parts = topics.parse(name)
        assert (parts.area_id, parts.agent_id) == (area, agent)


def _agent(area: str, agent: str) -> accounts.Account:
    return accounts.Account(
        username=accounts.agent_username(area, agent),
        role=Role.AGENT,
        area_id=area,
        agent_id=agent,
        password_hash=passwords.hash_password("x"),
        created_at=accounts.now(),
    )


def test_the_acl_stays_a_few_lines_however_many_agents() -> None:
    one = acl_file([_agent("son-vi-khu-6", "nvh")])
    many = acl_file([_agent(f"area-{i}", "nvh") for i in range(1000)])
    assert one == many
    rules = [line for line in one.splitlines() if line and not line.startswith("#")]
    assert rules == [
        "pattern write smartarea/v1/%u/report",
        "pattern write smartarea/v1/%u/status",
        "pattern read smartarea/v1/%u/cmd",
        "pattern read smartarea/v1/%u/receipt",
    ]
    assert acl_file([]).count("pattern") == 0  # no agents, no agent rights at all


def test_service_grants_are_least_rights() -> None:
    assert topics.ingest_grants().publish == ("smartarea/v1/+/+/receipt",)
    assert set(topics.ingest_grants().subscribe) == {
        topics.subscription(topics.Channel.REPORT),
        topics.subscription(topics.Channel.STATUS),
    }
    assert topics.api_grants() == topics.Grants(
        publish=(topics.subscription(topics.Channel.COMMAND),)
    )
    bridge = topics.area_grants(("son-vi-khu-6",))
    assert all(
        t.startswith("smartarea/v1/son-vi-khu-6/+/") for t in bridge.publish + bridge.subscribe
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    ops.init(
        tmp_path / "gw",
        GatewaySettings(hosts=["mqtt.example.vn", "203.0.113.7"], user="nobody-here"),
    )
    return tmp_path / "gw"


def test_init_writes_a_locked_down_broker_configuration(folder: Path) -> None:
    conf = (folder / "mosquitto.conf").read_text()
    for line in (
        "per_listener_settings true",
        "persistence true",
        "max_queued_messages 1000000",
        "listener 1883 127.0.0.1",
        "listener 8883 0.0.0.0",
        "use_username_as_clientid true",
        "tls_version tlsv1.2",
        "user nobody-here",
    ):
        assert line + "\n" in conf
    assert "allow_anonymous true" not in conf
    assert conf.count("allow_anonymous false") == 2
    assert certs.server_hosts(folder / "tls" / "server.crt") == ["mqtt.example.vn", "203.0.113.7"]
    for secret in (
        "accounts.json",
        "passwd-agents",
        "passwd-local",
        "acl-agents",
        "acl-local",
        "tls/ca.key",
        "tls/server.key",
        "secrets/ingest.env",
        "secrets/api.env",
    ):
        assert (folder / secret).stat().st_mode & 0o777 == 0o600, secret
    with pytest.raises(GatewayError, match="already holds a gateway"):
        ops.init(folder, GatewaySettings(hosts=["x"]))


def test_provision_revoke_and_list(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    issued = ops.provision_agent(folder, "son-vi-khu-6", "nvh")
    layout = Layout(folder)
    line = layout.password_file(Listener.AGENTS).read_text()
    assert line.startswith("son-vi-khu-6/nvh:$7$101$")
    assert passwords.verify(issued.password, line.strip().split(":", 1)[1])
    assert "son-vi-khu-6/nvh" not in layout.password_file(Listener.LOCAL).read_text()
    for path in folder.rglob("*"):
        if path.is_file():
            assert issued.password not in path.read_text(errors="replace"), path
    with pytest.raises(GatewayError, match="--rotate"):
        ops.provision_agent(folder, "son-vi-khu-6", "nvh")
    rotated = ops.provision_agent(folder, "son-vi-khu-6", "nvh", rotate=True)
    assert rotated.password != issued.password

    assert main(["list-agents", "--dir", str(folder)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [row.split("\t")[:3] for row in listed] == [
        ["son-vi-khu-6/nvh", "agent", "area son-vi-khu-6, agent nvh"]
    ]
    assert (
        main(["revoke-agent", "--dir", str(folder), "--area", "son-vi-khu-6", "--agent", "nvh"])
        == 0
    )
    assert "no running broker" in capsys.readouterr().out
    assert layout.password_file(Listener.AGENTS).read_text() == ""
    assert "pattern" not in (folder / "acl-agents").read_text()
    assert (
        main(["revoke-agent", "--dir", str(folder), "--area", "son-vi-khu-6", "--agent", "nvh"])
        == 2
    )
    assert "no agent or bridge account" in capsys.readouterr().err
    ops.provision_bridge(folder, "son-vi", ("son-vi-khu-6", "son-vi-khu-7"))
    assert "topic write smartarea/v1/son-vi-khu-7/+/status" in (folder / "acl-agents").read_text()
    assert main(["revoke-bridge", "--dir", str(folder), "--name", "son-vi"]) == 0
    assert "son-vi" not in (folder / "acl-agents").read_text()
    capsys.readouterr()
    # Service accounts are not agents: revoke-agent cannot remove them.
    with pytest.raises(GatewayError):
        ops.revoke(folder, accounts.INGEST_USER)


def test_errors_name_what_to_fix(
    folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SMARTAREA_GATEWAY_DIR", raising=False)
    assert main(["list-agents"]) == 2
    assert "SMARTAREA_GATEWAY_DIR" in capsys.readouterr().err
    assert main(["list-agents", "--dir", str(tmp_path / "nothing")]) == 2
    assert "python -m gateway init" in capsys.readouterr().err
    assert (
        main(["provision-agent", "--dir", str(folder), "--area", "Sơn Vi", "--agent", "nvh"]) == 2
    )
    assert "area id 'Sơn Vi' is not a valid id" in capsys.readouterr().err
    settings_file = folder / "gateway.toml"
    settings_file.write_text(
        settings_file.read_text().replace("agent_port = 8883", "agent_port = 0")
    )
    assert main(["apply", str(folder)]) == 2
    assert "agent_port" in capsys.readouterr().err


def test_supplied_certificates_must_fit_together(tmp_path: Path) -> None:
    one = certs.generate(tmp_path / "one", ["mqtt.example.vn"])
    two = certs.generate(tmp_path / "two", ["mqtt.example.vn"])
    with pytest.raises(certs.CertificateError, match="not issued by"):
        certs.install_supplied(tmp_path / "x", one.ca_cert, two.server_cert, two.server_key)
    with pytest.raises(certs.CertificateError, match="is not the key of"):
        certs.install_supplied(tmp_path / "x", one.ca_cert, one.server_cert, two.server_key)
    installed = certs.install_supplied(
        tmp_path / "ok", one.ca_cert, one.server_cert, one.server_key
    )
    assert installed.server_key.stat().st_mode & 0o777 == 0o600
    assert installed.ca_key is None


def test_the_agent_bundle_is_a_valid_agent_config(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle"
    assert (
        main(
            [
                "provision-agent",
                "--dir",
                str(folder),
                "--area",
                "son-vi-khu-6",
                "--agent",
                "nvh",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    config = load(out / "agent.toml")
    assert (config.area_id, config.agent_id) == ("son-vi-khu-6", "nvh")
    assert (config.broker.host, config.broker.port, config.broker.tls) == (
        "mqtt.example.vn",
        8883,
        True,
    )
    assert config.broker.auth is not None and config.broker.auth.username == "son-vi-khu-6/nvh"
    assert (out / "ca.crt").read_bytes() == (folder / "tls" / "ca.crt").read_bytes()
    password = (out / "broker-password").read_text().strip()
    assert len(password) >= 32
    printed = capsys.readouterr()
    assert "son-vi-khu-6/nvh provisioned" in printed.out
    assert password not in printed.out + printed.err  # shown nowhere: it is in the 0600 file
    # An unwritable bundle folder: the account exists, the operator is told how to recover.
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = ["provision-agent", "--dir", str(folder), "--area", "thon-1", "--agent", "nvh"]
    assert main([*args, "--out", str(blocker / "bundle")]) == 2
    assert "--rotate" in capsys.readouterr().err
    assert json.loads((folder / "accounts.json").read_text())[0]["role"] in {r.value for r in Role}


def test_alerts_service_account_reads_like_ingest_on_loopback() -> None:
    account = accounts.Account(
        username=accounts.ALERTS_USER,
        role=Role.ALERTS,
        password_hash="x",
        created_at=datetime.now(UTC),
    )
    assert account.listener is Listener.LOCAL
    assert account.grants() == topics.ingest_grants()
