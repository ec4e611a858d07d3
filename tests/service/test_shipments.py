"""Shipments form from identifiers: merging is transitive, ids survive, master bills only group."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from service.domain import shipments
from service.domain.errors import NotFound
from service.domain.filing_schema import Identifiers


def attach(session: Session, **identifiers: str) -> str:
    shipment, _ = shipments.attach(session, Identifiers(**identifiers))
    session.commit()
    return shipment.id


def test_filings_sharing_a_tracking_number_or_house_bill_are_one_shipment(session: Session) -> None:
    first = attach(session, tracking_number="T1")
    assert attach(session, tracking_number="T1", house_bill="H1") == first
    assert attach(session, house_bill="H1") == first
    assert shipments.find(session, tracking_number="T1") == shipments.find(session, house_bill="H1") == [first]


def test_a_linking_filing_merges_into_the_older_and_every_id_still_resolves(session: Session) -> None:
    older = attach(session, tracking_number="T1")
    newer = attach(session, house_bill="H2")
    third = attach(session, tracking_number="T3")
    linked, merged = shipments.attach(session, Identifiers(tracking_number="T3", house_bill="H2"))
    session.commit()
    assert linked.id == newer and merged == [third]
    survivor, merged = shipments.attach(session, Identifiers(tracking_number="T1", house_bill="H2"))
    session.commit()
    assert survivor.id == older and merged == [newer]
    assert {shipments.resolve(session, i).id for i in (older, newer, third)} == {older}
    assert shipments.aliases(session, older) == [older, *sorted([newer, third])]
    assert shipments.find(session, tracking_number="T3") == [older]


def test_a_master_bill_groups_but_never_merges(session: Session) -> None:
    a = attach(session, tracking_number="T1", master_bill="M1")
    b = attach(session, house_bill="H9", master_bill="M1")
    alone = attach(session, master_bill="M1")
    assert len({a, b, alone}) == 3
    assert shipments.find(session, master_bill="M1") == [a, b, alone]
    view = shipments.view(session, shipments.resolve(session, b))
    assert (view.house_bills, view.master_bills) == (["H9"], ["M1"])


def test_merging_keeps_each_consolidation_membership_once(session: Session) -> None:
    a = attach(session, tracking_number="T1", master_bill="M1")
    attach(session, house_bill="H1", master_bill="M1")
    attach(session, tracking_number="T1", house_bill="H1")
    assert shipments.find(session, master_bill="M1") == [a]
    assert shipments.view(session, shipments.resolve(session, a)).master_bills == ["M1"]


def test_unknown_ids_are_reported(session: Session) -> None:
    with pytest.raises(NotFound):
        shipments.resolve(session, "shp_missing")
