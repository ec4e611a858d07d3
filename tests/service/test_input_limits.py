"""Hostile and malformed input (issue 20): refused in the service's shape, audited, before any file is written."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.tables import AuditEvent, Filing
from service.domain.filing_schema import MAX_FILING_BYTES
from tests.support import auth, carrier_filing, image_bytes, multipart


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
