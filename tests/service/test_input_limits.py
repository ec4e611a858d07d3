"""Hostile and malformed input (issue 20): refused in the service's shape, audited, before any file is written."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.tables import AuditEvent, Filing, StoredImage
from service.domain import participants
from service.domain.errors import KeyProblem
from service.domain.filing_schema import MAX_FILING_BYTES
from tests.service.test_console import sign_in
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart


def stored_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = settings.image_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def refusals(session: Session, action: str) -> list[str]:
    session.expire_all()
    query = select(AuditEvent.outcome).where(AuditEvent.action == action, AuditEvent.outcome != "ok")
    return list(session.scalars(query.order_by(AuditEvent.id)))


def post_raw(client: TestClient, key: object, filing: str, **images: bytes):  # type: ignore[no-untyped-def]
    files = {"filing": (None, filing, "application/json")}
    files |= {part: (f"{part}.bin", data, "application/octet-stream") for part, data in images.items()}
    return client.post("/v1/filings", files=files, headers=auth(key))


def post(client: TestClient, key: object, filing: dict, **images: bytes):  # type: ignore[no-untyped-def]
    return client.post("/v1/filings", files=multipart(filing, **images), headers=auth(key))


def test_deeply_nested_filing_json_is_refused_naming_the_part(client, keys, settings, session: Session) -> None:
    carrier = keys("carrier")
    bomb = json.dumps(carrier_filing(carrier.originator_code))[:-1] + ', "x": ' + "[" * 2000 + "]" * 2000 + "}"
    response = post_raw(client, carrier, bomb, security_scan=image_bytes())
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_filing" and "filing" in body["message"]
    assert body["errors"][0]["path"] == "filing" and body["errors"][0]["type"] == "json_too_deep"
    # Deep, but not deep enough to trouble any parser: refused by the declared limit all the same.
    nested = json.dumps(carrier_filing(carrier.originator_code))[:-1] + ', "x": ' + "[" * 20 + "]" * 20 + "}"
    assert post_raw(client, carrier, nested).json()["errors"][0]["type"] == "json_too_deep"
    assert stored_files(settings) == []
    assert session.scalar(select(func.count()).select_from(Filing)) == 0
    assert refusals(session, "filing.create") == ["invalid_filing", "invalid_filing"]


def test_oversized_filing_json_is_refused_naming_the_part(client, keys, settings, session: Session) -> None:
    carrier = keys("carrier")
    filing = carrier_filing(carrier.originator_code)
    padded = json.dumps(filing) + " " * MAX_FILING_BYTES
    response = post_raw(client, carrier, padded, security_scan=image_bytes())
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "part_too_large" and response.json()["part"] == "filing"
    assert stored_files(settings) == []
    assert refusals(session, "filing.create") == ["part_too_large"]
    # The same filing within the limit is taken.
    taken = client.post("/v1/filings", files=multipart(filing, security_scan=image_bytes()), headers=auth(carrier))
    assert taken.status_code == 201


NUL_FIELDS = [
    ("carrier", ("identifiers", "tracking_number")),
    ("carrier", ("identifiers", "house_bill")),
    ("carrier", ("transmission_id",)),
    ("marketplace", ("seller_id",)),
    ("carrier", ("enhanced_description",)),
]


@pytest.mark.parametrize(("role", "path"), NUL_FIELDS, ids=[".".join(p) for _, p in NUL_FIELDS])
def test_nul_in_a_filed_string_is_refused_alike_on_both_backends(  # type: ignore[no-untyped-def]
    client, keys, settings, session: Session, role: str, path: tuple[str, ...]
) -> None:
    filer = keys(role)
    build = carrier_filing if role == "carrier" else marketplace_filing
    filing = build(filer.originator_code)
    *parents, leaf = path
    node = filing
    for parent in parents:
        node = node[parent]
    node[leaf] = "T\x001"
    part = "security_scan" if role == "carrier" else "product_picture"
    response = client.post("/v1/filings", files=multipart(filing, **{part: image_bytes()}), headers=auth(filer))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_filing"
    assert [e["path"] for e in response.json()["errors"]] == [".".join(["filing", *path])]
    assert stored_files(settings) == []
    assert refusals(session, "filing.create") == ["invalid_filing"]


def test_nul_in_a_filing_element_name_is_refused_and_audited(client, keys, session: Session) -> None:
    carrier = keys("carrier")
    filing = carrier_filing(carrier.originator_code)
    filing["identifiers"]["tracking\x00number"] = "T2"
    response = client.post("/v1/filings", files=multipart(filing), headers=auth(carrier))
    assert response.status_code == 422 and response.json()["error"] == "invalid_filing"
    assert refusals(session, "filing.create") == ["invalid_filing"]


@pytest.mark.parametrize("name", ["Fast\x00Freight", "F" * 250], ids=["nul", "250 characters"])
def test_key_names_that_cannot_be_stored_are_refused_and_audited(client, keys, session: Session, name: str) -> None:
    admin = keys("admin")
    response = client.post("/v1/keys", json={"role": "carrier", "name": name}, headers=auth(admin))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request" and response.json()["errors"][0]["path"] == "name"
    assert refusals(session, "key.create") == ["invalid_request"]
    # The CLI and the console reach the same domain call: it refuses them too.
    with pytest.raises(KeyProblem):
        participants.create_key(session, role="carrier", name=name)


BAD_IDS = {"60 characters": "shp_" + "0" * 56, "nul": "shp_0\x001", "slash-free junk": "shp_'; --"}
ID_ROUTES = [
    ("inspector", "GET", "/v1/shipments/{}", "shipment.read"),
    ("carrier", "GET", "/v1/filings/{}", "filing.read"),
    ("admin", "DELETE", "/v1/keys/{}", "key.revoke"),
]


@pytest.mark.parametrize("bad", BAD_IDS.values(), ids=BAD_IDS.keys())
@pytest.mark.parametrize(("role", "method", "route", "action"), ID_ROUTES, ids=[r[2] for r in ID_ROUTES])
def test_ids_that_cannot_exist_answer_422_and_are_audited(  # type: ignore[no-untyped-def]
    client, keys, session: Session, bad: str, role: str, method: str, route: str, action: str
) -> None:
    key = keys(role)
    response = client.request(method, route.format(quote(bad, safe="")), headers=auth(key))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request" and set(response.json()) >= {"error", "message"}
    assert refusals(session, action) == ["invalid_request"]


@pytest.mark.parametrize(
    ("role", "route", "params", "action"),
    [
        ("inspector", "/v1/shipments", {"tracking_number": "T\x001"}, "shipment.search"),
        ("inspector", "/v1/shipments", {"house_bill": "H" * 101}, "shipment.search"),
        ("admin", "/v1/audit", {"shipment_id": "shp_\x00"}, "audit.read"),
        ("admin", "/v1/audit", {"shipment_id": "shp_" + "0" * 56}, "audit.read"),
    ],
    ids=["nul tracking number", "101-character house bill", "nul shipment id", "60-character shipment id"],
)
def test_query_values_that_cannot_be_stored_answer_422_and_are_audited(  # type: ignore[no-untyped-def]
    client, keys, session: Session, role: str, route: str, params: dict[str, str], action: str
) -> None:
    response = client.get(route, params=params, headers=auth(keys(role)))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert refusals(session, action) == ["invalid_request"]


def claiming(size: tuple[int, int], jpeg: bytes) -> bytes:
    """`jpeg` with its frame header (SOF0) rewritten to claim `size`: the scan data stays the small image's."""
    at = jpeg.index(b"\xff\xc0")
    width, height = size
    return jpeg[: at + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + jpeg[at + 9 :]


def test_a_jpeg_claiming_more_pixels_than_its_data_holds_is_refused(client, keys, settings, session: Session) -> None:
    carrier = keys("carrier")
    small = image_bytes("JPEG", size=(64, 48))
    crafted = claiming((6000, 6000), small)
    assert Image.open(io.BytesIO(crafted)).size == (6000, 6000) and len(crafted) < 7000
    response = post(client, carrier, carrier_filing(carrier.originator_code), security_scan=crafted)
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["error"], body["part"]) == ("image_rejected", "security_scan")
    assert "corrupt or truncated" in body["message"]
    assert stored_files(settings) == [] and session.scalar(select(func.count()).select_from(StoredImage)) == 0
    assert refusals(session, "filing.create") == ["image_rejected"]


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_a_jpeg_cut_short_before_its_end_marker_is_refused(client, keys, settings, progressive: bool) -> None:
    carrier = keys("carrier")
    out = io.BytesIO()
    Image.open(io.BytesIO(image_bytes(size=(256, 256)))).save(out, "JPEG", progressive=progressive)
    whole = out.getvalue()
    # Cut mid-scan and closed with an end-of-image marker: libjpeg alone pads the rest with grey.
    truncated = whole[: len(whole) // 2] + b"\xff\xd9"
    refused = post(client, carrier, carrier_filing(carrier.originator_code), security_scan=truncated)
    assert refused.status_code == 422 and "corrupt or truncated" in refused.json()["message"]
    assert stored_files(settings) == []
    taken = post(client, carrier, carrier_filing(carrier.originator_code), security_scan=whole)
    assert taken.status_code == 201, taken.text


@pytest.mark.parametrize("part", ["product_picture", "filing"])
def test_a_part_sent_twice_is_refused_by_name(client, keys, settings, session: Session, part: str) -> None:
    shop = keys("marketplace")
    filing = json.dumps(marketplace_filing(shop.originator_code))
    picture = ("p.jpg", image_bytes("JPEG", seed=1), "image/jpeg")
    files = [("filing", (None, filing, "application/json")), ("product_picture", picture)]
    if part == "filing":
        files.append(("filing", (None, filing.replace('"T1"', '"T2"'), "application/json")))
    else:
        files.append(("product_picture", ("q.jpg", image_bytes("JPEG", seed=2), "image/jpeg")))
    response = client.post("/v1/filings", files=files, headers=auth(shop))
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["part"]) == ("duplicate_part", part)
    assert body["message"].startswith(f"{part}: sent 2 times")
    assert stored_files(settings) == [] and session.scalar(select(func.count()).select_from(Filing)) == 0
    assert refusals(session, "filing.create") == ["duplicate_part"]


