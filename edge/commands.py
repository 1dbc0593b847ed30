"""Commands from the server, as the agent reads them: check, age, count, and wake the cycle loop.

The link thread hands every message of the agent's command topic to ``CommandInbox.receive``;
the cycle loop waits on ``CommandInbox.wake``. A command the agent does not act on is never an
error: it is logged once per reason and counted in the agent's own metrics.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import ValidationError

from contract.models import COMMAND_SCHEMA, Command, CommandName

logger = logging.getLogger(__name__)

MAX_AGE = timedelta(minutes=5)  # older commands (delivered late) are ignored
MAX_AHEAD = timedelta(minutes=5)  # the server's clock may be ahead of ours, but not by this much
MAX_BYTES = 4096


class Ignored(StrEnum):
    """Why a command was not acted on (a metric name suffix and a log reason)."""

    TOO_LARGE = "too_large"
    BAD_JSON = "bad_json"
    UNKNOWN_SCHEMA = "unknown_schema"
    INVALID_PAYLOAD = "invalid_payload"
    WRONG_AGENT = "wrong_agent"
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"


def read_command(payload: bytes, area_id: str, agent_id: str, now: datetime) -> Command | Ignored:
    """The command to act on, or why not: pure, so every rule is tested without a broker."""
    if len(payload) > MAX_BYTES:
        return Ignored.TOO_LARGE
    try:
        raw = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return Ignored.BAD_JSON
    if not isinstance(raw, dict) or raw.get("schema") != COMMAND_SCHEMA:
        return Ignored.UNKNOWN_SCHEMA
    try:
        command = Command.model_validate(raw)
    except ValidationError:
        return Ignored.INVALID_PAYLOAD
    if (command.area_id, command.agent_id) != (area_id, agent_id):
        return Ignored.WRONG_AGENT
    if command.issued_at < now - MAX_AGE:
        return Ignored.TOO_OLD
    if command.issued_at > now + MAX_AHEAD:
        return Ignored.IN_FUTURE
    return command


class CommandInbox:
    """Thread-safe: ``receive`` runs in the link thread, ``metrics`` in the cycle loop."""

    def __init__(self, area_id: str, agent_id: str) -> None:
        self.area_id = area_id
        self.agent_id = agent_id
        self.wake = threading.Event()  # set by probe_now; the loop clears it when a cycle starts
        self._lock = threading.Lock()
        self._accepted = 0
        self._ignored: Counter[Ignored] = Counter()

    def receive(self, payload: bytes, now: datetime | None = None) -> Command | Ignored:
        outcome = read_command(payload, self.area_id, self.agent_id, now or datetime.now(UTC))
        with self._lock:
            if isinstance(outcome, Ignored):
                first = self._ignored[outcome] == 0
                self._ignored[outcome] += 1
            else:
                self._accepted += 1
        if isinstance(outcome, Ignored):
            if first:  # once per reason: a flood of bad commands must not flood the log
                logger.warning("ignored a command (%s); further ones are only counted", outcome)
            return outcome
        if outcome.command is CommandName.PROBE_NOW:
            logger.info("command %s from %s: probing now", outcome.id, outcome.issued_by)
            self.wake.set()
        return outcome

    def metrics(self) -> dict[str, int]:
        with self._lock:
            counts = {f"commands_ignored_{reason.value}": n for reason, n in self._ignored.items()}
            return {
                "commands_total": self._accepted,
                "commands_ignored_total": sum(self._ignored.values()),
                **counts,
            }
