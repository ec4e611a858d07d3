"""Phones, tablets, laptops, audio, watches, batteries, chargers and drives."""

from __future__ import annotations

import numpy as np

from models.generator.objects.common import DARK_RGB, STEEL_RGB, chance, pick, screws, shade, u
from models.generator.parts import ObjectModel, Part
from models.generator.shapes import bezier, ellipse, rect, rrect

METAL_BODY = ("silver", "space grey", "gold", "graphite", "rose gold", "blue")


def _board(rng: np.random.Generator, w: float, h: float, cx: float, cy: float, n: int) -> list[Part]:
    parts = [Part(rect(w, h, cx, cy), "pcb", 1.2)]
    for _ in range(n):
        cw, ch = u(rng, 0.1, 0.3) * w, u(rng, 0.15, 0.45) * h
        x, y = cx + u(rng, -0.35, 0.35) * w, cy + u(rng, -0.3, 0.3) * h
        parts.append(Part(rect(cw, ch, x, y), "silicon" if chance(rng, 0.6) else "steel",
                          u(rng, 0.3, 1.2)))
    return parts


def smartphone(rng: np.random.Generator) -> ObjectModel:
    w, h, d, r = u(rng, 66, 78), u(rng, 140, 165), u(rng, 7.5, 9.5), u(rng, 6, 11)
    cname, col = pick(rng, METAL_BODY + ("black", "white", "green", "purple"))
    frame = "aluminium" if chance(rng, 0.6) else "steel"
    p = [Part(rrect(w, h, r), frame, d, round=2.0, wall=1.0, colour=col, finish="metal")]
    p.append(Part(rrect(w - 2, h - 2, r - 1), "glass", 0.8))  # back glass
    p.append(Part(rrect(w * 0.72, h * 0.45, 3, 0, h * 0.1), "lithium_cell", u(rng, 3.8, 4.8)))
    p += _board(rng, w * 0.85, h * 0.26, 0, -h * 0.31, int(rng.integers(3, 7)))
    cams = int(rng.integers(1, 4))
    for i in range(cams):
        p.append(Part(ellipse(4.5, 4.5, -w * 0.28, -h * 0.4 + i * 10.5), "steel", 4.0, round=2))
    p.append(Part(rect(w * 0.3, 4, 0, h * 0.45), "magnet", 2.5))  # speaker
    p.append(Part(ellipse(4, 4, w * 0.3, h * 0.38), "copper", 3.0))  # vibration motor
    p += screws(rng, [(-w * 0.1, h * 0.48), (w * 0.1, h * 0.48)], 0.8)
    p.append(Part(rrect(w - 3, h - 3, r - 1.5), "glass", 0.7, colour=DARK_RGB, finish="gloss"))
    p.append(Part(ellipse(2, 2, 0, -h * 0.45), "glass", 0.2, colour=(5, 5, 8), finish="gloss"))
    inch = round(float(np.hypot(w - 6, h - 10) / 25.4), 1)
    return ObjectModel("smartphone", p, cname, {"inches": inch, "storage": int(rng.choice([64, 128, 256]))})


def tablet(rng: np.random.Generator) -> ObjectModel:
    w, h, d = u(rng, 150, 190), u(rng, 220, 260), u(rng, 6, 7.5)
    cname, col = pick(rng, METAL_BODY + ("black", "white"))
    p = [Part(rrect(w, h, 10, 0, 0), "aluminium", d, round=2.5, wall=1.0, colour=col, finish="metal")]
    cells = int(rng.integers(2, 4))
    cw = w * 0.8 / cells
    for i in range(cells):
        p.append(Part(rrect(cw - 3, h * 0.55, 2, -w * 0.4 + cw * (i + 0.5), h * 0.08), "lithium_cell", 3.2))
    p += _board(rng, w * 0.8, h * 0.16, 0, -h * 0.34, int(rng.integers(4, 8)))
    for sy in (-1, 1):
        p.append(Part(rect(w * 0.25, 5, w * 0.3, sy * h * 0.46), "magnet", 3.0))
    p.append(Part(rrect(w - 6, h - 6, 7), "glass", 0.8, colour=DARK_RGB, finish="gloss"))
    inch = round(float(np.hypot(w - 16, h - 16) / 25.4), 1)
    return ObjectModel("tablet", p, cname, {"inches": inch, "storage": int(rng.choice([64, 128, 256]))})


