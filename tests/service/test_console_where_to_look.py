"""The where-to-look overlay (service.matching.where_to_look) over HTTP: the console's route and the API's,
computed once through the real model and then kept, refused to filers, toggled from the x-ray viewer."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from models.generator.synthetic import generate_shipment
from service.domain import audit
from service.settings import Settings
from tests.service.test_console import sign_in
from tests.support import auth, carrier_filing, marketplace_filing, multipart


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def file_concealment(client: TestClient, keys: Any) -> str:
    """A generated listing of one item and the x-ray of that item with a handgun hidden in it, filed by both parties."""
    shop, courier = keys("marketplace"), keys("carrier")
    s = generate_shipment(seed=19, index=3, scenario="concealment", category="laptop")
    listing = marketplace_filing(shop.originator_code, tracking="T-LOOK", enhanced_description=s.description)
    sent = client.post(
        "/v1/filings", headers=auth(shop), files=multipart(listing, product_picture=encoded(s.photo, "JPEG"))
    )
    assert sent.status_code == 201, sent.text
    scan = multipart(carrier_filing(courier.originator_code, tracking="T-LOOK"), security_scan=encoded(s.xray, "PNG"))
    assert client.post("/v1/filings", headers=auth(courier), files=scan).status_code == 201
    return str(sent.json()["shipment_id"])


def test_the_overlay_is_computed_once_and_kept(
    matching_client: TestClient, matching_settings: Settings, keys: Any, session: Session
) -> None:
    shipment_id = file_concealment(matching_client, keys)
    inspector = keys("inspector")
    assert sign_in(matching_client, inspector.key).status_code == 303
    page = matching_client.get(f"/console/shipments/{shipment_id}")
    url = f"/console/shipments/{shipment_id}/where-to-look"
    assert f'data-overlay="{url}"' in page.text and "data-overlay-map" in page.text

    first = matching_client.get(url)
    assert first.status_code == 200, first.text
    overlay = first.json()
    assert overlay["shipment_id"] == shipment_id and overlay["cells"] == 8
    maps = {m["key"]: m for m in overlay["maps"]}
    assert {"mismatch", "match"} <= set(maps) and overlay["shown"] in maps
    for m in maps.values():
        heat = np.array(m["cells"])
        assert heat.shape == (8, 8) and (heat >= 0).all() and np.isclose(heat.max(), m["peak"], atol=1e-5)
    assert maps["mismatch"]["peak"] > 0  # greying out some region changes the similarity with the photo
    # The maps follow the verdict's findings: one per item, reported where the verdict reports it.
    verdict = matching_client.get(f"/v1/shipments/{shipment_id}/verdict", headers=auth(inspector)).json()
    findings = {f["item"]: f["present"] for f in verdict["image_match"]["xray_findings"]}
    assert {k.removeprefix("finding:"): m["present"] for k, m in maps.items() if k.startswith("finding:")} == findings
    reported = [k for k, m in maps.items() if m["present"]]
    assert overlay["shown"] == (reported[0] if reported else "mismatch")

    kept = list((matching_settings.data_dir / "where-to-look").rglob("*.json"))
    assert len(kept) == 1
    written = kept[0].stat().st_mtime_ns
    again = matching_client.get(url)
    assert again.status_code == 200 and again.json() == overlay  # the same computed_at and seconds: read back
    assert kept[0].stat().st_mtime_ns == written
    api = matching_client.get(f"/v1/shipments/{shipment_id}/where-to-look", headers=auth(inspector))
    assert api.status_code == 200 and api.json() == overlay

    # An examination labels the x-ray into the gallery: findings read the gallery now, so the overlay is computed
    # anew, each greyed-out copy voted on by the labelled scans (here, the scan itself among them).
    examined = {"outcome": "prohibited_item", "found_category": "handgun"}
    recorded = matching_client.post(f"/v1/shipments/{shipment_id}/examinations", headers=auth(inspector), json=examined)
    assert recorded.status_code == 201, recorded.text
    galleried = matching_client.get(url).json()
    assert galleried["gallery_labelled"] == 1 and galleried["computed_at"] != overlay["computed_at"]
    assert "finding:handgun" in {m["key"] for m in galleried["maps"]}
    assert len(list((matching_settings.data_dir / "where-to-look").rglob("*.json"))) == 2

    trail = [
        e.detail or ""
        for e in audit.events(session, shipment_ids=[shipment_id], limit=100)
        if e.action == "overlay.read" and e.outcome == "ok"
    ]
    assert len(trail) == 4
    assert sum("computed in" in d for d in trail) == 2 and sum(d.endswith(", kept") for d in trail) == 2


def test_filers_are_refused_the_overlay(matching_client: TestClient, keys: Any, session: Session) -> None:
    shipment_id = file_concealment(matching_client, keys)
    for role in ("carrier", "marketplace"):
        refused = matching_client.get(f"/v1/shipments/{shipment_id}/where-to-look", headers=auth(keys(role)))
        assert refused.status_code == 403, refused.text
        assert sign_in(matching_client, keys(role).key).status_code == 403
    console = matching_client.get(f"/console/shipments/{shipment_id}/where-to-look", follow_redirects=False)
    assert console.status_code == 303 and console.headers["location"] == "/console/sign-in"
    outcomes = {(e.action, e.outcome) for e in audit.events(session, shipment_ids=None, limit=100)}
    assert ("overlay.read", "forbidden") in outcomes and ("overlay.read", "unauthenticated") in outcomes
