"""Shipments as inspectors see them: every filing, every image, from every party."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.api.deps import SessionDep, caller
from service.domain import access
from service.domain.actors import Actor
from service.domain.shipments import ShipmentView

router = APIRouter(prefix="/v1/shipments", tags=["shipments"])


@router.get("", responses={403: {"description": "inspectors only"}})
def search_shipments(
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("shipment.search"))],
    tracking_number: Annotated[str | None, Query(max_length=100)] = None,
    house_bill: Annotated[str | None, Query(max_length=100)] = None,
    master_bill: Annotated[str | None, Query(max_length=100)] = None,
) -> list[ShipmentView]:
    return access.search(
        session=session, actor=actor, tracking_number=tracking_number, house_bill=house_bill, master_bill=master_bill
    )


@router.get("/{shipment_id}", responses={403: {"description": "inspectors only"}, 404: {"description": "unknown"}})
def read_shipment(
    shipment_id: str,
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("shipment.read"))],
) -> ShipmentView:
    return access.shipment(session=session, actor=actor, shipment_id=shipment_id)
