"""Writing to the audit log: every change to the catalog goes through here, in its transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from catalog.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, object] | None = None,
    note: str | None = None,
) -> None:
    """Add one entry; it commits (or rolls back) with the change it describes."""
    entry = AuditEntry(
        actor=actor, action=action, target=target[:300], detail=detail or {}, note=note
    )
    session.add(entry)
