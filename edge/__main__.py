"""``python -m edge run CONFIG`` runs the agent; ``python -m edge check-config CONFIG`` checks."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from edge.agent import Agent
from edge.config import ConfigError, load
from edge.link import CredentialsRefused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge", description="smartarea edge agent")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="probe the devices and report, until stopped")
    run.add_argument("config", type=Path)
    run.add_argument("--cycles", type=int, default=None, help="stop after this many cycles")
    run.add_argument("--log-level", default="INFO")
    check = sub.add_parser("check-config", help="validate a configuration file and exit")
    check.add_argument("config", type=Path)
    args = parser.parse_args(argv)

    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(
            f"{args.config}: OK: area {config.area_id}, agent {config.agent_id}, "
            f"{len(config.devices)} devices"
        )
        return 0

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        Agent(config).run(stop, cycles=args.cycles)
    except CredentialsRefused as exc:
        print(
            f"error: the broker refused this agent's credentials ({exc}); not retrying",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
