"""Live status of an area: each device's latest result, ``unknown`` when nobody saw it lately.

``unknown`` means "not observed" (agent silent, data too old): it is never counted as down or up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from contract.models import DeviceKind
from tsdb.influxql import InfluxQL, literal
from tsdb.schema import (
    AGENT,
    AREA,
    DEVICE,
    Q_AGENT,
    Q_AGENT_PRESENCE,
    Q_AGENT_REPORT,
    Q_AREA,
    Q_DEVICE,
    Q_DEVICE_MEASUREMENTS,
)

State = Literal["up", "degraded", "down", "unknown"]
_CORE_FIELDS = {
    "time",
    AGENT,
    AREA,
    DEVICE,
    "status",
    "status_code",
    "reason",
    "detail",
    "duration_ms",
}

DEFAULT_INTERVAL_S = 60.0  # a result whose agent's report is not in the lookback


class DeviceStatus(BaseModel):
    device_id: str
    kind: DeviceKind
    name: str | None = Field(default=None, description="display name from the catalog")
    in_catalog: bool = Field(description="false: an agent reports a device the catalog lacks")
    agent_id: str | None = None
    state: State = Field(description="the reported status, or 'unknown' when stale or never seen")
    reason: str | None = None
    detail: str | None = None
    observed_at: datetime | None = None
    age_s: float | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExpectedDevice:
    """A device the catalog says the area has."""

    device_id: str
    kind: DeviceKind
    name: str | None


class AgentStatus(BaseModel):
    agent_id: str
    last_report_at: datetime
    interval_s: float
    seq: int
    stale: bool
    presence: Literal["online", "offline"] | None = Field(
        default=None, description="the agent's last retained presence (offline by its Will)"
    )
    presence_at: datetime | None = None


class AreaStatus(BaseModel):
    area_id: str
    name: str | None = None
    generated_at: datetime
    counts: dict[State, int]
    agents: list[AgentStatus]
    devices: list[DeviceStatus]


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def agent_presence(influx: InfluxQL, area_id: str, agent_id: str) -> tuple[str, datetime] | None:
    """The agent's last presence (``online``, or ``offline`` by its Will or a clean stop) and
    when; None if it never connected. Not bounded in time: an agent online for months said so
    once, when it connected."""
    where = f"{Q_AREA} = {literal(area_id)} AND {Q_AGENT} = {literal(agent_id)}"
    for series in influx.query(
        f'SELECT "state" FROM {Q_AGENT_PRESENCE} WHERE {where} ORDER BY time DESC LIMIT 1'  # noqa: S608
    ):
        row = series.rows[0]
        return str(row["state"]), _time(row["time"])
    return None


def area_status(
    influx: InfluxQL,
    area_id: str,
    lookback: timedelta,
    stale_after_intervals: float,
    expected: list[ExpectedDevice],
) -> AreaStatus:
    """Every device the catalog expects (``unknown`` until seen) and every device reported."""
    now = datetime.now(UTC)
    # The only user input, area_id, is escaped by literal(); the rest are our own constants.
    since = int(lookback.total_seconds())
    where = f"{Q_AREA} = {literal(area_id)} AND time > now() - {since}s"
    agents: dict[str, AgentStatus] = {}
    for series in influx.query(
        f'SELECT "seq", "interval_s" FROM {Q_AGENT_REPORT} WHERE {where} '  # noqa: S608
        f"GROUP BY {Q_AGENT} ORDER BY time DESC LIMIT 1"
    ):
        row = series.rows[0]
        at = _time(row["time"])
        interval = float(row["interval_s"])
        stale = (now - at).total_seconds() > interval * stale_after_intervals
        agents[series.tags[AGENT]] = AgentStatus(
            agent_id=series.tags[AGENT],
            last_report_at=at,
            interval_s=interval,
            seq=int(row["seq"]),
            stale=stale,
        )
    for series in influx.query(
        f'SELECT "state" FROM {Q_AGENT_PRESENCE} WHERE {where} '  # noqa: S608
        f"GROUP BY {Q_AGENT} ORDER BY time DESC LIMIT 1"
    ):
        agent = agents.get(series.tags[AGENT])
        if agent is not None:
            row = series.rows[0]
            agents[agent.agent_id] = agent.model_copy(
                update={"presence": row["state"], "presence_at": _time(row["time"])}
            )
    measurements = Q_DEVICE_MEASUREMENTS
    catalog = {d.device_id: d for d in expected}
    devices = []
    for series in influx.query(
        f"SELECT * FROM {measurements} WHERE {where} "  # noqa: S608
        f"GROUP BY {Q_DEVICE} ORDER BY time DESC LIMIT 1"
    ):
        row = series.rows[0]
        at = _time(row["time"])
        agent = agents.get(row[AGENT])
        interval = agent.interval_s if agent else DEFAULT_INTERVAL_S
        age = (now - at).total_seconds()
        state: State = "unknown" if age > interval * stale_after_intervals else row["status"]
        devices.append(
            DeviceStatus(
                device_id=series.tags[DEVICE],
                kind=DeviceKind(series.name),
                name=catalog[series.tags[DEVICE]].name if series.tags[DEVICE] in catalog else None,
                in_catalog=series.tags[DEVICE] in catalog,
                agent_id=row[AGENT],
                state=state,
                reason=row.get("reason"),
                detail=row.get("detail"),
                observed_at=at,
                age_s=round(age, 3),
                metrics={k: v for k, v in row.items() if k not in _CORE_FIELDS and v is not None},
            )
        )
    seen = {d.device_id for d in devices}
    devices += [
        DeviceStatus(
            device_id=d.device_id, kind=d.kind, name=d.name, in_catalog=True, state="unknown"
        )
        for d in expected
        if d.device_id not in seen
    ]
    devices.sort(key=lambda d: (d.kind.value, d.device_id))
    counts: dict[State, int] = {"up": 0, "degraded": 0, "down": 0, "unknown": 0}
    for device in devices:
        counts[device.state] += 1
    return AreaStatus(
        area_id=area_id,
        generated_at=now,
        counts=counts,
        agents=sorted(agents.values(), key=lambda a: a.agent_id),
        devices=devices,
    )
