"""Inspectors' use of the matching engine: verdicts, examinations, the queue, statistics; all audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.domain import audit
from service.domain.access import INSPECTORS, require
from service.domain.actors import Actor
from service.domain.errors import NotFound
from service.matching import examinations, verdicts
from service.matching.examinations import ExaminationIn, ExaminationView, QueueItem, Stats
from service.matching.matcher import Matcher


def verdict(*, session: Session, actor: Actor, matcher: Matcher, shipment_id: str) -> verdicts.VerdictView:
    require(session, actor, INSPECTORS, "verdict.read", shipment_id=shipment_id)
    try:
        view = verdicts.current(session, matcher, shipment_id)
    except NotFound as error:
        raise audit.refuse(session, error, actor=actor, action="verdict.read", shipment_id=shipment_id) from None
    audit.record(
        session, actor=actor, action="verdict.read", outcome="ok", shipment_id=view.shipment_id, detail=view.decision
    )
    session.commit()
    return view


def examine(
    *, session: Session, actor: Actor, matcher: Matcher, shipment_id: str, examination: ExaminationIn
) -> ExaminationView:
    require(session, actor, INSPECTORS, "examination.create", shipment_id=shipment_id)
    assert actor.principal is not None
    try:
        view = examinations.record(
            session=session,
            matcher=matcher,
            participant_id=actor.principal.participant_id,
            shipment_id=shipment_id,
            examination=examination,
        )
    except NotFound as error:
        raise audit.refuse(session, error, actor=actor, action="examination.create", shipment_id=shipment_id) from None
    audit.record(
        session,
        actor=actor,
        action="examination.create",
        outcome="ok",
        shipment_id=view.shipment_id,
        detail=f"{view.outcome} {view.found_category or ''}".strip(),
    )
    session.commit()
    return view


def queue(*, session: Session, actor: Actor, matcher: Matcher, pending_only: bool, limit: int) -> list[QueueItem]:
    require(session, actor, INSPECTORS, "shipment.queue")
    items = examinations.queue(session=session, matcher=matcher, pending_only=pending_only, limit=limit)
    audit.record(session, actor=actor, action="shipment.queue", outcome="ok", detail=f"{len(items)} shipments")
    session.commit()
    return items


def stats(*, session: Session, actor: Actor) -> Stats:
    require(session, actor, (*INSPECTORS, "admin"), "stats.read")
    return examinations.stats(session)
