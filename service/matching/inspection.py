"""Inspectors' use of the matching engine: verdicts, examinations, the queue, statistics; all audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.domain.access import ADMINS, INSPECTORS, audited, require
from service.domain.actors import Actor
from service.domain.errors import InvalidQuery
from service.matching import examinations, verdicts
from service.matching import queue as ranking
from service.matching import where_to_look as looking
from service.matching.examinations import ExaminationIn, ExaminationView, Stats
from service.matching.matcher import Matcher
from service.matching.overlays import Overlay


def verdict(*, session: Session, actor: Actor, matcher: Matcher, shipment_id: str) -> verdicts.VerdictView:
    with audited(session, actor, INSPECTORS, "verdict.read", shipment_id=shipment_id) as event:
        view = verdicts.current(session, matcher, shipment_id)
        event.update(shipment_id=view.shipment_id, detail=view.decision)
    return view


def where_to_look(*, session: Session, actor: Actor, matcher: Matcher, shipment_id: str) -> Overlay:
    with audited(session, actor, INSPECTORS, "overlay.read", shipment_id=shipment_id) as event:
        overlay, computed = looking.current(session, matcher, shipment_id)
        how = f"computed in {overlay.seconds:.2f} s" if computed else "kept"
        event.update(shipment_id=overlay.shipment_id, detail=f"{overlay.shown}, {how}")
    return overlay


def examine(
    *, session: Session, actor: Actor, matcher: Matcher, shipment_id: str, examination: ExaminationIn
) -> ExaminationView:
    with audited(session, actor, INSPECTORS, "examination.create", shipment_id=shipment_id) as event:
        assert actor.principal is not None
        view = examinations.record(
            session=session,
            matcher=matcher,
            participant_id=actor.principal.participant_id,
            shipment_id=shipment_id,
            examination=examination,
        )
        event.update(shipment_id=view.shipment_id, detail=f"{view.outcome} {view.found_category or ''}".strip())
    return view


def examinations_of(*, session: Session, actor: Actor, shipment_id: str) -> list[ExaminationView]:
    with audited(session, actor, INSPECTORS, "examination.read", shipment_id=shipment_id) as event:
        found = examinations.of_shipment(session, shipment_id)
        event["detail"] = f"{len(found)} examinations"
    return found


def queue(
    *,
    session: Session,
    actor: Actor,
    matcher: Matcher,
    pending_only: bool,
    limit: int,
    offset: int = 0,
    decision: str | None = None,
    failed_check: str | None = None,
) -> list[ranking.QueueItem]:
    with audited(session, actor, INSPECTORS, "shipment.queue", refusing=InvalidQuery) as event:
        items = ranking.queue(
            session=session,
            matcher=matcher,
            pending_only=pending_only,
            limit=limit,
            offset=offset,
            decision=decision,
            failed_check=failed_check,
        )
        event["detail"] = f"{len(items)} shipments"
    return items


def stats(*, session: Session, actor: Actor) -> Stats:
    require(session, actor, (*INSPECTORS, *ADMINS), "stats.read")
    return examinations.stats(session)
