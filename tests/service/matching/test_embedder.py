"""The embedding worker: rows in the database first, indexes from them, repaired after damage."""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.app import create_app
from service.db.engine import make_engine, make_session_factory
from service.db.tables import Embedding
from service.domain import filings, participants
from service.domain.actors import Actor, Principal
from service.domain.images import ImageStore
from service.matching import verdicts
from service.matching.embedder import decode
from service.matching.matcher import Matcher, Networks
from service.settings import Settings
from tests.support import auth, carrier_filing, image_bytes, multipart


def test_sixteen_bit_scans_are_stretched_not_clipped() -> None:
    ramp = np.tile(np.linspace(1000, 3000, 64, dtype=np.uint16), (8, 1))
    out = io.BytesIO()
    Image.fromarray(ramp).save(out, format="TIFF")
    rgb = np.asarray(decode(out.getvalue()))
    assert rgb.shape == (8, 64, 3) and rgb.min() == 0 and rgb.max() == 255


def file_scans(session: Session, store: ImageStore, settings: Settings, n: int) -> None:
    key = participants.create_key(session, role="carrier", name="C")
    actor = Actor(Principal(key.participant_id, key.name, key.role, key.originator_code))
    for i in range(n):
        filings.accept(
            session=session,
            actor=actor,
            filing_json=json.dumps(carrier_filing(key.originator_code, tracking=f"E{i}")),
            parts={"security_scan": image_bytes(seed=i)},
            store=store,
            limits=settings.images,
            on_change=verdicts.invalidate,
        )


def test_batched_embeddings_are_stored_then_indexed_and_rebuilt_after_damage(
    matching_settings: Settings, networks: Networks
) -> None:
    engine = make_engine(matching_settings.resolved_database_url)
    sessions = make_session_factory(engine)
    store = ImageStore(matching_settings.image_dir)
    with sessions() as session:
        file_scans(session, store, matching_settings, 5)
    matcher = Matcher(networks=networks, settings=matching_settings, sessions=sessions, store=store)
    assert matcher.backlog() == 5
    assert matcher.embedder.reconcile() == {"embedded": 5, "rebuilt": 0}
    assert matcher.backlog() == 0 and matcher.embedder.batcher.batches >= 1
    with sessions() as session:
        rows = session.scalars(select(Embedding)).all()
    assert len(rows) == 5 and {r.modality for r in rows} == {"xray"}
    vectors = np.stack([np.frombuffer(r.vector, "<f4") for r in rows])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert sorted(matcher.indexes["scans"].ids().tolist()) == sorted(r.id for r in rows)
    matcher.close()

    matcher.indexes["scans"].path.write_bytes(b"damaged")
    reopened = Matcher(networks=networks, settings=matching_settings, sessions=sessions, store=store)
    assert reopened.indexes["scans"].size == 0
    assert reopened.embedder.reconcile() == {"embedded": 0, "rebuilt": 1}
    assert sorted(reopened.indexes["scans"].ids().tolist()) == sorted(r.id for r in rows)
    hits = reopened.indexes["scans"].search(vectors[:1], 1)[0]
    assert hits[0].id == rows[0].id
    reopened.close()
    engine.dispose()


def test_the_embedding_backlog_is_a_prometheus_gauge_and_in_readyz(
    matching_settings: Settings, networks: Networks, keys: Any
) -> None:
    """Issue 20: how far embeddings lag is visible to an operator's monitoring. Batches wait up to 3 s for
    company here, so a scan filed alone is stored and waiting for its embedding when the two are read."""
    slow = matching_settings.matching.model_copy(update={"max_wait_ms": 3000.0, "max_batch_size": 64})
    settings = matching_settings.model_copy(update={"matching": slow})

    def gauge(client: TestClient) -> float:
        found = re.search(r"^scanmatch_embedding_backlog (\S+)$", client.get("/metrics").text, re.MULTILINE)
        assert found is not None
        return float(found.group(1))

    with TestClient(create_app(settings, networks=networks)) as client:
        carrier = keys("carrier")
        filed = client.post(
            "/v1/filings",
            files=multipart(carrier_filing(carrier.originator_code, tracking="T-LAG"), security_scan=image_bytes()),
            headers=auth(carrier),
        )
        assert filed.status_code == 201, filed.text
        waiting = gauge(client)
        assert waiting >= 1 and client.get("/readyz").json()["embedding_backlog"] >= 1
        deadline = time.monotonic() + 60
        while client.get("/readyz").json()["embedding_backlog"] != 0:
            assert time.monotonic() < deadline, "the scan was never embedded"
            time.sleep(0.2)
        assert gauge(client) == 0
