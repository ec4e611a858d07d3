"""Health, readiness, metrics, request ids and the OpenAPI document."""

from __future__ import annotations

import json
import logging

from tests.support import auth, carrier_filing, image_bytes, multipart


def test_health_and_readiness(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "images": "ok"}


def test_metrics_count_requests_by_route(client, keys) -> None:
    carrier = keys("carrier")
    client.post(
        "/v1/filings",
        files=multipart(carrier_filing(carrier.originator_code), security_scan=image_bytes()),
        headers=auth(carrier),
    )
    text = client.get("/metrics").text
    assert 'scanmatch_http_requests_total{method="POST",route="/v1/filings",status="201"} 1.0' in text
    assert 'scanmatch_filings_total{filer_type="carrier",outcome="created"} 1.0' in text


def test_every_response_carries_a_request_id_that_the_logs_share(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="scanmatch.http"):
        response = client.get("/healthz", headers={"X-Request-ID": "0123456789abcdef0123456789abcdef"})
    assert response.headers["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
    fresh = client.get("/healthz").headers["X-Request-ID"]
    assert fresh and fresh != response.headers["X-Request-ID"]
    lines = [r.getMessage() for r in caplog.records if r.name == "scanmatch.http"]
    assert any("0123456789abcdef0123456789abcdef" in line for line in lines), lines


def test_openapi_documents_the_wire_contract(client) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/filings",
        "/v1/filings/{filing_id}",
        "/v1/shipments",
        "/v1/shipments/{shipment_id}",
        "/v1/images/{sha256}",
        "/v1/audit",
    } <= set(spec["paths"])
    keyed = [(path, verb) for path, ops in spec["paths"].items() if path.startswith("/v1/") for verb in ops]
    assert len(keyed) >= 12 and all("401" in spec["paths"][p][v]["responses"] for p, v in keyed), keyed
    form = json.dumps(spec["paths"]["/v1/filings"]["post"]["requestBody"])
    assert "multipart/form-data" in form
    assert client.get("/docs").status_code == 200


def test_options_and_405_name_every_method_of_the_path(client) -> None:
    """Starlette named only the first route's methods: `OPTIONS /v1/keys` said POST (issue 20, finding 5)."""
    options = client.options("/v1/keys")
    assert options.status_code == 204 and options.headers["allow"] == "GET, OPTIONS, POST", options.headers
    assert "content-security-policy" in options.headers  # inside the security headers
    wrong = client.delete("/v1/keys")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, OPTIONS, POST"
    assert wrong.json()["error"] == "method_not_allowed"
    assert client.options("/v1/keys/key_x").headers["allow"] == "DELETE, OPTIONS"
    assert client.options("/nowhere").status_code == 404


def test_oversized_requests_are_refused_before_parsing(client, keys, settings) -> None:
    carrier = keys("carrier")
    settings.images.max_bytes = 10  # the app computed its request limit at startup, from the original value
    response = client.post(
        "/v1/filings",
        content=b"x" * 10,
        headers={**auth(carrier), "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(10**10)},
    )
    assert response.status_code == 413
