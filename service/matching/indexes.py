"""FAISS indexes of embeddings: exact while small, IVF-PQ past a size, always rebuildable from the database.

Vectors are L2-normalised, so inner product is cosine. Ids are `embeddings.id` rows (or
`gallery_vectors.id` for the gallery). One lock per index: one writer at a time, and no search during a write;
an add costs the vectors it adds (the ids held are kept in a set), never the size of the index. A save holds
the lock only while it copies the index to bytes; writing and fsync happen outside it, so searches never wait
on the disk. Saves go to a temporary file and `os.replace` it, so a crash leaves the old file or the new one.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import structlog

from service.domain.files import written_atomically

log = structlog.get_logger("scanmatch.indexes")
INDEX_NAMES = ("listings", "scans")  # the labelled gallery has its own space (service.matching.gallery_store)


@dataclass(frozen=True)
class Hit:
    id: int
    score: float


class VectorIndex:
    def __init__(self, path: Path, dim: int, *, exact_max: int) -> None:
        self.path = path
        self.dim = dim
        self.exact_max = exact_max
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()  # saves one at a time, so an older snapshot never replaces a newer
        self._index = self._load() or self._build(np.zeros((0, dim), np.float32), np.zeros(0, np.int64))
        self._ids = set(faiss.vector_to_array(self._index.id_map).tolist())

    def _load(self) -> faiss.IndexIDMap2 | None:
        if not self.path.exists():
            return None
        try:
            index = faiss.read_index(str(self.path))
        except RuntimeError as error:  # a damaged file is rebuilt from the database, not trusted
            log.warning("index unreadable; it will be rebuilt", path=str(self.path), error=str(error))
            return None
        if index.d != self.dim or not isinstance(index, faiss.IndexIDMap2):
            log.warning("index has another shape; it will be rebuilt", path=str(self.path))
            return None
        return index

    def _build(self, vectors: np.ndarray, ids: np.ndarray) -> faiss.IndexIDMap2:
        n = len(ids)
        if n <= self.exact_max:
            inner: faiss.Index = faiss.IndexFlatIP(self.dim)
        else:
            nlist = int(min(4 * math.sqrt(n), n // 39))
            m = max(d for d in (64, 32, 16, 8, 4, 2, 1) if self.dim % d == 0)
            # k-means wants ~39 points per centroid: 8-bit codebooks from ~10k vectors, fewer bits below.
            nbits = max(1, min(8, int(math.log2(n / 39))))
            inner = faiss.index_factory(self.dim, f"IVF{nlist},PQ{m}x{nbits}", faiss.METRIC_INNER_PRODUCT)
            inner.train(vectors)
            faiss.extract_index_ivf(inner).nprobe = min(32, nlist)
        index = faiss.IndexIDMap2(inner)
        if n:
            index.add_with_ids(vectors, ids)
        return index

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def exact(self) -> bool:
        return isinstance(faiss.downcast_index(self._index.index), faiss.IndexFlat)

    def ids(self) -> np.ndarray:
        with self._lock:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = np.asarray(ids, np.int64), np.ascontiguousarray(vectors, np.float32)
        with self._lock:
            keep = np.array([i not in self._ids for i in ids.tolist()], dtype=bool)
            if keep.any():
                self._index.add_with_ids(vectors[keep], ids[keep])
                self._ids.update(ids[keep].tolist())

    def search(self, vectors: np.ndarray, k: int) -> list[list[Hit]]:
        """The k nearest stored vectors for each query row (fewer when the index is smaller)."""
        queries = np.ascontiguousarray(vectors, np.float32).reshape(-1, self.dim)
        with self._lock:
            if self._index.ntotal == 0:
                return [[] for _ in range(len(queries))]
            scores, ids = self._index.search(queries, min(k, int(self._index.ntotal)))
        return [
            [Hit(int(i), float(s)) for s, i in zip(row_s, row_i, strict=True) if i >= 0]
            for row_s, row_i in zip(scores, ids, strict=True)
        ]

    def rebuild(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Build a new index off to the side, then swap it in and save it."""
        fresh = self._build(np.ascontiguousarray(vectors, np.float32).reshape(-1, self.dim), np.asarray(ids, np.int64))
        held = set(np.asarray(ids, np.int64).tolist())
        with self._lock:
            self._index, self._ids = fresh, held
        self.save()

    def save(self) -> None:
        with self._save_lock:
            with self._lock:  # a snapshot in memory: searches wait for a copy, not for the disk
                snapshot = faiss.serialize_index(self._index)
            with written_atomically(self.path, prefix=f".{self.path.name}-") as handle:
                snapshot.tofile(handle)


MODEL_FILE = "model.txt"


def claim_folder(folder: Path, model_sha256: str) -> None:
    """Mark `folder` as holding this model's indexes, or refuse it when it holds another model's."""
    marker = folder / MODEL_FILE
    if marker.is_file():
        owner = marker.read_text().strip()
        if owner != model_sha256:
            raise ValueError(
                f"{folder} holds the indexes of model {owner}, not {model_sha256}; "
                "move it aside and run `scanmatch reindex`"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{MODEL_FILE}-")
    with os.fdopen(fd, "w") as handle:
        handle.write(model_sha256 + "\n")
    os.replace(tmp, marker)


class IndexSet:
    """The two indexes of one model, in `<index_dir>/<model identity prefix>/`, whose `model.txt` names the
    model's whole identity: a folder of another model is refused, never searched."""

    def __init__(self, root: Path, *, model_sha256: str, dim: int, exact_max: int) -> None:
        self.folder = root / model_sha256[:16]
        claim_folder(self.folder, model_sha256)
        self.by_name = {
            name: VectorIndex(self.folder / f"{name}.faiss", dim, exact_max=exact_max) for name in INDEX_NAMES
        }

    def __getitem__(self, name: str) -> VectorIndex:
        return self.by_name[name]

    def save(self) -> None:
        for index in self.by_name.values():
            index.save()
