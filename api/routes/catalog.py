"""The catalog over HTTP: areas the caller may see, one area's details, renames and moves, and
the whole catalog as a YAML file (export for auditors and admins, import for admins)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from api import errors
from api.bounds import Input
from api.catalogfile import CatalogFileError, Name, export_catalog, import_catalog
from api.deps import AcceptLanguage, AreaId, CanAdminister, CanRead, CanReadAudit, SessionDep
from api.i18n import text
from catalog import audit
from catalog.models import Area, AreaParent, Commune, Province
from contract.topics import SLUG_PATTERN

router = APIRouter(tags=["catalog"])


class AreaSummary(BaseModel):
    id: str
    name: str
    commune_id: str
    commune: str
    province_id: str
    province: str


class DeviceOut(BaseModel):
    id: str
    kind: str
    name: str | None
    location: str | None
    road: str | None
    main_road: bool
    installed_on: date | None


class ParentPeriod(BaseModel):
    commune_id: str
    valid_from: datetime
    valid_to: datetime | None
    reason: str | None


class AreaDetail(AreaSummary):
    agents: list[str]
    devices: list[DeviceOut]
    parents: list[ParentPeriod]


class AreaPatch(Input):
    name: Name | None = None
    commune_id: str | None = Field(default=None, pattern=SLUG_PATTERN)
    reason: str = Field(min_length=3, max_length=300, description="why: kept in the audit log")


def _summary(area: Area) -> AreaSummary:
    commune = area.commune
    return AreaSummary(
        id=area.id,
        name=area.name,
        commune_id=commune.id,
        commune=commune.name,
        province_id=commune.province_id,
        province=commune.province.name,
    )


@router.get("/areas", summary="The residential areas the caller may see")
def list_areas(
    caller: CanRead,
    session: SessionDep,
) -> list[AreaSummary]:
    areas = session.execute(select(Area).order_by(Area.id)).scalars()
    return [_summary(a) for a in areas if caller.may_see_area(a.id, a.commune_id)]


@router.get("/areas/{area_id}", summary="One area: devices, agents, administrative history")
def get_area(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
) -> AreaDetail:
    area = session.get(Area, area_id)
    assert area is not None  # noqa: S101 - authorize() answered 404 otherwise
    parents = session.execute(
        select(AreaParent).where(AreaParent.area_id == area_id).order_by(AreaParent.valid_from)
    ).scalars()
    return AreaDetail(
        **_summary(area).model_dump(),
        agents=[a.id for a in area.agents],
        devices=[DeviceOut.model_validate(d, from_attributes=True) for d in area.devices],
        parents=[ParentPeriod.model_validate(p, from_attributes=True) for p in parents],
    )


@router.patch("/areas/{area_id}", summary="Rename an area or move it to another commune (admin)")
def patch_area(
    area_id: AreaId,
    body: AreaPatch,
    caller: CanAdminister,
    session: SessionDep,
) -> AreaSummary:
    area = session.get(Area, area_id)
    assert area is not None  # noqa: S101 - authorize() answered 404 otherwise
    before = {"name": area.name, "commune_id": area.commune_id}
    if body.commune_id is not None and body.commune_id != area.commune_id:
        if session.get(Commune, body.commune_id) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "unknown commune_id")
        now = datetime.now(UTC)
        for period in session.execute(
            select(AreaParent).where(AreaParent.area_id == area_id, AreaParent.valid_to.is_(None))
        ).scalars():
            period.valid_to = now
        session.add(
            AreaParent(
                area_id=area_id, commune_id=body.commune_id, valid_from=now, reason=body.reason
            )
        )
        area.commune_id = body.commune_id
    if body.name is not None:
        area.name = body.name
    after = {"name": area.name, "commune_id": area.commune_id}
    audit.record(
        session,
        caller.username,
        "area.update",
        f"area:{area_id}",
        {"before": before, "after": after},
        note=body.reason,
    )
    session.commit()
    session.refresh(area)
    return _summary(area)


@router.get(
    "/catalog",
    summary="The whole catalog as YAML (auditors, admins)",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {"schema": {"type": "object"}}}}},
)
def get_catalog(
    _: CanReadAudit,
    session: SessionDep,
) -> Response:
    return Response(export_catalog(session), media_type="application/yaml; charset=utf-8")


@router.post(
    "/catalog",
    summary="Load a catalog YAML file: create or update, never delete (admin)",
    responses=errors.CONFLICT,  # two imports creating the same area at once: one is refused
)
def post_catalog(
    body: Annotated[bytes, Body(media_type="application/yaml")],
    caller: CanAdminister,
    session: SessionDep,
    accept_language: AcceptLanguage = None,
) -> dict[str, int]:
    try:
        counts = import_catalog(session, body, caller.username)
    except CatalogFileError as exc:
        detail = text("bad_catalog_file", accept_language) + str(exc)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
    session.commit()
    return counts


@router.get("/provinces", summary="Provinces and their communes (names for navigation)")
def list_provinces(
    caller: CanRead,
    session: SessionDep,
) -> list[dict[str, object]]:
    visible = {
        a.commune_id
        for a in session.execute(select(Area)).scalars()
        if caller.may_see_area(a.id, a.commune_id)
    }
    out: list[dict[str, object]] = []
    for province in session.execute(select(Province).order_by(Province.id)).scalars():
        communes = [
            {"id": c.id, "name": c.name}
            for c in session.execute(
                select(Commune).where(Commune.province_id == province.id).order_by(Commune.id)
            ).scalars()
            if c.id in visible or caller.may_see_commune(c.id)
        ]
        if communes:
            out.append({"id": province.id, "name": province.name, "communes": communes})
    return out
