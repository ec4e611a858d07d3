"""Structured-data checks: named, documented (docs/checks.md), each with its reason and source element.

Every check is a pure function of the `Evidence` gathered for one shipment, so each can be tested
on its own; `run_checks` runs them all in a fixed order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from models.encoders.taxonomy import TAXONOMY
from service.domain.actors import CARRIER_LIKE

Severity = Literal["info", "low", "medium", "high"]
WEIGHT: dict[str, float] = {"info": 0.0, "low": 0.1, "medium": 0.25, "high": 0.5}
DESCRIPTION_AGREEMENT_MIN = 0.3  # MiniLM cosine; unrelated goods score ~0.0-0.2, rewordings ~0.4-0.8
PRICE_RATIO_MAX = 2.0


@dataclass(frozen=True)
class Check:
    code: str
    passed: bool
    severity: Severity
    message: str


@dataclass(frozen=True)
class FilingFacts:
    filing_id: str
    filer_type: str
    payload: dict[str, Any]
    roles: frozenset[str]  # image parts sent with it


@dataclass
class Evidence:
    filings: list[FilingFacts]
    listing_category: str | None = None
    listing_category_evidence: str | None = None  # what named the category, in words
    description_similarity: float | None = None
    picture_reused_by_sellers: list[str] = field(default_factory=list)
    xray_reused_in_shipments: list[str] = field(default_factory=list)
    seller_violations: int = 0

    def by(self, *filer_types: str) -> list[FilingFacts]:
        return [f for f in self.filings if f.filer_type in filer_types]

    def first(self, element: str, *filer_types: str) -> Any:
        for filing in self.by(*filer_types) if filer_types else self.filings:
            if filing.payload.get(element) is not None:
                return filing.payload[element]
        return None


def ok(code: str, message: str) -> Check:
    return Check(code, True, "info", message)


def mandatory_elements(e: Evidence) -> Check:
    missing = [
        name
        for name, present in (("marketplace", e.by("marketplace")), ("carrier", e.by(*CARRIER_LIKE)))
        if not present
    ]
    if missing:
        return Check(
            "mandatory_elements",
            False,
            "medium",
            f"no {' or '.join(missing)} filing yet: the shipment is only partly described",
        )
    return ok("mandatory_elements", "both a marketplace and a carrier (or broker/forwarder) filing were received")


def air_scan(e: Evidence) -> Check:
    air = any(f.payload.get("mode") == "air" for f in e.filings)
    scanned = any("security_scan" in f.roles for f in e.filings)
    if air and not scanned:
        return Check("air_scan", False, "high", "air shipment without a security scan: the x-ray is mandatory for air")
    return ok("air_scan", "security scan present" if scanned else "not an air shipment")


def _money(value: Any) -> tuple[Decimal, str] | None:
    if not value:
        return None
    return Decimal(str(value["amount"])), str(value["currency"])


def price_vs_value(e: Evidence) -> Check:
    listed = _money(e.first("listed_price", "marketplace"))
    other = _money(e.first("retail_price_export_country")) or _money(e.first("listed_price", *CARRIER_LIKE))
    if listed is None or other is None:
        return ok("price_vs_value", "n/a: no second value to compare the listed price with")
    if listed[1] != other[1]:
        return ok("price_vs_value", f"n/a: values in {listed[1]} and {other[1]} are not converted")
    low, high = sorted((listed[0], other[0]))
    if high > 0 and (low == 0 or high / low > Decimal(PRICE_RATIO_MAX)):
        return Check(
            "price_vs_value",
            False,
            "medium",
            f"listed price {listed[0]} {listed[1]} and declared value {other[0]} {other[1]} differ "
            f"by more than {PRICE_RATIO_MAX:g}x",
        )
    return ok("price_vs_value", "listed price agrees with the declared value")


def weight_for_category(e: Evidence) -> Check:
    weight, category = e.first("weight_kg"), e.listing_category
    if weight is None or category not in TAXONOMY:
        return ok("weight_for_category", "n/a: no weight declared or no category recognised")
    quantity = int(e.first("quantity") or 1)
    per_unit = float(weight) / quantity
    low, high = TAXONOMY[category].weight_kg
    if not low / 2 <= per_unit <= high * 2:
        return Check(
            "weight_for_category",
            False,
            "medium",
            f"{per_unit:.2f} kg per unit is implausible for a {TAXONOMY[category].label} "
            f"(typically {low:g}-{high:g} kg){_named_by(e)}",
        )
    return ok(
        "weight_for_category", f"{per_unit:.2f} kg per unit is plausible for a {TAXONOMY[category].label}{_named_by(e)}"
    )


def _named_by(e: Evidence) -> str:
    return f"; the category was named by {e.listing_category_evidence}" if e.listing_category_evidence else ""


def descriptions_agree(e: Evidence) -> Check:
    if e.description_similarity is None:
        return ok("descriptions_agree", "n/a: carrier and marketplace descriptions are not both present")
    if e.description_similarity < DESCRIPTION_AGREEMENT_MIN:
        return Check(
            "descriptions_agree",
            False,
            "medium",
            f"the carrier's and the marketplace's descriptions read as different goods "
            f"(similarity {e.description_similarity:.2f})",
        )
    return ok("descriptions_agree", f"descriptions agree (similarity {e.description_similarity:.2f})")


def _norm(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _party_key(party: dict[str, Any]) -> tuple[set[str], str, str]:
    address = party.get("address") or {}
    return (
        _norm(party.get("name", "")),
        str(address.get("country", "")),
        " ".join(sorted(_norm(address.get("city", "")))),
    )


def deliver_to_agrees(e: Evidence) -> Check:
    parties = [(f.filer_type, f.payload["final_deliver_to"]) for f in e.filings if f.payload.get("final_deliver_to")]
    for (type_a, a), (type_b, b) in zip(parties, parties[1:], strict=False):
        (name_a, country_a, city_a), (name_b, country_b, city_b) = _party_key(a), _party_key(b)
        overlap = len(name_a & name_b) / max(1, len(name_a | name_b))
        if overlap < 0.5 or country_a != country_b or city_a != city_b:
            return Check(
                "deliver_to_agrees",
                False,
                "medium",
                f"final deliver-to party differs between the {type_a} ({a.get('name')}) and the "
                f"{type_b} ({b.get('name')}) filings",
            )
    if len(parties) < 2:
        return ok("deliver_to_agrees", "n/a: only one filing names the final deliver-to party")
    return ok("deliver_to_agrees", "every filing names the same final deliver-to party")


def known_parties(e: Evidence) -> Check:
    unknown = []
    if e.first("known_marketplace_seller", "marketplace") is False:
        unknown.append("the seller is not a known marketplace seller")
    if e.first("known_carrier_customer", *CARRIER_LIKE) is False:
        unknown.append("the shipper is not a known carrier customer")
    if unknown:
        return Check("known_parties", False, "low", "; ".join(unknown))
    return ok("known_parties", "seller and shipper are known, or not stated")


def hts_vs_description(e: Evidence) -> Check:
    hts, category = e.first("hts_number"), e.listing_category
    if not hts or category not in TAXONOMY:
        return ok("hts_vs_description", "n/a: no HTS number declared or no category recognised")
    expected = TAXONOMY[category].hts_heading
    if str(hts).replace(".", "")[:4] != expected:
        return Check(
            "hts_vs_description",
            False,
            "medium",
            f"HTS {hts} is not heading {expected}, where a {TAXONOMY[category].label} is classified{_named_by(e)}",
        )
    return ok("hts_vs_description", f"HTS {hts} fits a {TAXONOMY[category].label}{_named_by(e)}")


def picture_reuse(e: Evidence) -> Check:
    if e.picture_reused_by_sellers:
        return Check(
            "picture_reuse",
            False,
            "high",
            f"the same product picture was sent for other sellers: {', '.join(e.picture_reused_by_sellers)}",
        )
    return ok("picture_reuse", "the product picture is not used by another seller")


def xray_reuse(e: Evidence) -> Check:
    if e.xray_reused_in_shipments:
        return Check(
            "xray_reuse",
            False,
            "high",
            f"the same x-ray was sent for other shipments: {', '.join(e.xray_reused_in_shipments)}",
        )
    return ok("xray_reuse", "the x-ray is not a copy of another shipment's")


def seller_history(e: Evidence) -> Check:
    if e.seller_violations:
        return Check(
            "seller_history",
            False,
            "high",
            f"this seller has {e.seller_violations} confirmed violation(s) in past examinations",
        )
    return ok("seller_history", "no confirmed violations for this seller")


CHECKS: tuple[Callable[[Evidence], Check], ...] = (
    mandatory_elements,
    air_scan,
    price_vs_value,
    weight_for_category,
    descriptions_agree,
    deliver_to_agrees,
    known_parties,
    hts_vs_description,
    picture_reuse,
    xray_reuse,
    seller_history,
)


# Each check's code is its function's name (the filter the inspectors' queue offers).
CODES: tuple[str, ...] = tuple(check.__name__ for check in CHECKS)


def run_checks(evidence: Evidence) -> list[Check]:
    return [check(evidence) for check in CHECKS]


def score(checks: list[Check]) -> float:
    """0 when everything passed; failures combine like independent risks, weighted by severity."""
    clean = 1.0
    for check in checks:
        if not check.passed:
            clean *= 1 - WEIGHT[check.severity]
    return round(1 - clean, 4)
