"""Live-status roll-ups: a commune or a province at a glance, limited to what the caller may see."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import (
    AcceptLanguage,
    CanRead,
    InfluxDep,
    SessionDep,
    SettingsDep,
    Slug,
)
from api.i18n import text
from api.rollup import ProvinceStatus, province_status
from api.settings import ApiSettings
from catalog.models import Area, Commune, Device
from tsdb.influxql import InfluxQL

router = APIRouter(tags=["status"])


def _rollup(
    session: Session, db: InfluxQL, config: ApiSettings, areas: list[Area]
) -> ProvinceStatus:
    """Counts from InfluxDB; catalog devices never heard of count as unknown."""
    catalog: dict[str, set[str]] = {a.id: set() for a in areas}
    for area_id, device_id in session.execute(
        select(Device.area_id, Device.id).where(Device.area_id.in_(list(catalog)))
    ):
        catalog[area_id].add(device_id)
    return province_status(
        db, catalog, timedelta(seconds=config.lookback_s), config.stale_after_intervals
    )


@router.get("/communes/{commune_id}/status", summary="Device counts of every area of a commune")
def commune_status(
    commune_id: Slug,
    caller: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
) -> ProvinceStatus:
    areas = session.execute(select(Area).where(Area.commune_id == commune_id)).scalars().all()
    return _rollup(session, db, config, list(areas))


@router.get(
    "/provinces/{province_id}/status",
    summary="Device counts of every area of a province that the caller may see",
)
def province_rollup(
    province_id: Slug,
    caller: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
    accept_language: AcceptLanguage = None,
) -> ProvinceStatus:
    areas = (
        session.execute(select(Area).join(Commune).where(Commune.province_id == province_id))
        .scalars()
        .all()
    )
    visible = [a for a in areas if caller.may_see_area(a.id, a.commune_id)]
    if not visible:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("area_not_found", accept_language))
    return _rollup(session, db, config, visible)
