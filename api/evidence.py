"""Gathering what an area's figures rest on: availability with the catalog's maintenance windows
excluded, and the declared figures and documents of the criteria. One place, used by the
availability route, criteria verdicts and report verification alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.availability.model import AreaAvailability, CatalogDevice, MaintenanceSpan
from api.availability.service import device_availability
from catalog.criteria import Declaration, Document
from catalog.maintenance import intervals
from catalog.models import Area, MaintenanceWindow
from contract.models import DeviceKind
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
    """The area's availability with the catalog's maintenance excluded (area-wide windows from
    every device, a single device's windows from that device; each with who declared it when, so
    the part declared after the fact shows as retroactive) and the catalog's devices expected:
    one never heard from counts as unknown, the time before its installation apart."""
    windows = (
        session.execute(select(MaintenanceWindow).where(MaintenanceWindow.area_id == area_id))
        .scalars()
        .all()
    )
    area_wide: list[MaintenanceSpan] = []
    by_device: dict[str, list[MaintenanceSpan]] = {}
    for iv in intervals(windows, start, end):
        spans = area_wide if iv.device_id is None else by_device.setdefault(iv.device_id, [])
        spans.append(
            MaintenanceSpan(iv.start, iv.end, iv.created_at, iv.created_by, iv.reason, iv.window_id)
        )
    area = session.get(Area, area_id)
    expected = [
        CatalogDevice(d.id, DeviceKind(d.kind), d.installed_on)
        for d in (area.devices if area else [])
    ]
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
        expected=expected,
        device_maintenance=by_device,
    )


def declarations(session: Session, area_id: str) -> list[Declaration]:
    rows = session.execute(select(Declaration).where(Declaration.area_id == area_id)).scalars()
    return list(rows)


def documents(session: Session, area_id: str) -> list[Document]:
    rows = session.execute(select(Document).where(Document.area_id == area_id)).scalars()
    return list(rows)
