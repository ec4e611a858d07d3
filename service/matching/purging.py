"""After a purge (service.domain.retention): the FAISS indexes and where-to-look overlays brought in line.

Every index file that may hold a removed vector is rebuilt from the database, which no longer holds it, and
swapped in atomically (indexes.VectorIndex.rebuild), so the vectors are gone from every index, of every
model, when the purge returns. Rebuilding rather than FAISS `remove_ids`: on an IVF index wrapped in an
IndexIDMap, `remove_ids` leaves the id map out of step with the inverted lists (the remaining vectors then
answer under other vectors' ids), and the rebuild is what the start-up reconcile would do anyway. It needs no
encoder: only the stored vectors. The purge holds the data directory alone (service.domain.data_lock), so no
server holds these indexes in memory meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
from sqlalchemy.orm import Session

from service.domain.retention import Purged
from service.matching import embedder, gallery_store, overlays
from service.matching.indexes import INDEX_NAMES, MODEL_FILE, VectorIndex
from service.settings import Settings


@dataclass(frozen=True)
class Rebuilt:
    path: Path
    vectors: int  # what it holds now
    removed: int  # what it held before and no longer does


def bring_in_line(session: Session, settings: Settings, purged: Purged) -> tuple[list[Rebuilt], int]:
    """Rebuild every index that may hold a purged vector, and remove the purged images' overlays: (the indexes
    rebuilt, the overlays removed)."""
    touched: dict[Path, str] = {}  # index file -> model identity
    for vector in purged.vectors:
        touched[settings.index_dir / vector.model_sha256[:16] / f"{vector.index}.faiss"] = vector.model_sha256
    if purged.galleries_changed:  # labelled rows left a gallery: every gallery space's index, of every model
        for marker in settings.index_dir.glob(f"*/{MODEL_FILE}"):
            for path in marker.parent.glob("gallery-*.faiss"):
                touched[path] = marker.read_text().strip()
    rebuilt = [
        found
        for path, model in sorted(touched.items())
        if (found := _rebuild(session, path, model, settings.matching.exact_index_max)) is not None
    ]
    gone = set(purged.plan.images)
    forgotten = overlays.OverlayStore(settings.data_dir / overlays.FOLDER).forget(gone) if gone else 0
    return rebuilt, forgotten


def _rebuild(session: Session, path: Path, model: str, exact_max: int) -> Rebuilt | None:
    marker = path.parent / MODEL_FILE
    if not path.is_file() or not marker.is_file() or marker.read_text().strip() != model:
        return None  # never built, or a folder of another model: nothing of this model's to remove there
    dim = faiss.read_index(str(path)).d
    name = path.stem
    if name in INDEX_NAMES:
        ids, vectors = embedder.expected(session, model, dim)[name]
    else:
        kind = next((k for k in gallery_store.KINDS if name == f"gallery-{k.method}"), None)
        if kind is None:
            return None  # a gallery method the service no longer reads: the reconcile never loads it either
        ids, vectors = gallery_store.expected(session, model, kind, dim)
    index = VectorIndex(path, dim, exact_max=exact_max)
    before = set(index.ids().tolist())
    index.rebuild(ids, vectors)
    return Rebuilt(path=path, vectors=len(ids), removed=len(before - set(ids.tolist())))
