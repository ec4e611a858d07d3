"""The audit trail, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.api.deps import NEEDS_KEY, RECORD_ID, SessionDep, caller
from service.domain import reads
from service.domain.actors import Actor
from service.domain.audit import AuditRecord

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=NEEDS_KEY)


@router.get("", responses={403: {"description": "administrators only"}})
def read_audit(
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("audit.read"))],
    shipment_id: Annotated[str | None, Query(**RECORD_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[AuditRecord]:
    return reads.audit_trail(session=session, actor=actor, shipment_id=shipment_id, limit=limit)
