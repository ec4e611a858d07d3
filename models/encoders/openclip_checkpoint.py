"""Loading an operator's own open_clip checkpoint (ViT-B-32 and friends) from a local file.

The operator names a standard open_clip architecture, a local weight file and its sha256; nothing
is downloaded. The same tower embeds photos and x-rays (a real CLIP model was never trained on
x-rays: that is the operator's call). Files saved by `save_openclip_checkpoint(random_init=True)`
carry a marker and are refused unless `allow_random=True`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import open_clip
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from models.encoders.device import Placement, place_model
from models.encoders.encoder import Encoder
from models.encoders.errors import EncoderError, RandomWeightsRefused, WeightsIntegrityError
from models.encoders.identity import identity_of, preprocess_sha256
from models.encoders.integrity import verify_file
from models.encoders.preprocess import PreprocessConfig

RANDOM_MARKER = "scanmatch.random_init"


def save_openclip_checkpoint(model: torch.nn.Module, path: str | Path, *, random_init: bool) -> None:
    """Save an open_clip model's state dict as safetensors, marking random initialisations."""
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={RANDOM_MARKER: "true" if random_init else "false"})


def _is_marked_random(path: Path) -> bool:
    if path.suffix != ".safetensors":
        return False
    with safe_open(str(path), framework="pt") as fh:
        return (fh.metadata() or {}).get(RANDOM_MARKER) == "true"


def _preprocess_of(model: torch.nn.Module) -> PreprocessConfig:
    cfg = open_clip.get_model_preprocess_cfg(model)
    size = cfg.get("size", 224)
    size = size[0] if isinstance(size, (tuple, list)) else size
    return PreprocessConfig(
        image_size=int(size),
        mean=tuple(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)),  # type: ignore[arg-type]
        std=tuple(cfg.get("std", open_clip.OPENAI_DATASET_STD)),  # type: ignore[arg-type]
        interpolation=str(cfg.get("interpolation", "bicubic")),
        resize_mode="shortest" if cfg.get("resize_mode", "shortest") == "shortest" else "squash",
    )


def load_openclip_checkpoint(
    *,
    name: str,
    arch: str,
    path: Path,
    sha256: str,
    placement: Placement,
    allow_random: bool = False,
    batch_size: int = 32,
) -> Encoder:
    """Build `arch` from open_clip's config registry and load `path` into it, strictly."""
    if arch not in open_clip.list_models():
        raise EncoderError(f"{name}: {arch!r} is not an open_clip architecture known here")
    path = verify_file(path, sha256, what=f"open_clip checkpoint {name}")
    if _is_marked_random(path) and not allow_random:
        raise RandomWeightsRefused(f"{name}: {path} is a random initialisation; refusing to run it")
    # load_weights=False: open_clip must not look for a pretrained tag; the file is loaded below.
    # open_clip types its models as nn.Module; encode_image / encode_text exist on every CLIP variant.
    model: Any = open_clip.create_model(arch, pretrained=None, load_weights=False)
    try:
        open_clip.load_checkpoint(model, str(path), strict=True)
    except (RuntimeError, AssertionError, ValueError, KeyError) as exc:
        # A partial load would leave random tensors behind: refuse it outright.
        raise WeightsIntegrityError(f"{name}: {path} does not fit {arch}: {exc}") from exc
    model = place_model(model, placement)
    tokenizer = open_clip.get_tokenizer(arch)
    device = placement.device

    def image_tower(x: torch.Tensor) -> torch.Tensor:
        return model.encode_image(x)

    def text_tower(texts: Sequence[str]) -> torch.Tensor:
        return model.encode_text(tokenizer(list(texts)).to(device))

    with torch.inference_mode():
        dim = int(model.encode_text(tokenizer(["x"]).to(device)).shape[-1])
    preprocess = _preprocess_of(model)
    files = {
        path.name: sha256,
        f"open_clip-arch/{arch}": hashlib.sha256(arch.encode()).hexdigest(),
        "preprocess.json": preprocess_sha256(preprocess),
    }
    return Encoder(
        name=name,
        identity=identity_of(files),
        dim=dim,
        preprocess=preprocess,
        placement=placement,
        image_towers={"photo": image_tower, "xray": image_tower},
        text_tower=text_tower,
        module=model,
        batch_size=batch_size,
    )
