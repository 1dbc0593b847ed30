"""Criteria sets, declared figures, documents, verdicts and certification reports over HTTP."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
)
from fastapi import status as http
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import evidence
from api.access import Problem
from api.availability.model import MIN_CERTIFICATE_WINDOW
from api.bounds import Input, Instant, PlainText
from api.criteria import report
from api.criteria.evaluate import Evaluation
from api.criteria.service import SetConflict, evaluate_area, latest_set, store_set
from api.criteria.sets import CriteriaSetError
from api.deps import (
    AreaId,
    CanAdminister,
    CanDeclare,
    CanIssueReport,
    CanRead,
    InfluxDep,
    RowId,
    SessionDep,
    SettingsDep,
    Slug,
)
from api.settings import ApiSettings
from catalog import audit
from catalog.criteria import CriteriaSet, Declaration, Document, IssuedReport
from catalog.models import Area, Commune, MaintenanceWindow, User
from contract.topics import SLUG_PATTERN
from tsdb.influxql import InfluxQL, QueryError

router = APIRouter(tags=["criteria"])
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
FIGURE = r"^[a-z][a-z0-9_]{0,62}$"


class SetOut(BaseModel):
    id: int
    set_id: str
    version: int
    sha256: str
    loaded_by: str
    loaded_at: datetime
    title_vi: str
    title_en: str


class DeclarationIn(Input):
    figure: str = Field(pattern=FIGURE, description="e.g. households, households_fibre, adults")
    value: float = Field(ge=0, allow_inf_nan=False)
    source_document: str = Field(
        min_length=3, max_length=300, description="e.g. 'Biên bản rà soát'"
    )
    document_date: date
    valid_from: date
    valid_to: date

    @model_validator(mode="after")
    def _period(self) -> DeclarationIn:
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to must not precede valid_from")
        return self


class DeclarationOut(DeclarationIn):
    id: int
    entered_by: str
    entered_at: datetime


class DocumentOut(BaseModel):
    id: int
    kind: str
    title: str
    filename: str
    media_type: str
    sha256: str
    document_date: date
    valid_to: date | None
    uploaded_by: str
    uploaded_at: datetime


class ReportOut(BaseModel):
    id: int
    area_id: str
    criteria_set: str
    criteria_set_version: int
    window_from: datetime
    window_to: datetime
    overall: str
    evidence_sha256: str
    issued_by: str
    issued_at: datetime


class Verification(BaseModel):
    report_id: int
    matches: bool
    stored_sha256: str
    recomputed_sha256: str
    changed: list[str] = Field(description="criteria whose evidence differs now ('overall' too)")
    changes: list[report.Change] = Field(
        default_factory=list, description="what changed in each, when and by whom"
    )


@dataclass(frozen=True)
class Assessment:
    """What a verdict is asked for: a criteria set and a window (UTC)."""

    set_id: str
    start: datetime
    end: datetime


def assessment(
    set_id: Annotated[str, Query(alias="set", pattern=SLUG_PATTERN, description="criteria set")],
    start: Annotated[Instant, Query(alias="from", description="start, with offset")],
    end: Annotated[Instant, Query(alias="to", description="end, with offset")],
) -> Assessment:
    if start.tzinfo is None or end.tzinfo is None:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, "from and to need a UTC offset")
    if not timedelta(0) < end - start <= timedelta(days=3 * 366):
        raise HTTPException(
            http.HTTP_422_UNPROCESSABLE_CONTENT, "from must precede to (max 3 years)"
        )
    return Assessment(set_id, start.astimezone(UTC), end.astimezone(UTC))


def _set(session: Session, set_id: str) -> CriteriaSet:
    stored = latest_set(session, set_id)
    if stored is None:
        raise HTTPException(http.HTTP_404_NOT_FOUND, f"no criteria set {set_id!r}")
    return stored


def _set_out(row: CriteriaSet) -> SetOut:
    title = row.body.get("title", {})
    assert isinstance(title, dict)  # noqa: S101 - validated when loaded
    return SetOut(
        id=row.id,
        set_id=row.set_id,
        version=row.version,
        sha256=row.sha256,
        loaded_by=row.loaded_by,
        loaded_at=row.loaded_at,
        title_vi=str(title.get("vi")),
        title_en=str(title.get("en")),
    )


def _report_out(row: IssuedReport, stored: CriteriaSet) -> ReportOut:
    return ReportOut(
        id=row.id,
        area_id=row.area_id,
        criteria_set=stored.set_id,
        criteria_set_version=stored.version,
        window_from=row.window_from,
        window_to=row.window_to,
        overall=str(row.evidence["overall"]),
        evidence_sha256=row.evidence_sha256,
        issued_by=row.issued_by,
        issued_at=row.issued_at,
    )


@router.post(
    "/criteria-sets",
    status_code=201,
    summary="Load a criteria set (YAML; admins)",
    responses={409: {"model": Problem, "description": "this version exists with other content"}},
)
def load_set(
    body: Annotated[bytes, Body(media_type="application/yaml")],
    caller: CanAdminister,
    session: SessionDep,
) -> SetOut:
    try:
        row = store_set(session, body, caller.username)
    except CriteriaSetError as exc:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except SetConflict as exc:
        raise HTTPException(http.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    return _set_out(row)


@router.get("/criteria-sets", summary="Loaded criteria sets, every version")
def list_sets(
    _: CanRead,
    session: SessionDep,
) -> list[SetOut]:
    rows = session.execute(select(CriteriaSet).order_by(CriteriaSet.set_id, CriteriaSet.version))
    return [_set_out(r) for r in rows.scalars()]


@router.post("/areas/{area_id}/declarations", status_code=201, summary="Declare a survey figure")
def declare(
    area_id: AreaId,
    body: DeclarationIn,
    caller: CanDeclare,
    session: SessionDep,
) -> DeclarationOut:
    row = Declaration(area_id=area_id, entered_by=caller.username, **body.model_dump())
    session.add(row)
    session.flush()
    audit.record(
        session,
        caller.username,
        "declaration.create",
        f"area:{area_id}",
        {"declaration_id": row.id, **body.model_dump(mode="json")},
    )
    session.commit()
    return DeclarationOut.model_validate(row, from_attributes=True)


@router.get("/areas/{area_id}/declarations", summary="Declared figures with their provenance")
def list_declarations(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
) -> list[DeclarationOut]:
    rows = session.execute(
        select(Declaration).where(Declaration.area_id == area_id).order_by(Declaration.id)
    ).scalars()
    return [DeclarationOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/areas/{area_id}/documents", status_code=201, summary="Upload a document")
def upload(
    area_id: AreaId,
    caller: CanDeclare,
    session: SessionDep,
    file: Annotated[bytes, File(description="the scanned decision or record")],
    kind: Annotated[str, Form(pattern=FIGURE, description="e.g. digital_team_decision")],
    title: Annotated[PlainText, Form(min_length=3, max_length=300)],
    document_date: Annotated[date, Form()],
    filename: Annotated[PlainText, Form(max_length=200)] = "document.pdf",
    media_type: Annotated[PlainText, Form(max_length=100)] = "application/pdf",
    valid_to: Annotated[date | None, Form()] = None,
) -> DocumentOut:
    if len(file) > MAX_DOCUMENT_BYTES:
        raise HTTPException(http.HTTP_413_CONTENT_TOO_LARGE, "documents are limited to 20 MB")
    row = Document(
        area_id=area_id,
        kind=kind,
        title=title,
        filename=filename,
        media_type=media_type,
        sha256=hashlib.sha256(file).hexdigest(),
        content=file,
        document_date=document_date,
        valid_to=valid_to,
        uploaded_by=caller.username,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        caller.username,
        "document.upload",
        f"area:{area_id}",
        {"document_id": row.id, "kind": kind, "sha256": row.sha256, "title": title},
    )
    session.commit()
    return DocumentOut.model_validate(row, from_attributes=True)


@router.get("/areas/{area_id}/documents", summary="Documents of an area (without their content)")
def list_documents(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
) -> list[DocumentOut]:
    rows = session.execute(
        select(Document).where(Document.area_id == area_id).order_by(Document.id)
    ).scalars()
    return [DocumentOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/areas/{area_id}/criteria", summary="Verdict of each criterion over a window")
def criteria(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
    ask: Annotated[Assessment, Depends(assessment)],
) -> Evaluation:
    area = session.get(Area, area_id)
    assert area is not None  # noqa: S101 - authorize() answered 404 otherwise
    return evaluate_area(
        session,
        db,
        area,
        _set(session, ask.set_id),
        ask.start,
        ask.end,
        config.stale_after_intervals,
    )


@router.post("/areas/{area_id}/reports", status_code=201, summary="Issue a certification report")
def issue_report(
    area_id: AreaId,
    caller: CanIssueReport,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
    ask: Annotated[Assessment, Depends(assessment)],
) -> ReportOut:
    if ask.end - ask.start < MIN_CERTIFICATE_WINDOW:
        raise HTTPException(
            http.HTTP_422_UNPROCESSABLE_CONTENT,
            f"a certificate covers at least {MIN_CERTIFICATE_WINDOW.days} day "
            "(docs/availability.md): a shorter window says nothing about a service",
        )
    area = session.get(Area, area_id)
    assert area is not None  # noqa: S101 - authorize() answered 404 otherwise
    stored = _set(session, ask.set_id)
    evaluation = evaluate_area(
        session, db, area, stored, ask.start, ask.end, config.stale_after_intervals
    )
    row = IssuedReport(
        area_id=area_id,
        criteria_set_id=stored.id,
        window_from=ask.start,
        window_to=ask.end,
        evidence=evaluation.model_dump(mode="json"),
        evidence_sha256=report.evidence_sha256(evaluation),
        issued_by=caller.username,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        caller.username,
        "report.issue",
        f"area:{area_id}",
        {"report_id": row.id, "sha256": row.evidence_sha256, "set": ask.set_id},
    )
    session.commit()
    return _report_out(row, stored)


def _issued(session: Session, area_id: str, report_id: int) -> tuple[IssuedReport, CriteriaSet]:
    row = session.get(IssuedReport, report_id)
    if row is None or row.area_id != area_id:
        raise HTTPException(http.HTTP_404_NOT_FOUND, "no such report")
    stored = session.get(CriteriaSet, row.criteria_set_id)
    assert stored is not None  # noqa: S101 - foreign key
    return row, stored


@router.get(
    "/areas/{area_id}/reports/{report_id}",
    summary="A report as JSON, CSV or PDF",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
def get_report(
    area_id: AreaId,
    report_id: RowId,
    _: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
    request: Request,
    format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json",
) -> Response:
    row, stored = _issued(session, area_id, report_id)
    evaluation = Evaluation.model_validate(row.evidence)
    name = f"bao-cao-{area_id}-{report_id}"
    if format == "pdf":
        issue = _issue(session, db, config, request, row, stored)
        return Response(
            report.to_pdf(evaluation, row.evidence_sha256, row.id, issue),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    if format == "csv":
        return Response(
            report.to_csv(evaluation, row.evidence_sha256, row.id),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    body = {
        "report_id": row.id,
        "evidence_sha256": row.evidence_sha256,
        "issued_by": row.issued_by,
        "issued_at": row.issued_at.isoformat(),
        "evidence": row.evidence,
    }
    return Response(report.json_bytes(body), media_type="application/json")


def _issue(
    session: Session,
    db: InfluxQL,
    config: ApiSettings,
    request: Request,
    row: IssuedReport,
    stored: CriteriaSet,
) -> report.Issue:
    """What the PDF says beyond the evidence: issuer, legal basis, outages, the verify address."""
    area = session.get(Area, row.area_id)
    devices = {d.id: d.name or d.id for d in area.devices} if area else {}
    user = session.get(User, row.issued_by)
    try:
        found = evidence.availability(
            session,
            db,
            row.area_id,
            row.window_from,
            row.window_to,
            config.stale_after_intervals,
            device_series=False,
        )
    except QueryError:
        found = None  # the PDF says "none" rather than fail: the hash covers the verdicts
    base = str(request.base_url).rstrip("/")
    return report.issue_of(
        issued_by=row.issued_by,
        issued_at=row.issued_at,
        issuer_name=user.display_name if user else None,
        criteria_set=dict(stored.body),
        verify_url=f"{base}/areas/{row.area_id}/reports/{row.id}/verify",
        devices=devices,
        availability=found,
    )


@router.get("/areas/{area_id}/reports/{report_id}/verify", summary="Recompute and compare")
def verify_report(
    area_id: AreaId,
    report_id: RowId,
    _: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
) -> Verification:
    row, stored = _issued(session, area_id, report_id)
    area = session.get(Area, area_id)
    assert area is not None  # noqa: S101 - authorize() answered 404 otherwise
    now = evaluate_area(
        session, db, area, stored, row.window_from, row.window_to, config.stale_after_intervals
    )
    recomputed = report.evidence_sha256(now)
    return Verification(
        report_id=row.id,
        matches=recomputed == row.evidence_sha256,
        stored_sha256=row.evidence_sha256,
        recomputed_sha256=recomputed,
        changed=report.differences(row.evidence, now),
        changes=report.changes(row.evidence, now, row.issued_at, _records(session, area_id)),
    )


def _records(session: Session, area_id: str) -> list[report.Record]:
    """Declarations, documents and maintenance windows of the area: who recorded what, when."""
    records = [
        report.Record(
            "declaration",
            d.entered_at,
            d.entered_by,
            f"kê khai {report.FIGURES_VI.get(d.figure, d.figure)} = {d.value:g} "
            f"({d.source_document})",
            d.figure,
        )
        for d in evidence.declarations(session, area_id)
    ]
    records += [
        report.Record("document", d.uploaded_at, d.uploaded_by, f"văn bản: {d.title}", d.kind)
        for d in evidence.documents(session, area_id)
    ]
    windows = session.execute(
        select(MaintenanceWindow).where(MaintenanceWindow.area_id == area_id)
    ).scalars()
    records += [
        report.Record(
            "maintenance",
            w.created_at,
            w.created_by,
            f"khung bảo trì {w.starts_local:%H:%M %d/%m/%Y}–{w.ends_local:%H:%M %d/%m/%Y}: "
            f"{w.reason}",
            "",
        )
        for w in windows
    ]
    return records


@router.get("/communes/{commune_id}/criteria", summary="Share of a commune's areas that pass")
def commune_criteria(
    commune_id: Slug,
    caller: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
    ask: Annotated[Assessment, Depends(assessment)],
    min_share_pct: Annotated[float, Query(ge=0, le=100, description="e.g. 25 (Thanh Hóa)")] = 25,
) -> dict[str, object]:
    commune = session.get(Commune, commune_id)
    if commune is None:
        raise HTTPException(http.HTTP_404_NOT_FOUND, "no such commune")
    stored = _set(session, ask.set_id)
    areas = session.execute(select(Area).where(Area.commune_id == commune_id)).scalars().all()
    verdicts = {
        a.id: evaluate_area(
            session, db, a, stored, ask.start, ask.end, config.stale_after_intervals
        ).overall
        for a in areas
        if caller.may_see_area(a.id, a.commune_id)
    }
    passing = sum(1 for v in verdicts.values() if v == "pass")
    share = 100 * passing / len(verdicts) if verdicts else 0.0
    return {
        "commune_id": commune_id,
        "commune": commune.name,
        "areas": verdicts,
        "passing": passing,
        "share_pct": round(share, 2),
        "min_share_pct": min_share_pct,
        "verdict": "pass" if verdicts and share >= min_share_pct else "fail",
    }
