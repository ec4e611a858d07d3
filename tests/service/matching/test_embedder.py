"""The embedding worker: rows in the database first, indexes from them, repaired after damage."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.engine import make_engine, make_session_factory
from service.db.tables import Embedding
from service.domain import filings, participants
from service.domain.actors import Actor, Principal
from service.domain.images import ImageStore
from service.matching import verdicts
from service.matching.embedder import decode
from service.matching.matcher import Matcher, Networks
from service.settings import Settings
from tests.support import carrier_filing, image_bytes


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
