"""The inspectors' queue: shipments ranked by risk, what each row shows, and the filters it takes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import Examination, Shipment, ShipmentIdentifier
from service.db.tables import Verdict as VerdictRow
from service.domain.errors import InvalidQuery
from service.matching import checks, verdicts
from service.matching.matcher import Matcher

DECISIONS = ("mismatch", "inconclusive", "insufficient_data", "match")


class QueueItem(BaseModel):
    shipment_id: str
    decision: str
    risk: float
    tracking_numbers: list[str]
    computed_at: datetime
    received_at: datetime  # when the shipment's first filing arrived
    listing_category: str | None = None  # what the listing sells, as the verdict named it
    xray_looks_like: str | None = None  # the category the x-ray most resembles
    failed_checks: list[str] = []  # codes of the structured checks that failed


def queue(
    *,
    session: Session,
    matcher: Matcher,
    pending_only: bool,
    limit: int,
    offset: int = 0,
    decision: str | None = None,
    failed_check: str | None = None,
) -> list[QueueItem]:
    """Shipments ranked by risk, highest first, optionally only those with this decision or this failed check.

    Verdicts missing from the cache are computed first.
    """
    if decision is not None and decision not in DECISIONS:
        raise InvalidQuery(f"unknown decision {decision!r}; choose one of {', '.join(DECISIONS)}")
    if failed_check is not None and failed_check not in checks.CODES:
        raise InvalidQuery(f"unknown check {failed_check!r}; choose one of {', '.join(checks.CODES)}")
    candidates = select(Shipment.id).where(Shipment.merged_into_id.is_(None))
    if pending_only:
        candidates = candidates.where(Shipment.id.not_in(select(Examination.shipment_id)))
    uncached = session.scalars(candidates.where(Shipment.id.not_in(select(VerdictRow.shipment_id)))).all()
    for shipment_id in uncached:
        verdicts.current(session, matcher, shipment_id)
        # Release SQLite's write lock before the next verdict may wait on the embedding worker.
        session.commit()
    ranked = (
        select(VerdictRow, Shipment.created_at)
        .join(Shipment, Shipment.id == VerdictRow.shipment_id)
        .where(VerdictRow.shipment_id.in_(candidates))
        .order_by(VerdictRow.risk.desc(), VerdictRow.shipment_id)
    )
    if decision is not None:
        ranked = ranked.where(VerdictRow.decision == decision)
    if failed_check is None:
        rows: Iterable[Any] = session.execute(ranked.offset(offset).limit(limit)).all()
    else:
        # Which checks failed lives in the stored verdict: read the ranking in batches until the page is full.
        result = session.execute(ranked.execution_options(yield_per=200))
        try:
            rows = list(islice((r for r in result if failed_check in _failed(r[0].payload)), offset, offset + limit))
        finally:
            result.close()
    return [_item(session, row, received_at) for row, received_at in rows]


def _failed(payload: dict[str, Any]) -> list[str]:
    return [c["code"] for c in payload["structured"]["checks"] if not c["passed"]]


def _item(session: Session, row: VerdictRow, received_at: datetime) -> QueueItem:
    tracking = session.scalars(
        select(ShipmentIdentifier.value)
        .where(ShipmentIdentifier.shipment_id == row.shipment_id, ShipmentIdentifier.kind == "tracking_number")
        .order_by(ShipmentIdentifier.id)
    ).all()
    image_match = row.payload.get("image_match") or {}
    looks_like = image_match.get("xray_looks_like") or [{}]
    return QueueItem(
        shipment_id=row.shipment_id,
        decision=row.decision,
        risk=row.risk,
        tracking_numbers=list(tracking),
        computed_at=row.computed_at,
        received_at=received_at,
        listing_category=image_match.get("listing_category"),
        xray_looks_like=looks_like[0].get("category"),
        failed_checks=_failed(row.payload),
    )
