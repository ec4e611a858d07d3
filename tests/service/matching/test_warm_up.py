"""Warming up and running behind: the process answers while matching starts, and says when verdicts lag.

A first start loads the networks and calibrates the model (one to two minutes on a CPU). An orchestrator
probing `/healthz` must see a live process all along, `/readyz` must say what it is waiting for, intake
must accept filings, and the routes that need the matcher must say "starting", not hang or fail.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.app import create_app
from service.db.engine import make_engine, make_session_factory
from service.db.tables import Verdict
from service.matching.matcher import Networks
from service.settings import Settings
from tests.support import auth, carrier_filing, image_bytes, multipart


def test_a_warming_server_is_alive_accepts_filings_and_judges_them_once_ready(
    database_url: str, tmp_path: Any, networks: Networks, matching_config: Any, keys: Any
) -> None:
    # No calibration or familiarity recorded for the model: the start must fit both, on its own thread.
    config = matching_config.model_copy(update={"start_in_background": True, "calibration_pairs": 80})
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, log_format="console", matching=config)
    carrier, inspector = keys("carrier"), keys("inspector")
    with TestClient(create_app(settings, networks=networks)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        warming = client.get("/readyz")
        assert warming.status_code == 503
        assert warming.json()["status"] in ("loading models", "calibrating")
        assert warming.json()["checks"]["matching"] == warming.json()["status"]

        filed = client.post(
            "/v1/filings",
            files=multipart(carrier_filing(carrier.originator_code, tracking="W-1"), security_scan=image_bytes()),
            headers=auth(carrier),
        )
        assert filed.status_code == 201, filed.text
        shipment_id = filed.json()["shipment_id"]
        early = client.get(f"/v1/shipments/{shipment_id}/verdict", headers=auth(inspector))
        assert early.status_code == 503 and early.json()["error"] == "matching_starting"
        assert early.headers["retry-after"] == "30" and "still starting" in early.json()["message"]

        deadline = time.monotonic() + 600
        while (ready := client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, ready.json()
            time.sleep(0.5)
        assert ready.json()["checks"]["matching"] == "ok"
        # The filing accepted during the warm-up is judged without anyone asking (swept up from the database).
        matcher = client.app.state.matcher  # type: ignore[attr-defined]
        assert matcher.refresher.idle(timeout=120)
        engine = make_engine(database_url)
        with make_session_factory(engine)() as session:
            stored = session.scalars(select(Verdict.shipment_id)).all()
        engine.dispose()
        assert stored == [shipment_id]
        assert client.get(f"/v1/shipments/{shipment_id}/verdict", headers=auth(inspector)).status_code == 200


def test_receipts_say_when_verdicts_run_behind(matching_settings: Settings, networks: Networks, keys: Any) -> None:
    settings = matching_settings.model_copy(
        update={"matching": matching_settings.matching.model_copy(update={"delayed_after_s": 0.5})}
    )
    carrier = keys("carrier")

    def file(tracking: str, seed: int) -> dict[str, Any]:
        filing = carrier_filing(carrier.originator_code, tracking=tracking)
        response = client.post(
            "/v1/filings", files=multipart(filing, security_scan=image_bytes(seed=seed)), headers=auth(carrier)
        )
        assert response.status_code == 201, response.text
        return response.json()

    with TestClient(create_app(settings, networks=networks)) as client:
        matcher = client.app.state.matcher  # type: ignore[attr-defined]
        assert file("D-1", 1)["verdicts_delayed_s"] is None
        assert matcher.refresher.idle(timeout=120)
        with matcher.embedder._lock:  # the model is busy (a long batch): refreshes wait behind it
            file("D-2", 2)
            time.sleep(1.0)
            behind = file("D-3", 3)
            assert behind["verdicts_delayed_s"] is not None and behind["verdicts_delayed_s"] >= 1
            assert client.get("/readyz").json()["verdict_lag_seconds"] >= 1.0
            assert "scanmatch_verdict_lag_seconds" in client.get("/metrics").text
        assert matcher.refresher.idle(timeout=120)  # nothing was lost while it was behind
        assert file("D-4", 4)["verdicts_delayed_s"] is None
        assert matcher.refresher.idle(timeout=120)
        engine = make_engine(settings.resolved_database_url)
        with make_session_factory(engine)() as session:
            assert len(session.scalars(select(Verdict)).all()) == 4
        engine.dispose()
