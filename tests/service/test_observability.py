"""Logs never hold keys or personal data: intake, reads and refusals logged at DEBUG, then every key and every
name, address, phone and email filed is looked for in what the process wrote."""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from service.api.app import create_app
from service.db.engine import make_engine
from service.db.tables import Participant
from service.observability import configure_logging
from service.settings import Settings
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart

PERSONAL = {
    "buyer": "Zebulon Quixote-Marchetti",
    "street": "742 Evergreen Terrace Apt 9Q",
    "city": "Quahogville",
    "postal": "99871",
    "phone": "+1 555 867 5309",
    "email": "zebulon.qm@personal-example.net",
    "seller": "Wrigglesworth Xylophone Emporium",
    "seller_street": "88 Kowloon Bay Rd Unit 17",
    "seller_phone": "+852 2345 6789",
    "initiator": "Ottoline Fairweather-Gunn",
}
WRONG_KEY = "smk_ThisIsAMistypedKeyButStillASecret0000000000"


def filings(shop: Any, carrier: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    buyer_address = {
        "street": PERSONAL["street"],
        "city": PERSONAL["city"],
        "postal_code": PERSONAL["postal"],
        "region": "IL",
        "country": "US",
    }
    seller_address = {"street": PERSONAL["seller_street"], "city": "Hong Kong", "country": "HK"}
    listing = marketplace_filing(
        shop.originator_code,
        tracking="LOG1",
        seller={"name": PERSONAL["seller"], "address": seller_address, "phone": PERSONAL["seller_phone"]},
        final_deliver_to={"name": PERSONAL["buyer"], "address": buyer_address},
        buyer={
            "name": PERSONAL["buyer"],
            "address": buyer_address,
            "email": PERSONAL["email"],
            "phone": PERSONAL["phone"],
        },
    )
    manifest = carrier_filing(
        carrier.originator_code,
        tracking="LOG1",
        shipment_initiator={"name": PERSONAL["initiator"], "address": seller_address},
        final_deliver_to={"name": PERSONAL["buyer"], "address": buyer_address},
    )
    return listing, manifest


def forms(value: str) -> set[str]:
    """The ways a value could appear in a log line: as is, JSON-escaped, URL-encoded."""
    return {value, value.replace("+", "\\u002b"), urllib.parse.quote(value), urllib.parse.quote_plus(value)}


def test_logs_hold_no_keys_or_personal_data(
    settings: Settings, keys: Any, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"log_level": "DEBUG", "log_format": "json"})
    shop, carrier, inspector, admin = keys("marketplace"), keys("carrier"), keys("inspector"), keys("admin")
    listing, manifest = filings(shop, carrier)
    # The test's own HTTP client logs the URLs it calls; a real client runs elsewhere, so it is not the service's log.
    for name in ("httpx", "httpx2"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", True)
    with TestClient(create_app(settings)) as client:
        sent = client.post("/v1/filings", files=multipart(listing, product_picture=image_bytes()), headers=auth(shop))
        assert sent.status_code == 201, sent.text
        scanned = client.post(
            "/v1/filings", files=multipart(manifest, security_scan=image_bytes("JPEG", seed=1)), headers=auth(carrier)
        )
        assert scanned.status_code == 201, scanned.text
        shipment_id = sent.json()["shipment_id"]
        assert client.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector)).status_code == 200
        # Refused: a wrong key, a bad filing quoting personal data, a role that may not read, a key in a path.
        assert client.get(f"/v1/shipments/{shipment_id}", headers=auth(WRONG_KEY)).status_code == 401
        bad = dict(listing, buyer={**listing["buyer"], "email": PERSONAL["email"] * 10}, listed_price="free")
        assert client.post("/v1/filings", files=multipart(bad), headers=auth(shop)).status_code == 422
        assert client.get(f"/v1/shipments/{shipment_id}", headers=auth(carrier)).status_code == 403
        assert client.get(f"/v1/shipments?tracking_number={PERSONAL['email']}", headers=auth(inspector)).status_code
        assert client.delete(f"/v1/keys/{shop.key}", headers=auth(admin)).status_code in (404, 422)
        assert client.get(f"/v1/nowhere/{PERSONAL['email']}/{carrier.key}").status_code == 404
        signed = client.post("/console/sign-in", data={"key": WRONG_KEY}, follow_redirects=False)
        assert signed.status_code in (303, 401, 403), signed.text
    written = "".join(capfd.readouterr())
    assert '"event": "request"' in written and '"level": "debug"' in written  # DEBUG lines were captured
    secrets = {"key " + k.key: k.key for k in (shop, carrier, inspector, admin)} | {"wrong key": WRONG_KEY} | PERSONAL
    leaked = {what: value for what, value in secrets.items() if any(form in written for form in forms(value))}
    assert not leaked, f"in the logs: {leaked}"


def test_a_logged_database_error_quotes_none_of_the_values_it_refused(
    database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """A failing statement's traceback in the log names the statement, never its values (SQLAlchemy's parameters,
    PostgreSQL's DETAIL)."""
    configure_logging("DEBUG", "json")
    engine = make_engine(database_url)
    row = {"id": "par_1", "name": PERSONAL["buyer"], "role": "carrier", "originator_code": None}
    with engine.begin() as connection:
        connection.execute(Participant.__table__.insert(), row)
    try:  # the same name and role again: PostgreSQL's DETAIL would quote them
        with engine.begin() as connection:
            connection.execute(Participant.__table__.insert(), {**row, "id": "par_2"})
    except IntegrityError:
        structlog.get_logger("scanmatch.test").exception("insert failed")
    engine.dispose()
    written = "".join(capfd.readouterr())
    assert "IntegrityError" in written and "participants" in written
    assert PERSONAL["buyer"] not in written
