from __future__ import annotations

import numpy as np
import pytest

from models.generator.objects import build
from models.generator.parts import ObjectModel
from models.generator.photo import render


@pytest.mark.parametrize("category", ["smartphone", "laptop", "power_bank", "handgun"])
def test_photo_shows_the_outside_only(category: str) -> None:
    obj = build(category, np.random.default_rng(4))
    assert any(p.colour is None for p in obj.parts), "these categories have internals"
    outside = ObjectModel(obj.category, [p for p in obj.parts if p.colour is not None], obj.colour_name)
    a = np.asarray(render([obj], np.random.default_rng(9), size=96))
    b = np.asarray(render([outside], np.random.default_rng(9), size=96))
    assert np.array_equal(a, b)


def test_photo_shows_declared_quantity() -> None:
    obj = build("lipstick", np.random.default_rng(1))
    one = np.asarray(render([obj], np.random.default_rng(2), size=128), np.float32)
    three = np.asarray(render([obj] * 3, np.random.default_rng(2), size=128), np.float32)
    assert one.shape == three.shape == (128, 128, 3)
    assert not np.array_equal(one, three)
