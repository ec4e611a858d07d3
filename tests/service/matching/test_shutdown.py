"""SIGTERM under load: the server exits within 30 s, and after a restart every verdict owed arrives unasked."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from service.db.engine import make_engine, make_session_factory
from service.db.tables import Filing, Verdict
from service.settings import Settings
from tests.service.matching.test_crash import server_env, start
from tests.service.test_serve import new_key
from tests.support import auth, carrier_filing, image_bytes, multipart


def test_sigterm_under_load_exits_in_time_and_verdicts_resume_after_restart(
    matching_settings: Settings, tmp_path: Path
) -> None:
    settings = matching_settings
    env = server_env(settings)
    log = tmp_path / "server.log"
    carrier = new_key(env, "carrier", "Busy Carrier")
    process, client = start(env, log)
    receipts: list[dict[str, Any]] = []
    stop = threading.Event()

    def stream(worker: int) -> None:
        for i in range(400):
            if stop.is_set():
                return
            filing = carrier_filing(carrier["originator_code"], tracking=f"G{worker}-{i}")
            try:
                response = client.post(
                    "/v1/filings",
                    headers=auth(carrier["key"]),
                    files=multipart(filing, security_scan=image_bytes(seed=10_000 * worker + i)),
                )
            except httpx.TransportError:
                return
            if response.status_code == 201:
                receipts.append(response.json())

    senders = [threading.Thread(target=stream, args=(w,)) for w in range(4)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 120
    # Under load: refreshes queued behind the embedding worker.
    while client.get("/readyz").json().get("verdict_refresh_queue", 0) < 5 or len(receipts) < 20:
        assert time.monotonic() < deadline, "the server never fell behind"
        time.sleep(0.1)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    exit_s = time.monotonic() - signalled
    stop.set()
    for sender in senders:
        sender.join(timeout=60)
    client.close()
    assert exit_s < 30, f"SIGTERM took {exit_s:.1f} s:\n{log.read_text()[-3000:]}"

    engine = make_engine(settings.resolved_database_url)
    sessions = make_session_factory(engine)

    def owed() -> set[str]:
        with sessions() as session:
            filed = set(session.scalars(select(Filing.shipment_id)).all())
            return filed - set(session.scalars(select(Verdict.shipment_id)).all())

    assert owed(), "every verdict was computed before the stop: the test did not stop the server under load"
    process, client = start(env, log)
    try:
        deadline = time.monotonic() + 300
        while owed():  # nobody asks for a verdict: the restarted server sweeps them up itself
            assert time.monotonic() < deadline, f"{len(owed())} verdicts never arrived"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        client.close()
    with sessions() as session:
        judged = set(session.scalars(select(Verdict.shipment_id)).all())
    engine.dispose()
    assert {r["shipment_id"] for r in receipts} <= judged
