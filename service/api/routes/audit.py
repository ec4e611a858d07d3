"""The audit trail, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.api.deps import RECORD_ID, V1_ERRORS, SessionDep, caller
from service.api.errors import answers
from service.domain import reads
from service.domain.actors import Actor
from service.domain.audit import AuditRecord

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=V1_ERRORS)


@router.get("", responses=answers({403: "administrators only"}))
def read_audit(
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("audit.read"))],
    shipment_id: Annotated[str | None, Query(**RECORD_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[AuditRecord]:
    return reads.audit_trail(session=session, actor=actor, shipment_id=shipment_id, limit=limit)
