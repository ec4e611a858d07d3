"""Each structured check, passing and failing, on hand-made evidence."""

from __future__ import annotations

from typing import Any

import pytest

from service.matching.checks import CHECKS, Evidence, FilingFacts, run_checks, score
from tests.support import carrier_filing, marketplace_filing


def facts(payload: dict[str, Any], *roles: str) -> FilingFacts:
    return FilingFacts(f"fil_{payload['filer_type']}", payload["filer_type"], payload, frozenset(roles))


def both(market: dict[str, Any] | None = None, carrier: dict[str, Any] | None = None, **evidence: Any) -> Evidence:
    m = marketplace_filing("OC1", **(market or {}))
    c = carrier_filing("OC2", **(carrier or {}))
    return Evidence(filings=[facts(m, "product_picture"), facts(c, "security_scan")], **evidence)


def check(evidence: Evidence, code: str) -> tuple[bool, str, str]:
    (found,) = [c for c in run_checks(evidence) if c.code == code]
    return found.passed, found.severity, found.message


def test_a_clean_shipment_passes_every_check_and_scores_zero() -> None:
    evidence = both({"known_marketplace_seller": True}, listing_category="smartphone", description_similarity=0.7)
    results = run_checks(evidence)
    assert [c.code for c in results] == [f.__name__ for f in CHECKS]
    assert all(c.passed for c in results), [c for c in results if not c.passed]
    assert score(results) == 0


def test_missing_party_and_air_scan() -> None:
    market_only = Evidence(filings=[facts(marketplace_filing("OC1"), "product_picture")])
    assert check(market_only, "mandatory_elements")[0] is False
    assert check(market_only, "air_scan")[:2] == (False, "high")
    by_truck = Evidence(filings=[facts(marketplace_filing("OC1", mode="truck"))])
    assert check(by_truck, "air_scan")[0] is True


def test_price_against_export_value() -> None:
    cheap = both(carrier={"retail_price_export_country": {"amount": "20.00", "currency": "USD"}})
    assert check(cheap, "price_vs_value")[:2] == (False, "medium")
    close = both(carrier={"retail_price_export_country": {"amount": "150.00", "currency": "USD"}})
    assert check(close, "price_vs_value")[0] is True
    other_currency = both(carrier={"retail_price_export_country": {"amount": "1.00", "currency": "CNY"}})
    assert check(other_currency, "price_vs_value")[0] is True


@pytest.mark.parametrize(("weight", "quantity", "passed"), [("0.3", 1, True), ("9.5", 1, False), ("0.9", 3, True)])
def test_weight_for_category(weight: str, quantity: int, passed: bool) -> None:
    evidence = both(market={"weight_kg": weight, "quantity": quantity}, listing_category="smartphone")
    assert check(evidence, "weight_for_category")[0] is passed


def test_descriptions_and_deliver_to() -> None:
    assert check(both(description_similarity=0.1), "descriptions_agree")[0] is False
    assert check(both(description_similarity=0.6), "descriptions_agree")[0] is True
    moved = {"final_deliver_to": {"name": "Sam Roe", "address": {"street": "9 Oak", "city": "Miami", "country": "US"}}}
    assert check(both(carrier=moved), "deliver_to_agrees")[0] is False
    assert check(both(), "deliver_to_agrees")[0] is True


def test_unknown_parties_and_hts() -> None:
    evidence = both(carrier={"known_carrier_customer": False}, listing_category="smartphone")
    passed, severity, message = check(evidence, "known_parties")
    assert (passed, severity) == (False, "low") and "known marketplace seller" in message and "carrier" in message
    assert check(both(market={"hts_number": "8517.13.0000"}, listing_category="smartphone"), "hts_vs_description")[0]
    wrong = both(market={"hts_number": "9503.00"}, listing_category="smartphone")
    assert check(wrong, "hts_vs_description")[:2] == (False, "medium")


def test_category_checks_say_what_named_the_category() -> None:
    named = "the product picture (ImageNet classifier, P 0.91)"
    evidence = both(market={"hts_number": "9503.00", "weight_kg": "0.2"}, listing_category="smartphone")
    evidence.listing_category_evidence = named
    for code in ("hts_vs_description", "weight_for_category"):
        assert check(evidence, code)[2].endswith(f"; the category was named by {named}")


def test_reuse_and_history_are_high_severity() -> None:
    evidence = both(picture_reused_by_sellers=["S-9"], xray_reused_in_shipments=["shp_1"], seller_violations=2)
    results = {c.code: c for c in run_checks(evidence)}
    for code in ("picture_reuse", "xray_reuse", "seller_history"):
        assert (results[code].passed, results[code].severity) == (False, "high")
    assert "shp_1" in results["xray_reuse"].message
    assert score(list(results.values())) > 0.85
