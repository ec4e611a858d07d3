"""Objects as lists of material parts: the one description both the x-ray and the photo render."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.generator import shapes
from models.generator.materials import MATERIALS

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Part:
    """One solid piece. `outline` in object mm; `depth` is its extent along the beam.

    `round` > 0 rounds the thickness profile towards the outline (radius in mm; a cylinder lying
    down has round = depth / 2); `wall` > 0 makes it a hollow shell of that wall thickness.
    `width` > 0 makes `outline` an open polyline stroked that wide (cables, springs, blades' edges).
    `colour` None means internal: the x-ray sees it, the photo does not.
    """

    outline: np.ndarray
    material: str
    depth: float
    round: float = 0.0
    wall: float = 0.0
    width: float = 0.0
    colour: RGB | None = None
    finish: str = "matte"  # matte | gloss | metal | fabric

    def volume_cm3(self) -> float:
        a = shapes.polyline_length(self.outline) * self.width if self.width > 0 else shapes.area(self.outline)
        fill = 0.8 if self.round > 0 else 1.0
        if self.wall > 0:
            fill = min(fill, 2 * self.wall / max(self.depth, 1e-3) + 4 * self.wall / max(np.sqrt(a), 1))
        return a * self.depth * fill / 1000.0


@dataclass
class ObjectModel:
    category: str
    parts: list[Part]
    colour_name: str = ""
    attrs: dict[str, str | float] = field(default_factory=dict)

    def weight_kg(self) -> float:
        return sum(p.volume_cm3() * MATERIALS[p.material].density for p in self.parts) / 1000.0

    def bounds(self) -> tuple[float, float, float, float]:
        pts = np.concatenate([p.outline for p in self.parts])
        w = max((p.width for p in self.parts), default=0.0) / 2
        return (float(pts[:, 0].min() - w), float(pts[:, 1].min() - w),
                float(pts[:, 0].max() + w), float(pts[:, 1].max() + w))

    def max_depth(self) -> float:
        return max(p.depth for p in self.parts)

    def centred(self) -> ObjectModel:
        x0, y0, x1, y1 = self.bounds()
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        parts = [Part(**{**p.__dict__, "outline": shapes.shift(p.outline, -cx, -cy)}) for p in self.parts]
        return ObjectModel(self.category, parts, self.colour_name, dict(self.attrs))
