"""Embedding stored images: off the event loop, batched across filings, recorded in the database.

The database row is written first and the FAISS index follows it; on start-up `reconcile` embeds
any image that has no row yet and rebuilds any index that disagrees with the rows, so a crash at
any point loses nothing. A listing's text is embedded on the calling thread (one that computes a
verdict, never the event loop), under the lock that image batches hold.
"""

from __future__ import annotations

import io
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np
import structlog
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from models.encoders.encoder import Encoder
from service.batching import MicroBatcher
from service.db.tables import Embedding, FilingImage
from service.domain.images import ImageStore
from service.matching.indexes import IndexSet

log = structlog.get_logger("scanmatch.embedder")

MODALITY_OF_ROLE = {"security_scan": "xray", "product_picture": "photo"}
INDEX_OF_MODALITY = {"xray": "scans", "photo": "listings"}
Item = tuple[str, str]  # (image sha256, modality)


def decode(data: bytes) -> Image.Image:
    """RGB for the encoder; 16-bit scanner exports are stretched to 8 bits, not clipped."""
    image: Image.Image = Image.open(io.BytesIO(data))
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float32)
        low, high = float(array.min()), float(array.max())
        scaled = (array - low) / (high - low) * 255 if high > low else np.zeros_like(array)
        image = Image.fromarray(scaled.astype(np.uint8))
    return image.convert("RGB")


def to_vector(row: Embedding) -> np.ndarray:
    return np.frombuffer(row.vector, dtype="<f4").reshape(row.dim)


class Embedder:
    def __init__(
        self,
        *,
        encoder: Encoder,
        sessions: sessionmaker[Session],
        store: ImageStore,
        indexes: IndexSet,
        max_batch_size: int,
        max_wait_ms: float,
        save_every_s: float = 30.0,
    ) -> None:
        self.encoder = encoder
        self.sessions = sessions
        self.store = store
        self.indexes = indexes
        self.save_every_s = save_every_s
        self._saved_at = time.monotonic()
        self._lock = threading.Lock()  # one model call at a time, whoever calls
        self.batcher: MicroBatcher[Item, int] = MicroBatcher(
            self._embed_batch, max_batch_size=max_batch_size, max_wait_ms=max_wait_ms, name="embedder"
        )

    def submit(self, sha256: str, modality: str) -> Future[int]:
        return self.batcher.submit((sha256, modality))

    def embed_now(self, items: Sequence[Item]) -> list[int]:
        """Embed these images through the batcher and wait: the embedding ids, in order."""
        return [future.result() for future in [self.submit(*item) for item in items]]

    def embed_text(self, text: str) -> np.ndarray:
        """One listing text, under the same lock as image batches: one model call at a time."""
        with self._lock:
            return self.encoder.embed_texts([text])[0]

    def close(self) -> None:
        self.batcher.close()
        self.indexes.save()

    def _embed_batch(self, items: Sequence[Item]) -> list[int]:
        with self._lock, self.sessions() as session:
            ids = self._embed(session, items)
            session.commit()
            rows = session.scalars(select(Embedding).where(Embedding.id.in_(set(ids)))).all()
        for modality, index_name in INDEX_OF_MODALITY.items():
            chosen = [row for row in rows if row.modality == modality]
            if chosen:
                self.indexes[index_name].add(np.array([r.id for r in chosen]), np.stack([to_vector(r) for r in chosen]))
        if time.monotonic() - self._saved_at > self.save_every_s:
            self.indexes.save()
            self._saved_at = time.monotonic()
        return ids

    def _embed(self, session: Session, items: Sequence[Item]) -> list[int]:
        known = {
            (row.image_sha256, row.modality): row.id
            for row in session.scalars(
                select(Embedding).where(
                    Embedding.model_sha256 == self.encoder.identity,
                    Embedding.image_sha256.in_({sha for sha, _ in items}),
                )
            )
        }
        todo: dict[str, list[str]] = defaultdict(list)
        for sha, modality in dict.fromkeys(items):
            if (sha, modality) not in known:
                todo[modality].append(sha)
        for modality, shas in todo.items():
            vectors = self.encoder.embed_images(modality, [decode(self.store.read(sha)) for sha in shas])  # type: ignore[arg-type]
            for sha, vector in zip(shas, vectors, strict=True):
                row = Embedding(
                    image_sha256=sha,
                    modality=modality,
                    model_name=self.encoder.name,
                    model_sha256=self.encoder.identity,
                    dim=self.encoder.dim,
                    vector=vector.astype("<f4").tobytes(),
                )
                session.add(row)
                session.flush()
                known[(sha, modality)] = row.id
        return [known[item] for item in items]

    def missing(self, session: Session) -> list[Item]:
        """Stored images of filings that have no embedding from this model yet."""
        done = set(
            session.execute(
                select(Embedding.image_sha256, Embedding.modality).where(
                    Embedding.model_sha256 == self.encoder.identity
                )
            ).all()
        )
        wanted = {
            (sha, MODALITY_OF_ROLE[role])
            for sha, role in session.execute(select(FilingImage.image_sha256, FilingImage.role)).all()
        }
        return sorted(wanted - done)

    def reconcile(
        self, *, progress: bool = False, chunk: int = 64, stop: threading.Event | None = None
    ) -> dict[str, int]:
        """Embed what is missing, then make every index hold exactly what the database holds.

        A set `stop` ends it between chunks (the service is shutting down): the next start carries on.
        """
        with self.sessions() as session:
            todo = self.missing(session)
        bar = tqdm(total=len(todo), desc="embedding", unit="img", disable=not progress)
        for start in range(0, len(todo), chunk):
            if stop is not None and stop.is_set():
                return {"embedded": start, "rebuilt": 0}
            part = todo[start : start + chunk]
            self.embed_now(part)
            bar.update(len(part))
        bar.close()
        rebuilt = 0
        with self.sessions() as session:
            for name, (ids, vectors) in self.expected(session).items():
                index = self.indexes[name]
                if set(index.ids().tolist()) != set(ids.tolist()):
                    log.info("rebuilding index", index=name, vectors=len(ids), had=index.size)
                    index.rebuild(ids, vectors)
                    rebuilt += 1
        self.indexes.save()
        return {"embedded": len(todo), "rebuilt": rebuilt}

    def expected(self, session: Session) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What each index must hold according to the database: (ids, vectors)."""
        return expected(session, self.encoder.identity, self.encoder.dim)


def expected(session: Session, model_sha256: str, dim: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """What each index of a model must hold according to the database: (ids, vectors) per index name."""
    rows = session.scalars(select(Embedding).where(Embedding.model_sha256 == model_sha256).order_by(Embedding.id)).all()
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for modality, name in INDEX_OF_MODALITY.items():
        chosen = [r for r in rows if r.modality == modality]
        out[name] = _stack([r.id for r in chosen], [to_vector(r) for r in chosen], dim)
    return out


def _stack(ids: list[int], vectors: list[np.ndarray], dim: int) -> tuple[np.ndarray, np.ndarray]:
    if not ids:
        return np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
    return np.array(ids, np.int64), np.stack(vectors).astype(np.float32)
