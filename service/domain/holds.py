"""Enforcement holds: an administrator keeps a shipment, whatever the retention policy, until releasing it.

The PIA (section 5.1) keeps records linked to a law enforcement matter for the life of that matter; the
retention policy (service.domain.retention) never purges a held shipment or its images. Placing, changing
and releasing a hold are audited with the reason, refusals included.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.db.tables import ShipmentHold
from service.domain import shipments
from service.domain.access import ADMINS, audited
from service.domain.actors import Actor
from service.domain.errors import NotFound
from service.domain.shipments import HoldView


def place(*, session: Session, actor: Actor, shipment_id: str, reason: str) -> HoldView:
    """Hold the shipment (a merged id holds the shipment it resolves to); holding it again changes the reason."""
    with audited(session, actor, ADMINS, "shipment.hold", shipment_id=shipment_id) as event:
        found = shipments.resolve(session, shipment_id)
        ids = shipments.aliases(session, found.id)
        row = session.scalars(
            select(ShipmentHold).where(ShipmentHold.shipment_id.in_(ids)).order_by(ShipmentHold.placed_at).limit(1)
        ).first()
        who = actor.principal
        assert who is not None  # audited() let only administrators through
        if row is None:
            row = ShipmentHold(shipment_id=found.id, placed_by=who.name, placed_by_id=who.participant_id)
            session.add(row)
            event["detail"] = f"placed: {reason}"
        else:
            event["detail"] = f"reason changed from {row.reason!r}: {reason}"
        row.reason = reason
        session.flush()
        event["shipment_id"] = found.id
        held = shipments.hold(session, found.id)
    assert held is not None
    return held


def release(*, session: Session, actor: Actor, shipment_id: str) -> HoldView:
    """Release the shipment's hold: from now on the retention policy applies to it. The hold as it was."""
    with audited(session, actor, ADMINS, "shipment.release", shipment_id=shipment_id) as event:
        found = shipments.resolve(session, shipment_id)
        held = shipments.hold(session, found.id)
        if held is None:
            raise NotFound(f"shipment {found.id} has no hold to release")
        session.execute(delete(ShipmentHold).where(ShipmentHold.shipment_id.in_(shipments.aliases(session, found.id))))
        event["shipment_id"] = found.id
        event["detail"] = f"released; placed {held.placed_at:%Y-%m-%d %H:%M} UTC by {held.placed_by}: {held.reason}"
    return held


def held_ids(session: Session) -> set[str]:
    """Every shipment id a hold keeps: the held ones, the shipments they resolve to, and those merged into them."""
    placed = set(session.scalars(select(ShipmentHold.shipment_id)))
    survivors = {shipments.resolve(session, shipment_id).id for shipment_id in placed}
    return {alias for survivor in survivors for alias in shipments.aliases(session, survivor)}
