"""Kill the server while filings stream in; after a restart nothing accepted is lost and the indexes agree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from service.db.engine import make_engine, make_session_factory
from service.db.tables import Embedding, Filing, FilingImage
from service.domain.images import ImageStore
from service.matching.indexes import IndexSet
from service.settings import Settings
from tests.service.test_serve import free_port, new_key
from tests.support import auth, image_bytes, marketplace_filing, multipart


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if client.get("/readyz").status_code == 200:
                return process, client
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"server not ready:\n{log.read_text()[-3000:]}")


def server_env(settings: Settings) -> dict[str, str]:
    """The environment of a `scanmatch serve` process on these settings' data, database and model."""
    return {
        **os.environ,
        "SCANMATCH_DATA_DIR": str(settings.data_dir),
        "SCANMATCH_DATABASE_URL": settings.resolved_database_url,
        "SCANMATCH_MATCHING__ENCODER": settings.matching.encoder,
    }


def test_killed_mid_stream_loses_nothing(matching_settings: Settings, tmp_path: Path) -> None:
    settings = matching_settings
    env = server_env(settings)
    log = tmp_path / "server.log"
    shop = new_key(env, "marketplace", "Streaming Shop")
    process, client = start(env, log)
    receipts: list[dict[str, Any]] = []
    stop = threading.Event()

    def stream() -> None:
        for i in range(200):
            if stop.is_set():
                return
            filing = marketplace_filing(shop["originator_code"], tracking=f"K-{i}", enhanced_description="lamp")
            try:
                response = client.post(
                    "/v1/filings",
                    headers=auth(shop["key"]),
                    files=multipart(filing, product_picture=image_bytes(seed=1000 + i)),
                )
            except httpx.TransportError:
                return
            if response.status_code == 201:
                receipts.append(response.json())

    sender = threading.Thread(target=stream)
    sender.start()
    while len(receipts) < 6 and sender.is_alive():
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    stop.set()
    sender.join(timeout=60)
    client.close()
    assert len(receipts) >= 6

    process, client = start(env, log)
    deadline = time.monotonic() + 180
    while client.get("/readyz").json().get("embedding_backlog") != 0:
        assert time.monotonic() < deadline, "embeddings never caught up"
        time.sleep(0.5)
    for receipt in receipts:
        assert client.get(f"/v1/filings/{receipt['filing_id']}", headers=auth(shop["key"])).status_code == 200
    process.send_signal(signal.SIGTERM)  # a clean stop saves the indexes
    process.wait(timeout=60)
    client.close()

    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        filings = set(session.scalars(select(Filing.id)).all())
        shas = set(session.scalars(select(FilingImage.image_sha256)).all())
        rows = session.execute(
            select(Embedding.id, Embedding.image_sha256, Embedding.modality, Embedding.model_sha256, Embedding.dim)
        ).all()
    engine.dispose()
    assert {r["filing_id"] for r in receipts} <= filings
    store = ImageStore(settings.image_dir)
    assert all(store.path_for(sha).is_file() for sha in shas)
    assert {sha for _, sha, _, _, _ in rows} == shas
    (model_sha,) = {m for _, _, _, m, _ in rows}
    indexes = IndexSet(settings.index_dir, model_sha256=model_sha, dim=rows[0][4], exact_max=10**6)
    assert sorted(indexes["listings"].ids().tolist()) == sorted(
        i for i, _, modality, _, _ in rows if modality == "photo"
    )
    assert indexes["scans"].size == 0
