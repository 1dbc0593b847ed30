"""Live-status roll-up of many areas (a commune, a province) in a few InfluxQL statements.

Each agent's latest report (``last()`` grouped by area and agent) carries its own counts of
devices up/degraded/down and the fingerprint of its set of device ids (ingest/points.py). When an
area has one agent and that fingerprint equals the catalog's devices of the area, the report's
counts are the area's: one series per agent instead of one per device. Every other area (no
catalog given, several agents, a device the catalog does not list or the agent does not probe,
data from before the counts existed) is counted device by device from each device's latest
result, also grouped in the database. Either way Python only counts, and the answer is the same.

A result older than ``stale_after_intervals`` × the agent's probe interval is ``unknown``, as in
api/status.py; a catalog device never heard of within ``lookback`` is ``unknown``, and so are all
the devices of an area not heard from at all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from api.status import DEFAULT_INTERVAL_S, State
from tsdb.fingerprint import device_set_digest
from tsdb.influxql import InfluxQL, identifier, literal
from tsdb.schema import (
    AGENT,
    AREA,
    DEVICE,
    Q_AGENT,
    Q_AGENT_REPORT,
    Q_AREA,
    Q_DEVICE,
    Q_DEVICE_MEASUREMENTS,
)

# InfluxDB 1.x evaluates a chain of ORs in more than linear time: 2,000 areas in one statement
# take 1.1 s, in 80 statements of 25 sent together 0.18 s (benchmarks/api_queries.py's data).
AREAS_PER_STATEMENT = 25
_MEASUREMENTS = Q_DEVICE_MEASUREMENTS
_STATE: dict[int, State] = {2: "up", 1: "degraded", 0: "down"}
_COUNTS: tuple[tuple[str, State], ...] = (
    ("devices_up", "up"),
    ("devices_degraded", "degraded"),
    ("devices_down", "down"),
)


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


@dataclass(frozen=True, slots=True)
class _Agent:
    """An agent's latest report: its interval, time (ms) and, when stored, its own counts."""

    interval_s: float
    at_ms: int
    counts: dict[State, int] | None
    devices: int | None
    digest: str | None


def _statements(template: str, area_ids: Iterable[str] | None) -> str:
    """``template`` with ``{areas}`` replaced by a filter on the given areas, as statements of
    ``AREAS_PER_STATEMENT`` areas each joined into one request (``None``: no filter)."""
    if area_ids is None:
        return template.replace("{areas}", "")
    ids = sorted(set(area_ids))
    filters = (
        "AND ("
        + " OR ".join(f"{Q_AREA} = {literal(a)}" for a in ids[i : i + AREAS_PER_STATEMENT])
        + ")"
        for i in range(0, len(ids), AREAS_PER_STATEMENT)
    )
    return ";\n".join(template.replace("{areas}", f) for f in filters)


def _zero() -> dict[State, int]:
    return {"up": 0, "degraded": 0, "down": 0, "unknown": 0}


def _latest_reports(
    influx: InfluxQL, since: str, area_ids: Sequence[str] | None
) -> dict[str, dict[str, _Agent]]:
    """area → agent → its latest report within the lookback."""
    fields = ", ".join(identifier(f) for f in ("devices", "devices_digest", *dict(_COUNTS)))
    out: dict[str, dict[str, _Agent]] = {}
    if area_ids is not None and not area_ids:
        return out
    template = (
        f'SELECT last("interval_s") AS "interval_s", {fields} FROM {Q_AGENT_REPORT} '  # noqa: S608
        f"WHERE {since} {{areas}} GROUP BY {Q_AREA}, {Q_AGENT}"
    )
    for series in influx.query(_statements(template, area_ids)):
        row = series.rows[0]
        counted = all(row.get(field) is not None for field, _ in _COUNTS)
        out.setdefault(series.tags[AREA], {})[series.tags[AGENT]] = _Agent(
            interval_s=float(row["interval_s"]),
            at_ms=int(row["time"]),
            counts={state: int(row[field]) for field, state in _COUNTS} if counted else None,
            devices=None if row.get("devices") is None else int(row["devices"]),
            digest=row.get("devices_digest"),
        )
    return out


