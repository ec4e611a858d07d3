"""What physical examinations found: labels for the x-ray and listing-photo galleries, and the score of past
verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.encoders.taxonomy import TAXONOMY
from service.db.tables import Examination, Filing, FilingImage
from service.domain import shipments
from service.domain.limits import NO_NUL
from service.matching import timeline, verdicts
from service.matching.matcher import Matcher

Outcome = Literal["contents_match", "contents_mismatch", "prohibited_item", "undeclared_items", "quantity_mismatch"]


class ExaminationIn(BaseModel):
    outcome: Outcome
    found_category: str | None = Field(
        default=None, pattern=r"^[a-z][a-z0-9_]{1,59}$", description="what the parcel held, e.g. kitchen_knife"
    )
    notes: str | None = Field(default=None, max_length=5000, pattern=NO_NUL)

    @field_validator("found_category", "notes", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # A form's empty field means "not given", as an absent JSON field does.
        return None if isinstance(value, str) and not value.strip() else value


class ExaminationView(BaseModel):
    examination_id: int
    shipment_id: str
    outcome: str
    found_category: str | None
    notes: str | None
    verdict_decision: str | None
    verdict_risk: float | None
    joined_gallery: bool
    examined_at: datetime


class Stats(BaseModel):
    examinations: int
    judged: int  # examined shipments whose verdict was match or mismatch
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    precision: float | None
    recall: float | None
    by_decision: dict[str, int]
    by_outcome: dict[str, int]
    over_time: timeline.Timeline


def record(
    *, session: Session, matcher: Matcher, participant_id: str, shipment_id: str, examination: ExaminationIn
) -> ExaminationView:
    shipment = shipments.resolve(session, shipment_id)
    verdict = verdicts.current(session, matcher, shipment.id)
    label = examination.found_category
    if label is None and examination.outcome == "contents_match" and verdict.image_match:
        label = verdict.image_match.listing_category
    xray, picture = (_latest(session, shipment.id, role) for role in ("security_scan", "product_picture"))
    row = Examination(
        shipment_id=shipment.id,
        participant_id=participant_id,
        outcome=examination.outcome,
        found_category=label,
        notes=examination.notes,
        xray_sha256=xray if label else None,
        verdict_decision=verdict.decision,
        verdict_risk=verdict.risk,
    )
    session.add(row)
    session.flush()
    joined = False
    if row.xray_sha256 and label:
        # The examined x-ray joins the labelled gallery, in the gallery's space, at once.
        matcher.gallery.add(
            session,
            image_sha256=row.xray_sha256,
            category=label,
            kind="scan",
            source="examination",
            origin=f"examination {row.id} of shipment {shipment.id}",
            examination_id=row.id,
        )
        matcher.gallery.embed_missing(session, [row.xray_sha256])
        joined = True  # added now, or already there with this category
    if picture and label in TAXONOMY and examination.outcome == "contents_match":
        # The parcel held what the listing showed: its photo is a labelled listing photo.
        matcher.photo_gallery.add(
            session,
            image_sha256=picture,
            category=label,
            source="examination",
            origin=f"examination {row.id} of shipment {shipment.id}",
            examination_id=row.id,
        )
        matcher.photo_gallery.embed_missing(session, [picture])
    return _view(row, joined_gallery=joined)


def of_shipment(session: Session, shipment_id: str) -> list[ExaminationView]:
    """The examinations recorded for a shipment (under any of its merged ids), oldest first."""
    ids = shipments.aliases(session, shipments.resolve(session, shipment_id).id)
    rows = session.scalars(
        select(Examination).where(Examination.shipment_id.in_(ids)).order_by(Examination.examined_at, Examination.id)
    )
    return [_view(row, joined_gallery=row.xray_sha256 is not None) for row in rows]


def _view(row: Examination, *, joined_gallery: bool) -> ExaminationView:
    return ExaminationView(
        examination_id=row.id,
        shipment_id=row.shipment_id,
        outcome=row.outcome,
        found_category=row.found_category,
        notes=row.notes,
        verdict_decision=row.verdict_decision,
        verdict_risk=row.verdict_risk,
        joined_gallery=joined_gallery,
        examined_at=row.examined_at,
    )


def _latest(session: Session, shipment_id: str, role: str) -> str | None:
    """The shipment's newest image in this role."""
    return session.scalar(
        select(FilingImage.image_sha256)
        .join(Filing, Filing.id == FilingImage.filing_id)
        .where(Filing.shipment_id == shipment_id, FilingImage.role == role)
        .order_by(Filing.received_at.desc())
        .limit(1)
    )


def stats(session: Session) -> Stats:
    """Verdict precision and recall for 'mismatch', judged by what examinations found."""
    rows = session.execute(select(Examination.verdict_decision, Examination.outcome)).all()
    judged = [(d, o) for d, o in rows if d in ("match", "mismatch")]
    tp = sum(1 for d, o in judged if d == "mismatch" and o != "contents_match")
    fp = sum(1 for d, o in judged if d == "mismatch" and o == "contents_match")
    fn = sum(1 for d, o in judged if d == "match" and o != "contents_match")
    tn = sum(1 for d, o in judged if d == "match" and o == "contents_match")
    by_decision: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for decision, outcome in rows:
        by_decision[decision or "none"] = by_decision.get(decision or "none", 0) + 1
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    return Stats(
        examinations=len(rows),
        judged=len(judged),
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        true_negatives=tn,
        precision=round(tp / (tp + fp), 4) if tp + fp else None,
        recall=round(tp / (tp + fn), 4) if tp + fn else None,
        by_decision=by_decision,
        by_outcome=by_outcome,
        over_time=timeline.decisions_over_time(session),
    )
