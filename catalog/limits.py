"""Rate limits every API worker shares: one row per key in the catalog database.

Login throttling and the probe-now cooldown used to be counted in each API process, so with
several workers a guesser got a fresh allowance from each. Here each change is one atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite 3.35+ and PostgreSQL speak it alike), so
workers racing on one key still count every attempt. Times are Unix seconds: the workers share
the wall clock, not a monotonic one.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String, delete, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.models import Base


class RateLimit(Base):
    __tablename__ = "rate_limits"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "login:NAME", "command:…"
    count: Mapped[int] = mapped_column(Integer)  # failures (login) or uses (cooldown)
    last_s: Mapped[float] = mapped_column(Float, index=True)  # the latest, Unix seconds
    until_s: Mapped[float] = mapped_column(Float)  # refused until then


_COUNT = text(
    "INSERT INTO rate_limits (key, count, last_s, until_s) VALUES (:key, 1, :now, 0) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN rate_limits.last_s < :now - :forget AND rate_limits.until_s <= :now "
    "THEN 1 ELSE rate_limits.count + 1 END, last_s = :now "
    "RETURNING count"
)
_TAKE = text(
    "INSERT INTO rate_limits (key, count, last_s, until_s) VALUES (:key, 1, :now, :until) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = rate_limits.count + 1, last_s = :now, until_s = :until "
    "WHERE rate_limits.until_s <= :now "
    "RETURNING until_s"
)


def count(session: Session, key: str, now: float, forget_s: float) -> int:
    """One more for ``key`` (starting again from 1 when its last was over ``forget_s`` ago and
    it is not refused now); the new count."""
    return int(session.execute(_COUNT, {"key": key, "now": now, "forget": forget_s}).scalar_one())


def refuse_until(session: Session, key: str, until_s: float) -> None:
    session.execute(
        text("UPDATE rate_limits SET until_s = :until WHERE key = :key"),
        {"until": until_s, "key": key},
    )


def refused_for(session: Session, key: str, now: float) -> float:
    """Seconds ``key`` is still refused; 0 when it may go now."""
    until = session.execute(select(RateLimit.until_s).where(RateLimit.key == key)).scalar()
    return max(0.0, until - now) if until is not None else 0.0


def take(session: Session, key: str, now: float, every_s: float) -> float:
    """Take ``key``'s turn if it is free (0), else the seconds until it is."""
    taken = session.execute(_TAKE, {"key": key, "now": now, "until": now + every_s}).scalar()
    return 0.0 if taken is not None else max(refused_for(session, key, now), 1e-3)


def forget(session: Session, key: str) -> None:
    session.execute(delete(RateLimit).where(RateLimit.key == key))


def bound(session: Session, prefix: str, capacity: int, now: float) -> int:
    """Keep at most ``capacity`` keys with ``prefix`` (those refused now stay); the stalest
    go first. Returns how many were dropped."""
    like = RateLimit.key.like(f"{prefix}%")
    extra = session.execute(select(func.count()).where(like)).scalar_one() - capacity
    if extra <= 0:
        return 0
    stalest = (
        select(RateLimit.key)
        .where(like, RateLimit.until_s <= now)
        .order_by(RateLimit.last_s)
        .limit(extra)
    )
    keys = list(session.execute(stalest).scalars())
    session.execute(delete(RateLimit).where(RateLimit.key.in_(keys)))
    return len(keys)
