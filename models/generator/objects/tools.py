"""Hand tools, blades and the prohibited handgun: mostly steel, so the x-ray draws them blue-black."""

from __future__ import annotations

from typing import Any

import numpy as np

from models.generator.objects.common import DARK_RGB, STEEL_RGB, chance, jitter, pick, u
from models.generator.parts import ObjectModel, Part
from models.generator.shapes import ellipse, poly, rect, rotate, rrect, shift

GRIPS = ("black", "red", "yellow", "orange", "blue", "green", "grey")


def kitchen_knife(rng: np.random.Generator) -> ObjectModel:
    bl, bh, hl = u(rng, 120, 230), u(rng, 25, 50), u(rng, 95, 130)
    cname, col = pick(rng, ("black", "brown", "tan", "white", "red", "graphite"))
    blade = poly([(0, -bh * 0.45), (bl * 0.75, -bh * 0.45), (bl, -bh * 0.1), (bl * 0.9, bh * 0.05),
                  (bl * 0.55, bh * 0.5), (0, bh * 0.55)])
    hm = "wood" if cname in ("brown", "tan") else "plastic"
    p = [Part(rect(hl * 0.95, bh * 0.35, -hl / 2, 0), "steel", 2.5)]  # full tang
    p.append(Part(rrect(hl, bh * 0.7, bh * 0.3, -hl / 2, 0), hm, 16, round=7, colour=col))
    for x in (-hl * 0.2, -hl * 0.5, -hl * 0.8):
        p.append(Part(ellipse(2.5, 2.5, x, 0), "brass", 16, colour=STEEL_RGB, finish="metal"))
    p.append(Part(blade, "steel", 2.0, round=1.0, colour=jitter(rng, STEEL_RGB, 5), finish="metal"))
    return ObjectModel("kitchen_knife", p, cname, {"blade_mm": round(bl)})


def scissors(rng: np.random.Generator) -> ObjectModel:
    bl, ring = u(rng, 70, 130), u(rng, 18, 28)
    cname, col = pick(rng, GRIPS)
    p: list[Part] = []
    for s in (-1, 1):
        blade = rotate(poly([(0, -5), (bl, -1), (bl, 1), (0, 6)]), s * 9)
        p.append(Part(blade, "steel", 2.5, colour=STEEL_RGB, finish="metal"))
        tang = rotate(poly([(0, -3), (-ring * 1.4, s * ring * 0.6 - 3), (-ring * 1.4, s * ring * 0.6 + 3)]), 0)
        p.append(Part(tang, "steel", 2.5, colour=STEEL_RGB, finish="metal"))
        loop = ellipse(ring, ring * 0.7, -ring * 1.9, s * ring * 0.85)
        p.append(Part(np.vstack([loop, loop[:1]]), "plastic", 9, width=6, colour=col))
    p.append(Part(ellipse(3.5, 3.5), "steel", 6, colour=STEEL_RGB, finish="metal"))
    return ObjectModel("scissors", p, cname)


def wrench(rng: np.random.Generator) -> ObjectModel:
    length, jaw = u(rng, 140, 260), u(rng, 10, 24)
    met: dict[str, Any] = {"colour": STEEL_RGB, "finish": "metal"}
    p = [Part(rrect(length, jaw * 0.9, 4), "steel", 5.5, round=2, **met)]
    # Open end: a C-shaped jaw; ring end: a closed ring. Stroked arcs keep the opening empty.
    c_end = ellipse(jaw * 0.85, jaw * 0.85, length / 2 + jaw * 0.4, 0, n=16, a0=35, a1=325)
    p.append(Part(c_end, "steel", 7, width=jaw * 0.55, **met))
    ring = ellipse(jaw * 0.82, jaw * 0.82, -length / 2, n=20)
    p.append(Part(np.vstack([ring, ring[:1]]), "steel", 8, width=jaw * 0.5, **met))
    return ObjectModel("wrench", p, "silver", {"mm": int(round(jaw))})


def pliers(rng: np.random.Generator) -> ObjectModel:
    hl, jl = u(rng, 100, 140), u(rng, 40, 70)
    cname, col = pick(rng, GRIPS)
    needle = chance(rng, 0.4)
    p: list[Part] = []
    for s in (-1, 1):
        arm = poly([(0, s * 3), (-hl, s * 16), (-hl, s * 25), (0, s * 9)])
        p.append(Part(arm, "steel", 8, colour=STEEL_RGB, finish="metal"))
        grip = poly([(-hl * 0.25, s * 8), (-hl, s * 15), (-hl, s * 27), (-hl * 0.25, s * 14)])
        p.append(Part(grip, "pvc", 13, round=5, colour=col))
        tip = 2 if needle else 6
        jaw = poly([(0, 0), (jl, s * 0.5), (jl, s * tip), (0, s * 11)])
        p.append(Part(jaw, "steel", 10, round=3, colour=STEEL_RGB, finish="metal"))
    p.append(Part(ellipse(6, 6), "steel", 12, colour=STEEL_RGB, finish="metal"))
    return ObjectModel("pliers", p, cname)


