"""Versioned payload models of the wire contract (JSON over MQTT).

A report is one probe cycle of one agent: a result for *every* configured device, a failed probe
being a result (status, reason, timings), never a missing entry. The ``schema`` field names the
version; a receiver refuses versions it does not know rather than guessing.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contract.topics import SLUG_MAX, SLUG_PATTERN

REPORT_SCHEMA = "smartarea.report/1"
PRESENCE_SCHEMA = "smartarea.presence/1"
COMMAND_SCHEMA = "smartarea.command/1"
RECEIPT_SCHEMA = "smartarea.receipt/1"

MAX_DEVICES = 500
MAX_METRICS = 64
# InfluxDB refuses a field named "time"; the others are the fixed fields of a device point.
RESERVED_FIELDS = frozenset({"status", "status_code", "reason", "detail", "duration_ms", "time"})
SEQ_LIMIT = 2**63  # seq is stored as InfluxDB's int64, which refuses larger values

# A metric's type is fixed by its name, for every agent: InfluxDB fixes a field's type per shard
# (a week) at its first write and refuses every later point of that measurement carrying the
# field with another type, from any area. So a metric is a number (integers stored as floats)
# unless its name is declared here as text or as a flag (true/false). The names the agent's
# probes send today; a new text or flag metric is added here, in one release with its probe.
TEXT_METRICS = frozenset({"image", "image_state", "grade", "link_state"})
FLAG_METRICS = frozenset({"clock_checked", "daylight", "reference_new", "registered"})
_DECLARE = (
    "a new text or flag metric is declared in TEXT_METRICS or FLAG_METRICS (contract/models.py)"
)
_EXACT_INT = 2**53  # integers below it are exactly floats; larger ones must still fit a float
_TYPED_METRICS = TEXT_METRICS | FLAG_METRICS


class DeviceKind(StrEnum):
    """What a device is, so criteria can count them (one InfluxDB measurement per kind)."""

    CAMERA = "camera"
    UPLINK = "uplink"  # the fibre line of the cultural house
    WIFI = "wifi"  # the free Wi-Fi access point
    SPEAKER = "speaker"  # IP loudspeaker (loa truyền thanh)
    PC = "pc"  # the cultural-house computer itself


class Status(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"

    @property
    def code(self) -> int:
        """A number for dashboards and aggregates: up 2, degraded 1, down 0."""
        return {Status.UP: 2, Status.DEGRADED: 1, Status.DOWN: 0}[self]


class CommandName(StrEnum):
    """What the server may ask an agent to do (an agent refuses names it does not know)."""

    PROBE_NOW = "probe_now"  # run a probe cycle at once instead of waiting for the interval


class PresenceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


def _nfc_label(value: str) -> str:
    """Device ids are labels people type (Vietnamese welcome): NFC, printable, no control chars."""
    if not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    # Fast path (ingest validates thousands of ids a second): a printable string has no
    # character of category C*; only otherwise is the per-character scan needed.
    if not value.isprintable() and any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError("must not contain control characters (newlines, tabs, NUL…)")
    if value != value.strip():
        raise ValueError("must not start or end with white space")
    if value.endswith("\\"):
        raise ValueError("must not end with a backslash (InfluxDB's line protocol cannot store it)")
    return value


def metric_type_error(name: str, value: object) -> str | None:
    """Why ``value`` cannot be metric ``name`` (its type is fixed by its name), or None."""
    kind = type(value)
    if name in TEXT_METRICS:
        return None if kind is str else f"metric {name!r} must be text (it is in TEXT_METRICS)"
    if name in FLAG_METRICS:
        return None if kind is bool else f"metric {name!r} must be true or false (FLAG_METRICS)"
    if kind is float:
        return None
    if kind is int and isinstance(value, int):
        if -_EXACT_INT < value < _EXACT_INT:
            return None
        try:
            float(value)  # JSON allows integers no float holds; stored as floats, they must fit
        except OverflowError:
            return f"metric {name!r} is an integer too large to store as a number"
        return None
    what = "text" if kind is str else "true/false" if kind is bool else kind.__name__
    return (
        f"metric {name!r} must be a number, not {what}: its type is fixed by its name; {_DECLARE}"
    )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Slug = Annotated[
    str,
    Field(pattern=SLUG_PATTERN, max_length=SLUG_MAX, description="stable id: a-z, 0-9, hyphens"),
]
Label = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_nfc_label)]
UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
# Tried in order (each strictly, so "1.5" stays a string): the same outcome as pydantic's "smart"
# union for every JSON and Python input, without trying every member of it (ingest's hot path).
MetricValue = Annotated[
    StrictBool
    | StrictInt
    | Annotated[float, Field(strict=True, allow_inf_nan=False)]
    | Annotated[str, Field(max_length=200)],
    Field(union_mode="left_to_right"),
]
MetricName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


def _schema_field(version: str) -> Any:
    """The ``schema`` field of a message. Python code that builds one gets ``version`` (so a
    sender always writes it); a message *read* from JSON must name it, or it is refused: a
    receiver that guessed the version of a message that does not say would misread the next
    format. (A model "before" validator checking the key would cost pydantic's JSON path half
    its speed; validating only this field's default costs nothing measurable.)"""
    return Field(
        default=None,
        alias="schema",
        validate_default=True,
        description=f"the payload's version, {version!r}; required in JSON",
    )


class _Versioned(_Wire):
    @field_validator("schema_", mode="before", check_fields=False)
    @classmethod
    def _schema_named(cls, value: object, info: ValidationInfo) -> object:
        if value is not None:
            return value
        if info.mode == "json":
            raise ValueError("'schema' is missing: a message must name its version")
        return get_args(cls.model_fields["schema_"].annotation)[0]  # the version it speaks


class DeviceResult(_Wire):
    """The outcome of probing one device once."""

    device_id: Label = Field(description="the device's id within its area, e.g. 'cam-01'")
    kind: DeviceKind
    status: Status
    reason: ReasonCode | None = Field(
        default=None, description="why it is not up, as a code: 'timeout', 'refused', 'http_503'…"
    )
    detail: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description="a short human explanation; never contains credentials"
    )
    duration_ms: FiniteFloat = Field(ge=0, description="wall time the probe took")
    metrics: dict[MetricName, MetricValue] = Field(
        default_factory=dict,
        max_length=MAX_METRICS,
        description="measured values (units in the name: rtt_ms, width_px)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DeviceResult:
        """The rules across fields, in one call: a field validator on ``metrics`` alone cost
        ingest 9 µs per 20-device report, an eighth of its parse."""
        if self.status is not Status.UP and self.reason is None:
            raise ValueError("a result that is not 'up' must give a reason")
        if self.metrics and not RESERVED_FIELDS.isdisjoint(self.metrics):
            clash = sorted(RESERVED_FIELDS.intersection(self.metrics))
            raise ValueError(f"metric names {clash} are reserved")
        for name, value in self.metrics.items():
            # Inline, the common case (a number, a declared name): a call per metric costs more.
            if (type(value) is float and name not in _TYPED_METRICS) or (
                problem := metric_type_error(name, value)
            ) is None:
                continue
            raise ValueError(problem)
        return self


class Report(_Versioned):
    """One probe cycle of one agent."""

    schema_: Literal["smartarea.report/1"] = _schema_field("smartarea.report/1")
    area_id: Slug
    agent_id: Slug
    seq: StrictInt = Field(
        ge=0, lt=SEQ_LIMIT, description="per-agent sequence number, monotonic across restarts"
    )
    observed_at: UtcTime = Field(description="when the cycle started (the agent's clock, UTC)")
    interval_s: FiniteFloat = Field(gt=0, le=86_400, description="the probe interval in seconds")
    results: list[DeviceResult] = Field(max_length=MAX_DEVICES)
    agent_metrics: dict[MetricName, StrictInt | FiniteFloat] = Field(
        default_factory=dict, description="the agent's own health: probe time, queue depth…"
    )

    @field_validator("agent_metrics")
    @classmethod
    def _storable_agent_metrics(cls, value: dict[str, int | float]) -> dict[str, int | float]:
        """Stored on the ``agent_report`` point: numbers only, never named ``time``."""
        for name, number in value.items():
            if name in RESERVED_FIELDS:
                raise ValueError(f"agent metric name {name!r} is reserved")
            if (problem := metric_type_error(name, number)) is not None:
                raise ValueError(f"agent {problem}")
        return value

    @field_validator("results")
    @classmethod
    def _unique_devices(cls, value: list[DeviceResult]) -> list[DeviceResult]:
        seen: set[str] = set()
        for result in value:
            if result.device_id in seen:
                raise ValueError(f"device {result.device_id!r} appears twice")
            seen.add(result.device_id)
        return value


class Presence(_Versioned):
    """Retained on the status topic: ``online`` at every (re)connect, ``offline`` by MQTT Will."""

    schema_: Literal["smartarea.presence/1"] = _schema_field("smartarea.presence/1")
    area_id: Slug
    agent_id: Slug
    state: PresenceState
    at: UtcTime | None = Field(
        default=None, description="when the agent said it; absent in the Will (the broker sends it)"
    )
    version: Annotated[str, Field(max_length=40)] | None = None


class Command(_Versioned):
    """Sent by the API on an agent's command topic (QoS 1, not retained): one request to act.

    The agent acts only on commands naming its own area and agent and issued recently, so a
    command delivered late (after a reconnect) does not fire minutes after anyone asked.
    """

    schema_: Literal["smartarea.command/1"] = _schema_field("smartarea.command/1")
    area_id: Slug
    agent_id: Slug
    command: CommandName
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")] = Field(
        description="a short random id, quoted in the audit log and the agent's log"
    )
    issued_at: UtcTime = Field(description="when the API sent it (the server's clock, UTC)")
    issued_by: Label = Field(description="the user name of the person who asked")


class RefusedReport(_Wire):
    """A report ingest will never store, and why (the agent stops sending it and counts it)."""

    seq: StrictInt = Field(ge=0)
    reason: ReasonCode
    detail: Annotated[str, Field(max_length=300)] = ""


class Receipt(_Wire):
    """Sent by ingest on an agent's receipt topic (QoS 0) once reports are stored in InfluxDB.

    The agent keeps every report in its outbox until a receipt names it: the broker's
    acknowledgement only says the broker has it in memory, and a broker crash, an overflowing
    queue or a topic nobody subscribes to loses what the broker acknowledged. A lost receipt
    costs a re-send, which rewrites the same points (idempotent), never a report.
    """

    schema_: Literal["smartarea.receipt/1"] = Field(default="smartarea.receipt/1", alias="schema")
    stored: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list, max_length=10_000, description="sequence numbers now stored"
    )
    refused: list[RefusedReport] = Field(
        default_factory=list, max_length=10_000, description="reports refused for good"
    )
