"""The audit log, newest first (auditors and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.bounds import ROW_ID_MAX
from api.deps import CanReadAudit, SessionDep
from catalog.models import AuditEntry

router = APIRouter(tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, object]
    note: str | None


@router.get("/audit", summary="Who changed what, when (append-only)")
def list_audit(
    _: CanReadAudit,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, le=ROW_ID_MAX, description="page: entries older than this")
    ] = None,
) -> list[AuditOut]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [
        AuditOut.model_validate(e, from_attributes=True) for e in session.execute(query).scalars()
    ]