@pytest.mark.parametrize("part", ["filing", "notes"])
def test_a_text_part_over_the_form_limit_is_named(client, keys, settings, part: str) -> None:
    carrier = keys("carrier")
    files = multipart(carrier_filing(carrier.originator_code), security_scan=image_bytes())
    files[part] = (None, "x" * (1024 * 1024 + 1), "text/plain")
    response = client.post("/v1/filings", files=files, headers=auth(carrier))
    assert response.status_code == 413, response.text
    assert (response.json()["error"], response.json()["part"]) == ("part_too_large", part)
    assert response.json()["message"].startswith(f"{part}: ")
    assert stored_files(settings) == []


EXAMINATIONS = "/v1/shipments/shp_0/examinations"
BAD_JSON = {
    "truncated json": b'{"role": "carrier", "name": ',
    "not utf-8": b'{"role": "carrier", "name": "\xff"}',
    "nested 2000 deep": b'{"name": ' + b"[" * 2000 + b"]" * 2000 + b"}",
}
BAD_MULTIPART = {
    "a part without a name": (
        b"--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xyz--\r\n",
        "multipart/form-data; boundary=xyz",
    ),
    "no boundary": (b"garbage", "multipart/form-data"),
}
MALFORMED = [
    *[
        (route, body, "application/json", name)
        for route in ("/v1/keys", EXAMINATIONS)
        for name, body in BAD_JSON.items()
    ],
    *[("/v1/filings", body, content_type, name) for name, (body, content_type) in BAD_MULTIPART.items()],
]


