"""Decisions over time: the verdicts of shipments as they arrived, and the examinations as they were recorded,
counted in buckets whose width follows the span (a demo filled in minutes and a year of traffic both fit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import Examination, Shipment, Verdict

# Bucket widths tried in order: the first that covers the span in at most MAX_BUCKETS buckets is used.
WIDTHS_S = (60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)
MAX_BUCKETS = 24
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Bucket(BaseModel):
    start: datetime
    decisions: dict[str, int]  # stored verdicts of the shipments that arrived in the bucket, by decision
    examinations: dict[str, int]  # examinations recorded in the bucket, by outcome


class Timeline(BaseModel):
    bucket_seconds: int
    buckets: list[Bucket]


def _floor(when: datetime, width_s: int) -> datetime:
    return EPOCH + timedelta(seconds=int((when - EPOCH).total_seconds()) // width_s * width_s)


def decisions_over_time(session: Session) -> Timeline:
    arrived = session.execute(
        select(Shipment.created_at, Verdict.decision)
        .join(Verdict, Verdict.shipment_id == Shipment.id)
        .where(Shipment.merged_into_id.is_(None))
    ).all()
    examined = session.execute(select(Examination.examined_at, Examination.outcome)).all()
    times = [when for when, _ in (*arrived, *examined)]
    if not times:
        return Timeline(bucket_seconds=WIDTHS_S[0], buckets=[])
    first, last = min(times), max(times)
    span_s = (last - first).total_seconds()
    width = next((w for w in WIDTHS_S if span_s / w < MAX_BUCKETS), WIDTHS_S[-1])
    origin = _floor(first, width)
    count = int((last - origin).total_seconds() // width) + 1
    buckets = [Bucket(start=origin + timedelta(seconds=i * width), decisions={}, examinations={}) for i in range(count)]
    for rows, field in ((arrived, "decisions"), (examined, "examinations")):
        for when, label in rows:
            counts: dict[str, int] = getattr(buckets[int((when - origin).total_seconds() // width)], field)
            counts[label] = counts.get(label, 0) + 1
    return Timeline(bucket_seconds=width, buckets=buckets)
