"""``python -m gateway``: create the broker's configuration and manage agent accounts.

    python -m gateway init DIR --host mqtt.example.vn
    python -m gateway provision-agent --dir DIR --area son-vi-khu-6 --agent nvh
    python -m gateway revoke-agent --dir DIR --area son-vi-khu-6 --agent nvh
    python -m gateway list-agents --dir DIR

Changes are rendered into Mosquitto's password and ACL files and the running broker (found by
its pid file) is told to reload them: no restart, connected agents stay connected.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from gateway import accounts, bundle, ops, settings
from gateway.certs import CertificateError
from gateway.files import user_exists
from gateway.settings import GatewayError, GatewaySettings

DIR_ENV = "SMARTAREA_GATEWAY_DIR"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create a gateway folder: Mosquitto config, TLS, accounts")
    init.add_argument("dir", type=Path)
    init.add_argument(
        "--host",
        action="append",
        required=True,
        dest="hosts",
        help="name or address agents dial (repeat for several; the first is used in agent bundles)",
    )
    init.add_argument("--agent-port", type=int, default=8883)
    init.add_argument("--agent-bind", default="0.0.0.0")  # noqa: S104
    init.add_argument("--local-port", type=int, default=1883)
    init.add_argument("--user", default="mosquitto", help="OS user Mosquitto drops to as root")
    init.add_argument("--ca", type=Path, help="operator's CA certificate (with --cert, --key)")
    init.add_argument("--cert", type=Path, help="operator's broker certificate")
    init.add_argument("--key", type=Path, help="its private key")

    apply = sub.add_parser("apply", help="re-render Mosquitto's files after editing gateway.toml")
    apply.add_argument("dir", type=Path)

    def with_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--dir",
            type=Path,
            default=os.environ.get(DIR_ENV),
            help=f"the gateway folder (default: ${DIR_ENV})",
        )
        p.add_argument("--no-reload", action="store_true", help="do not signal the running broker")

    prov = sub.add_parser("provision-agent", help="create an agent's account and its bundle")
    with_dir(prov)
    prov.add_argument("--area", required=True)
    prov.add_argument("--agent", required=True)
    prov.add_argument("--out", type=Path, help="bundle folder (default ./agent-AREA-AGENT)")
    prov.add_argument("--rotate", action="store_true", help="replace an existing password")

    revoke = sub.add_parser("revoke-agent", help="remove an agent's account")
    with_dir(revoke)
    revoke.add_argument("--area", required=True)
    revoke.add_argument("--agent", required=True)

    lst = sub.add_parser("list-agents", help="list agent and bridge accounts")
    with_dir(lst)

    bridge = sub.add_parser("provision-bridge", help="account + config for a commune broker")
    with_dir(bridge)
    bridge.add_argument("--name", required=True, help="commune slug, e.g. 'son-vi'")
    bridge.add_argument("--area", action="append", required=True, dest="areas")
    bridge.add_argument("--out", type=Path, help="bundle folder (default ./bridge-NAME)")
    bridge.add_argument(
        "--ca-path",
        default="/etc/mosquitto/certs/smartarea-ca.crt",
        help="where ca.crt will lie on the commune broker",
    )
    bridge.add_argument("--rotate", action="store_true")

    unbridge = sub.add_parser("revoke-bridge", help="remove a commune bridge's account")
    with_dir(unbridge)
    unbridge.add_argument("--name", required=True)
    return parser


def _folder(args: argparse.Namespace) -> Path:
    if args.dir is None:
        raise GatewayError(f"give the gateway folder with --dir or ${DIR_ENV}")
    return Path(args.dir).resolve()


def _reload(args: argparse.Namespace, folder: Path) -> None:
    if args.no_reload:
        print("broker not signalled (--no-reload): run `kill -HUP <mosquitto pid>` to apply")
    elif ops.reload(folder):
        print("broker signalled (SIGHUP): it re-reads the accounts now")
    else:
        print("no running broker found for this folder: the change applies when it starts")


def _init(args: argparse.Namespace) -> None:
    tls = (args.ca, args.cert, args.key)
    if any(tls) and not all(tls):
        raise GatewayError("give --ca, --cert and --key together, or none to generate them")
    try:
        config = GatewaySettings(
            hosts=args.hosts,
            agent_port=args.agent_port,
            agent_bind=args.agent_bind,
            local_port=args.local_port,
            user=args.user,
        )
    except ValidationError as exc:
        raise GatewayError(str(exc)) from None
    ops.init(args.dir, config, tls if all(tls) else None)
    folder = Path(args.dir).resolve()
    print(f"gateway created in {folder}")
    if not user_exists(config.user):
        print(
            f"warning: no OS user {config.user!r}: started as root, Mosquitto will refuse to "
            "run; create it or pass --user",
            file=sys.stderr,
        )
    print(f"  start the broker:  mosquitto -c {folder / 'mosquitto.conf'}")
    print(f"  ingest and API accounts: {folder / 'secrets'}/{{ingest,api}}.env (0600)")
    print(f"  agents trust:      {folder / 'tls' / 'ca.crt'}")


def _apply(args: argparse.Namespace) -> None:
    folder = Path(args.dir).resolve()
    ops.apply(folder)
    print(f"rendered {folder / 'mosquitto.conf'}")
    print("listener, TLS and limit changes need a broker restart; accounts apply on reload")
    ops.reload(folder)


def _unwritten(args: argparse.Namespace, folder: Path, issued: ops.Issued, exc: OSError) -> None:
    _reload(args, folder)
    raise GatewayError(
        f"{issued.account.username} was provisioned but its bundle could not be written "
        f"({exc.strerror}: {exc.filename}); issue a new password with --rotate and another --out"
    ) from None


def _provision_agent(args: argparse.Namespace) -> None:
    folder = _folder(args)
    issued = ops.provision_agent(folder, args.area, args.agent, rotate=args.rotate)
    out = args.out or Path(f"agent-{args.area}-{args.agent}")
    try:
        bundle.write_agent_bundle(out, issued, folder, settings.load(folder))
    except OSError as exc:
        _unwritten(args, folder, issued, exc)
    print(f"agent {issued.account.username} provisioned; bundle in {out.resolve()}")
    print("  copy it to the cultural-house PC, add the cameras to agent.toml, then delete it")
    print(f"  (it holds the only copy of the password, in {bundle.PASSWORD_FILE}, 0600)")
    _reload(args, folder)


def _provision_bridge(args: argparse.Namespace) -> None:
    folder = _folder(args)
    issued = ops.provision_bridge(folder, args.name, tuple(args.areas), rotate=args.rotate)
    out = args.out or Path(f"bridge-{args.name}")
    try:
        config = settings.load(folder)
        bundle.write_bridge_bundle(out, issued, folder, config, args.name, args.ca_path)
    except OSError as exc:
        _unwritten(args, folder, issued, exc)
    print(f"bridge {issued.account.username} provisioned; config in {out.resolve()}")
    print("  bridge.conf holds the password (0600): install it, then delete the folder")
    _reload(args, folder)


def _revoke_agent(args: argparse.Namespace) -> None:
    folder = _folder(args)
    account = ops.revoke(folder, accounts.agent_username(args.area, args.agent))
    print(f"agent {account.username} revoked")
    _reload(args, folder)


def _revoke_bridge(args: argparse.Namespace) -> None:
    folder = _folder(args)
    account = ops.revoke(folder, accounts.bridge_username(args.name))
    print(f"bridge {account.username} revoked")
    _reload(args, folder)


def _list_agents(args: argparse.Namespace) -> None:
    for account in ops.listing(_folder(args)):
        if account.role in (accounts.Role.AGENT, accounts.Role.BRIDGE):
            print(
                f"{account.username}\t{account.role.value}\t{account.describe()}\t"
                f"since {account.created_at:%Y-%m-%d %H:%M}Z"
            )


COMMANDS = {
    "init": _init,
    "apply": _apply,
    "provision-agent": _provision_agent,
    "provision-bridge": _provision_bridge,
    "revoke-agent": _revoke_agent,
    "revoke-bridge": _revoke_bridge,
    "list-agents": _list_agents,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
        return 0
    except (GatewayError, CertificateError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
