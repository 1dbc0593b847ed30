"""The report the servers receive, and the fast path that decodes it.

Server side only: it needs msgspec (the ``server`` extra); the agent imports ``contract.models``
and ``contract.topics`` and never this.

Whichever path accepted a message, ingest and alerts get one type, :class:`ReceivedReport`:
msgspec structs with the rules of ``contract.models.Report``.

pydantic validates a 20-device report in ~63 µs, a quarter of ingest's CPU per report; msgspec
with the checks below takes ~23 µs. The contract stays the pydantic model: this path only ever
*accepts*. Anything it does not accept outright (an error, or an input pydantic might still
take, such as a device id not in NFC form or a time given as a number) goes to pydantic, which
accepts it or says why not. ``tests/unit/test_fastreport.py`` holds the promise that matters:
whatever this path accepts, pydantic accepts too, with the same values (property-based).

Regular expressions end in ``\\Z``: msgspec uses Python's ``re``, whose ``$`` also matches before
a final newline; pydantic's engine does not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from contract.models import (
    FLAG_METRICS,
    MAX_DEVICES,
    MAX_METRICS,
    RESERVED_FIELDS,
    SEQ_LIMIT,
    TEXT_METRICS,
    DeviceKind,
    Report,
    Status,
)
from contract.topics import SLUG_MAX

_FLOAT_MAX = 1.7976931348623157e308  # bounds that refuse infinities, as allow_inf_nan=False does
_NAME = r"^[a-z][a-z0-9_]{0,39}\Z"
# RFC 3339 with at most 6 fractional digits, as agents write it ([0-9]: \d takes any script's).
_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
_NAMES = re.compile(_NAME)
_KNOWN_METRICS_MAX = 10_000
# The type each metric name must have (contract.models.metric_type_error); any other is a number.
_METRIC_TYPES: dict[str, type] = dict.fromkeys(TEXT_METRICS, str) | dict.fromkeys(
    FLAG_METRICS, bool
)

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z", max_length=SLUG_MAX)]
Finite = Annotated[float, Meta(ge=-_FLOAT_MAX, le=_FLOAT_MAX)]
# Integers bounded (msgspec's own limit for bounds) so that a float holds every one; larger ones
# go to pydantic, which knows which ones a float holds.
Int = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
MetricValue = bool | Int | Finite | Annotated[str, Meta(max_length=200)]


class ReceivedResult(Struct, forbid_unknown_fields=True):
    """One device's result, as ``contract.models.DeviceResult`` reads it."""

    device_id: Annotated[str, Meta(min_length=1, max_length=128)]
    kind: DeviceKind
    status: Status
    duration_ms: Annotated[float, Meta(ge=0, le=_FLOAT_MAX)]
    reason: Annotated[str, Meta(pattern=_NAME)] | None = None
    detail: Annotated[str, Meta(max_length=300)] | None = None
    # Names and types are checked after decoding, against those already seen (they repeat):
    # a pattern here would run Python's re once per metric, 30 µs a report.
    metrics: Annotated[dict[str, MetricValue], Meta(max_length=MAX_METRICS)] = {}


class _WireReport(Struct, forbid_unknown_fields=True):
    schema: Literal["smartarea.report/1"]
    area_id: Slug
    agent_id: Slug
    seq: Annotated[int, Meta(ge=0, le=SEQ_LIMIT - 1)]
    # Read as text and parsed below: msgspec rounds a 7th fractional digit, pydantic cuts it.
    observed_at: Annotated[str, Meta(pattern=_INSTANT)]
    interval_s: Annotated[float, Meta(gt=0, le=86_400)]
    results: Annotated[list[ReceivedResult], Meta(max_length=MAX_DEVICES)]
    agent_metrics: dict[str, Int | Finite] = {}


class ReceivedReport(Struct, frozen=True):
    """A report as ``contract.models.Report`` reads it: what ingest and alerts handle."""

    area_id: str
    agent_id: str
    seq: int
    observed_at: datetime  # UTC
    interval_s: float
    results: list[ReceivedResult]
    agent_metrics: dict[str, int | float]


def received(report: Report) -> ReceivedReport:
    """A report the pydantic path accepted, as the one type (the rare path: a copy is cheap)."""
    return ReceivedReport(
        report.area_id,
        report.agent_id,
        report.seq,
        report.observed_at,
        report.interval_s,
        [
            ReceivedResult(
                r.device_id, r.kind, r.status, r.duration_ms, r.reason, r.detail, dict(r.metrics)
            )
            for r in report.results
        ],
        dict(report.agent_metrics),
    )


_DECODER = msgspec.json.Decoder(_WireReport)
# (name, type) pairs already found to follow the contract: they repeat endlessly.
_known_metrics: set[tuple[str, type]] = set()


def _known(metrics: Mapping[str, object]) -> bool:
    """Every (name, type) pair seen before: looked up in C (a Python loop over each metric cost
    a quarter of this path's time)."""
    return _known_metrics.issuperset(zip(metrics, map(type, metrics.values()), strict=False))


def _metrics_ok(metrics: Mapping[str, object]) -> bool:
    """Every metric name of the contract's pattern and not reserved, every value of the type its
    name fixes (``contract.models.metric_type_error``; integers are bounded above, so a float
    holds them)."""
    for name, value in metrics.items():
        kind = type(value)
        expected = _METRIC_TYPES.get(name)
        typed = kind is expected if expected is not None else kind is float or kind is int
        if not typed or name in RESERVED_FIELDS or not _NAMES.match(name):
            return False
        if len(_known_metrics) < _KNOWN_METRICS_MAX:
            _known_metrics.add((name, kind))
    return True


def _label_ok(value: str) -> bool:
    """``contract.models.Label`` without normalizing: NFC already, printable, no outer space,
    no final backslash."""
    return (
        unicodedata.is_normalized("NFC", value)
        and value.isprintable()
        and value == value.strip()
        and not value.endswith("\\")
    )


def fast_report(payload: bytes) -> ReceivedReport | None:
    """The report, if this path accepts it; None sends the payload to pydantic."""
    try:
        report = _DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    seen: set[str] = set()
    for result in report.results:
        if not _label_ok(result.device_id):
            return None
        seen.add(result.device_id)
        metrics = result.metrics
        if metrics and not (_known(metrics) or _metrics_ok(metrics)):
            return None
        if result.status is not Status.UP and result.reason is None:
            return None
    agent_metrics = report.agent_metrics
    if len(seen) != len(report.results) or not (
        _known(agent_metrics) or _metrics_ok(agent_metrics)
    ):
        return None
    try:
        observed = datetime.fromisoformat(report.observed_at).astimezone(UTC)
    except ValueError:  # a 60th second, a 13th month: pydantic says what is wrong
        return None
    return ReceivedReport(
        report.area_id,
        report.agent_id,
        report.seq,
        observed,
        report.interval_s,
        report.results,
        report.agent_metrics,
    )
