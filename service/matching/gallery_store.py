"""The labelled x-ray gallery kept: its scans in the database, their vectors per gallery space, one FAISS
index per space, rebuilt from the database whenever they disagree.

A gallery space is a model (by sha256) and the method that reads vectors with it (gallery.METHOD).
Index ids are `gallery_vectors.id`; a hit maps to its image and through it to every gallery row
(category, kind) of that image.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from PIL import Image
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from models.encoders.encoder import Encoder
from service.db.tables import GalleryScan, GalleryVector
from service.domain.images import ImageStore
from service.matching import gallery
from service.matching.embedder import decode
from service.matching.gallery import Neighbour, Vote
from service.matching.indexes import VectorIndex

log = structlog.get_logger("scanmatch.gallery")


class GalleryStore:
    def __init__(
        self,
        *,
        encoder: Encoder,
        sessions: sessionmaker[Session],
        store: ImageStore,
        index_dir: Path,
        exact_max: int,
        k: int,
        prior: float,
    ) -> None:
        self.encoder = encoder
        self.sessions = sessions
        self.store = store
        self.k = k
        self.prior = prior
        self.method = gallery.METHOD
        path = index_dir / encoder.sha256[:16] / f"gallery-{self.method}.faiss"
        self.index = VectorIndex(path, encoder.dim, exact_max=exact_max)

    def _space(self) -> tuple[ColumnElement[bool], ...]:
        """This space's vectors of images still in the gallery."""
        return (
            GalleryVector.model_sha256 == self.encoder.sha256,
            GalleryVector.method == self.method,
            GalleryVector.image_sha256.in_(select(GalleryScan.image_sha256)),
        )

    def add(self, session: Session, **row: Any) -> GalleryScan | None:
        return add_scan(session, **row)

    def missing(self, session: Session) -> list[str]:
        """Gallery images without vectors in this space."""
        done = select(GalleryVector.image_sha256).where(*self._space()[:2])
        return sorted(
            session.scalars(select(GalleryScan.image_sha256).where(GalleryScan.image_sha256.not_in(done)).distinct())
        )

    def embed_missing(self, session: Session, shas: list[str]) -> int:
        """Embed those of these gallery images that have no vectors in this space yet."""
        done = set(
            session.scalars(
                select(GalleryVector.image_sha256).where(*self._space()[:2], GalleryVector.image_sha256.in_(shas))
            )
        )
        todo = [sha for sha in dict.fromkeys(shas) if sha not in done]
        return self.embed(session, todo) if todo else 0

    def embed(self, session: Session, shas: list[str], images: list[Image.Image] | None = None) -> int:
        """Store these images' vectors in this space (flushed) and add them to the index; the vectors made."""
        images = images if images is not None else [decode(self.store.read(sha)) for sha in shas]
        made: list[GalleryVector] = []
        for sha, vectors in zip(shas, gallery.embed(self.encoder, images), strict=True):
            for part, vector in enumerate(vectors):
                made.append(
                    GalleryVector(
                        image_sha256=sha,
                        model_sha256=self.encoder.sha256,
                        method=self.method,
                        part=part,
                        dim=self.encoder.dim,
                        vector=np.asarray(vector, "<f4").tobytes(),
                    )
                )
        session.add_all(made)
        session.flush()
        if made:
            self.index.add(np.array([v.id for v in made]), np.stack([_vector(v) for v in made]))
        return len(made)

    def reconcile(self, *, progress: bool = False, chunk: int = 32) -> dict[str, int]:
        """Embed the gallery images this space lacks, then make the index hold exactly the database's vectors."""
        with self.sessions() as session:
            todo = self.missing(session)
            bar = tqdm(total=len(todo), desc="gallery vectors", unit="img", disable=not progress)
            for start in range(0, len(todo), chunk):
                part = todo[start : start + chunk]
                self.embed(session, part)
                session.commit()
                bar.update(len(part))
            bar.close()
            rebuilt = self.sync(session)
        self.index.save()
        return {"gallery_embedded": len(todo), "gallery_rebuilt": int(rebuilt)}

    def expected(self, session: Session) -> tuple[np.ndarray, np.ndarray]:
        """What the index must hold: (ids, vectors) of this space's vectors of images in the gallery."""
        rows = session.scalars(select(GalleryVector).where(*self._space()).order_by(GalleryVector.id)).all()
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, self.encoder.dim), np.float32)
        return np.array([r.id for r in rows], np.int64), np.stack([_vector(r) for r in rows])

    def sync(self, session: Session, *, force: bool = False) -> bool:
        """Rebuild the index from the database when their ids differ (or always, with force)."""
        ids, vectors = self.expected(session)
        if not force and set(self.index.ids().tolist()) == set(ids.tolist()):
            return False
        log.info("rebuilding the gallery index", vectors=len(ids), had=self.index.size)
        self.index.rebuild(ids, vectors)
        return True

    def _stale(self, session: Session) -> bool:
        # One count per search lets a running service see scans `scanmatch gallery import` added.
        stored = session.scalar(select(func.count()).select_from(GalleryVector).where(*self._space())) or 0
        return int(stored) != self.index.size

    def neighbours(self, session: Session, vectors: np.ndarray) -> list[Neighbour]:
        """The k nearest labelled images to an image's gallery vectors (parts, dim), nearest first."""
        if self._stale(session):
            self.sync(session)
        hits = [h for row in self.index.search(vectors, self.k * 4) for h in row]
        if not hits:
            return []
        image_of = dict(
            session.execute(
                select(GalleryVector.id, GalleryVector.image_sha256).where(GalleryVector.id.in_({h.id for h in hits}))
            ).all()
        )
        best: dict[str, float] = {}
        for hit in hits:
            sha = image_of.get(hit.id)
            if sha is not None and hit.score > best.get(sha, -np.inf):
                best[sha] = hit.score
        nearest = sorted(best.items(), key=lambda kv: -kv[1])[: self.k]
        rows: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for gallery_id, sha, category in session.execute(
            select(GalleryScan.id, GalleryScan.image_sha256, GalleryScan.category)
            .where(GalleryScan.image_sha256.in_([sha for sha, _ in nearest]))
            .order_by(GalleryScan.id)
        ).all():
            rows[sha].append((gallery_id, category))
        return [
            Neighbour(
                image_sha256=sha,
                gallery_ids=tuple(i for i, _ in rows[sha]),
                categories=tuple(dict.fromkeys(c for _, c in rows[sha])),
                similarity=round(float(score), 4),
            )
            for sha, score in nearest
            if rows[sha]
        ]

    def counts(self, session: Session) -> dict[str, int]:
        """Labelled images per category."""
        found = session.execute(
            select(GalleryScan.category, func.count(func.distinct(GalleryScan.image_sha256))).group_by(
                GalleryScan.category
            )
        ).all()
        return {category: int(n) for category, n in found}

    def vote(self, session: Session, vectors: np.ndarray) -> Vote:
        return gallery.vote(self.neighbours(session, vectors), self.counts(session), prior=self.prior)


