"""Who sees what: inspectors read shipments and images, admins the audit trail; every read is audited."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart


def file_both(client: TestClient, keys, tracking: str = "T1") -> dict:  # type: ignore[no-untyped-def]
    shop, carrier = keys("marketplace"), keys("carrier")
    picture, scan = image_bytes("JPEG", seed=11), image_bytes("PNG", seed=12)
    listing = client.post(
        "/v1/filings",
        files=multipart(marketplace_filing(shop.originator_code, tracking=tracking), product_picture=picture),
        headers=auth(shop),
    ).json()
    scanned = client.post(
        "/v1/filings",
        files=multipart(carrier_filing(carrier.originator_code, tracking=tracking), security_scan=scan),
        headers=auth(carrier),
    ).json()
    return {"shop": shop, "carrier": carrier, "listing": listing, "scanned": scanned, "picture": picture, "scan": scan}


def test_inspector_sees_every_filing_and_image_of_a_shipment(client, keys) -> None:
    world, inspector = file_both(client, keys), keys("inspector")
    shipment = client.get(f"/v1/shipments/{world['listing']['shipment_id']}", headers=auth(inspector))
    assert shipment.status_code == 200
    body = shipment.json()
    assert body["tracking_numbers"] == ["T1"]
    assert [f["filer_type"] for f in body["filings"]] == ["marketplace", "carrier"]
    roles = {image["role"]: image for f in body["filings"] for image in f["images"]}
    assert set(roles) == {"product_picture", "security_scan"}
    picture = client.get(roles["product_picture"]["url"], headers=auth(inspector))
    assert picture.status_code == 200 and picture.content == world["picture"]
    assert picture.headers["content-type"] == "image/jpeg"
    found = client.get("/v1/shipments", params={"tracking_number": "T1"}, headers=auth(inspector)).json()
    assert [s["shipment_id"] for s in found] == [body["shipment_id"]]
    assert client.get("/v1/shipments", params={"tracking_number": "nope"}, headers=auth(inspector)).json() == []
    unbounded = client.get("/v1/shipments", headers=auth(inspector))
    assert unbounded.status_code == 422 and "tracking_number" in unbounded.json()["message"]


def test_filers_never_read_shipments_images_or_each_others_filings(client, keys) -> None:
    world = file_both(client, keys)
    carrier, shop = auth(world["carrier"]), auth(world["shop"])
    shipment_id = world["listing"]["shipment_id"]
    assert client.get(f"/v1/shipments/{shipment_id}", headers=carrier).status_code == 403
    assert client.get("/v1/shipments", params={"tracking_number": "T1"}, headers=shop).status_code == 403
    assert client.get(f"/v1/filings/{world['listing']['filing_id']}", headers=carrier).status_code == 404
    assert client.get(f"/v1/filings/{world['scanned']['filing_id']}", headers=shop).status_code == 404
    shipment = client.get(f"/v1/shipments/{shipment_id}", headers=auth(keys("inspector"))).json()
    sha = shipment["filings"][0]["images"][0]["sha256"]
    assert client.get(f"/v1/images/{sha}", headers=shop).status_code == 403
    assert client.get(f"/v1/audit?shipment_id={shipment_id}", headers=carrier).status_code == 403


def test_only_admins_read_the_audit_trail_and_it_records_reads_and_denials(client, keys) -> None:
    world, inspector, admin = file_both(client, keys), keys("inspector"), keys("admin")
    shipment_id = world["listing"]["shipment_id"]
    client.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector))
    client.get(f"/v1/shipments/{shipment_id}", headers=auth(world["carrier"]))
    assert client.get("/v1/audit", headers=auth(inspector)).status_code == 403
    trail = client.get("/v1/audit", params={"shipment_id": shipment_id}, headers=auth(admin))
    assert trail.status_code == 200
    seen = {(e["participant_id"], e["action"], e["outcome"]) for e in trail.json()}
    assert (inspector.participant_id, "shipment.read", "ok") in seen
    assert (world["carrier"].participant_id, "shipment.read", "forbidden") in seen
    assert (world["shop"].participant_id, "filing.create", "ok") in seen
    assert all(e["request_id"] for e in trail.json())


def test_a_shipments_trail_holds_refused_reads_of_its_images_and_filings(client, keys) -> None:
    """A refused image or filing read is recorded with the hash or filing id alone (issue 20, finding 7)."""
    world, admin = file_both(client, keys, "T-TRAIL"), keys("admin")
    shipment_id = world["listing"]["shipment_id"]
    shipment = client.get(f"/v1/shipments/{shipment_id}", headers=auth(keys("inspector"))).json()
    sha = shipment["filings"][0]["images"][0]["sha256"]
    assert client.get(f"/v1/images/{sha}", headers=auth(world["shop"])).status_code == 403
    assert client.get(f"/v1/filings/{world['listing']['filing_id']}", headers=auth(world["carrier"])).status_code == 404
    other = file_both(client, keys, "T-ELSEWHERE")  # another shipment's denials stay out of this trail
    assert client.get(f"/v1/filings/{other['scanned']['filing_id']}", headers=auth(other["shop"])).status_code == 404
    trail = client.get("/v1/audit", params={"shipment_id": shipment_id}, headers=auth(admin)).json()
    refused = [e for e in trail if e["outcome"] != "ok"]
    denied = {(e["participant_id"], e["action"], e["image_sha256"] or e["filing_id"]) for e in refused}
    assert (world["shop"].participant_id, "image.read", sha) in denied, trail
    assert (world["carrier"].participant_id, "filing.read", world["listing"]["filing_id"]) in denied, trail
    assert not any(e["filing_id"] == other["scanned"]["filing_id"] for e in trail), trail


def test_refused_and_anonymous_attempts_are_audited(client, keys) -> None:
    admin, carrier = keys("admin"), keys("carrier")
    client.get("/v1/shipments/shp_x")
    client.post("/v1/filings", files=multipart(carrier_filing(carrier.originator_code)), headers=auth(carrier))
    trail = client.get("/v1/audit", headers=auth(admin)).json()
    outcomes = {(e["role"], e["action"], e["outcome"]) for e in trail}
    assert (None, "shipment.read", "unauthenticated") in outcomes
    assert ("carrier", "filing.create", "invalid_filing") in outcomes


def test_merged_shipments_answer_under_every_id(client, keys) -> None:
    shop, carrier, inspector, admin = keys("marketplace"), keys("carrier"), keys("inspector"), keys("admin")
    by_tracking = client.post(
        "/v1/filings",
        files=multipart(marketplace_filing(shop.originator_code, tracking="T7", enhanced_description="lamp")),
        headers=auth(shop),
    ).json()
    by_house_bill = client.post(
        "/v1/filings",
        files=multipart(
            carrier_filing(carrier.originator_code, tracking=None, mode="truck", identifiers={"house_bill": "H7"})
        ),
        headers=auth(carrier),
    ).json()
    linking = client.post(
        "/v1/filings",
        files=multipart(
            carrier_filing(
                carrier.originator_code, mode="truck", identifiers={"tracking_number": "T7", "house_bill": "H7"}
            )
        ),
        headers=auth(carrier),
    ).json()
    assert by_tracking["shipment_id"] != by_house_bill["shipment_id"]
    assert linking["shipment_id"] == by_tracking["shipment_id"]
    assert any("now one" in w for w in linking["warnings"])
    merged = client.get(f"/v1/shipments/{by_house_bill['shipment_id']}", headers=auth(inspector)).json()
    assert merged["shipment_id"] == by_tracking["shipment_id"]
    assert merged["merged_from"] == [by_house_bill["shipment_id"]]
    assert len(merged["filings"]) == 3
    trail = client.get("/v1/audit", params={"shipment_id": by_house_bill["shipment_id"]}, headers=auth(admin)).json()
    assert {e["filing_id"] for e in trail if e["action"] == "filing.create"} == {
        by_tracking["filing_id"],
        by_house_bill["filing_id"],
        linking["filing_id"],
    }


def test_each_granted_or_refused_request_leaves_one_exact_audit_event(client, keys) -> None:
    world, inspector, admin = file_both(client, keys, "T9"), keys("inspector"), keys("admin")
    shipment_id, unknown_sha = world["listing"]["shipment_id"], "0" * 64
    shipment = client.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector)).json()
    sha = shipment["filings"][1]["images"][0]["sha256"]
    client.get("/v1/shipments/shp_nope", headers=auth(inspector))
    client.get(f"/v1/images/{sha}", headers=auth(inspector))
    client.get(f"/v1/images/{unknown_sha}", headers=auth(inspector))
    client.get(f"/v1/images/{sha}", headers=auth(world["carrier"]))
    client.post("/v1/keys", json={"role": "pilot", "name": "P"}, headers=auth(admin))
    issued = client.post("/v1/keys", json={"role": "carrier", "name": "C"}, headers=auth(admin)).json()
    client.delete("/v1/keys/key_nope", headers=auth(admin))
    client.delete(f"/v1/keys/{issued['key_id']}", headers=auth(admin))
    client.get("/v1/audit", params={"shipment_id": "shp_nope"}, headers=auth(admin))
    trail = client.get("/v1/audit", headers=auth(admin)).json()
    for_inspectors = "it is for inspector keys"
    fields = ("role", "action", "outcome", "shipment_id", "filing_id", "image_sha256", "detail")
    events = [tuple(e[f] for f in fields) for e in reversed(trail) if e["action"] != "filing.create"]
    assert events == [
        ("inspector", "shipment.read", "ok", shipment_id, None, None, None),
        ("inspector", "shipment.read", "not_found", "shp_nope", None, None, "no shipment shp_nope"),
        ("inspector", "image.read", "ok", shipment_id, None, sha, None),
        ("inspector", "image.read", "not_found", None, None, unknown_sha, f"no image {unknown_sha}"),
        ("carrier", "image.read", "forbidden", None, None, sha, f"carrier keys may not image.read; {for_inspectors}"),
        ("admin", "key.create", "key_problem", None, None, None, events[5][6]),
        ("admin", "key.create", "ok", None, None, None, f"{issued['key_id']} carrier C"),
        ("admin", "key.revoke", "not_found", None, None, None, events[7][6]),
        ("admin", "key.revoke", "ok", None, None, None, issued["key_id"]),
        ("admin", "audit.read", "ok", "shp_nope", None, None, None),
    ]
    assert "unknown role 'pilot'" in events[5][6] and "no such key" in events[7][6]
