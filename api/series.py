"""A device's measured value over time (e.g. the uplink's round-trip time and loss), averaged
per step in InfluxDB: for charts, never the raw points."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from tsdb.influxql import InfluxQL, identifier, literal

MAX_POINTS = 2000


class SeriesPoint(BaseModel):
    start: datetime
    mean: float | None
    max: float | None


class MetricSeries(BaseModel):
    device_id: str
    metric: str
    step_s: int
    points: list[SeriesPoint]


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


def metric_series(
    influx: InfluxQL,
    area_id: str,
    kind: str,
    device_id: str,
    metric: str,
    start: datetime,
    end: datetime,
    step_s: int,
) -> MetricSeries:
    """Mean and maximum of ``metric`` per ``step_s`` over [start, end). Names are escaped by
    ``identifier()``/``literal()``; the caller validates the metric name's shape."""
    field = identifier(metric)
    query = (
        f"SELECT mean({field}) AS mean, max({field}) AS max FROM {identifier(kind)} "  # noqa: S608
        f"WHERE {identifier('area')} = {literal(area_id)} "
        f"AND {identifier('device')} = {literal(device_id)} "
        f"AND time >= {_ns(start)} AND time < {_ns(end)} GROUP BY time({step_s}s) fill(none)"
    )
    points = [
        SeriesPoint(
            start=datetime.fromtimestamp(row["time"] / 1000, UTC),
            mean=None if row["mean"] is None else round(float(row["mean"]), 3),
            max=None if row["max"] is None else round(float(row["max"]), 3),
        )
        for series in influx.query(query)
        for row in series.rows
    ]
    return MetricSeries(device_id=device_id, metric=metric, step_s=step_s, points=points)
