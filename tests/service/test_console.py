"""The console's sign-in, sign-out, CSRF protection and security headers, over HTTP through the app."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from service.domain import audit

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, key: str, *, with_token: bool = True) -> Response:
    form = {"key": key}
    if with_token:
        form["csrf_token"] = csrf_token(client.get("/console/sign-in"))
    return client.post("/console/sign-in", data=form, follow_redirects=False)


def test_sign_in_and_sign_out(client: TestClient, keys: Any, session: Session) -> None:
    admin = keys("admin", "Ada Admin")
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/sign-in"

    signed = sign_in(client, admin.key)
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/console"
    cookie = signed.headers["set-cookie"]
    assert "scanmatch_console=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Path=/console" in cookie and admin.key not in cookie

    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/admin"
    page = client.get("/console/admin")
    assert page.status_code == 200 and "Ada Admin" in page.text
    assert admin.key not in page.text

    refused = client.post("/console/sign-out", data={}, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF token" in refused.text
    assert client.get("/console/admin").status_code == 200  # a post without the token changed nothing

    out = client.post("/console/sign-out", data={"csrf_token": csrf_token(page)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"
    client.cookies.clear()  # a browser would drop the cookie; the stolen token must not work either
    client.cookies.set("scanmatch_console", signed.cookies["scanmatch_console"], path="/console")
    assert client.get("/console/admin", follow_redirects=False).headers["location"] == "/console/sign-in"

    trail = [(e.action, e.outcome) for e in audit.events(session, shipment_ids=None, limit=50)]
    assert ("console.sign_in", "ok") in trail and ("console.sign_out", "ok") in trail
    assert ("console.sign_out", "forbidden") in trail


def test_filer_keys_are_refused(client: TestClient, keys: Any) -> None:
    for role in ("carrier", "marketplace"):
        refused = sign_in(client, keys(role).key)
        assert refused.status_code == 403
        assert f"{role} keys cannot sign in: the console is for inspectors and administrators" in refused.text
        assert "scanmatch_console" not in refused.cookies
    unknown = sign_in(client, "smk_not-a-key")
    assert unknown.status_code == 401 and "unknown API key" in unknown.text


def test_a_sign_in_without_its_csrf_token_is_refused(client: TestClient, keys: Any) -> None:
    refused = sign_in(client, keys("inspector").key, with_token=False)
    assert refused.status_code == 403 and "CSRF token" in refused.text
    assert "scanmatch_console" not in refused.cookies


def test_pages_carry_a_content_security_policy(client: TestClient) -> None:
    page = client.get("/console/sign-in")
    policy = page.headers["content-security-policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'"]
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "inline script"
    assert "style=" not in page.text
    for asset, kind in (("console.css", "text/css"), ("viewer.js", "javascript"), ("queue.js", "javascript")):
        served = client.get(f"/console/static/{asset}")
        assert served.status_code == 200 and kind in served.headers["content-type"]
    assert "default-src 'none'" in client.get("/healthz").headers["content-security-policy"]


def test_docs_are_served_by_the_app(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    assert all(a.startswith("/docs/assets/") for a in assets), assets
    assert "cdn" not in page.text
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 500, asset
    assert client.get("/openapi.json").json()["openapi"].startswith("3.")
