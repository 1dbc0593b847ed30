"""Catalog tables (SQLAlchemy 2). SQLite by default, PostgreSQL by URL; schema by migrations.

Ids are the stable slugs of the wire contract; names are Vietnamese display names (NFC). A
residential area's administrative parent is an editable attribute with history: districts were
abolished on 1 July 2025 and provinces merged, and the data must survive such reorganisations.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite has no time zones), always handed back aware in UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class Province(Base):
    __tablename__ = "provinces"
    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Commune(Base):
    __tablename__ = "communes"
    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    province_id: Mapped[str] = mapped_column(ForeignKey("provinces.id"))
    province: Mapped[Province] = relationship()


class Area(Base):
    __tablename__ = "areas"
    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[str] = mapped_column(ForeignKey("communes.id"), index=True)
    commune: Mapped[Commune] = relationship()
    devices: Mapped[list[Device]] = relationship(back_populates="area", order_by="Device.id")
    agents: Mapped[list[Agent]] = relationship(order_by="Agent.id")


class AreaParent(Base):
    """History of an area's commune: one row per period, the open one has ``valid_to`` null."""

    __tablename__ = "area_parents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)
    commune_id: Mapped[str] = mapped_column(ForeignKey("communes.id"))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("area_id", "id"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(63))
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("area_id", "id"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(128))
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)
    area: Mapped[Area] = relationship(back_populates="devices")
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    road: Mapped[str | None] = mapped_column(String(200), nullable=True)
    main_road: Mapped[bool] = mapped_column(Boolean, default=False)
    installed_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class MaintenanceWindow(Base):
    """Planned work: muted and excluded from availability. Times are local (Asia/Ho_Chi_Minh)
    wall-clock times; ``recurrence`` repeats the window daily or weekly until ``until``."""

    __tablename__ = "maintenance_windows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    starts_local: Mapped[datetime] = mapped_column(DateTime())
    ends_local: Mapped[datetime] = mapped_column(DateTime())
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    recurrence: Mapped[str] = mapped_column(String(10), default="none")
    until_local: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(300), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    scopes: Mapped[list[UserScope]] = relationship(cascade="all, delete-orphan")


class UserScope(Base):
    """What a technician or leader may see: whole communes or single areas."""

    __tablename__ = "user_scopes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    commune_id: Mapped[str | None] = mapped_column(ForeignKey("communes.id"), nullable=True)
    area_id: Mapped[str | None] = mapped_column(ForeignKey("areas.id"), nullable=True)


class Token(Base):
    """Login sessions (short-lived) and machine API tokens, stored as SHA-256 digests only."""

    __tablename__ = "tokens"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "session" or "api"
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Append-only (enforced by database triggers): who did what, when, to what."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(300))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
