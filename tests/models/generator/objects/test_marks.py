from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.generator.objects import _BUILDERS, CATEGORIES
from models.generator.objects.marks import _body, with_marks
from models.generator.packaging import pack
from models.generator.photo import render
from models.generator.xray import render as xray_render


@pytest.mark.parametrize("category", CATEGORIES)
def test_marks_are_visible_metal_inside_the_body(category: str) -> None:
    counts = []
    for seed in range(4):
        plain = _BUILDERS[category](np.random.default_rng(seed))
        marked = with_marks(plain, np.random.default_rng(100 + seed))
        marks = marked.parts[len(plain.parts) :]
        counts.append(len(marks))
        body = _body(plain)
        assert body is not None
        contour = body.outline.astype(np.float32).reshape(-1, 1, 2)
        for m in marks:
            # Seen by the camera (coloured) and by the x-ray (dense metal), on the product itself.
            assert m.colour is not None and m.material in ("steel", "brass", "zinc_alloy")
            assert all(cv2.pointPolygonTest(contour, (float(x), float(y)), False) > 0 for x, y in m.outline)
    assert max(counts) >= 1 and all(c <= 3 for c in counts)


def test_two_instances_differ_in_both_modalities_through_their_marks() -> None:
    plain = _BUILDERS["smartphone"](np.random.default_rng(0))
    a, b = (with_marks(plain, np.random.default_rng(s)) for s in (1, 2))
    photos = [np.asarray(render([o], np.random.default_rng(3), size=96)) for o in (a, b)]
    xrays = [
        np.asarray(xray_render(pack(np.random.default_rng(4), main=[o], size=96), np.random.default_rng(5)))
        for o in (a, b)
    ]
    assert not np.array_equal(*photos)
    assert not np.array_equal(*xrays)
