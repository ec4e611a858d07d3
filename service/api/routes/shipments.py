"""Shipments as inspectors see them: every filing, every image, from every party."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, StringConstraints

from service.api.deps import BODY_ERRORS, RECORD_ID, V1_ERRORS, SessionDep, caller, get_matcher
from service.api.errors import answers
from service.domain import holds, reads
from service.domain.actors import Actor
from service.domain.limits import IDENT_MAX, NO_CONTROL, NO_NUL, REASON_MAX
from service.domain.shipments import HoldView, ShipmentView
from service.matching import inspection
from service.matching.queue import DECISIONS, QueueItem

router = APIRouter(prefix="/v1/shipments", tags=["shipments"], responses=V1_ERRORS)


@router.get(
    "",
    responses=answers({403: "inspectors only", 503: "the queue was asked for and image matching is off"}),
    response_model=list[ShipmentView] | list[QueueItem],
)
def search_shipments(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("shipment.search"))],
    tracking_number: Annotated[str | None, Query(max_length=IDENT_MAX, pattern=NO_CONTROL)] = None,
    house_bill: Annotated[str | None, Query(max_length=IDENT_MAX, pattern=NO_CONTROL)] = None,
    master_bill: Annotated[str | None, Query(max_length=IDENT_MAX, pattern=NO_CONTROL)] = None,
    order: Annotated[Literal["risk"] | None, Query(description="`risk`: the inspectors' queue")] = None,
    status: Annotated[Literal["pending", "all"], Query(description="pending: not yet examined")] = "all",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, description="queue: skip this many shipments (paging)")] = 0,
    decision: Annotated[
        str | None, Query(max_length=40, description=f"queue: only this decision ({', '.join(DECISIONS)})")
    ] = None,
    check: Annotated[
        str | None, Query(max_length=40, description="queue: only shipments failing this check (docs/checks.md)")
    ] = None,
) -> list[ShipmentView] | list[QueueItem]:
    """Find shipments by identifier, or list the queue ranked by risk: `order=risk`, or without an identifier
    any of the queue's own parameters (`status=pending`, `decision`, `check`, `offset`)."""
    identified = tracking_number is not None or house_bill is not None or master_bill is not None
    queued = status == "pending" or decision is not None or check is not None or offset > 0
    if order == "risk" or (queued and not identified):
        return inspection.queue(
            session=session,
            actor=actor,
            matcher=get_matcher(request),
            pending_only=status == "pending",
            limit=limit,
            offset=offset,
            decision=decision,
            failed_check=check,
        )
    return reads.search(
        session=session, actor=actor, tracking_number=tracking_number, house_bill=house_bill, master_bill=master_bill
    )


@router.get("/{shipment_id}", responses=answers({403: "inspectors only", 404: "unknown shipment"}))
def read_shipment(
    shipment_id: Annotated[str, Path(**RECORD_ID)],
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("shipment.read"))],
) -> ShipmentView:
    return reads.shipment(session=session, actor=actor, shipment_id=shipment_id)


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX, pattern=NO_NUL)]


class HoldRequest(BaseModel):
    reason: Reason  # why: the enforcement matter, case or lookout it belongs to


@router.put(
    "/{shipment_id}/hold",
    responses=answers({403: "administrators only", 404: "unknown shipment", 422: "no reason given"}) | BODY_ERRORS,
)
def place_hold(
    shipment_id: Annotated[str, Path(**RECORD_ID)],
    body: HoldRequest,
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("shipment.hold"))],
) -> HoldView:
    """Place an enforcement hold: the shipment and its images are kept, whatever the retention policy, until the
    hold is released. Placing it again changes the reason."""
    return holds.place(session=session, actor=actor, shipment_id=shipment_id, reason=body.reason)


@router.delete(
    "/{shipment_id}/hold",
    responses=answers({403: "administrators only", 404: "unknown shipment, or it has no hold"}),
)
def release_hold(
    shipment_id: Annotated[str, Path(**RECORD_ID)],
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("shipment.release"))],
) -> HoldView:
    """Release the hold: from now on the retention policy applies to the shipment. Answers the released hold."""
    return holds.release(session=session, actor=actor, shipment_id=shipment_id)
