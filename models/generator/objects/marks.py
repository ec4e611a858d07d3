"""Per-instance hardware (logo plates, studs, buckles, camera bumps) seen by both camera and x-ray.

Without these, two instances of one category differed mostly in colour (photo only) and internal
layout (x-ray only); the only traits both modalities shared were aspect ratio and quantity, so no
encoder could tell which of ~40 phones in a split was the photographed one (recall@1 0.085 of
1,000; within-category recall@1 0.20 of ~23 on validation). Real product models do differ in
visible metal hardware, and metal is exactly what an x-ray shows best, so each instance gets
1-3 metal marks of its own shape, size and place on its largest visible part.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.generator.objects.common import DARK_RGB, STEEL_RGB, u
from models.generator.parts import RGB, ObjectModel, Part
from models.generator.shapes import area, ellipse, poly, rect, rotate, rrect, shift

_GOLD: RGB = (214, 184, 130)
_MATERIALS = ("steel", "brass", "zinc_alloy")


def _solid(p: Part) -> bool:
    return p.colour is not None and p.width <= 0 and len(p.outline) >= 3


def _body(obj: ObjectModel) -> Part | None:
    solid = [p for p in obj.parts if _solid(p)]
    return max(solid, key=lambda p: area(p.outline), default=None)


def _shape(rng: np.random.Generator, s: float) -> np.ndarray:
    kind = int(rng.integers(4))
    if kind == 0:
        return ellipse(s / 2, s / 2, n=16)
    if kind == 1:
        return rotate(rect(s * 1.6, s * 0.45), u(rng, 0, 180))
    if kind == 2:
        return rotate(rrect(s, s, s * 0.2), u(rng, 0, 90))
    return rotate(poly([(0, -s * 0.6), (s * 0.55, s * 0.4), (-s * 0.55, s * 0.4)]), u(rng, 0, 360))


def _contrast(body: RGB) -> RGB:
    # The mark must stand out in the photo as it does in the x-ray.
    options = (STEEL_RGB, _GOLD, DARK_RGB)
    return max(options, key=lambda c: sum(abs(a - b) for a, b in zip(c, body, strict=True)))


def _surface(obj: ObjectModel, x: float, y: float, default: RGB) -> RGB:
    # The colour the camera sees at (x, y): the last-drawn visible part covering it (a screen, a flap).
    for p in reversed(obj.parts):
        if _solid(p) and cv2.pointPolygonTest(p.outline.astype(np.float32).reshape(-1, 1, 2), (x, y), False) > 0:
            assert p.colour is not None
            return p.colour
    return default


def _inside(contour: np.ndarray, pts: np.ndarray) -> bool:
    return all(cv2.pointPolygonTest(contour, (float(x), float(y)), False) > 0 for x, y in pts)


def with_marks(obj: ObjectModel, rng: np.random.Generator) -> ObjectModel:
    """Return `obj` with 1-3 visible metal marks placed inside its largest visible part."""
    body = _body(obj)
    if body is None or body.colour is None:
        return obj
    contour = body.outline.astype(np.float32).reshape(-1, 1, 2)
    x0, y0 = body.outline.min(axis=0)
    x1, y1 = body.outline.max(axis=0)
    side = float(np.sqrt(area(body.outline)))
    marks: list[Part] = []
    for _ in range(int(rng.integers(1, 4))):
        s = u(rng, 0.16, 0.32) * side
        outline = _shape(rng, s)
        for _ in range(30):  # rejection sampling, shrinking the mark on thin bodies
            placed = shift(outline, u(rng, x0, x1), u(rng, y0, y1))
            if _inside(contour, placed):
                mat = _MATERIALS[int(rng.integers(len(_MATERIALS)))]
                cx, cy = (float(v) for v in placed.mean(axis=0))
                colour = _contrast(_surface(obj, cx, cy, body.colour))
                marks.append(Part(placed, mat, u(rng, 1.5, 3.5), colour=colour, finish="metal"))
                break
            outline = outline * np.float32(0.92)
    return ObjectModel(obj.category, obj.parts + marks, obj.colour_name, dict(obj.attrs))
