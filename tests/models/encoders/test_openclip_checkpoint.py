from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import open_clip
import pytest

from models.encoders.errors import EncoderError, RandomWeightsRefused, WeightsIntegrityError, WeightsMissing
from models.encoders.integrity import sha256_file
from models.encoders.openclip_checkpoint import save_openclip_checkpoint
from models.encoders.registry import OpenClipCheckpointSpec, default_registry
from tests.models.images import sample_images

# A standard open_clip ViT, shrunk so the test saves and loads it in about a second.
TINY_VIT = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 1, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
ARCH = "scanmatch-test-tiny-vit"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("openclip")
    config = folder / f"{ARCH}.json"
    config.write_text(json.dumps(TINY_VIT))
    # open_clip's documented way to register a custom architecture config.
    open_clip.add_model_config(config)
    model = open_clip.create_model(ARCH, pretrained=None)
    path = folder / "random.safetensors"
    save_openclip_checkpoint(model, path, random_init=True)
    return path


def _spec(path: Path, sha256: str | None = None, arch: str = ARCH) -> OpenClipCheckpointSpec:
    return OpenClipCheckpointSpec(name="operator", arch=arch, path=path, sha256=sha256 or sha256_file(path))


def test_random_checkpoint_is_refused_by_default(checkpoint: Path) -> None:
    registry = default_registry(extra=[_spec(checkpoint)])
    with pytest.raises(RandomWeightsRefused):
        registry.load("operator", device="cpu")


def test_random_checkpoint_loads_through_the_same_path_when_allowed(checkpoint: Path) -> None:
    enc = default_registry(extra=[_spec(checkpoint)]).load("operator", device="cpu", allow_random=True)
    assert enc.dim == 32
    assert enc.preprocess.image_size == 64
    for modality in ("photo", "xray"):
        out = enc.embed_images(modality, sample_images(3))
        assert out.shape == (3, 32) and out.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert enc.embed_texts(["a shoe"]).shape == (1, 32)


def test_wrong_sha256_is_refused(checkpoint: Path) -> None:
    registry = default_registry(extra=[_spec(checkpoint, sha256="0" * 64)])
    with pytest.raises(WeightsIntegrityError):
        registry.load("operator", device="cpu", allow_random=True)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    registry = default_registry(extra=[_spec(tmp_path / "none.pt", sha256="0" * 64)])
    with pytest.raises(WeightsMissing):
        registry.load("operator", device="cpu", allow_random=True)


def test_checkpoint_of_another_architecture_is_refused(checkpoint: Path) -> None:
    registry = default_registry(extra=[_spec(checkpoint, arch="RN50")])
    with pytest.raises(WeightsIntegrityError, match="does not fit"):
        registry.load("operator", device="cpu", allow_random=True)


def test_unknown_architecture_is_refused(checkpoint: Path) -> None:
    registry = default_registry(extra=[_spec(checkpoint, arch="ViT-Q-1")])
    with pytest.raises(EncoderError, match="not an open_clip architecture"):
        registry.load("operator", device="cpu", allow_random=True)


# ViT-B-32 itself, the standard architecture an operator would bring (5 s on the 2-core machine).
def test_vit_b_32_random_checkpoint_round_trip(tmp_path: Path) -> None:
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    path = tmp_path / "vit-b-32.safetensors"
    save_openclip_checkpoint(model, path, random_init=True)
    enc = default_registry(extra=[_spec(path, arch="ViT-B-32")]).load("operator", device="cpu", allow_random=True)
    assert enc.embed_images("xray", sample_images(2)).shape == (2, 512)
