"""The verdict refresh after a filing: stored from the matcher's own threads; a failure is logged, not raised."""

from __future__ import annotations

import json

from sqlalchemy import select

from service.db.tables import Filing, Verdict
from service.domain import filings, participants
from service.domain.actors import Actor, Principal
from service.matching import refresh, verdicts
from service.matching.matcher import Matcher
from service.settings import Settings
from tests.service.matching.test_embedder import file_scans
from tests.support import image_bytes, marketplace_filing


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


def test_a_verdict_computed_while_a_filing_arrived_is_computed_again(
    matcher: Matcher, matching_settings: Settings
) -> None:
    """A refresh reads the shipment's first filing; the second commits (its invalidation finds no verdict to
    drop yet); then the refresh stores what it computed. That verdict lists the filings it read, so the next
    read computes it again instead of serving a verdict without the product picture."""
    with matcher.sessions() as session:
        file_scans(session, matcher.embedder.store, matching_settings, 1)
        shipment_id = session.scalars(select(Filing.shipment_id)).one()
        early = verdicts.current(session, matcher, shipment_id)
        session.commit()
        assert early.decision == "insufficient_data" and early.image_match is None
        shop = participants.create_key(session, role="marketplace", name="M")
        filings.accept(
            session=session,
            actor=Actor(Principal(shop.participant_id, shop.name, shop.role, shop.originator_code)),
            filing_json=json.dumps(marketplace_filing(shop.originator_code, tracking="E0")),
            parts={"product_picture": image_bytes(seed=99)},
            store=matcher.embedder.store,
            limits=matching_settings.images,
            on_change=lambda _session, _ids: None,  # the invalidation that came before the stale verdict was stored
        )
        assert not verdicts.up_to_date(session, shipment_id)
        again = verdicts.current(session, matcher, shipment_id)
        session.commit()
        assert again.image_match is not None and len(again.filing_ids) == 2
        assert verdicts.up_to_date(session, shipment_id)
