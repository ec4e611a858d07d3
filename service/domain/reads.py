"""Reads of shipment data by people: each one authorised and audited (who, when, what, outcome)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import Filing, FilingImage, StoredImage
from service.domain import audit, shipments
from service.domain.access import ADMINS, INSPECTORS, audited, require
from service.domain.actors import Actor
from service.domain.errors import InvalidQuery, NotFound
from service.domain.images import CONTENT_TYPES, ImageStore


def shipment(*, session: Session, actor: Actor, shipment_id: str) -> shipments.ShipmentView:
    with audited(session, actor, INSPECTORS, "shipment.read", shipment_id=shipment_id) as event:
        found = shipments.resolve(session, shipment_id)
        event["shipment_id"] = found.id
        return shipments.view(session, found)


def search(
    *,
    session: Session,
    actor: Actor,
    tracking_number: str | None,
    house_bill: str | None,
    master_bill: str | None,
) -> list[shipments.ShipmentView]:
    require(session, actor, INSPECTORS, "shipment.search")
    if not (tracking_number or house_bill or master_bill):
        raise InvalidQuery("give at least one of tracking_number, house_bill, master_bill")
    ids = shipments.find(session, tracking_number=tracking_number, house_bill=house_bill, master_bill=master_bill)
    query = ", ".join(
        f"{k}={v}"
        for k, v in (("tracking_number", tracking_number), ("house_bill", house_bill), ("master_bill", master_bill))
        if v
    )
    for shipment_id in ids:
        audit.record(
            session,
            actor=actor,
            action="shipment.read",
            outcome="ok",
            shipment_id=shipment_id,
            detail=f"search {query}",
        )
    if not ids:
        audit.record(session, actor=actor, action="shipment.search", outcome="none", detail=f"search {query}")
    views = [shipments.view(session, shipments.resolve(session, shipment_id)) for shipment_id in ids]
    session.commit()
    return views


@dataclass(frozen=True)
class ImageBytes:
    data: bytes
    content_type: str


def image(*, session: Session, actor: Actor, sha256: str, store: ImageStore) -> ImageBytes:
    with audited(session, actor, INSPECTORS, "image.read", image_sha256=sha256) as event:
        stored = session.get(StoredImage, sha256)
        if stored is None:
            raise NotFound(f"no image {sha256}")
        event["shipment_id"] = session.scalar(
            select(Filing.shipment_id)
            .join(FilingImage, FilingImage.filing_id == Filing.id)
            .where(FilingImage.image_sha256 == sha256)
            .order_by(Filing.received_at)
            .limit(1)
        )
    return ImageBytes(data=store.read(sha256), content_type=CONTENT_TYPES[stored.format])


def audit_trail(*, session: Session, actor: Actor, shipment_id: str | None, limit: int) -> list[audit.AuditRecord]:
    with audited(session, actor, ADMINS, "audit.read", shipment_id=shipment_id):
        if shipment_id is None:
            return audit.events(session, shipment_ids=None, limit=limit)
        try:
            ids = shipments.aliases(session, shipments.resolve(session, shipment_id).id)
        except NotFound:
            ids = [shipment_id]  # refused reads of ids that never existed are in the trail too
        filing_ids = list(session.scalars(select(Filing.id).where(Filing.shipment_id.in_(ids))))
        hashes = list(session.scalars(select(FilingImage.image_sha256).where(FilingImage.filing_id.in_(filing_ids))))
        return audit.events(session, shipment_ids=ids, limit=limit, filing_ids=filing_ids, image_sha256s=hashes)
