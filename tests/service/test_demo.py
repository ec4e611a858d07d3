"""`scanmatch demo`'s core, end to end through the app: keys, generated shipments filed over HTTP as filers
file them, every verdict computed; then the console over that data as an inspector sees it."""

from __future__ import annotations

import re
import stat
from typing import Any

from fastapi.testclient import TestClient

from service import demo
from service.db.engine import make_engine, make_session_factory
from service.db.tables import Filing
from service.domain import audit
from service.settings import Settings
from tests.service.test_console import csrf_token, sign_in
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart

N = 12  # one of each scenario, an air listing without its scan, a reused x-ray, a photo of another seller's


def test_the_demo_fills_the_console(matching_client: TestClient, matching_settings: Settings, tmp_path: Any) -> None:
    engine = make_engine(matching_settings.resolved_database_url)
    sessions = make_session_factory(engine)
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    keys, ids = demo.fill(matching_client, sessions, data_dir, n=N, progress=False)
    assert stat.S_IMODE((data_dir / demo.KEYS_FILE).stat().st_mode) == 0o600
    with sessions() as session:
        filed = session.query(Filing).count()
    assert filed == 2 * N - 1  # the shipment without a scan has the marketplace's filing alone

    again, same_ids = demo.fill(matching_client, sessions, data_dir, n=N, progress=False)
    assert again == keys and same_ids == ids
    with sessions() as session:
        assert session.query(Filing).count() == filed  # a second run files nothing

    inspector = keys["inspector"].key
    verdicts = {sid: matching_client.get(f"/v1/shipments/{sid}/verdict", headers=auth(inspector)).json() for sid in ids}
    failed = {sid: {c["code"] for c in v["structured"]["checks"] if not c["passed"]} for sid, v in verdicts.items()}
    assert verdicts[ids[demo.NO_SCAN_AT]]["decision"] == "insufficient_data"
    assert "air_scan" in failed[ids[demo.NO_SCAN_AT]]
    assert "xray_reuse" in failed[ids[demo.REUSED_XRAY_AT]]
    assert "picture_reuse" in failed[ids[demo.REUSED_PHOTO_AT]]
    assert len({v["decision"] for v in verdicts.values()}) >= 3

    assert sign_in(matching_client, inspector).status_code == 303
    queue = matching_client.get("/console/queue")
    assert queue.status_code == 200
    risks = [float(r) for r in re.findall(r'<td class="risk">.*?<span>([0-9.]+)</span>', queue.text, re.S)]
    assert len(risks) == N and risks == sorted(risks, reverse=True)
    top = re.search(r'href="/console/shipments/(shp_[0-9a-f]+)"', queue.text)
    assert top is not None
    shipment_id = top.group(1)
    assert verdicts[shipment_id]["risk"] == max(risks)

    page = matching_client.get(f"/console/shipments/{shipment_id}")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    images = re.findall(r'data-src="(/console/images/[0-9a-f]{64})"', page.text)
    assert len(images) == 2
    for url in images:
        shown = matching_client.get(url)
        assert shown.status_code == 200 and shown.headers["content-type"] in ("image/png", "image/jpeg")
    for reason in verdicts[shipment_id]["reasons"]:
        assert escaped(reason) in page.text
    decision_filter = matching_client.get("/console/queue", params={"decision": "insufficient_data"})
    assert ids[demo.NO_SCAN_AT] in decision_filter.text and decision_filter.text.count("/console/shipments/") == 1
    check_filter = matching_client.get("/console/queue", params={"check": "xray_reuse"})
    assert ids[demo.REUSED_XRAY_AT] in check_filter.text

    form = {"outcome": "prohibited_item", "found_category": "kitchen_knife", "notes": "under the foam <b>"}
    url = f"/console/shipments/{shipment_id}/examinations"
    refused = matching_client.post(url, data=form, follow_redirects=False)
    assert refused.status_code == 403
    recorded = matching_client.post(url, data=form | {"csrf_token": csrf_token(page)}, follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    assert recorded.headers["location"].endswith(f"?recorded={shipment_id}")
    assert shipment_id not in recorded.headers["location"].split("?")[0]
    pending = matching_client.get(
        "/v1/shipments", params={"order": "risk", "status": "pending"}, headers=auth(inspector)
    )
    assert shipment_id not in {item["shipment_id"] for item in pending.json()} and len(pending.json()) == N - 1
    assert f"/console/shipments/{shipment_id}" not in matching_client.get("/console/queue").text

    with sessions() as session:
        trail = audit.events(session, shipment_ids=[shipment_id], limit=100)
    console_reads = {(e.action, e.outcome) for e in trail if e.participant_name == demo.PARTICIPANTS["inspector"]}
    assert {("shipment.read", "ok"), ("verdict.read", "ok"), ("image.read", "ok"), ("examination.create", "ok")} <= (
        console_reads
    )
    assert ("examination.create", "forbidden") in console_reads
    engine.dispose()


def escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")
    )


def test_user_text_is_escaped(matching_client: TestClient, keys: Any) -> None:
    shop, courier, inspector = keys("marketplace"), keys("carrier"), keys("inspector")
    hostile = "<script>alert('seller')</script>"
    listing = marketplace_filing(
        shop.originator_code,
        tracking="T-XSS",
        seller={"name": hostile, "address": {"street": "1 Harbour Rd", "city": "Shenzhen", "country": "CN"}},
        enhanced_description=f"phone {hostile}",
    )
    sent = matching_client.post(
        "/v1/filings", headers=auth(shop), files=multipart(listing, product_picture=image_bytes("JPEG", seed=1))
    )
    assert sent.status_code == 201, sent.text
    scan = multipart(carrier_filing(courier.originator_code, tracking="T-XSS"), security_scan=image_bytes(seed=2))
    assert matching_client.post("/v1/filings", headers=auth(courier), files=scan).status_code == 201
    assert sign_in(matching_client, inspector.key).status_code == 303
    page = matching_client.get(f"/console/shipments/{sent.json()['shipment_id']}")
    assert page.status_code == 200
    assert hostile not in page.text and "&lt;script&gt;alert(&#39;seller&#39;)&lt;/script&gt;" in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
