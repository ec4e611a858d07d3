"""The Encoder object the service uses: batched, normalised float32 embeddings per modality."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.special import expit

from models.encoders.device import Placement
from models.encoders.errors import EncoderError
from models.encoders.preprocess import PreprocessConfig, to_tensor

Modality = Literal["photo", "xray"]
MODALITIES: tuple[str, ...] = ("photo", "xray")
DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of photo/x-ray cosine into P(match): sigmoid(scale * cos + bias)."""

    scale: float
    bias: float

    def probability(self, cosine: np.ndarray) -> np.ndarray:
        return expit(self.scale * np.asarray(cosine, np.float32) + self.bias).astype(np.float32)


def pair_cosine(photo: np.ndarray, xray: np.ndarray) -> np.ndarray:
    """Row-aligned normalised photos (n, d) and x-rays (n, d) -> (n,) cosine."""
    return np.sum(np.asarray(photo, np.float32) * np.asarray(xray, np.float32), axis=1)


@dataclass(frozen=True)
class Finding:
    item: str
    probability: float
    threshold: float

    @property
    def present(self) -> bool:
        return self.probability >= self.threshold


@dataclass(frozen=True)
class FindingsHead:
    """Items of concern read off a stored x-ray embedding: sigmoid(W @ e + b) per item.

    Thresholds were set on the validation split at a fixed false-alarm rate (see the model card).
    """

    items: tuple[str, ...]
    weight: np.ndarray  # (k, dim) float32, any input scaling of the trained head folded in
    bias: np.ndarray  # (k,)
    thresholds: tuple[float, ...]

    def probabilities(self, xrays: np.ndarray) -> np.ndarray:
        """(n, k) probabilities for row-wise normalised x-ray embeddings (n, dim)."""
        logits = np.asarray(xrays, np.float32).reshape(-1, self.weight.shape[1]) @ self.weight.T + self.bias
        return expit(logits).astype(np.float32)

    def __call__(self, xray: np.ndarray) -> list[Finding]:
        """Findings for one normalised x-ray embedding, most probable first."""
        probs = self.probabilities(xray)[0]
        found = [Finding(i, round(float(p), 4), t) for i, p, t in zip(self.items, probs, self.thresholds, strict=True)]
        return sorted(found, key=lambda f: -f.probability)


class Encoder:
    """A loaded, verified encoder. Build it through `models.encoders.registry.load_encoder`."""

    def __init__(
        self,
        *,
        name: str,
        identity: str,
        dim: int,
        preprocess: PreprocessConfig,
        placement: Placement,
        image_towers: dict[str, Callable[[torch.Tensor], torch.Tensor]],
        text_tower: Callable[[Sequence[str]], torch.Tensor] | None,
        module: torch.nn.Module,
        calibration: Calibration | None = None,
        findings: FindingsHead | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.name = name
        # models.encoders.identity: what every embedding, index and calibration of this model is filed under.
        self.identity = identity
        self.dim = dim
        self.preprocess = preprocess
        self.placement = placement
        self.calibration = calibration
        self.findings = findings
        self.batch_size = batch_size
        self._image_towers = image_towers
        self._text_tower = text_tower
        # Kept so the weights live as long as the encoder does.
        self.module = module

    @property
    def version(self) -> str:
        """Name plus identity prefix: what a verdict records as its model version."""
        return f"{self.name}@{self.identity[:12]}"

    @property
    def has_text(self) -> bool:
        return self._text_tower is not None

    def _run(self, fn: Callable[[], torch.Tensor]) -> np.ndarray:
        with (
            torch.inference_mode(),
            torch.autocast(
                device_type=self.placement.device.type, dtype=self.placement.dtype, enabled=self.placement.autocast
            ),
        ):
            out = fn()
        return F.normalize(out.float(), dim=-1).cpu().numpy().astype(np.float32)

    def _tower(self, modality: Modality) -> Callable[[torch.Tensor], torch.Tensor]:
        if modality not in self._image_towers:
            raise EncoderError(f"encoder {self.name!r} has no {modality!r} tower; it has {sorted(self._image_towers)}")
        return self._image_towers[modality]

    def embed_images(
        self, modality: Modality, images: Sequence[Image.Image], *, batch_size: int | None = None
    ) -> np.ndarray:
        """Embed product photos or x-ray scans: float32 array (n, dim), each row L2-normalised."""
        self._tower(modality)
        preprocess = self.preprocess.for_modality(modality)
        step = batch_size or self.batch_size
        chunks = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(images), step):  # preprocessed a chunk at a time: memory stays one batch
            batch = to_tensor(images[start : start + step], preprocess)
            chunks.append(self.embed_tensors(modality, batch, batch_size=step))
        return np.concatenate(chunks)

    def embed_tensors(self, modality: Modality, batch: torch.Tensor, *, batch_size: int | None = None) -> np.ndarray:
        """Embed a batch already preprocessed for this tower (`preprocess.to_tensor` of its settings), as
        `embed_images` does: occlusion saliency edits the tensor, not the image (models.encoders.occlusion)."""
        tower = self._tower(modality)
        step = batch_size or self.batch_size
        chunks = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(batch), step):
            chunks.append(self._run(partial(tower, batch[start : start + step].to(self.placement.device))))
        return np.concatenate(chunks)

    def embed_texts(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Embed listing titles or descriptions into the same space: float32 (n, dim), normalised."""
        if self._text_tower is None:
            raise EncoderError(f"encoder {self.name!r} has no text tower")
        tower = self._text_tower
        step = batch_size or self.batch_size
        chunks = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(texts), step):
            part = list(texts[start : start + step])
            chunks.append(self._run(partial(tower, part)))
        return np.concatenate(chunks)

    def match_probability(self, photo: np.ndarray, xray: np.ndarray) -> np.ndarray:
        """P(x-ray shows what the photo sells) for row-aligned photo (n, dim) and x-ray (n, dim) embeddings."""
        if self.calibration is None:
            raise EncoderError(f"encoder {self.name!r} carries no match calibration")
        return self.calibration.probability(pair_cosine(photo, xray))
