"""Decisions over time: buckets as wide as the span needs, shipments by arrival, merged ids counted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from service.db.tables import Shipment, Verdict
from service.matching import timeline

START = datetime(2026, 3, 2, 9, 7, 30, tzinfo=UTC)


def arrive(session: Session, name: str, after: timedelta, decision: str, merged_into: str | None = None) -> None:
    session.add(Shipment(id=f"shp_{name}", created_at=START + after, merged_into_id=merged_into))
    session.flush()
    session.add(Verdict(shipment_id=f"shp_{name}", model_sha256="0" * 64, decision=decision, risk=0.5, payload={}))
    session.commit()


def test_buckets_follow_the_span(session: Session) -> None:
    assert timeline.decisions_over_time(session).buckets == []

    arrive(session, "a1", timedelta(0), "mismatch")
    arrive(session, "a2", timedelta(minutes=3), "match")
    arrive(session, "a3", timedelta(minutes=9), "mismatch")
    arrive(session, "a4", timedelta(minutes=9), "match", merged_into="shp_a3")  # counted as its survivor, once
    minutes = timeline.decisions_over_time(session)
    assert minutes.bucket_seconds == 60
    assert minutes.buckets[0].start == datetime(2026, 3, 2, 9, 7, tzinfo=UTC) and len(minutes.buckets) == 10
    assert [b.decisions for b in minutes.buckets if b.decisions] == [{"mismatch": 1}, {"match": 1}, {"mismatch": 1}]

    arrive(session, "b1", timedelta(hours=3), "inconclusive")
    hours = timeline.decisions_over_time(session)
    assert hours.bucket_seconds == 600 and len(hours.buckets) == 19
    assert [hours.buckets[0].decisions, hours.buckets[1].decisions] == [{"mismatch": 1}, {"match": 1, "mismatch": 1}]
    assert hours.buckets[-1].decisions == {"inconclusive": 1}

    arrive(session, "c1", timedelta(days=40), "match")
    assert timeline.decisions_over_time(session).bucket_seconds == 7 * 86400
