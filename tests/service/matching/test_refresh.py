"""The verdict refresh after a filing: stored from the matcher's own threads; a failure is logged, not raised."""

from __future__ import annotations

from sqlalchemy import select

from service.db.tables import Filing, Verdict
from service.matching import refresh
from service.matching.matcher import Matcher
from service.settings import Settings
from tests.service.matching.test_embedder import file_scans


def test_a_scheduled_refresh_stores_the_verdict(matcher: Matcher, matching_settings: Settings) -> None:
    with matcher.sessions() as session:
        file_scans(session, matcher.embedder.store, matching_settings, 1)
        shipment_id = session.scalars(select(Filing.shipment_id)).one()
    refresh.schedule(matcher, shipment_id)
    matcher.refresher.shutdown(wait=True)  # the refresh has run
    with matcher.sessions() as session:
        stored = session.get(Verdict, shipment_id)
    # One carrier filing with its x-ray: embedded by the refresh, but no picture to compare it with.
    assert stored is not None and stored.decision == "insufficient_data" and matcher.backlog() == 0


def test_a_failed_refresh_raises_nothing(matcher: Matcher) -> None:
    refresh.refresh(matcher, "shp_nope")
    with matcher.sessions() as session:
        assert session.scalars(select(Verdict)).all() == []
