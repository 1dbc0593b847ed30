"""Catalog tables for criteria evidence: loaded criteria sets, declared survey figures with
provenance, uploaded documents (kept with their SHA-256), and issued reports (with the hash of
their canonical evidence, so a later change to any figure is detectable)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import Base, UtcDateTime, utcnow


class CriteriaSet(Base):
    __tablename__ = "criteria_sets"
    __table_args__ = (UniqueConstraint("set_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    set_id: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Declaration(Base):
    """One declared figure (e.g. households with fibre) of one area, with where it came from."""

    __tablename__ = "declarations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)
    figure: Mapped[str] = mapped_column(String(63))
    value: Mapped[float] = mapped_column(Float)
    source_document: Mapped[str] = mapped_column(String(300))
    document_date: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Document(Base):
    """An uploaded record (e.g. the decision that set up the community digital team)."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    document_date: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IssuedReport(Base):
    """A certification report as issued: its evidence, and the hash that verifies it later."""

    __tablename__ = "issued_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_sets.id"))
    window_from: Mapped[datetime] = mapped_column(UtcDateTime)
    window_to: Mapped[datetime] = mapped_column(UtcDateTime)
    evidence: Mapped[dict[str, object]] = mapped_column(JSON)
    evidence_sha256: Mapped[str] = mapped_column(String(64), index=True)
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
