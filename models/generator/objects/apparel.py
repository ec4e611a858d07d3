"""Shoes, bags, clothing and umbrellas: organic bulk with small metal hardware."""

from __future__ import annotations

import numpy as np

from models.generator.objects.common import STEEL_RGB, chance, jitter, pick, shade, u
from models.generator.parts import ObjectModel, Part
from models.generator.shapes import bezier, ellipse, poly, rect, rrect, shift

SHOE = ("black", "white", "grey", "navy", "red", "blue", "pink", "beige", "green")


def _shoe(rng: np.random.Generator, length: float, height: float, boot: bool,
          upper_col: tuple[int, int, int], sole_col: tuple[int, int, int]) -> list[Part]:
    # Side profile, toe at +x, ground at y = 0; the shoe lies on its side so the beam crosses its width.
    half, width = length / 2, u(rng, 85, 105)
    sole_h = u(rng, 22, 34) if boot else u(rng, 18, 30)
    sole = poly([(-half, 0), (half - 25, 0), (half, -8), (half - 4, -sole_h * 0.8), (-half, -sole_h)])
    if boot:  # shaft rises at the heel, the front drops to the instep, then runs out to the toe
        shaft = u(rng, 95, 115)
        upper = poly([(-half + 2, -sole_h), (-half + 4, -height), (-half + shaft, -height),
                      (-half + shaft + 8, -sole_h - 80), (half - 75, -sole_h - 52), (half - 35, -sole_h - 40),
                      (half - 8, -sole_h - 18), (half - 4, -sole_h * 0.8)])
    else:
        upper = poly([(-half + 2, -sole_h), (-half + 4, -height + 10), (-half + 30, -height),
                      (-half + 60, -height + 18), (-half + 95, -height + 2), (-half + 110, -height + 12),
                      (half - 70, -sole_h - 38), (half - 30, -sole_h - 30), (half - 6, -sole_h - 14),
                      (half - 4, -sole_h * 0.8)])
    mat = "leather" if boot else "fabric"
    p = [Part(upper, mat, width, round=width * 0.4, wall=2.5 if boot else 4.0, colour=upper_col,
              finish="matte" if boot else "fabric")]
    p.append(Part(rect(length * 0.8, 6, -length * 0.05, -sole_h - 3), "foam", width * 0.8))  # insole
    p.append(Part(sole, "rubber", width, round=width * 0.35, colour=sole_col))
    if boot:
        p.append(Part(rect(length * 0.35, 3, -length * 0.12, -sole_h * 0.5), "steel", 15))  # shank
        if chance(rng, 0.6):  # side zip
            p.append(Part(poly([(-half + 12, -sole_h - 10), (-half + 14, -height + 6)]), "steel", 3, width=4,
                          colour=STEEL_RGB, finish="metal"))
        if chance(rng, 0.3):  # steel toe cap of a work boot
            p.append(Part(ellipse(38, 28, half - 34, -sole_h - 18, a0=-90, a1=90, n=12), "steel", 85, wall=1.5))
    else:
        stripe = poly([(-half * 0.3, -sole_h - 8), (half * 0.35, -sole_h - 30), (half * 0.4, -sole_h - 22),
                       (-half * 0.25, -sole_h - 2)])
        p.append(Part(stripe, "leather", 1.0, colour=shade(upper_col, 0.55) if sum(upper_col) > 300
                      else (235, 235, 235)))
    lace_from = (-half + 105, -height + 20) if boot else (-half + 100, -height + 12)
    lace_to = (half - 80, -sole_h - 50) if boot else (half - 75, -sole_h - 36)
    lace = np.linspace(lace_from, lace_to, 6).astype(np.float32)
    for x, y in lace:
        p.append(Part(ellipse(2.2, 2.2, x, y + 4, n=8), "steel" if boot else "plastic", 3, colour=STEEL_RGB))
    p.append(Part(lace, "fabric", 6, width=4, colour=(240, 240, 235) if not boot else shade(upper_col, 0.6)))
    return p


def _pair(category: str, rng: np.random.Generator, boot: bool) -> ObjectModel:
    length = u(rng, 250, 300)
    height = u(rng, 150, 230) if boot else u(rng, 85, 110)
    names = ("black", "brown", "tan", "grey", "olive", "burgundy") if boot else SHOE
    cname, col = pick(rng, names)
    sole_col = (40, 38, 36) if boot or chance(rng, 0.3) else (240, 240, 236)
    first = _shoe(rng, length, height, boot, col, sole_col)
    dx, dy = u(rng, 15, 45), u(rng, -35, -15)
    second = [Part(**{**q.__dict__, "outline": shift(q.outline, dx, dy)}) for q in first]
    size = int(round((length - 170) / 6.7 + 30))
    return ObjectModel(category, second + first, cname, {"eu_size": size}).centred()


def sneakers(rng: np.random.Generator) -> ObjectModel:
    return _pair("sneakers", rng, boot=False)


def boots(rng: np.random.Generator) -> ObjectModel:
    return _pair("boots", rng, boot=True)


