from __future__ import annotations

import numpy as np
import pytest

from models.generator.materials import MATERIALS
from models.generator.parts import Part
from models.generator.shapes import pose_matrix, rect
from models.generator.xray import Scene, attenuation, render


def _slab(material: str, depth: float, size: int = 64) -> Scene:
    m = pose_matrix(0, size / 2, size / 2, 1.0)  # 1 mm per px
    return Scene(size=size, mm_per_px=1.0, parts=[(Part(rect(30, 30), material, depth), m)], maps=[])


def _centre_rgb(scene: Scene) -> np.ndarray:
    img = np.asarray(render(scene, np.random.default_rng(0)), np.float32)
    return img[24:40, 24:40].reshape(-1, 3).mean(axis=0)


def test_beer_lambert_path_length_adds_linearly() -> None:
    a_low, a_high = attenuation(_slab("steel", 2.0))
    b_low, b_high = attenuation(_slab("steel", 4.0))
    c = (slice(28, 36), slice(28, 36))
    assert np.allclose(b_high[c], 2 * a_high[c], rtol=1e-4)
    assert np.allclose(a_high[c], MATERIALS["steel"].mu_high * 2.0, rtol=1e-4)
    assert a_low[0, 0] == 0.0  # air outside the slab


def test_low_high_ratio_orders_materials_by_effective_z() -> None:
    ratio = {k: m.mu_low / m.mu_high for k, m in MATERIALS.items()}
    assert ratio["plastic"] < ratio["glass"] < ratio["steel"] < ratio["copper"]
    assert ratio["water"] < 1.4 < ratio["aluminium"] < 2.5 < ratio["lithium_cell"]


@pytest.mark.parametrize(("material", "depth", "hue"), [
    ("plastic", 25.0, "orange"), ("water", 40.0, "orange"), ("aluminium", 6.0, "green"),
    ("glass", 6.0, "green"), ("steel", 3.0, "blue"),
])
def test_pseudo_colour_follows_material(material: str, depth: float, hue: str) -> None:
    r, g, b = _centre_rgb(_slab(material, depth))
    if hue == "orange":
        assert r > g > b and r - b > 60
    elif hue == "green":
        assert g > r and g > b
    else:
        assert b > r + 40 and b > g


def test_thick_metal_goes_dark_and_background_stays_white() -> None:
    thin, thick = _centre_rgb(_slab("steel", 2.0)), _centre_rgb(_slab("steel", 30.0))
    assert thick.sum() < 0.3 * thin.sum() and thick.max() < 60
    img = np.asarray(render(_slab("steel", 2.0), np.random.default_rng(0)), np.float32)
    assert img[:8, :8].min() > 240


def test_overlap_is_darker_than_either_item() -> None:
    one = _centre_rgb(_slab("plastic", 20.0))
    scene = _slab("plastic", 20.0)
    scene.parts.append(scene.parts[0])
    assert _centre_rgb(scene).sum() < one.sum() - 30
