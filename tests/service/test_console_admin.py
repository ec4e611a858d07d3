"""The console's administration pages over HTTP through the app: keys issued, listed and revoked, and a
shipment's audit trail; forms refused without their CSRF token, filers' text escaped, inspectors kept out."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.domain import audit, participants
from tests.service.test_console import csrf_token, sign_in
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart

ISSUED = re.compile(r'<code class="secret" id="issued-key">(smk_[A-Za-z0-9_-]+)</code>')


def test_an_administrator_issues_lists_and_revokes_keys(client: TestClient, keys: Any, session: Session) -> None:
    assert sign_in(client, keys("admin", "Ada Admin").key).status_code == 303
    page = client.get("/console/admin/keys")
    assert page.status_code == 200 and "Ada Admin" in page.text
    form = {"role": "inspector", "name": "<b>Ines</b> & co"}

    refused = client.post("/console/admin/keys", data=form, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF token" in refused.text
    assert all(k.name != form["name"] for k in participants.list_keys(session))

    issued_page = client.post("/console/admin/keys", data=form | {"csrf_token": csrf_token(page)})
    assert issued_page.status_code == 200, issued_page.text
    found = ISSUED.search(issued_page.text)
    assert found, issued_page.text
    key = found.group(1)
    assert "&lt;b&gt;Ines&lt;/b&gt; &amp; co" in issued_page.text and "<b>Ines</b>" not in issued_page.text
    [stored] = [k for k in participants.list_keys(session) if k.name == form["name"]]
    assert stored.role == "inspector" and stored.revoked_at is None

    listing = client.get("/console/admin/keys")
    assert key not in listing.text, "the key is shown once, on the response that issued it"
    assert stored.key_id in listing.text and "&lt;b&gt;Ines&lt;/b&gt;" in listing.text

    other = TestClient(client.app)  # the new inspector, in a browser of their own
    assert sign_in(other, key).status_code == 303
    assert other.get("/console/find?q=T-none").status_code == 200
    assert other.get("/console/admin/keys").status_code == 403  # keys are for administrators

    revoke = f"/console/admin/keys/{stored.key_id}/revoke"
    assert client.post(revoke, data={}, follow_redirects=False).status_code == 403
    assert other.get("/console/find?q=T-none", follow_redirects=False).status_code == 200  # nothing was revoked
    revoked = client.post(revoke, data={"csrf_token": csrf_token(listing)}, follow_redirects=False)
    assert revoked.status_code == 303 and revoked.headers["location"] == f"/console/admin/keys?revoked={stored.key_id}"
    after = client.get(revoked.headers["location"])
    assert f"Key {stored.key_id} revoked" in after.text
    assert f"/console/admin/keys/{stored.key_id}/revoke" not in after.text  # no button for a revoked key
    assert other.get("/console/find?q=T-none", follow_redirects=False).headers["location"] == "/console/sign-in"
    assert sign_in(TestClient(client.app), key).status_code == 401

    trail = {(e.action, e.outcome) for e in audit.events(session, shipment_ids=None, limit=100)}
    assert {("key.create", "ok"), ("key.create", "forbidden"), ("key.revoke", "ok"), ("key.revoke", "forbidden")} <= (
        trail
    )


def test_an_administrator_reads_a_shipments_audit_trail(client: TestClient, keys: Any) -> None:
    shop, courier = keys("marketplace", "<script>Shop</script>"), keys("carrier")
    inspector, admin = keys("inspector", "Ines"), keys("admin", "Ada")
    sent = client.post(
        "/v1/filings",
        headers=auth(shop),
        files=multipart(marketplace_filing(shop.originator_code, tracking="T-AUD"), product_picture=image_bytes()),
    )
    assert sent.status_code == 201, sent.text
    shipment_id = sent.json()["shipment_id"]
    scan = multipart(carrier_filing(courier.originator_code, tracking="T-AUD"), security_scan=image_bytes(seed=3))
    assert client.post("/v1/filings", headers=auth(courier), files=scan).status_code == 201
    assert client.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector)).status_code == 200
    assert client.get(f"/v1/shipments/{shipment_id}", headers=auth(courier)).status_code == 403

    assert sign_in(client, admin.key).status_code == 303
    page = client.get("/console/admin/audit", params={"shipment_id": shipment_id})
    assert page.status_code == 200
    rows = re.findall(r"<tr class=\"(failed|)\">(.*?)</tr>", page.text, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for _, row in rows]
    seen = {(c[1], c[3], c[4]) for c in cells}
    assert ("Ines", "<code>shipment.read</code>", "ok") in seen
    assert (courier.name, "<code>shipment.read</code>", "forbidden") in seen
    assert ("&lt;script&gt;Shop&lt;/script&gt;", "<code>filing.create</code>", "ok") in seen
    assert "<script>Shop" not in page.text
    assert all(shipment_id in c[5] for c in cells)

    latest = client.get("/console/admin/audit")
    assert latest.status_code == 200 and "The latest events of the whole service" in latest.text

    assert sign_in(client, inspector.key).status_code == 303
    assert client.get("/console/admin/audit", params={"shipment_id": shipment_id}).status_code == 403
