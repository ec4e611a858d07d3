"""Image preprocessing settings that travel with the weights (saved beside them as JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

_INTERPOLATIONS = {
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,
}


@dataclass(frozen=True)
class PreprocessConfig:
    """Size, normalisation and resize policy of one image tower.

    `resize_mode="squash"` resizes the whole image to a square without cropping: a centre crop
    could cut a concealed item off the edge of an x-ray. `"shortest"` + centre crop is open_clip's
    default and is used for operator checkpoints trained that way.

    `photo_image_size`, when set, is the photo tower's input size (`image_size` is then the
    x-ray's): a listing photo shows the product at 55-72% of the frame, often as a thin object,
    so its marks need more pixels than the same marks on a scan.
    """

    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"
    resize_mode: str = "squash"
    photo_image_size: int | None = None

    def __post_init__(self) -> None:
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"unknown interpolation {self.interpolation!r}")
        if self.resize_mode not in ("squash", "shortest"):
            raise ValueError(f"unknown resize_mode {self.resize_mode!r}")

    def for_modality(self, modality: str) -> PreprocessConfig:
        """The settings one tower's images go through ("photo" or "xray")."""
        if modality == "photo" and self.photo_image_size is not None:
            return replace(self, image_size=self.photo_image_size, photo_image_size=None)
        return self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.photo_image_size is None:
            del data["photo_image_size"]  # the same JSON (and cache keys) as before the field existed
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        return cls(
            image_size=int(data["image_size"]),
            mean=tuple(float(v) for v in data["mean"]),  # type: ignore[arg-type]
            std=tuple(float(v) for v in data["std"]),  # type: ignore[arg-type]
            interpolation=str(data.get("interpolation", "bicubic")),
            resize_mode=str(data.get("resize_mode", "squash")),
            photo_image_size=None if data.get("photo_image_size") is None else int(data["photo_image_size"]),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> PreprocessConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _resize(img: Image.Image, cfg: PreprocessConfig) -> Image.Image:
    size = cfg.image_size
    resample = _INTERPOLATIONS[cfg.interpolation]
    if cfg.resize_mode == "squash":
        return img.resize((size, size), resample)
    w, h = img.size
    scale = size / min(w, h)
    img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), resample)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))


def to_tensor(images: Sequence[Image.Image], cfg: PreprocessConfig) -> torch.Tensor:
    """Stack PIL images into a normalised float32 NCHW batch."""
    mean = np.asarray(cfg.mean, dtype=np.float32)
    std = np.asarray(cfg.std, dtype=np.float32)
    arrays = [(np.asarray(_resize(img.convert("RGB"), cfg), dtype=np.float32) / 255.0 - mean) / std for img in images]
    batch = np.stack(arrays).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(batch))
