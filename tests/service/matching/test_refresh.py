"""The verdict refresh after a filing: stored from the matcher's own threads, one per shipment however many
filings arrive, with a bounded queue whose overflow waits in the database; a failure is logged, not raised."""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy import select

from service.db.tables import Filing, Verdict
from service.domain import filings, participants
from service.domain.actors import Actor, Principal
from service.matching import refresh, verdicts
from service.matching.matcher import Matcher
from service.matching.refresh import RefreshQueue
from service.settings import Settings
from tests.service.matching.test_embedder import file_scans
from tests.support import image_bytes, marketplace_filing


def test_a_scheduled_refresh_stores_the_verdict(matcher: Matcher, matching_settings: Settings) -> None:
    with matcher.sessions() as session:
        file_scans(session, matcher.embedder.store, matching_settings, 1)
        shipment_id = session.scalars(select(Filing.shipment_id)).one()
    refresh.schedule(matcher, shipment_id)
    assert matcher.refresher.idle(timeout=120)  # the refresh has run
    with matcher.sessions() as session:
        stored = session.get(Verdict, shipment_id)
    # One carrier filing with its x-ray: embedded by the refresh, but no picture to compare it with.
    assert stored is not None and stored.decision == "insufficient_data" and matcher.backlog() == 0


def test_a_failed_refresh_is_logged_and_the_queue_goes_on(matcher: Matcher, matching_settings: Settings) -> None:
    refresh.schedule(matcher, "shp_nope")
    assert matcher.refresher.idle(timeout=60)
    with matcher.sessions() as session:
        assert session.scalars(select(Verdict)).all() == []
        file_scans(session, matcher.embedder.store, matching_settings, 1)
        shipment_id = session.scalars(select(Filing.shipment_id)).one()
    refresh.schedule(matcher, shipment_id)
    assert matcher.refresher.idle(timeout=120)
    with matcher.sessions() as session:
        assert session.get(Verdict, shipment_id) is not None


def test_shipments_owed_a_verdict_in_the_database_are_swept_up_at_start(
    matcher: Matcher, matching_settings: Settings
) -> None:
    """Filings accepted while no matcher ran (or queued when the last one stopped) are judged at the next start,
    with nobody asking for their verdicts."""
    with matcher.sessions() as session:
        file_scans(session, matcher.embedder.store, matching_settings, 3)
        owed = set(session.scalars(select(Filing.shipment_id)).all())
    assert set(refresh.owed_verdicts(matcher, 10)) == owed
    fresh = refresh.queue_for(matcher)  # as at a restart
    fresh.start()
    try:
        assert fresh.idle(timeout=120)
    finally:
        fresh.close()
    with matcher.sessions() as session:
        assert {v.shipment_id for v in session.scalars(select(Verdict))} == owed
    assert refresh.owed_verdicts(matcher, 10) == []


class Ledger:
    """A stand-in database: shipments owed a verdict until a refresh runs, refreshes that can be held up."""

    def __init__(self, owed: list[str] = []) -> None:  # noqa: B006 - read only
        self.owed = list(owed)
        self.runs: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def file(self, shipment_id: str) -> None:
        if shipment_id not in self.owed:
            self.owed.append(shipment_id)

    def run(self, shipment_id: str) -> None:
        self.gate.wait(30)
        self.runs.append(shipment_id)
        if shipment_id in self.owed:
            self.owed.remove(shipment_id)

    def list_owed(self, limit: int) -> list[str]:
        return self.owed[:limit]


def test_filings_for_one_shipment_are_refreshed_once() -> None:
    ledger = Ledger()
    ledger.gate.clear()  # the workers are busy: filings pile up
    queue = RefreshQueue(ledger.run, owed=ledger.list_owed, bound=100, workers=1)
    queue.start()
    try:
        queue.submit("busy")
        deadline = time.monotonic() + 10
        while queue.depth == 0 or "busy" not in queue._running:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        for _ in range(50):
            ledger.file("shp_a")
            queue.submit("shp_a")
        assert queue.depth == 2  # the one running, and shp_a once
        ledger.gate.set()
        assert queue.idle(timeout=10)
    finally:
        queue.close()
    assert ledger.runs == ["busy", "shp_a"]


def test_past_its_bound_the_queue_leaves_shipments_in_the_database_and_sweeps_them_up() -> None:
    ledger = Ledger()
    ledger.gate.clear()
    queue = RefreshQueue(ledger.run, owed=ledger.list_owed, bound=3, workers=1)
    queue.start()
    try:
        assert queue.idle(timeout=10)  # the start-up sweep found nothing owed
        for i in range(20):
            ledger.file(f"shp_{i:02}")
            queue.submit(f"shp_{i:02}")
        assert queue.depth <= 3 + 1  # bounded: three queued and one running
        time.sleep(0.2)
        assert queue.lag() >= 0.2  # verdicts run behind, and the queue says by how much
        ledger.gate.set()
        assert queue.idle(timeout=30)
    finally:
        queue.close()
    assert sorted(ledger.runs) == [f"shp_{i:02}" for i in range(20)] and ledger.owed == []
    assert queue.lag() == 0


def test_closing_stops_after_the_running_refresh_and_leaves_the_rest_owed() -> None:
    ledger = Ledger([f"shp_{i}" for i in range(10)])
    ledger.gate.clear()
    queue = RefreshQueue(ledger.run, owed=ledger.list_owed, bound=100, workers=1)
    queue.start()
    deadline = time.monotonic() + 10
    while queue.depth < 10:  # swept up at start
        assert time.monotonic() < deadline
        time.sleep(0.01)
    threading.Timer(0.2, ledger.gate.set).start()
    began = time.monotonic()
    queue.close(timeout=10)
    assert time.monotonic() - began < 5
    assert len(ledger.runs) == 1 and len(ledger.owed) == 9  # for the next start


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
