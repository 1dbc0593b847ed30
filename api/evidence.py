"""Gathering what an area's figures rest on: availability with the catalog's maintenance windows
excluded, and the declared figures and documents of the criteria. One place, used by the
availability route, criteria verdicts and report verification alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.availability.model import AreaAvailability
from api.availability.service import device_availability
from api.catalog.models import MaintenanceWindow
from api.criteria.models import Declaration, Document
from api.maintenance import intervals
from tsdb.influxql import InfluxQL


def availability(
    session: Session,
    influx: InfluxQL,
    area_id: str,
    start: datetime,
    end: datetime,
    stale_after_intervals: float,
    resolution: timedelta | None = None,
    raw: bool = False,
    device_series: bool = True,
) -> AreaAvailability:
    """The area's availability with the catalog's maintenance excluded: area-wide windows from
    every device, a single device's windows from that device."""
    windows = (
        session.execute(select(MaintenanceWindow).where(MaintenanceWindow.area_id == area_id))
        .scalars()
        .all()
    )
    area_wide: list[tuple[datetime, datetime]] = []
    by_device: dict[str, list[tuple[datetime, datetime]]] = {}
    for iv in intervals(windows, start, end):
        spans = area_wide if iv.device_id is None else by_device.setdefault(iv.device_id, [])
        spans.append((iv.start, iv.end))
    return device_availability(
        influx,
        area_id,
        start,
        end,
        area_wide,
        resolution=resolution,
        stale_after_intervals=stale_after_intervals,
        use_rollup=not raw,
        device_series=device_series,
        device_maintenance=by_device,
    )


def declarations(session: Session, area_id: str) -> list[Declaration]:
    rows = session.execute(select(Declaration).where(Declaration.area_id == area_id)).scalars()
    return list(rows)


def documents(session: Session, area_id: str) -> list[Document]:
    rows = session.execute(select(Document).where(Document.area_id == area_id)).scalars()
    return list(rows)