def handbag(rng: np.random.Generator) -> ObjectModel:
    w, h, d = u(rng, 240, 340), u(rng, 170, 250), u(rng, 90, 150)
    cname, col = pick(rng, ("black", "brown", "tan", "beige", "red", "burgundy", "navy", "cream", "pink"))
    top = w * u(rng, 0.7, 0.9)
    body = poly([(-top / 2, -h / 2), (top / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)])
    p = []
    for sx in (-1, 1):  # handles
        arc = bezier((sx * top * 0.3 - 40, -h / 2), (sx * top * 0.3, -h / 2 - 120), (sx * top * 0.3 + 40, -h / 2))
        p.append(Part(arc, "leather", 8, width=14, colour=shade(col, 0.85)))
        for x in (sx * top * 0.3 - 40, sx * top * 0.3 + 40):
            p.append(Part(ellipse(7, 7, x, -h / 2 + 2), "zinc_alloy", 4, wall=0.0, colour=(214, 184, 130),
                          finish="metal"))
    p.append(Part(body, "leather", d, round=d * 0.3, wall=2.5, colour=col))
    p.append(Part(rect(top * 0.9, 4, 0, -h / 2 + 6), "steel", 4, colour=(214, 184, 130), finish="metal"))
    flap = poly([(-top / 2, -h / 2), (top / 2, -h / 2), (top * 0.45, -h * 0.05), (-top * 0.45, -h * 0.05)])
    if chance(rng, 0.6):
        p.append(Part(flap, "leather", 2, colour=shade(col, 0.9)))
        p.append(Part(rrect(28, 16, 4, 0, -h * 0.1), "zinc_alloy", 5, colour=(214, 184, 130), finish="metal"))
    for x in (-w * 0.35, w * 0.35):
        p.append(Part(ellipse(5, 5, x, h / 2 - 4), "steel", 6))  # feet
    return ObjectModel("handbag", p, cname)


def folded_clothing(rng: np.random.Generator) -> ObjectModel:
    kind = ("tshirt", "sweater", "jeans", "hoodie")[int(rng.integers(4))]
    w, h, d = u(rng, 230, 310), u(rng, 180, 290), u(rng, 18, 55)
    names = ("navy", "blue", "sky blue") if kind == "jeans" else ("white", "black", "grey", "navy", "red",
                                                                  "green", "beige", "pink", "yellow", "olive")
    cname, col = pick(rng, names)
    p = [Part(rrect(w, h, 12), "fabric", d, round=d / 2, colour=col, finish="fabric")]
    for i in range(int(rng.integers(1, 3))):  # fold edges: extra layers of cloth
        p.append(Part(rect(w * 0.96, h * u(rng, 0.15, 0.3), 0, -h / 2 + h * 0.2 * (i + 1)), "fabric", d * 0.4,
                      colour=shade(col, 0.93), finish="fabric"))
    if kind in ("tshirt", "sweater", "hoodie"):
        p.append(Part(ellipse(w * 0.16, h * 0.08, 0, -h / 2 + h * 0.08, a0=0, a1=180, n=12), "fabric", 6,
                      width=8, colour=shade(col, 0.75)))
    if kind == "jeans":
        p.append(Part(poly([(0, -h / 2 + 10), (0, -h / 2 + 90)]), "brass", 3, width=6, colour=(200, 170, 100)))
        p.append(Part(ellipse(8, 8, 0, -h / 2 + 8), "brass", 4, colour=(200, 170, 100), finish="metal"))
        for x in (-w * 0.35, w * 0.35, -w * 0.3, w * 0.3):
            p.append(Part(ellipse(3, 3, x, -h / 2 + u(rng, 15, 40)), "copper", 3))
    if kind == "hoodie":
        p.append(Part(poly([(0, -h / 2), (0, h / 2)]), "steel", 2.5, width=6, colour=shade(col, 0.6)))
    return ObjectModel("folded_clothing", p, cname, {"kind": kind})


def umbrella(rng: np.random.Generator) -> ObjectModel:
    length, dia = u(rng, 230, 290), u(rng, 42, 58)
    cname, col = pick(rng, ("black", "navy", "red", "blue", "green", "purple", "beige", "grey"))
    canopy = poly([(-length / 2 + 40, -dia / 2), (length / 2 - 30, -dia * 0.35), (length / 2, 0),
                   (length / 2 - 30, dia * 0.35), (-length / 2 + 40, dia / 2)])
    p = [Part(canopy, "fabric", dia, round=dia / 2, colour=col, finish="fabric")]
    p.append(Part(rect(length - 45, 9, 20, 0), "steel", 9, round=4.5, wall=0.8))  # telescopic shaft
    for i in range(8):  # ribs folded along the shaft
        y = (i - 3.5) * dia * 0.09
        p.append(Part(poly([(-length / 2 + 45, y), (length / 2 - 15, y * 0.4)]), "steel", 1.5, width=1.6))
    p.append(Part(rect(10, 4, 10, -dia * 0.15), "plastic", 6, colour=shade(col, 0.6)))  # strap
    handle = rrect(48, 30, 12, -length / 2 + 20, 0)
    p.append(Part(handle, "plastic" if chance(rng, 0.7) else "wood", 28, round=13,
                  colour=jitter(rng, (30, 30, 30) if chance(rng, 0.7) else (110, 70, 40))))
    return ObjectModel("umbrella", p, cname)
