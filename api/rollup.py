"""Live-status roll-up of many areas (a commune, a province) in a few InfluxQL statements.

The database picks each device's latest result (``last()`` grouped by area and device) and each
agent's latest report; Python only counts. A result older than ``stale_after_intervals`` × the
agent's probe interval is ``unknown``, as in api/status.py; an area not heard from within
``lookback`` has all its devices unknown (the catalog, i.e. the caller, knows how many).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from api.status import State
from contract.models import DeviceKind
from tsdb.influxql import InfluxQL, identifier, literal

AREAS_PER_STATEMENT = 200  # keeps each statement's area filter short
_MEASUREMENTS = ",".join(identifier(kind.value) for kind in DeviceKind)
_STATE = {2: "up", 1: "degraded", 0: "down"}


class AreaRollup(BaseModel):
    model_config = ConfigDict(frozen=True)

    area_id: str
    counts: dict[State, int]
    devices: list[str]  # the devices heard of within the lookback
    agents: int
    agents_silent: int
    last_report_age_s: float | None


class ProvinceStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    generated_at: datetime
    counts: dict[State, int]
    areas: list[AreaRollup]
    areas_silent: list[str]  # asked for, but nothing heard within the lookback


def _area_filters(area_ids: Sequence[str] | None) -> list[str]:
    if area_ids is None:
        return [""]
    ids = sorted(set(area_ids))
    return [
        "AND ("
        + " OR ".join(
            f"{identifier('area')} = {literal(a)}" for a in ids[i : i + AREAS_PER_STATEMENT]
        )
        + ")"
        for i in range(0, len(ids), AREAS_PER_STATEMENT)
    ]


def province_status(
    influx: InfluxQL,
    area_ids: Sequence[str] | None,
    lookback: timedelta = timedelta(hours=1),
    stale_after_intervals: float = 3.0,
) -> ProvinceStatus:
    """Counts of devices up/degraded/down/unknown per area and in total.

    ``area_ids``: the areas of the province (from the catalog); ``None`` = every area in the
    database. Devices the catalog lists but InfluxDB never heard of are the caller's to add.
    """
    now = datetime.now(UTC)
    now_ms = now.timestamp() * 1000
    since = f"time > now() - {int(lookback.total_seconds())}s"
    intervals: dict[tuple[str, str], tuple[float, int]] = {}
    cells: dict[str, list[tuple[str, str, int, int]]] = {}  # area → (agent, device, code, ms)
    for area_filter in _area_filters(area_ids):
        for series in influx.query(
            f'SELECT last("interval_s") FROM "agent_report" WHERE {since} {area_filter} '  # noqa: S608
            'GROUP BY "area", "agent"'
        ):
            row = series.rows[0]
            key = (series.tags["area"], series.tags["agent"])
            intervals[key] = (float(row["last"]), int(row["time"]))
        for series in influx.query(
            f'SELECT last("status_code") FROM {_MEASUREMENTS} WHERE {since} {area_filter} '  # noqa: S608
            'GROUP BY "area", "agent", "device"'
        ):
            row = series.rows[0]
            cells.setdefault(series.tags["area"], []).append(
                (series.tags["agent"], series.tags["device"], int(row["last"]), int(row["time"]))
            )
    areas = []
    total: dict[State, int] = {"up": 0, "degraded": 0, "down": 0, "unknown": 0}
    by_area: dict[str, list[tuple[float, int]]] = {}
    for (area, _agent), value in intervals.items():
        by_area.setdefault(area, []).append(value)
    heard = set(by_area) | set(cells)
    for area in sorted(heard):
        counts: dict[State, int] = {"up": 0, "degraded": 0, "down": 0, "unknown": 0}
        for agent, _device, code, at in cells.get(area, []):
            interval = intervals.get((area, agent), (60.0, 0))[0]
            fresh = now_ms - at <= interval * stale_after_intervals * 1000
            state: State = _STATE[code] if fresh else "unknown"  # type: ignore[assignment]
            counts[state] += 1
            total[state] += 1
        agents = by_area.get(area, [])
        silent = sum(1 for v, at in agents if now_ms - at > v * stale_after_intervals * 1000)
        newest = max((at for _, at in agents), default=None)
        areas.append(
            AreaRollup(
                area_id=area,
                counts=counts,
                devices=sorted({device for _, device, _, _ in cells.get(area, [])}),
                agents=len(agents),
                agents_silent=silent,
                last_report_age_s=round((now_ms - newest) / 1000, 3) if newest else None,
            )
        )
    asked = set(area_ids) if area_ids is not None else heard
    return ProvinceStatus(
        generated_at=now,
        counts=total,
        areas=areas,
        areas_silent=sorted(asked - heard),
    )
