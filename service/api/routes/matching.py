"""Verdicts, examinations and verdict statistics, for inspectors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from service.api.deps import BODY_ERRORS, RECORD_ID, V1_ERRORS, MatcherDep, SessionDep, caller
from service.api.errors import answers
from service.domain.actors import Actor
from service.matching import inspection
from service.matching.examinations import ExaminationIn, ExaminationView, Stats
from service.matching.overlays import Overlay
from service.matching.verdicts import VerdictView

router = APIRouter(prefix="/v1", tags=["matching"], responses=V1_ERRORS)
INSPECTORS_ONLY = answers(
    {
        403: "inspectors only",
        404: "unknown shipment",
        503: "image matching is off on this server, or still starting (with Retry-After)",
    }
)


@router.get("/shipments/{shipment_id}/verdict", responses=INSPECTORS_ONLY)
def read_verdict(
    shipment_id: Annotated[str, Path(**RECORD_ID)],
    session: SessionDep,
    matcher: MatcherDep,
    actor: Annotated[Actor, Depends(caller("verdict.read"))],
) -> VerdictView:
    return inspection.verdict(session=session, actor=actor, matcher=matcher, shipment_id=shipment_id)


@router.get("/shipments/{shipment_id}/where-to-look", responses=INSPECTORS_ONLY)
def read_where_to_look(
    shipment_id: Annotated[str, Path(**RECORD_ID)],
    session: SessionDep,
    matcher: MatcherDep,
    actor: Annotated[Actor, Depends(caller("overlay.read"))],
) -> Overlay:
    """Which regions of the x-ray drive the mismatch and each finding (occlusion saliency), kept once computed."""
    return inspection.where_to_look(session=session, actor=actor, matcher=matcher, shipment_id=shipment_id)


@router.post("/shipments/{shipment_id}/examinations", status_code=201, responses=INSPECTORS_ONLY | BODY_ERRORS)
def record_examination(
    shipment_id: Annotated[str, Path(**RECORD_ID)],
    body: ExaminationIn,
    session: SessionDep,
    matcher: MatcherDep,
    actor: Annotated[Actor, Depends(caller("examination.create"))],
) -> ExaminationView:
    return inspection.examine(session=session, actor=actor, matcher=matcher, shipment_id=shipment_id, examination=body)


@router.get("/stats", responses=answers({403: "inspectors and administrators only"}))
def read_stats(session: SessionDep, actor: Annotated[Actor, Depends(caller("stats.read"))]) -> Stats:
    return inspection.stats(session=session, actor=actor)
