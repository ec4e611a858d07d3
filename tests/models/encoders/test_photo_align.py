"""Photo framing on generated listing photos: product enlarged, long axis upright, nothing cut off."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from models.encoders.photo_align import align_photo, framing_matrix, product_edges
from models.encoders.preprocess import PreprocessConfig, to_tensor
from models.generator.synthetic import generate_shipment


def _photo(category: str, index: int = 0) -> Image.Image:
    return generate_shipment(seed=5, index=index, size=256, scenario="match", category=category).photo


def _single_units(category: str, n: int) -> list[Image.Image]:
    """Listing photos of one unit each (several units side by side make a compact group)."""
    shipments = (generate_shipment(seed=5, index=i, size=256, scenario="match", category=category) for i in range(50))
    return [s.photo for s in shipments if len(s.contents) == 1][:n]


def _extent(mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.max() - xs.min()), int(ys.max() - ys.min())


def test_edges_find_the_product_not_the_backdrop_or_its_shadow() -> None:
    # A product photo's edges lie on the product: the wall-and-table horizon and the soft contact
    # shadow are part of the backdrop model or too gradual to count.
    for index in range(8):
        photo = np.asarray(_photo("book", index))
        edges = product_edges(photo)
        w, h = _extent(edges)
        assert 0.4 * 256 < max(w, h) < 0.85 * 256, f"photo {index}: edge extent {w}x{h}"


def _framed_edges(photo: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """The product's edge pixels (x, y) before and after framing (the framed image's borders are
    smeared backdrop, so the product is followed through the framing's matrix, not found again)."""
    rgb = np.asarray(photo)
    mat = framing_matrix(rgb)
    assert mat is not None
    ys, xs = np.nonzero(product_edges(rgb))
    before = np.stack([xs, ys], axis=1).astype(np.float64)
    return before, np.hstack([before, np.ones((len(xs), 1))]) @ mat.T


def _axis_degrees(pts: np.ndarray) -> float:
    """Angle of the points' long axis from vertical, 0..90."""
    evals, evecs = np.linalg.eigh(np.cov(pts.T))
    return float(np.degrees(np.arccos(abs(evecs[1, 1]))))


def _long_side(pts: np.ndarray) -> float:
    return float((pts.max(axis=0) - pts.min(axis=0)).max())


@pytest.mark.parametrize("category", ["kitchen_knife", "screwdriver", "umbrella", "wrench"])
def test_long_goods_come_out_upright_and_larger(category: str) -> None:
    for photo in _single_units(category, 3):
        before, after = _framed_edges(photo)
        assert _axis_degrees(after) < 5.0
        # Larger, unless it already spanned the frame less its padding.
        assert _long_side(after) > min(1.15 * _long_side(before), 0.8 * 256)


def test_upright_goods_stay_upright() -> None:
    for index in range(3):
        before, after = _framed_edges(_photo("smartphone", index))
        assert _axis_degrees(after) < max(5.0, _axis_degrees(before))


def test_nothing_of_the_product_is_cut_off() -> None:
    for category in ("handbag", "boots", "lipstick", "headphones", "toy"):
        _, after = _framed_edges(_photo(category))
        assert after.min() >= 0 and after.max() <= 256, f"{category}: product framed out"


@pytest.mark.parametrize("horizon", [None, 150])
def test_a_bare_backdrop_is_left_as_it_is(horizon: int | None) -> None:
    # A studio sweep, or a wall meeting a table, with sensor noise and nothing on it.
    rng = np.random.default_rng(0)
    img = np.empty((256, 256, 3), np.float32)
    ramp = np.linspace(1.0, 0.94, 256, dtype=np.float32)[:, None, None]
    img[:] = np.array([240, 238, 236], np.float32) * ramp
    if horizon is not None:
        grain = 1 + 0.04 * np.sin(np.arange(256 - horizon, dtype=np.float32))
        img[horizon:] = np.array([170, 110, 60], np.float32) * grain[:, None, None]
    img += rng.normal(0, 2.0, img.shape).astype(np.float32)
    bare = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    assert framing_matrix(np.asarray(bare)) is None
    assert np.array_equal(np.asarray(align_photo(bare)), np.asarray(bare))


def test_framing_is_a_photo_setting() -> None:
    cfg = PreprocessConfig(image_size=64, mean=(0.5,) * 3, std=(0.5,) * 3, photo_framing="product")
    assert PreprocessConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.for_modality("photo").photo_framing == "product"
    assert cfg.for_modality("xray").photo_framing is None
    assert "photo_framing" not in PreprocessConfig(image_size=64, mean=(0,) * 3, std=(1,) * 3).to_dict()
    photo = _photo("screwdriver")
    framed, plain = to_tensor([photo], cfg.for_modality("photo")), to_tensor([photo], cfg.for_modality("xray"))
    assert framed.shape == plain.shape == (1, 3, 64, 64) and not torch.equal(framed, plain)
    with pytest.raises(ValueError, match="photo_framing"):
        PreprocessConfig(image_size=64, mean=(0,) * 3, std=(1,) * 3, photo_framing="centre")