def add_scan(
    session: Session,
    *,
    image_sha256: str,
    category: str,
    kind: str,
    source: str,
    origin: str,
    examination_id: int | None = None,
) -> GalleryScan | None:
    """A new gallery row, or None when this image already holds this category and kind (flushed, not committed)."""
    key = (GalleryScan.image_sha256 == image_sha256, GalleryScan.category == category, GalleryScan.kind == kind)
    if session.scalar(select(GalleryScan.id).where(*key)) is not None:
        return None
    row = GalleryScan(
        image_sha256=image_sha256,
        category=category,
        kind=kind,
        source=source,
        origin=origin,
        examination_id=examination_id,
    )
    try:
        with session.begin_nested():  # another writer may add the same row between the check and here
            session.add(row)
    except IntegrityError:
        return None
    return row


def summary(session: Session) -> list[tuple[str, str, str, int]]:
    """(category, kind, source, rows) over the whole gallery."""
    found = session.execute(
        select(GalleryScan.category, GalleryScan.kind, GalleryScan.source, func.count())
        .group_by(GalleryScan.category, GalleryScan.kind, GalleryScan.source)
        .order_by(GalleryScan.category, GalleryScan.kind, GalleryScan.source)
    ).all()
    return [(c, k, s, int(n)) for c, k, s, n in found]


def _vector(row: GalleryVector) -> np.ndarray:
    return np.frombuffer(row.vector, dtype="<f4").reshape(row.dim)
