"""Shipments: the filings of many parties joined by tracking number or house bill.

Filings that share a tracking number or a house bill are one shipment, transitively. When a new
filing links two shipments, the older one survives and the other points at it, so every id ever
handed out in a receipt still resolves. A master bill groups shipments into a consolidation and
never merges them by itself.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from service.db.tables import (
    ConsolidationMember,
    Filing,
    FilingImage,
    Participant,
    Shipment,
    ShipmentHold,
    ShipmentIdentifier,
    StoredImage,
)
from service.domain.errors import NotFound
from service.domain.filing_schema import Identifiers

MERGING_KINDS = ("tracking_number", "house_bill")


class ImageView(BaseModel):
    role: str
    sha256: str
    format: str
    mode: str
    width: int
    height: int
    size_bytes: int
    url: str


class FilingView(BaseModel):
    filing_id: str
    filer_type: str
    participant_name: str
    originator_code: str | None
    received_at: datetime
    elements: list[str]
    filing: dict[str, object]
    images: list[ImageView]
    warnings: list[str]


class HoldView(BaseModel):
    """An enforcement hold: the shipment is kept, whatever the retention policy, until an administrator releases it."""

    shipment_id: str
    reason: str
    placed_at: datetime
    placed_by: str


class ShipmentView(BaseModel):
    shipment_id: str
    created_at: datetime
    merged_from: list[str]
    tracking_numbers: list[str]
    house_bills: list[str]
    master_bills: list[str]
    filings: list[FilingView]
    hold: HoldView | None = None


def resolve(session: Session, shipment_id: str) -> Shipment:
    """The surviving shipment for any id ever issued; NotFound if it was never issued."""
    shipment = session.get(Shipment, shipment_id)
    for _ in range(64):
        if shipment is None:
            raise NotFound(f"no shipment {shipment_id}")
        if shipment.merged_into_id is None:
            return shipment
        shipment = session.get(Shipment, shipment.merged_into_id)
    raise RuntimeError(f"merge chain of {shipment_id} does not end")


def attach(session: Session, identifiers: Identifiers) -> tuple[Shipment, list[str]]:
    """Find or create the shipment these identifiers name, merging any it links; returns the merged ids."""
    wanted = [(kind, value) for kind in MERGING_KINDS if (value := getattr(identifiers, kind))]
    known = (
        session.scalars(
            select(ShipmentIdentifier).where(tuple_(ShipmentIdentifier.kind, ShipmentIdentifier.value).in_(wanted))
        ).all()
        if wanted
        else []
    )
    found = {s.id: s for s in (resolve(session, row.shipment_id) for row in known)}
    if found:
        survivor, *others = sorted(found.values(), key=lambda s: (s.created_at, s.id))
    else:
        survivor, others = Shipment(id=f"shp_{secrets.token_hex(10)}"), []
        session.add(survivor)
        session.flush()
    for other in others:
        _merge(session, survivor=survivor.id, other=other.id)
    have = {(row.kind, row.value) for row in known}
    session.add_all(
        ShipmentIdentifier(kind=kind, value=value, shipment_id=survivor.id)
        for kind, value in wanted
        if (kind, value) not in have
    )
    if identifiers.master_bill:
        member = session.get(ConsolidationMember, (identifiers.master_bill, survivor.id))
        if member is None:
            session.add(ConsolidationMember(master_bill=identifiers.master_bill, shipment_id=survivor.id))
    session.flush()
    return survivor, [other.id for other in others]


def _merge(session: Session, *, survivor: str, other: str) -> None:
    session.execute(update(Filing).where(Filing.shipment_id == other).values(shipment_id=survivor))
    session.execute(
        update(ShipmentIdentifier).where(ShipmentIdentifier.shipment_id == other).values(shipment_id=survivor)
    )
    shared = select(ConsolidationMember.master_bill).where(ConsolidationMember.shipment_id == survivor)
    session.execute(
        delete(ConsolidationMember).where(
            ConsolidationMember.shipment_id == other, ConsolidationMember.master_bill.in_(shared)
        )
    )
    session.execute(
        update(ConsolidationMember).where(ConsolidationMember.shipment_id == other).values(shipment_id=survivor)
    )
    # Keep chains one hop long: anything that pointed at `other` now points at the survivor.
    session.execute(update(Shipment).where(Shipment.merged_into_id == other).values(merged_into_id=survivor))
    session.execute(update(Shipment).where(Shipment.id == other).values(merged_into_id=survivor))


def aliases(session: Session, shipment_id: str) -> list[str]:
    """Every id that resolves to this (surviving) shipment, itself first."""
    merged = session.scalars(select(Shipment.id).where(Shipment.merged_into_id == shipment_id).order_by(Shipment.id))
    return [shipment_id, *merged]


def find(
    session: Session,
    *,
    tracking_number: str | None = None,
    house_bill: str | None = None,
    master_bill: str | None = None,
) -> list[str]:
    """Ids of the shipments carrying any of the given identifiers, oldest first."""
    ids: set[str] = set()
    for kind, value in (("tracking_number", tracking_number), ("house_bill", house_bill)):
        if value:
            row = session.scalar(
                select(ShipmentIdentifier).where(ShipmentIdentifier.kind == kind, ShipmentIdentifier.value == value)
            )
            if row is not None:
                ids.add(resolve(session, row.shipment_id).id)
    if master_bill:
        members = select(ConsolidationMember.shipment_id).where(ConsolidationMember.master_bill == master_bill)
        ids.update(resolve(session, shipment_id).id for shipment_id in session.scalars(members))
    shipments = session.scalars(select(Shipment).where(Shipment.id.in_(ids)))
    return [s.id for s in sorted(shipments, key=lambda s: (s.created_at, s.id))]


def hold(session: Session, shipment_id: str) -> HoldView | None:
    """The hold on this (surviving) shipment, placed on it or on a shipment since merged into it; the oldest."""
    row = session.scalars(
        select(ShipmentHold)
        .where(ShipmentHold.shipment_id.in_(aliases(session, shipment_id)))
        .order_by(ShipmentHold.placed_at)
        .limit(1)
    ).first()
    if row is None:
        return None
    return HoldView(shipment_id=row.shipment_id, reason=row.reason, placed_at=row.placed_at, placed_by=row.placed_by)


def view(session: Session, shipment: Shipment) -> ShipmentView:
    identifiers = session.scalars(
        select(ShipmentIdentifier).where(ShipmentIdentifier.shipment_id == shipment.id).order_by(ShipmentIdentifier.id)
    ).all()
    master_bills = session.scalars(
        select(ConsolidationMember.master_bill)
        .where(ConsolidationMember.shipment_id == shipment.id)
        .order_by(ConsolidationMember.master_bill)
    ).all()
    filings = session.scalars(
        select(Filing).where(Filing.shipment_id == shipment.id).order_by(Filing.received_at, Filing.id)
    ).all()
    return ShipmentView(
        shipment_id=shipment.id,
        created_at=shipment.created_at,
        merged_from=aliases(session, shipment.id)[1:],
        tracking_numbers=[i.value for i in identifiers if i.kind == "tracking_number"],
        house_bills=[i.value for i in identifiers if i.kind == "house_bill"],
        master_bills=list(master_bills),
        filings=[filing_view(session, f) for f in filings],
        hold=hold(session, shipment.id),
    )


def filing_view(session: Session, filing: Filing) -> FilingView:
    participant = session.get_one(Participant, filing.participant_id)
    rows = session.execute(
        select(FilingImage.role, StoredImage)
        .join(StoredImage, StoredImage.sha256 == FilingImage.image_sha256)
        .where(FilingImage.filing_id == filing.id)
        .order_by(FilingImage.role)
    ).all()
    return FilingView(
        filing_id=filing.id,
        filer_type=filing.filer_type,
        participant_name=participant.name,
        originator_code=participant.originator_code,
        received_at=filing.received_at,
        elements=filing.elements,
        filing=filing.payload,
        images=[
            ImageView(
                role=role,
                sha256=image.sha256,
                format=image.format,
                mode=image.mode,
                width=image.width,
                height=image.height,
                size_bytes=image.size_bytes,
                url=f"/v1/images/{image.sha256}",
            )
            for role, image in rows
        ],
        warnings=filing.warnings,
    )
