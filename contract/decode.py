"""Turn one MQTT message into a validated report or presence, or a rejection with a reason.

Server side only (through ``contract.fastreport`` it needs msgspec); ingest and alerts both
receive through here, so they accept and refuse exactly the same messages.

Every way a message can be wrong has its own reason code, so dead letters and counters say exactly
what went wrong. Nothing here raises for bad input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import ValidationError

from contract import topics
from contract.fastreport import ReceivedReport, fast_report, received
from contract.models import PRESENCE_SCHEMA, REPORT_SCHEMA, Presence, Report


class Reason(StrEnum):
    TOO_LARGE = "payload_too_large"
    BAD_TOPIC = "bad_topic"
    BAD_JSON = "bad_json"
    UNKNOWN_SCHEMA = "unknown_schema"
    INVALID = "invalid_payload"
    TOPIC_MISMATCH = "topic_mismatch"
    FUTURE = "time_in_future"
    TOO_OLD = "time_too_old"
    UNWRITABLE = "unwritable_value"
    DB_REJECTED = "db_rejected"
    TOO_MANY_DEVICES = "too_many_devices"


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int = 256 * 1024
    max_future: timedelta = timedelta(minutes=5)
    max_past: timedelta = timedelta(days=30)


_SCHEMAS: dict[topics.Channel, tuple[str, type[Report] | type[Presence]]] = {
    topics.Channel.REPORT: (REPORT_SCHEMA, Report),
    topics.Channel.STATUS: (PRESENCE_SCHEMA, Presence),
}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err["loc"])
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {err['msg']}{more}"[:300]


_BOM = b"\xef\xbb\xbf"


def _explain(payload: bytes, expected_schema: str, exc: ValidationError) -> Rejection:
    """Which reason: the model's own parser decides what is JSON (UTF-8 without a byte order
    mark, nested at most about 200 deep), so a message it cannot parse is ``bad_json`` whatever
    Python's ``json`` would make of it (it takes a BOM and UTF-16, and runs out of stack)."""
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        detail = first["msg"]
        if payload.startswith(_BOM):
            detail = "starts with a UTF-8 byte order mark (JSON on the wire must not): " + detail
        return Rejection(Reason.BAD_JSON, detail[:200])
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return Rejection(Reason.BAD_JSON, str(err)[:200])
    except RecursionError:
        return Rejection(Reason.BAD_JSON, "JSON nested too deeply")
    if not isinstance(data, dict) or "schema" not in data:
        return Rejection(
            Reason.UNKNOWN_SCHEMA,
            f"no 'schema': a message must name its version (expected {expected_schema!r})",
        )
    schema = data["schema"]
    if schema != expected_schema:
        return Rejection(
            Reason.UNKNOWN_SCHEMA, f"schema {str(schema)[:60]!r}, expected {expected_schema!r}"
        )
    return Rejection(Reason.INVALID, _first_error(exc))


def decode(
    topic: str, payload: bytes, received_at: datetime, limits: Limits
) -> ReceivedReport | Presence | Rejection:
    if len(payload) > limits.max_payload_bytes:
        return Rejection(Reason.TOO_LARGE, f"{len(payload)} bytes > {limits.max_payload_bytes}")
    try:
        parts = topics.parse(topic)
    except ValueError as exc:
        return Rejection(Reason.BAD_TOPIC, str(exc))
    if parts.channel not in _SCHEMAS:
        return Rejection(Reason.BAD_TOPIC, f"ingest does not accept the {parts.channel} channel")
    expected_schema, model = _SCHEMAS[parts.channel]
    # The common case in one parse: msgspec's for a report (see fastreport), else pydantic's;
    # the slow path below only explains failures.
    message: ReceivedReport | Presence | None = fast_report(payload) if model is Report else None
    if message is None:
        try:
            validated = model.model_validate_json(payload)
        except ValidationError as exc:
            return _explain(payload, expected_schema, exc)
        message = received(validated) if isinstance(validated, Report) else validated
    if (message.area_id, message.agent_id) != (parts.area_id, parts.agent_id):
        return Rejection(
            Reason.TOPIC_MISMATCH,
            f"payload speaks for {message.area_id}/{message.agent_id} on the topic of "
            f"{parts.area_id}/{parts.agent_id}",
        )
    moment = message.observed_at if isinstance(message, ReceivedReport) else message.at
    if moment is not None:
        if moment - received_at > limits.max_future:
            return Rejection(
                Reason.FUTURE, f"time {moment.isoformat()} is ahead of the server clock"
            )
        if received_at - moment > limits.max_past:
            return Rejection(Reason.TOO_OLD, f"time {moment.isoformat()} is older than the limit")
    return message
