"""The audit trail: who read or wrote which shipment data, when, and with what outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.db.tables import AuditEvent
from service.domain import audit_chain  # noqa: F401  (it chains each record as the session flushes it)
from service.domain.actors import Actor
from service.domain.errors import DomainError


class AuditRecord(BaseModel):
    at: datetime
    request_id: str | None
    participant_id: str | None
    participant_name: str | None
    role: str | None
    action: str
    outcome: str
    shipment_id: str | None
    filing_id: str | None
    image_sha256: str | None
    detail: str | None


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    outcome: str,
    shipment_id: str | None = None,
    filing_id: str | None = None,
    image_sha256: str | None = None,
    detail: str | None = None,
) -> None:
    """Add an audit event to the session: it commits with the write it describes, chained to the record before
    it when flushed (service.domain.audit_chain)."""
    who = actor.principal
    session.add(
        AuditEvent(
            request_id=actor.request_id,
            participant_id=who.participant_id if who else None,
            participant_name=who.name if who else None,
            role=who.role if who else None,
            action=action,
            outcome=outcome,
            shipment_id=shipment_id,
            filing_id=filing_id,
            image_sha256=image_sha256,
            # A refusal's message may quote what was refused; PostgreSQL stores no NUL in text.
            detail=detail.replace("\x00", "\\x00") if detail is not None else None,
        )
    )


def refuse(session: Session, error: DomainError, *, actor: Actor, action: str, **ids: str | None) -> DomainError:
    """Record a refused request durably (nothing else of it is written), then hand back the error."""
    session.rollback()
    record(session, actor=actor, action=action, outcome=error.code, detail=error.message, **ids)
    session.commit()
    return error


def events(
    session: Session,
    *,
    shipment_ids: list[str] | None,
    limit: int,
    filing_ids: Sequence[str] = (),
    image_sha256s: Sequence[str] = (),
) -> list[AuditRecord]:
    """The latest events, newest first; with `shipment_ids`, those of the shipments, and of their filings and
    images by id or hash (a refused read of an image or a filing is recorded before it is tied to a shipment)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if shipment_ids is not None:
        query = query.where(
            or_(
                AuditEvent.shipment_id.in_(shipment_ids),
                AuditEvent.filing_id.in_(list(filing_ids)),
                AuditEvent.image_sha256.in_(list(image_sha256s)),
            )
        )
    return [AuditRecord.model_validate(row, from_attributes=True) for row in session.scalars(query)]
