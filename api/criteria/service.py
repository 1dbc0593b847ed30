"""Evaluate an area against a stored criteria set over a window (for routes and verification)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import evidence
from api.criteria.evaluate import Evaluation, Inputs, evaluate
from api.criteria.sets import CriteriaSetFile, parse
from catalog import audit
from catalog.criteria import CriteriaSet
from catalog.models import Area
from tsdb.influxql import InfluxQL


class SetConflict(ValueError):
    """The same id and version exists with other content."""


def store_set(session: Session, data: bytes, actor: str) -> CriteriaSet:
    """Validate and store a criteria set document (idempotent for identical content).

    Raises ``CriteriaSetError`` for an invalid document, ``SetConflict`` for a changed one that
    kept its version number. The caller commits.
    """
    parsed, sha = parse(data)
    existing = session.execute(
        select(CriteriaSet).where(
            CriteriaSet.set_id == parsed.id, CriteriaSet.version == parsed.version
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.sha256 == sha:
            return existing
        raise SetConflict(f"{parsed.id} v{parsed.version} exists with other content: raise version")
    row = CriteriaSet(
        set_id=parsed.id,
        version=parsed.version,
        body=parsed.model_dump(mode="json"),
        sha256=sha,
        loaded_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "criteria_set.load",
        f"criteria:{parsed.id}",
        {"version": parsed.version, "sha256": sha},
    )
    return row


def latest_set(session: Session, set_id: str) -> CriteriaSet | None:
    return (
        session.execute(
            select(CriteriaSet)
            .where(CriteriaSet.set_id == set_id)
            .order_by(CriteriaSet.version.desc())
        )
        .scalars()
        .first()
    )


def evaluate_area(
    session: Session,
    influx: InfluxQL,
    area: Area,
    stored: CriteriaSet,
    start: datetime,
    end: datetime,
    stale_after_intervals: float,
) -> Evaluation:
    result = evidence.availability(
        session, influx, area.id, start, end, stale_after_intervals, device_series=False
    )
    return evaluate(
        Inputs(
            area=area,
            criteria_set=CriteriaSetFile.model_validate(stored.body),
            criteria_set_sha256=stored.sha256,
            window_from=start,
            window_to=end,
            availability=result,
            declarations=evidence.declarations(session, area.id),
            documents=evidence.documents(session, area.id),
        )
    )