def laptop(rng: np.random.Generator) -> ObjectModel:
    w, h, d = u(rng, 300, 360), u(rng, 205, 245), u(rng, 14, 21)
    cname, col = pick(rng, ("silver", "space grey", "black", "graphite", "white"))
    shell = "aluminium" if chance(rng, 0.6) else "plastic"
    p = [Part(rrect(w, h, 8), shell, d, round=3, wall=1.3 if shell == "aluminium" else 2.2, colour=col,
              finish="metal" if shell == "aluminium" else "matte")]
    p.append(Part(rect(w * 0.94, h * 0.55, 0, -h * 0.05), "steel", 0.4))  # keyboard plate
    cells = int(rng.integers(3, 7))
    cw = w * 0.7 / cells
    for i in range(cells):
        p.append(Part(rect(cw - 2, h * 0.28, -w * 0.35 + cw * (i + 0.5), h * 0.3), "lithium_cell", 5.5))
    p += _board(rng, w * 0.55, h * 0.3, -w * 0.12, -h * 0.27, int(rng.integers(5, 10)))
    fx, fy = w * 0.3, -h * 0.25
    p.append(Part(ellipse(26, 26, fx, fy), "plastic", 6, wall=1.0))
    p.append(Part(ellipse(8, 8, fx, fy), "copper", 3))
    p.append(Part(bezier((fx - 20, fy), (w * 0.05, fy - 30), (-w * 0.12, -h * 0.27)), "copper", 3, width=6))
    for sx in (-1, 1):
        p.append(Part(rect(40, 9, sx * w * 0.32, -h * 0.47), "steel", 6))  # hinges
    p += screws(rng, [(x * w * 0.45, y * h * 0.44) for x in (-1, 0, 1) for y in (-1, 1)], 1.2, 4)
    return ObjectModel("laptop", p, cname, {"inches": int(rng.choice([13, 14, 15, 16])),
                                             "storage": int(rng.choice([256, 512, 1024]))})


def headphones(rng: np.random.Generator) -> ObjectModel:
    span, cup_r, band_h = u(rng, 150, 185), u(rng, 34, 46), u(rng, 150, 185)
    cname, col = pick(rng, ("black", "white", "silver", "navy", "beige", "pink", "space grey"))
    top = -band_h / 2
    band = bezier((-span / 2, band_h * 0.25), (0, top - band_h * 0.55), (span / 2, band_h * 0.25), 20)
    p = [Part(band, "plastic", 28, width=14, colour=col, finish="matte")]
    p.append(Part(band, "steel", 2, width=3))  # spring band inside
    for sx in (-1, 1):
        cx, cy = sx * span / 2, band_h * 0.3
        p.append(Part(ellipse(cup_r * 0.8, cup_r, cx, cy), "plastic", 35, round=8, wall=2.5,
                      colour=col, finish="gloss"))
        p.append(Part(ellipse(cup_r * 0.65, cup_r * 0.82, cx + sx * 4, cy), "leather", 18, wall=6))
        p.append(Part(ellipse(13, 13, cx, cy), "magnet", 6))
        p.append(Part(ellipse(20, 20, cx, cy), "steel", 0.6))
        p.append(Part(ellipse(6, 8, cx, cy - cup_r * 0.5), "lithium_cell", 5))
        p.append(Part(ellipse(cup_r * 0.45, cup_r * 0.55, cx, cy), "plastic", 1, colour=shade(col, 0.8)))
    return ObjectModel("headphones", p, cname, {"kind": "wireless" if chance(rng, 0.7) else "wired"})


def watch(rng: np.random.Generator) -> ObjectModel:
    cw, ch, d = u(rng, 36, 46), u(rng, 38, 50), u(rng, 9, 13)
    cname, col = pick(rng, ("silver", "gold", "black", "rose gold", "space grey"))
    sname, scol = pick(rng, ("black", "brown", "tan", "navy", "white", "silver"))
    strap_mat = "steel" if sname == "silver" else ("leather" if sname in ("brown", "tan") else "rubber")
    round_case = chance(rng, 0.5)
    case = ellipse(cw / 2, cw / 2) if round_case else rrect(cw, ch, 9)
    sl, sw = u(rng, 70, 95), cw * 0.55
    p = []
    for sy in (-1, 1):
        p.append(Part(rrect(sw, sl, 4, 0, sy * (sl / 2 + ch * 0.35)), strap_mat,
                      2.5 if strap_mat == "steel" else 4, colour=scol,
                      finish="metal" if strap_mat == "steel" else "matte"))
    p.append(Part(rect(sw * 0.9, 5, 0, ch * 0.35 + sl - 6), "steel", 3, colour=STEEL_RGB, finish="metal"))
    p.append(Part(case, "steel", d, round=3, wall=1.5, colour=col, finish="metal"))
    p.append(Part(ellipse(10, 10, 0, 3), "steel", 3.2))  # coin cell / movement
    p.append(Part(ellipse(cw * 0.35, cw * 0.35), "brass", 1.2))
    face = ellipse(cw / 2 - 3, cw / 2 - 3) if round_case else rrect(cw - 5, ch - 5, 7)
    p.append(Part(face, "glass", 1.2, colour=DARK_RGB if not round_case else (235, 235, 228), finish="gloss"))
    if round_case:
        p.append(Part(np.array([[0, 0], [0, -cw * 0.3], [0, 0], [cw * 0.22, 0]], np.float32), "brass",
                      0.2, width=1.2, colour=DARK_RGB))
    return ObjectModel("watch", p, cname, {"kind": "analog" if round_case else "smart"})


