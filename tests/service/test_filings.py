"""POST /v1/filings and GET /v1/filings/{id}, through the real app and database."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.tables import Filing, StoredImage, Verdict
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart


def post(client: TestClient, key: object, filing: dict, **images: bytes):  # type: ignore[no-untyped-def]
    return client.post("/v1/filings", files=multipart(filing, **images), headers=auth(key))


def test_marketplace_and_carrier_filings_join_one_shipment(client, keys, session: Session) -> None:
    shop, carrier = keys("marketplace"), keys("carrier")
    first = post(client, shop, marketplace_filing(shop.originator_code, tracking="T1"), product_picture=image_bytes())
    second = post(
        client,
        carrier,
        carrier_filing(carrier.originator_code, tracking="T1"),
        security_scan=image_bytes("JPEG", seed=1),
    )
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert first.json()["shipment_id"] == second.json()["shipment_id"]
    assert set(first.json()) == {"filing_id", "shipment_id", "received_at", "warnings", "verdicts_delayed_s"}
    assert first.json()["verdicts_delayed_s"] is None  # matching off: no verdicts to run behind
    assert session.scalar(select(func.count()).select_from(StoredImage)) == 2


def test_a_new_filing_drops_the_stored_verdict_with_matching_off(client, keys, session: Session) -> None:
    """The verdict is forgotten in the filing's own transaction: a server restarted with matching on
    must not serve one computed before this filing arrived."""
    shop, carrier = keys("marketplace"), keys("carrier")
    first = post(client, shop, marketplace_filing(shop.originator_code, tracking="T1"), product_picture=image_bytes())
    shipment_id = first.json()["shipment_id"]
    session.add(Verdict(shipment_id=shipment_id, model_sha256="0" * 64, decision="match", risk=0.1, payload={}))
    session.commit()
    second = post(client, carrier, carrier_filing(carrier.originator_code, tracking="T1"), security_scan=image_bytes())
    assert second.status_code == 201 and second.json()["shipment_id"] == shipment_id, second.text
    assert session.scalar(select(func.count()).select_from(Verdict)) == 0


def test_missing_mandatory_elements_are_all_named(client, keys) -> None:
    carrier = keys("carrier")
    filing = carrier_filing(carrier.originator_code)
    del filing["final_deliver_to"]
    del filing["shipment_initiator"]["address"]
    filing["identifiers"] = {}
    response = post(client, carrier, filing)  # and no scan, on an air shipment
    assert response.status_code == 422
    paths = {e["path"] for e in response.json()["errors"]}
    assert paths == {
        "filing.final_deliver_to",
        "filing.shipment_initiator.address",
        "filing.identifiers",
        "security_scan",
    }


@pytest.mark.parametrize("mode", ["truck", "rail", "vessel", "mail"])
def test_scan_is_only_mandatory_for_air(client, keys, mode: str) -> None:
    carrier = keys("carrier")
    response = post(client, carrier, carrier_filing(carrier.originator_code, mode=mode))
    assert response.status_code == 201, response.text
    assert any("no security_scan" in w for w in response.json()["warnings"])


def test_marketplace_needs_a_picture_a_link_or_a_description(client, keys) -> None:
    shop = keys("marketplace")
    bare = post(client, shop, marketplace_filing(shop.originator_code))
    assert bare.status_code == 422
    assert [e["path"] for e in bare.json()["errors"]] == ["product_picture"]
    linked = post(client, shop, marketplace_filing(shop.originator_code, listing_url="https://shop.example/item/1"))
    assert linked.status_code == 201, linked.text


def test_unknown_elements_and_parts_are_refused_not_dropped(client, keys) -> None:
    shop = keys("marketplace")
    filing = marketplace_filing(shop.originator_code, enhanced_description="lamp", sellr_rating=5)
    response = post(client, shop, filing, xray=image_bytes())
    assert response.status_code == 422
    errors = {e["path"]: e["type"] for e in response.json()["errors"]}
    assert errors == {"filing.sellr_rating": "extra_forbidden", "xray": "extra_part"}


def test_typed_optional_elements_are_validated(client, keys) -> None:
    shop = keys("marketplace")
    filing = marketplace_filing(
        shop.originator_code,
        enhanced_description="lamp",
        hts_number="9405.20",
        weight_kg="-1",
        quantity=0,
        marketplace_website="not a url",
        listed_price={"amount": "10", "currency": "usd"},
        consignee={"name": "X", "email": "nope"},
    )
    response = post(client, shop, filing)
    paths = {e["path"] for e in response.json()["errors"]}
    assert response.status_code == 422
    assert paths == {
        "filing.weight_kg",
        "filing.quantity",
        "filing.marketplace_website",
        "filing.listed_price.currency",
        "filing.consignee.email",
    }


def test_non_image_bytes_are_refused(client, keys, session: Session) -> None:
    carrier = keys("carrier")
    response = post(client, carrier, carrier_filing(carrier.originator_code), security_scan=b"%PDF-1.4 not an x-ray")
    assert response.status_code == 422
    assert response.json()["part"] == "security_scan"
    assert "not a JPEG, PNG or TIFF" in response.json()["message"]
    assert session.scalar(select(func.count()).select_from(Filing)) == 0


def test_other_image_formats_and_truncated_files_are_refused(client, keys) -> None:
    carrier = keys("carrier")
    filing = carrier_filing(carrier.originator_code)
    gif = post(client, carrier, filing, security_scan=image_bytes("GIF"))
    truncated = post(client, carrier, filing, security_scan=image_bytes("JPEG", size=(256, 256))[:2000])
    assert (gif.status_code, truncated.status_code) == (422, 422)
    assert "GIF images are not accepted" in gif.json()["message"]
    assert "corrupt or truncated" in truncated.json()["message"]


@pytest.mark.parametrize(("fmt", "mode"), [("TIFF", "I;16"), ("TIFF", "L"), ("PNG", "I;16"), ("JPEG", "L")])
def test_greyscale_scanner_exports_are_accepted(client, keys, fmt: str, mode: str) -> None:
    carrier = keys("carrier")
    data = image_bytes(fmt, mode=mode, size=(40, 30))
    response = post(client, carrier, carrier_filing(carrier.originator_code), security_scan=data)
    assert response.status_code == 201, response.text
    own = client.get(f"/v1/filings/{response.json()['filing_id']}", headers=auth(carrier)).json()
    (image,) = own["images"]
    assert (image["format"], image["width"], image["height"]) == (fmt, 40, 30)
    assert image["mode"] == Image.open(io.BytesIO(data)).mode


def test_images_over_the_limits_answer_413(client, keys, settings) -> None:
    carrier = keys("carrier")
    filing = carrier_filing(carrier.originator_code)
    settings.images.max_pixels = 100 * 100
    too_many_pixels = post(client, carrier, filing, security_scan=image_bytes(size=(101, 100)))
    settings.images.max_bytes = 1000
    too_many_bytes = post(client, carrier, filing, security_scan=image_bytes(size=(60, 60)))
    assert too_many_pixels.status_code == 413 and "pixels" in too_many_pixels.json()["message"]
    assert too_many_bytes.status_code == 413 and "bytes" in too_many_bytes.json()["message"]


def test_retry_with_transmission_id_gives_the_same_receipt(client, keys, session: Session) -> None:
    carrier = keys("carrier")
    filing = carrier_filing(carrier.originator_code, transmission_id="tx-1")
    scan = image_bytes(seed=3)
    first, again = post(client, carrier, filing, security_scan=scan), post(client, carrier, filing, security_scan=scan)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert session.scalar(select(func.count()).select_from(Filing)) == 1
    changed = post(client, carrier, {**filing, "mode": "truck"}, security_scan=scan)
    assert changed.status_code == 409
    other = keys("carrier")  # transmission ids are the filer's own: another filer may reuse one
    theirs = post(client, other, {**filing, "originator_code": other.originator_code}, security_scan=scan)
    assert theirs.status_code == 201


def test_keys_file_only_as_themselves(client, keys) -> None:
    carrier, broker, inspector = keys("carrier"), keys("broker"), keys("inspector")
    scan = image_bytes()
    someone_else = post(client, carrier, carrier_filing("OC00000000"), security_scan=scan)
    wrong_type = post(client, broker, carrier_filing(broker.originator_code), security_scan=scan)
    not_a_filer = post(client, inspector, carrier_filing(carrier.originator_code), security_scan=scan)
    assert (someone_else.status_code, wrong_type.status_code, not_a_filer.status_code) == (403, 403, 403)
    as_broker = post(client, broker, carrier_filing(broker.originator_code, filer_type="broker"), security_scan=scan)
    assert as_broker.status_code == 201, as_broker.text


def test_missing_bad_and_revoked_keys_answer_401(client, keys, session) -> None:
    from service.domain import participants

    carrier = keys("carrier")
    files = multipart(carrier_filing(carrier.originator_code), security_scan=image_bytes())
    assert client.post("/v1/filings", files=files).status_code == 401
    assert client.post("/v1/filings", files=files, headers=auth("smk_wrong")).status_code == 401
    participants.revoke_key(session, carrier.key_id)
    revoked = client.post("/v1/filings", files=files, headers=auth(carrier))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["message"]


def test_a_filer_reads_back_only_its_own_filings(client, keys) -> None:
    shop, carrier = keys("marketplace"), keys("carrier")
    receipt = post(client, shop, marketplace_filing(shop.originator_code), product_picture=image_bytes()).json()
    mine = client.get(f"/v1/filings/{receipt['filing_id']}", headers=auth(shop))
    theirs = client.get(f"/v1/filings/{receipt['filing_id']}", headers=auth(carrier))
    missing = client.get("/v1/filings/fil_nope", headers=auth(carrier))
    assert mine.status_code == 200
    assert mine.json()["filing"]["seller_id"] == "S-1001"
    assert "product_picture" in mine.json()["elements"]
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == {**missing.json(), "message": theirs.json()["message"]}


def test_concurrent_filings_for_a_new_tracking_number_make_one_shipment(client, keys, session: Session) -> None:
    from concurrent.futures import ThreadPoolExecutor

    carriers = [keys("carrier") for _ in range(6)]

    def send(i: int) -> int:
        carrier = carriers[i]
        filing = carrier_filing(carrier.originator_code, tracking="RACE-1")
        return post(client, carrier, filing, security_scan=image_bytes(seed=100 + i)).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(send, range(6)))
    assert statuses == [201] * 6
    assert session.scalar(select(func.count(func.distinct(Filing.shipment_id)))) == 1
