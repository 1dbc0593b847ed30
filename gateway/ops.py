"""What the gateway commands do: create the folder, change accounts, render, reload the broker."""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import signal
from dataclasses import dataclass
from pathlib import Path

from gateway import accounts, certs, settings
from gateway.accounts import Account, Listener, Role
from gateway.files import locked, user_exists, write_private, write_public
from gateway.passwords import hash_password, new_password
from gateway.render import Layout, acl_file, mosquitto_conf, password_file
from gateway.settings import GatewayError, GatewaySettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Issued:
    """A new account and its password: shown or written once, never stored in clear."""

    account: Account
    password: str


def _render(folder: Path, config: GatewaySettings, known: dict[str, Account]) -> None:
    layout = Layout(folder)
    owner = config.user if user_exists(config.user) else None
    for listener in Listener:
        members = [a for a in known.values() if a.listener is listener]
        write_private(layout.password_file(listener), password_file(members).encode(), owner=owner)
        write_private(layout.acl_file(listener), acl_file(members).encode(), owner=owner)
    write_public(layout.conf, mosquitto_conf(config, layout).encode())


def _service_env(config: GatewaySettings, issued: Issued) -> bytes:
    lines = [
        f"# broker account of {issued.account.role.value}: keep secret (0600); for systemd "
        "EnvironmentFile= or docker --env-file",
        "SMARTAREA_MQTT_HOST=127.0.0.1",
        f"SMARTAREA_MQTT_PORT={config.local_port}",
        f"SMARTAREA_MQTT_USERNAME={issued.account.username}",
        f"SMARTAREA_MQTT_PASSWORD={issued.password}",
    ]
    return ("\n".join(lines) + "\n").encode()


def _issue(username: str, role: Role, **fields: object) -> Issued:
    password = new_password()
    account = Account(
        username=username,
        role=role,
        password_hash=hash_password(password),
        created_at=accounts.now(),
        **fields,
    )
    return Issued(account, password)


def init(
    folder: Path,
    config: GatewaySettings,
    supplied_tls: tuple[Path, Path, Path] | None = None,
) -> None:
    """A new gateway folder: settings, TLS, the ingest and API accounts, Mosquitto's files."""
    folder = folder.resolve()
    if (folder / settings.SETTINGS_FILE).exists():
        raise GatewayError(
            f"{folder} already holds a gateway; change {settings.SETTINGS_FILE} and run "
            f"`python -m gateway apply {folder}` instead (init would replace its CA)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    layout = Layout(folder)
    with locked(folder):
        if supplied_tls is None:
            certs.generate(layout.tls, config.hosts)
        else:
            ca, cert, key = supplied_tls
            certs.install_supplied(layout.tls, ca, cert, key)
        owner = config.user if user_exists(config.user) else None
        if owner is not None and os.geteuid() == 0:
            # Mosquitto reads its key and writes its database after dropping to this user.
            os.chown(layout.tls / "server.key", *_ids(owner))
        layout.data.mkdir(exist_ok=True)
        if owner is not None and os.geteuid() == 0:
            os.chown(layout.data, *_ids(owner))
        known: dict[str, Account] = {}
        services = (
            (accounts.INGEST_USER, Role.INGEST),
            (accounts.API_USER, Role.API),
            (accounts.ALERTS_USER, Role.ALERTS),
        )
        for username, role in services:
            issued = _issue(username, role)
            known[username] = issued.account
            write_private(layout.secrets / f"{role.value}.env", _service_env(config, issued))
        accounts.save(folder, known)
        write_public(folder / settings.SETTINGS_FILE, settings.dump(config).encode())
        _render(folder, config, known)


def _ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def apply(folder: Path) -> GatewaySettings:
    """Re-render Mosquitto's files from gateway.toml and accounts.json."""
    config = settings.load(folder)
    with locked(folder):
        _render(folder, config, accounts.load(folder))
    return config


def provision_agent(folder: Path, area_id: str, agent_id: str, rotate: bool = False) -> Issued:
    username = accounts.agent_username(area_id, agent_id)
    return _provision(folder, username, Role.AGENT, rotate, area_id=area_id, agent_id=agent_id)


def provision_bridge(
    folder: Path, name: str, areas: tuple[str, ...], rotate: bool = False
) -> Issued:
    if not areas:
        raise GatewayError("a bridge needs at least one --area")
    return _provision(folder, accounts.bridge_username(name), Role.BRIDGE, rotate, areas=areas)


def _provision(folder: Path, username: str, role: Role, rotate: bool, **fields: object) -> Issued:
    config = settings.load(folder)
    with locked(folder):
        known = accounts.load(folder)
        if username in known and not rotate:
            raise GatewayError(
                f"{username} is already provisioned; use --rotate to issue a new password "
                "(the old one stops working at the next reload)"
            )
        issued = _issue(username, role, **fields)
        known[username] = issued.account
        accounts.save(folder, known)
        _render(folder, config, known)
    logger.info("provisioned %s (%s)", username, issued.account.describe())
    return issued


def revoke(folder: Path, username: str) -> Account:
    config = settings.load(folder)
    with locked(folder):
        known = accounts.load(folder)
        account = known.pop(username, None)
        if account is None or account.role in accounts.SERVICE_ROLES:
            raise GatewayError(f"no agent or bridge account named {username!r} (see list-agents)")
        accounts.save(folder, known)
        _render(folder, config, known)
    logger.info("revoked %s", username)
    return account


def listing(folder: Path) -> list[Account]:
    settings.load(folder)  # a clear error when the folder is not a gateway
    return sorted(accounts.load(folder).values(), key=lambda a: (a.role.value, a.username))


def broker_pid(folder: Path) -> int | None:
    """The running broker of this folder, from its pid file; None when it is not running."""
    try:
        pid = int(Layout(folder).pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return pid if comm == "mosquitto" else None  # a stale pid file may name another process


def reload(folder: Path) -> bool:
    """SIGHUP: Mosquitto re-reads password and ACL files; connected clients stay connected."""
    pid = broker_pid(folder)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGHUP)
        return True
    return False
