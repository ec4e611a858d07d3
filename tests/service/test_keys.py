"""Key management over HTTP: administrators only, audited, the same rules as the CLI."""

from __future__ import annotations

from tests.support import auth


def test_admin_issues_lists_and_revokes_keys(client, keys) -> None:
    admin = keys("admin")
    issued = client.post("/v1/keys", json={"role": "forwarder", "name": "Fast Freight"}, headers=auth(admin))
    assert issued.status_code == 201
    body = issued.json()
    assert body["originator_code"].startswith("OC") and body["key"].startswith("smk_")
    listed = client.get("/v1/keys", headers=auth(admin)).json()
    assert {k["key_id"] for k in listed} == {admin.key_id, body["key_id"]}
    assert all("key" not in k for k in listed)
    revoked = client.delete(f"/v1/keys/{body['key_id']}", headers=auth(admin))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/v1/filings/fil_x", headers=auth(body["key"])).status_code == 401
    assert client.delete("/v1/keys/key_nope", headers=auth(admin)).status_code == 404
    bad = client.post("/v1/keys", json={"role": "boss", "name": "X"}, headers=auth(admin))
    assert bad.status_code == 422 and "choose one of" in bad.json()["message"]
    trail = {(e["action"], e["outcome"]) for e in client.get("/v1/audit", headers=auth(admin)).json()}
    assert {("key.create", "ok"), ("key.revoke", "ok"), ("key.create", "key_problem")} <= trail


def test_nobody_else_manages_keys(client, keys) -> None:
    for role in ("carrier", "marketplace", "inspector"):
        key = keys(role)
        assert client.post("/v1/keys", json={"role": "admin", "name": "me"}, headers=auth(key)).status_code == 403
        assert client.get("/v1/keys", headers=auth(key)).status_code == 403
