"""Image preprocessing settings that travel with the weights (saved beside them as JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from models.encoders.framing import frame_xray

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

    `xray_framing="contents"` crops each x-ray to its contents, long axis upright, before the
    resize (`models.encoders.framing`); it applies to x-rays only.
    """

    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"
    resize_mode: str = "squash"
    photo_image_size: int | None = None
    xray_framing: str | None = None

    def __post_init__(self) -> None:
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"unknown interpolation {self.interpolation!r}")
        if self.resize_mode not in ("squash", "shortest"):
            raise ValueError(f"unknown resize_mode {self.resize_mode!r}")
        if self.xray_framing not in (None, "contents"):
            raise ValueError(f"unknown xray_framing {self.xray_framing!r}; known: contents")

    def for_modality(self, modality: str) -> PreprocessConfig:
        """The settings one tower's images go through ("photo" or "xray")."""
        if modality == "photo":
            size = self.photo_image_size or self.image_size
            return replace(self, image_size=size, photo_image_size=None, xray_framing=None)
        return self

    def to_dict(self) -> dict[str, Any]:
        # Unset optional fields are left out: the same JSON (and cache keys) as before they existed.
        return {k: v for k, v in asdict(self).items() if v is not None or k not in _OPTIONAL}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            # A setting this code does not apply (e.g. an experiment's) would change what the weights see.
            raise ValueError(f"unknown preprocessing setting(s) {unknown}; known: {known}")
        return cls(
            image_size=int(data["image_size"]),
            mean=tuple(float(v) for v in data["mean"]),  # type: ignore[arg-type]
            std=tuple(float(v) for v in data["std"]),  # type: ignore[arg-type]
            interpolation=str(data.get("interpolation", "bicubic")),
            resize_mode=str(data.get("resize_mode", "squash")),
            photo_image_size=None if data.get("photo_image_size") is None else int(data["photo_image_size"]),
            xray_framing=None if data.get("xray_framing") is None else str(data["xray_framing"]),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> PreprocessConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


_OPTIONAL = ("photo_image_size", "xray_framing")


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
    if cfg.xray_framing == "contents":
        images = [frame_xray(img) for img in images]
    arrays = [(np.asarray(_resize(img.convert("RGB"), cfg), dtype=np.float32) / 255.0 - mean) / std for img in images]
    batch = np.stack(arrays).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(batch))