def hammer(rng: np.random.Generator) -> ObjectModel:
    hl, hw = u(rng, 260, 340), u(rng, 95, 130)
    cname, col = pick(rng, ("black", "yellow", "red", "orange", "brown", "blue"))
    wood = cname == "brown"
    p = [Part(rrect(26, hl, 10, 0, hl / 2), "wood" if wood else "plastic", 24, round=11,
              colour=col if wood else (230, 200, 120), finish="gloss")]
    if not wood:
        p.append(Part(rrect(30, hl * 0.45, 12, 0, hl * 0.75), "rubber", 28, round=12, colour=col))
    head = poly([(-hw * 0.4, -14), (hw * 0.15, -16), (hw * 0.55, -30), (hw * 0.62, -24), (hw * 0.3, -2),
                 (hw * 0.3, 14), (-hw * 0.4, 14)])
    p.append(Part(head, "steel", 28, round=6, colour=(60, 62, 68), finish="metal"))
    p.append(Part(rect(hw * 0.25, 36, -hw * 0.45, 0), "steel", 30, round=12, colour=(80, 82, 88), finish="metal"))
    return ObjectModel("hammer", p, cname)


def screwdriver(rng: np.random.Generator) -> ObjectModel:
    hl, sl, r = u(rng, 85, 115), u(rng, 75, 200), u(rng, 3, 4.5)
    cname, col = pick(rng, GRIPS)
    p = [Part(rect(sl + 20, r * 2, sl / 2 - 10, 0), "steel", r * 2, round=r, colour=STEEL_RGB, finish="metal")]
    p.append(Part(poly([(sl, -r), (sl + 8, -1), (sl + 8, 1), (sl, r)]), "steel", 2, colour=STEEL_RGB,
                  finish="metal"))
    p.append(Part(rrect(hl, 32, 12, -hl / 2, 0), "plastic", 30, round=14, colour=col, finish="gloss"))
    p.append(Part(rrect(hl * 0.5, 34, 10, -hl * 0.45, 0), "rubber", 32, round=15, colour=DARK_RGB))
    return ObjectModel("screwdriver", p, cname)


def handgun(rng: np.random.Generator) -> ObjectModel:
    sl, sh = u(rng, 165, 200), u(rng, 28, 34)
    cname, col = pick(rng, ("black", "graphite", "olive", "tan"))
    grip_a = u(rng, 12, 22)
    p = [Part(rect(sl * 0.95, 12, sl * 0.48, 10), "steel", 11, round=5)]  # barrel
    frame = poly([(0, 18), (sl * 0.95, 18), (sl * 0.95, 30), (sl * 0.45, 34), (sl * 0.38, 34), (0, 30)])
    p.append(Part(frame, "plastic" if cname != "graphite" else "steel", 28, round=8, colour=shade_col(col)))
    grip = rotate(rrect(sh * 1.05, 95, 6, 0, 47), grip_a)
    p.append(Part(shift(grip, 12, 25), "plastic", 30, round=10, colour=shade_col(col), finish="fabric"))
    mag = rotate(rect(sh * 0.72, 92, 0, 49), grip_a)
    p.append(Part(shift(mag, 12, 25), "steel", 22, wall=1.0))
    for i in range(int(rng.integers(4, 12))):  # cartridges stacked in the magazine
        c = rotate(rect(sh * 0.55, 8.5, 0, 20 + i * 6.2), grip_a)
        p.append(Part(shift(c, 12, 25), "brass", 9, round=4.5))
    guard = np.vstack([ellipse(20, 15, sl * 0.36, 42, n=16, a0=0, a1=180)])
    p.append(Part(guard, "plastic", 12, width=5, colour=shade_col(col)))
    p.append(Part(poly([(sl * 0.33, 34), (sl * 0.37, 52), (sl * 0.34, 53)]), "steel", 6))
    p.append(Part(rrect(sl, sh, 3, sl / 2, 0), "steel", 24, round=4, wall=3, colour=(35, 36, 40),
                  finish="metal"))  # slide
    p.append(Part(rect(sl * 0.8, 3, sl * 0.45, 18), "steel", 6))  # recoil spring guide
    return ObjectModel("handgun", p, cname, {"calibre": "9mm"}).centred()


def shade_col(c: tuple[int, int, int]) -> tuple[int, int, int]:
    return int(c[0] * 0.9), int(c[1] * 0.9), int(c[2] * 0.9)
