"""The catalog as a file (YAML), so a province can load hundreds of areas at once.

Import is an upsert: what the file lists is created or updated, nothing absent is deleted (an area
dropped from a spreadsheet must not silently lose its history). Moving an area to another commune
closes its current parent period and opens a new one. Names are stored in Unicode NFC.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import yamldoc
from api.bounds import Input
from catalog import audit
from catalog.models import Agent, Area, AreaParent, Commune, Device, Province
from contract.models import DeviceKind, Label, Slug

Name = Annotated[
    str,
    Field(min_length=1, max_length=200),
    AfterValidator(lambda v: unicodedata.normalize("NFC", v)),
]


class _Entry(Input):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceEntry(_Entry):
    id: Label
    kind: DeviceKind
    name: Name | None = None
    location: str | None = Field(default=None, max_length=300)
    road: str | None = Field(default=None, max_length=200)
    main_road: bool = False
    installed_on: date | None = None


class AreaEntry(_Entry):
    id: Slug
    name: Name
    agents: list[Slug] = Field(default_factory=list)
    devices: list[DeviceEntry] = Field(default_factory=list)


class CommuneEntry(_Entry):
    id: Slug
    name: Name
    areas: list[AreaEntry] = Field(default_factory=list)


class ProvinceEntry(_Entry):
    id: Slug
    name: Name
    communes: list[CommuneEntry] = Field(default_factory=list)


class CatalogFile(_Entry):
    version: Literal[1] = 1
    provinces: list[ProvinceEntry]


class CatalogFileError(ValueError):
    """The file cannot be imported; the message names the place in the file."""


def parse(data: bytes) -> CatalogFile:
    try:
        raw = yamldoc.load(data)  # no aliases, bounded nesting: see api.yamldoc
    except yamldoc.YamlRefused as exc:
        raise CatalogFileError(str(exc)) from None
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogFileError(f"{where}: {first['msg']} ({exc.error_count()} problems)") from None


def _upsert(session: Session, model: type, key: object, **values: object) -> str:
    row = session.get(model, key)
    if row is None:
        session.add(model(**values))
        return "created"
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return "updated" if changed else "unchanged"


def import_catalog(session: Session, data: bytes, actor: str) -> dict[str, int]:
    """Apply a catalog file; returns counts. The caller commits."""
    catalog = parse(data)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "moved": 0}
    now = datetime.now(UTC)
    for province in catalog.provinces:
        counts[_upsert(session, Province, province.id, id=province.id, name=province.name)] += 1
        for commune in province.communes:
            counts[
                _upsert(
                    session,
                    Commune,
                    commune.id,
                    id=commune.id,
                    name=commune.name,
                    province_id=province.id,
                )
            ] += 1
            for area in commune.areas:
                existing = session.get(Area, area.id)
                if existing is not None and existing.commune_id != commune.id:
                    _move(session, existing, commune.id, now, "catalog import")
                    counts["moved"] += 1
                outcome = _upsert(
                    session, Area, area.id, id=area.id, name=area.name, commune_id=commune.id
                )
                counts[outcome] += 1
                if outcome == "created":
                    session.add(
                        AreaParent(
                            area_id=area.id,
                            commune_id=commune.id,
                            valid_from=now,
                            reason="catalog import",
                        )
                    )
                _sync_children(session, area)
    session.flush()
    detail: dict[str, object] = {"sha256": hashlib.sha256(data).hexdigest(), **counts}
    audit.record(session, actor, "catalog.import", "catalog", detail)
    return counts


def _move(session: Session, area: Area, commune_id: str, now: datetime, reason: str) -> None:
    current = session.execute(
        select(AreaParent).where(AreaParent.area_id == area.id, AreaParent.valid_to.is_(None))
    ).scalar_one_or_none()
    if current is not None:
        current.valid_to = now
    session.add(AreaParent(area_id=area.id, commune_id=commune_id, valid_from=now, reason=reason))
    area.commune_id = commune_id


def _sync_children(session: Session, area: AreaEntry) -> None:
    agents = {
        a.id for a in session.execute(select(Agent).where(Agent.area_id == area.id)).scalars()
    }
    for agent_id in area.agents:
        if agent_id not in agents:
            session.add(Agent(id=agent_id, area_id=area.id))
    devices = {
        d.id: d for d in session.execute(select(Device).where(Device.area_id == area.id)).scalars()
    }
    for entry in area.devices:
        values = entry.model_dump()
        values["kind"] = entry.kind.value
        device = devices.get(entry.id)
        if device is None:
            session.add(Device(area_id=area.id, **values))
        else:
            for name, value in values.items():
                setattr(device, name, value)


def export_catalog(session: Session) -> bytes:
    provinces = []
    for province in session.execute(select(Province).order_by(Province.id)).scalars():
        communes = []
        for commune in session.execute(
            select(Commune).where(Commune.province_id == province.id).order_by(Commune.id)
        ).scalars():
            areas = [
                AreaEntry(
                    id=area.id,
                    name=area.name,
                    agents=[agent.id for agent in area.agents],
                    devices=[
                        DeviceEntry(
                            id=d.id,
                            kind=DeviceKind(d.kind),
                            name=d.name,
                            location=d.location,
                            road=d.road,
                            main_road=d.main_road,
                            installed_on=d.installed_on,
                        )
                        for d in area.devices
                    ],
                )
                for area in session.execute(
                    select(Area).where(Area.commune_id == commune.id).order_by(Area.id)
                ).scalars()
            ]
            communes.append(CommuneEntry(id=commune.id, name=commune.name, areas=areas))
        provinces.append(ProvinceEntry(id=province.id, name=province.name, communes=communes))
    document = CatalogFile(provinces=provinces).model_dump(mode="json", exclude_defaults=True)
    document["version"] = 1
    text: str = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return text.encode("utf-8")