def _latest_results(
    influx: InfluxQL, since: str, area_ids: Sequence[str] | None
) -> dict[str, list[tuple[str, str, int, int]]]:
    """area → (agent, device, status code, time ms) of each device's latest result."""
    out: dict[str, list[tuple[str, str, int, int]]] = {}
    if area_ids is not None and not area_ids:
        return out
    template = (
        f'SELECT last("status_code") FROM {_MEASUREMENTS} WHERE {since} {{areas}} '  # noqa: S608
        f"GROUP BY {Q_AREA}, {Q_AGENT}, {Q_DEVICE}"
    )
    for series in influx.query(_statements(template, area_ids)):
        row = series.rows[0]
        out.setdefault(series.tags[AREA], []).append(
            (series.tags[AGENT], series.tags[DEVICE], int(row["last"]), int(row["time"]))
        )
    return out


def province_status(
    influx: InfluxQL,
    catalog: Mapping[str, Collection[str]] | None,
    lookback: timedelta = timedelta(hours=1),
    stale_after_intervals: float = 3.0,
) -> ProvinceStatus:
    """Counts of devices up/degraded/down/unknown per area and in total.

    ``catalog``: the areas of the province, each with the ids of its catalog devices; ``None``
    = every area in the database, counting only what was heard.
    """
    now = datetime.now(UTC)
    now_ms = now.timestamp() * 1000
    since = f"time > now() - {int(lookback.total_seconds())}s"
    asked = None if catalog is None else sorted(catalog)
    expected = {area: set(ids) for area, ids in (catalog or {}).items()}  # area → catalog devices
    reports = _latest_reports(influx, since, asked)

    def fresh(agent: _Agent) -> bool:
        return now_ms - agent.at_ms <= agent.interval_s * stale_after_intervals * 1000

    def whole(area: str) -> _Agent | None:
        """The area's single agent, when its latest report covers exactly the catalog's devices."""
        agents = list(reports[area].values())
        if catalog is None or len(agents) != 1 or agents[0].counts is None:
            return None
        single, ids = agents[0], expected.get(area, set())
        same = single.devices == len(ids) and single.digest == device_set_digest(ids)
        return single if same else None

    by_report = {area: agent for area in reports if (agent := whole(area)) is not None}
    cells = _latest_results(
        influx, since, None if catalog is None else [a for a in reports if a not in by_report]
    )
    areas = []
    total = _zero()
    for area in sorted(set(reports) | set(cells)):
        counts = _zero()
        agents = reports.get(area, {})
        single = by_report.get(area)
        if single is not None:
            if fresh(single) and single.counts is not None:
                counts.update(single.counts)
            else:
                counts["unknown"] = single.devices or 0
            heard = sorted(expected.get(area, set()))
        else:
            for agent_id, _device, code, at in cells.get(area, []):
                agent = agents.get(agent_id)
                interval_s = agent.interval_s if agent else DEFAULT_INTERVAL_S
                is_fresh = now_ms - at <= interval_s * stale_after_intervals * 1000
                counts[_STATE[code] if is_fresh else "unknown"] += 1
            heard = sorted({device for _, device, _, _ in cells.get(area, [])})
            counts["unknown"] += len(expected.get(area, set()) - set(heard))
        for state, n in counts.items():
            total[state] += n
        newest = max((a.at_ms for a in agents.values()), default=None)
        areas.append(
            AreaRollup(
                area_id=area,
                counts=counts,
                devices=heard,
                agents=len(agents),
                agents_silent=sum(1 for a in agents.values() if not fresh(a)),
                last_report_age_s=round((now_ms - newest) / 1000, 3) if newest else None,
            )
        )
    silent = sorted(set(expected) - {a.area_id for a in areas})
    for area in silent:
        total["unknown"] += len(expected[area])
    return ProvinceStatus(generated_at=now, counts=total, areas=areas, areas_silent=silent)
