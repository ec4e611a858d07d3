"""Preparing a model to serve while another one serves: its embeddings of every stored image, its FAISS
indexes and its calibration, all filed under its identity (models.encoders.identity).

Nothing of the serving model is read or written: its embedding rows, index folder and calibrations stay
as they were, and it keeps serving. Once this has run, setting `SCANMATCH_MATCHING__ENCODER` to the new
name serves it without recomputing anything but the images filed in the meantime.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from service.domain.images import ImageStore
from service.matching import models
from service.matching.embedder import Embedder
from service.matching.indexes import IndexSet
from service.matching.matcher import ensure_calibration
from service.settings import Settings


@dataclass(frozen=True)
class Prepared:
    name: str
    version: str  # name@identity prefix, as verdicts will show it
    identity: str
    embedded: int  # images embedded now (the rest were embedded before)
    indexes: dict[str, tuple[int, bool]]  # index name -> (vectors, exact)
    folder: Path
    calibration: str  # where the model's calibration came from


def prepare(
    settings: Settings, *, name: str, sessions: sessionmaker[Session], store: ImageStore, progress: bool = False
) -> Prepared:
    """Embed every stored filing image with model `name`, build its indexes and calibrate it if it is not."""
    m = settings.matching
    encoder = models.load(settings, name)
    indexes = IndexSet(settings.index_dir, model_sha256=encoder.identity, dim=encoder.dim, exact_max=m.exact_index_max)
    embedder = Embedder(
        encoder=encoder,
        sessions=sessions,
        store=store,
        indexes=indexes,
        max_batch_size=m.max_batch_size,
        max_wait_ms=m.max_wait_ms,
    )
    try:
        result = embedder.reconcile(progress=progress)
    finally:
        embedder.close()
    with sessions() as session:
        params = ensure_calibration(session, encoder, m, progress=progress)
    return Prepared(
        name=name,
        version=encoder.version,
        identity=encoder.identity,
        embedded=result["embedded"],
        indexes={key: (index.size, index.exact) for key, index in indexes.by_name.items()},
        folder=indexes.folder,
        calibration=params.source,
    )
