from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.encoders.device import choose_placement
from models.encoders.preprocess import PreprocessConfig, to_tensor
from tests.models.images import sample_images


def test_config_round_trips_through_json(tmp_path: Path) -> None:
    cfg = PreprocessConfig(image_size=96, mean=(0.5, 0.5, 0.5), std=(0.25, 0.5, 0.5), interpolation="bilinear")
    cfg.save(tmp_path / "p.json")
    assert PreprocessConfig.load(tmp_path / "p.json") == cfg


def test_photos_can_have_their_own_size(tmp_path: Path) -> None:
    cfg = PreprocessConfig(image_size=40, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), photo_image_size=56)
    cfg.save(tmp_path / "p.json")
    assert PreprocessConfig.load(tmp_path / "p.json") == cfg
    assert to_tensor(sample_images(2), cfg.for_modality("photo")).shape == (2, 3, 56, 56)
    assert to_tensor(sample_images(2), cfg.for_modality("xray")).shape == (2, 3, 40, 40)
    # Without the field, the saved settings (and the training caches keyed on them) stay as they were.
    assert "photo_image_size" not in PreprocessConfig(image_size=40, mean=(0, 0, 0), std=(1, 1, 1)).to_dict()


@pytest.mark.parametrize("mode", ["squash", "shortest"])
def test_batches_are_square_and_normalised(mode: str) -> None:
    cfg = PreprocessConfig(image_size=48, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), resize_mode=mode)
    batch = to_tensor(sample_images(3), cfg)
    assert batch.shape == (3, 3, 48, 48) and batch.dtype == torch.float32
    assert batch.min() >= -1.0 and batch.max() <= 1.0


def test_unknown_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        PreprocessConfig(image_size=8, mean=(0, 0, 0), std=(1, 1, 1), interpolation="lanczos9")


def test_placement_defaults_and_refusals() -> None:
    cpu = choose_placement("cpu")
    assert cpu.dtype == torch.float32 and not cpu.autocast
    with pytest.raises(ValueError):
        choose_placement("cpu", "fp16")
    with pytest.raises(ValueError):
        choose_placement("cpu", "fp8")


def test_unknown_settings_are_refused() -> None:
    # An experiment's setting this code no longer applies must not be dropped silently.
    data = {"image_size": 160, "mean": [0.5] * 3, "std": [0.5] * 3, "photo_framing": "product"}
    with pytest.raises(ValueError, match=r"unknown preprocessing setting\(s\) \['photo_framing'\]"):
        PreprocessConfig.from_dict(data)
