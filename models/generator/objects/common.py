"""Shared colour palette and small helpers for the category builders."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.generator.parts import RGB, ObjectModel, Part

Builder = Callable[[np.random.Generator], ObjectModel]

PALETTE: dict[str, RGB] = {
    "black": (28, 28, 32), "white": (235, 235, 232), "silver": (190, 192, 196),
    "space grey": (95, 98, 104), "graphite": (60, 62, 66), "gold": (214, 184, 130),
    "rose gold": (222, 170, 160), "navy": (30, 42, 80), "blue": (45, 95, 185),
    "sky blue": (120, 170, 220), "red": (185, 35, 40), "pink": (230, 150, 175),
    "green": (50, 120, 70), "olive": (110, 110, 60), "beige": (215, 195, 160),
    "tan": (190, 140, 90), "brown": (110, 70, 40), "grey": (140, 140, 140),
    "yellow": (235, 200, 50), "orange": (235, 120, 35), "purple": (110, 60, 140),
    "teal": (40, 130, 130), "cream": (240, 230, 205), "burgundy": (110, 25, 40),
}
STEEL_RGB: RGB = (178, 182, 188)
DARK_RGB: RGB = (22, 22, 26)


def pick(rng: np.random.Generator, names: tuple[str, ...]) -> tuple[str, RGB]:
    name = names[int(rng.integers(len(names)))]
    return name, jitter(rng, PALETTE[name])


def jitter(rng: np.random.Generator, rgb: RGB, amount: float = 10.0) -> RGB:
    c = np.clip(np.asarray(rgb) + rng.normal(0, amount, 3), 0, 255).astype(int)
    return int(c[0]), int(c[1]), int(c[2])


def shade(rgb: RGB, k: float) -> RGB:
    c = np.clip(np.asarray(rgb, float) * k, 0, 255).astype(int)
    return int(c[0]), int(c[1]), int(c[2])


def u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def screws(rng: np.random.Generator, pts: list[tuple[float, float]], r: float = 1.0,
           depth: float = 3.0) -> list[Part]:
    from models.generator.shapes import ellipse

    return [Part(ellipse(r, r, x, y, n=8), "steel", depth) for x, y in pts]
