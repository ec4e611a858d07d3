"""The labelled galleries kept: x-rays (`gallery_scans`) and listing photos (`gallery_photos`) in the
database, their vectors per gallery space, one FAISS index per space, rebuilt from the database
whenever they disagree.

A gallery space is a model (by sha256) and the method that reads vectors with it (gallery.METHOD for
x-rays, gallery.PHOTO_METHOD for listing photos). Index ids are `gallery_vectors.id`; a hit maps to
its image and through it to every gallery row (category, and kind for x-rays) of that image.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import structlog
from PIL import Image
from sqlalchemy import ColumnElement, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from models.encoders import photo_gallery
from models.encoders.encoder import Encoder
from models.encoders.photo_categories import GalleryCategory
from service.db.tables import Base, GalleryPhoto, GalleryScan, GalleryVector
from service.domain.images import ImageStore
from service.matching import gallery
from service.matching.embedder import decode
from service.matching.familiarity import leave_one_out
from service.matching.gallery import Neighbour, Vote
from service.matching.indexes import VectorIndex, claim_folder

log = structlog.get_logger("scanmatch.gallery")
FAMILIARITY_SAMPLE = 4000  # labelled images the familiarity threshold is measured on, at most

Table = type[GalleryScan] | type[GalleryPhoto]


@dataclass(frozen=True)
class Kind:
    """One gallery: the table of its labelled images, the modality they are embedded as, and the method."""

    name: str  # in the reconcile's counts and the logs
    table: Table
    modality: Literal["xray", "photo"]
    method: str
    noun: str  # what one labelled image is called in reports


SCANS = Kind("gallery", GalleryScan, "xray", gallery.METHOD, "scan")
PHOTOS = Kind("photo_gallery", GalleryPhoto, "photo", gallery.PHOTO_METHOD, "photo")


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
        kind: Kind = SCANS,
    ) -> None:
        self.encoder = encoder
        self.sessions = sessions
        self.store = store
        self.k = k
        self.prior = prior
        self.kind = kind
        self.table = kind.table
        self.method = kind.method
        claim_folder(index_dir / encoder.identity[:16], encoder.identity)
        path = index_dir / encoder.identity[:16] / f"gallery-{self.method}.faiss"
        self.dim = gallery.dim(encoder, kind.modality)
        self._familiar: dict[tuple[int, float], tuple[int, float]] = {}  # (k, quantile) -> (size, cosine)
        self.index = VectorIndex(path, self.dim, exact_max=exact_max)

    def _space(self) -> tuple[ColumnElement[bool], ...]:
        """This space's vectors of images still in the gallery."""
        return space(self.encoder.identity, self.kind)

    def add(self, session: Session, **row: Any) -> GalleryScan | GalleryPhoto | None:
        return add_row(session, self.table, **row)

    def missing(self, session: Session) -> list[str]:
        """Gallery images without vectors in this space."""
        done = select(GalleryVector.image_sha256).where(*self._space()[:2])
        sha = self.table.image_sha256
        return sorted(session.scalars(select(sha).where(sha.not_in(done)).distinct()))

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
        for sha, vectors in zip(shas, gallery.embed(self.encoder, images, self.kind.modality), strict=True):
            for part, vector in enumerate(vectors):
                made.append(
                    GalleryVector(
                        image_sha256=sha,
                        model_sha256=self.encoder.identity,
                        method=self.method,
                        part=part,
                        dim=len(vector),
                        vector=np.asarray(vector, "<f4").tobytes(),
                    )
                )
        session.add_all(made)
        session.flush()
        if made:
            self.index.add(np.array([v.id for v in made]), np.stack([_vector(v) for v in made]))
        return len(made)

    def reconcile(
        self, *, progress: bool = False, chunk: int = 32, stop: threading.Event | None = None
    ) -> dict[str, int]:
        """Embed the gallery images this space lacks, then make the index hold exactly the database's vectors.

        A set `stop` ends it between chunks (the service is shutting down): the next start carries on.
        """
        with self.sessions() as session:
            todo = self.missing(session)
            bar = tqdm(total=len(todo), desc=f"{self.kind.name} vectors", unit="img", disable=not progress)
            for start in range(0, len(todo), chunk):
                if stop is not None and stop.is_set():
                    return {f"{self.kind.name}_embedded": start, f"{self.kind.name}_rebuilt": 0}
                part = todo[start : start + chunk]
                self.embed(session, part)
                session.commit()
                bar.update(len(part))
            bar.close()
            rebuilt = self.sync(session)
        self.index.save()
        return {f"{self.kind.name}_embedded": len(todo), f"{self.kind.name}_rebuilt": int(rebuilt)}

    def expected(self, session: Session) -> tuple[np.ndarray, np.ndarray]:
        """What the index must hold: (ids, vectors) of this space's vectors of images in the gallery."""
        return expected(session, self.encoder.identity, self.kind, self.dim)

    def sync(self, session: Session, *, force: bool = False) -> bool:
        """Rebuild the index from the database when their ids differ (or always, with force)."""
        ids, vectors = self.expected(session)
        if not force and set(self.index.ids().tolist()) == set(ids.tolist()):
            return False
        log.info("rebuilding a gallery index", gallery=self.kind.name, vectors=len(ids), had=self.index.size)
        self.index.rebuild(ids, vectors)
        return True

    def _stale(self, session: Session) -> bool:
        # One count per search lets a running service see scans `scanmatch gallery import` added.
        stored = session.scalar(select(func.count()).select_from(GalleryVector).where(*self._space())) or 0
        return int(stored) != self.index.size

    def neighbours(
        self, session: Session, vectors: np.ndarray, *, exclude: str | None = None, k: int | None = None
    ) -> list[Neighbour]:
        """The k nearest labelled images (default: the store's k) to an image's gallery vectors (parts, dim),
        nearest first; never the image `exclude` (a listing's own photo, labelled by its own words, is no
        evidence for it)."""
        k = k or self.k
        if self._stale(session):
            self.sync(session)
        hits = [h for row in self.index.search(vectors, k * 4 + 1) for h in row]
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
            if sha is not None and sha != exclude and hit.score > best.get(sha, -np.inf):
                best[sha] = hit.score
        nearest = sorted(best.items(), key=lambda kv: -kv[1])[:k]
        rows: dict[str, list[tuple[int, str]]] = defaultdict(list)
        t = self.table
        for gallery_id, sha, category in session.execute(
            select(t.id, t.image_sha256, t.category)
            .where(t.image_sha256.in_([sha for sha, _ in nearest]))
            .order_by(t.id)
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

    def familiar_from(self, session: Session, k: int, quantile: float) -> float | None:
        """The cosine from which an image lies as near its k-th nearest labelled image as all but `quantile`
        of the labelled images lie to theirs (each left out of its own search), in this gallery's space;
        None while the gallery holds k images or fewer. Recomputed when the gallery has grown or shrunk by
        a tenth, from at most `FAMILIARITY_SAMPLE` of its vectors."""
        size = self.index.size
        cached = self._familiar.get((k, quantile))
        if cached is not None and abs(cached[0] - size) <= 0.1 * cached[0]:
            return cached[1]
        ids, vectors = self.expected(session)
        if len(ids) <= k:
            return None
        if len(vectors) > FAMILIARITY_SAMPLE:
            vectors = vectors[np.random.default_rng(0).choice(len(vectors), FAMILIARITY_SAMPLE, replace=False)]
        found = float(np.quantile(leave_one_out(vectors, k), quantile))
        self._familiar[(k, quantile)] = (len(ids), found)
        return found

    def counts(self, session: Session) -> dict[str, int]:
        """Labelled images per category."""
        t = self.table
        found = session.execute(
            select(t.category, func.count(func.distinct(t.image_sha256))).group_by(t.category)
        ).all()
        return {category: int(n) for category, n in found}

    def vote(self, session: Session, vectors: np.ndarray) -> Vote:
        """The measured vote over the `gallery.NEIGHBOURS` nearest labelled scans; a verdict shows the k nearest."""
        near = self.neighbours(session, vectors, k=max(self.k, gallery.NEIGHBOURS))
        return gallery.vote(near, self.counts(session), half_evidence=self.prior, shown=self.k)

    def reading(self, session: Session, vector: np.ndarray, *, exclude: str | None = None) -> GalleryCategory | None:
        """The labelled photos' reading of a listing photo's gallery vector (models.encoders.photo_gallery)."""
        near = self.neighbours(session, vector[None, :], exclude=exclude)
        labelled = sum(self.counts(session).values())
        return photo_gallery.read(
            [n.similarity for n in near], [n.categories for n in near], labelled=labelled, prior=self.prior
        )


def space(model_sha256: str, kind: Kind) -> tuple[ColumnElement[bool], ...]:
    """A gallery space's vectors (a model's, read by the kind's method) of images still in that gallery."""
    return (
        GalleryVector.model_sha256 == model_sha256,
        GalleryVector.method == kind.method,
        GalleryVector.image_sha256.in_(select(kind.table.image_sha256)),
    )


def expected(session: Session, model_sha256: str, kind: Kind, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """What a gallery space's index must hold: (ids, vectors) of its vectors of images in the gallery."""
    rows = session.scalars(select(GalleryVector).where(*space(model_sha256, kind)).order_by(GalleryVector.id)).all()
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
    return np.array([r.id for r in rows], np.int64), np.stack([_vector(r) for r in rows])


KINDS = (SCANS, PHOTOS)


def add_row(session: Session, table: Table, **values: Any) -> GalleryScan | GalleryPhoto | None:
    """A new gallery row, or None when the gallery holds it already: the same image with the same category
    (and kind, for x-rays), by the table's unique key (flushed, not committed)."""
    if exists(session, table, **values):
        return None
    row = table(**values)
    try:
        with session.begin_nested():  # another writer may add the same row between the check and here
            session.add(row)
    except IntegrityError:
        return None
    return row


def exists(session: Session, table: Table, **values: Any) -> bool:
    """Whether the gallery holds a row with these values of the table's unique key."""
    unique = next(c for c in Base.metadata.tables[table.__tablename__].constraints if isinstance(c, UniqueConstraint))
    key = [getattr(table, column.name) == values[column.name] for column in unique.columns]
    return session.scalar(select(table.id).where(*key).limit(1)) is not None


def add_scan(session: Session, **values: Any) -> GalleryScan | GalleryPhoto | None:
    return add_row(session, GalleryScan, **values)


def add_photo(session: Session, **values: Any) -> GalleryScan | GalleryPhoto | None:
    return add_row(session, GalleryPhoto, **values)


def summary(session: Session) -> list[tuple[str, str, str, int]]:
    """(category, kind, source, rows) over both galleries; listing photos are of kind "photo"."""
    scans = session.execute(
        select(GalleryScan.category, GalleryScan.kind, GalleryScan.source, func.count()).group_by(
            GalleryScan.category, GalleryScan.kind, GalleryScan.source
        )
    ).all()
    photos = session.execute(
        select(GalleryPhoto.category, GalleryPhoto.source, func.count()).group_by(
            GalleryPhoto.category, GalleryPhoto.source
        )
    ).all()
    return sorted([(c, k, s, int(n)) for c, k, s, n in scans] + [(c, "photo", s, int(n)) for c, s, n in photos])


def _vector(row: GalleryVector) -> np.ndarray:
    return np.frombuffer(row.vector, dtype="<f4").reshape(row.dim)