@pytest.mark.parametrize(
    ("route", "content", "content_type"), [m[:3] for m in MALFORMED], ids=[f"{m[0]} {m[3]}" for m in MALFORMED]
)
def test_malformed_bodies_answer_400_in_the_service_shape(  # type: ignore[no-untyped-def]
    client, keys, route: str, content: bytes, content_type: str
) -> None:
    response = client.post(route, content=content, headers=auth(keys("admin")) | {"Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error", "message"} and response.json()["error"] == "malformed_body"


def test_a_multi_page_tiff_is_refused(client, keys, settings) -> None:
    carrier = keys("carrier")
    pages = [Image.open(io.BytesIO(image_bytes("PNG", seed=seed))) for seed in (1, 2)]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    response = post(client, carrier, carrier_filing(carrier.originator_code), security_scan=out.getvalue())
    assert response.status_code == 422, response.text
    assert response.json()["part"] == "security_scan" and "holds 2 images" in response.json()["message"]
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("role", "page", "action"),
    [
        ("inspector", "/console/find?q=T%001", "shipment.search"),
        ("admin", "/console/admin/audit?shipment_id=shp_%00", "audit.read"),
    ],
    ids=["search", "audit trail"],
)
def test_console_queries_that_cannot_be_stored_are_refused_and_audited(  # type: ignore[no-untyped-def]
    client, keys, session: Session, role: str, page: str, action: str
) -> None:
    assert sign_in(client, keys(role).key).status_code == 303
    response = client.get(page)
    assert response.status_code == 422, response.text
    assert refusals(session, action) == ["invalid_request"]