def power_bank(rng: np.random.Generator) -> ObjectModel:
    w, h, d = u(rng, 62, 82), u(rng, 120, 155), u(rng, 14, 24)
    cname, col = pick(rng, ("black", "white", "silver", "blue", "grey", "pink"))
    p = [Part(rrect(w, h, 8), "plastic", d, round=4, wall=1.8, colour=col, finish="matte")]
    n = int(rng.integers(2, 4))
    for i in range(n):  # 18650 cells lying side by side
        x = -w / 2 + w * (i + 0.5) / n
        p.append(Part(rect(min(18.4, w / n - 1), 65, x, h * 0.1), "lithium_cell", 18, round=9))
        p.append(Part(rect(8, 3, x, h * 0.1 - 34), "steel", 18))
    p += _board(rng, w * 0.8, h * 0.18, 0, -h * 0.36, 4)
    p.append(Part(rect(9, 4, 0, -h / 2 + 2), "steel", 3, colour=(30, 30, 30)))
    p.append(Part(rrect(w * 0.5, 3, 1, 0, -h * 0.3), "plastic", 0.5, colour=(90, 190, 240), finish="gloss"))
    mah = int(rng.choice([5000, 10000, 20000]))
    return ObjectModel("power_bank", p, cname, {"mah": mah})


def charger(rng: np.random.Generator) -> ObjectModel:
    w, h, d = u(rng, 38, 60), u(rng, 40, 62), u(rng, 25, 32)
    cname, col = pick(rng, ("white", "black", "grey"))
    p = [Part(rrect(w, h, 6), "plastic", d, round=4, wall=1.8, colour=col, finish="gloss")]
    for sx in (-1, 1):  # prongs
        p.append(Part(rect(3, 18, sx * w * 0.2, -h / 2 - 8), "brass", 1.6, colour=STEEL_RGB, finish="metal"))
    p.append(Part(rect(w * 0.35, h * 0.3, -w * 0.1, 0), "ferrite", 12))
    p.append(Part(rect(w * 0.42, h * 0.16, -w * 0.1, 0), "copper", 10))
    p.append(Part(rect(10, 18, w * 0.22, h * 0.05), "aluminium", 10, round=5))  # capacitor
    p += _board(rng, w * 0.8, h * 0.75, 0, 0, 3)
    p.append(Part(rect(9, 4, 0, h / 2 - 3), "steel", 3, colour=DARK_RGB))
    if chance(rng, 0.6):  # coiled cable in the same pack
        t = np.linspace(0, 6 * np.pi, 80)
        coil = np.stack([w * 0.9 + 18 * np.cos(t) + t, 20 * np.sin(t)], 1).astype(np.float32)
        p.append(Part(coil, "plastic", 3.5, width=3.5, colour=col))
        p.append(Part(coil, "copper", 0.6, width=0.8))
    return ObjectModel("charger", p, cname, {"watts": int(rng.choice([20, 30, 45, 65]))})


def hard_disk(rng: np.random.Generator) -> ObjectModel:
    big = chance(rng, 0.5)
    w, h, d = (101.6, 147, 26) if big else (69.9, 100, 9.5)
    cname, col = pick(rng, ("silver", "black", "grey"))
    p = [Part(rect(w, h), "aluminium", d, wall=2.5 if big else 1.2, colour=col, finish="metal")]
    pr = w * 0.45
    p.append(Part(ellipse(pr, pr, 0, -h * 0.12), "aluminium", 4 if big else 2))
    p.append(Part(ellipse(pr * 0.25, pr * 0.25, 0, -h * 0.12), "steel", d * 0.7))
    ax, ay = w * 0.32, h * 0.3
    p.append(Part(np.array([[ax, ay], [0, -h * 0.12 + pr * 0.6]], np.float32), "steel", 3, width=5))
    p.append(Part(ellipse(13, 10, ax, ay + 6), "magnet", 6 if big else 3))
    p.append(Part(rect(w * 0.9, h * 0.25, 0, h * 0.33), "pcb", 1.4))
    p += screws(rng, [(x * w * 0.44, y * h * 0.45) for x in (-1, 1) for y in (-1, 1)], 1.5, d)
    p.append(Part(rect(w * 0.6, h * 0.35, 0, h * 0.05), "paper", 0.1, colour=(240, 240, 240)))
    return ObjectModel("hard_disk", p, cname, {"tb": int(rng.choice([1, 2, 4, 8])), "form": "3.5" if big else "2.5"})
