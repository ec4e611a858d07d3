"""Things that are not the listed product: clutter, concealed extras and decoy masses."""

from __future__ import annotations

import numpy as np

from models.generator.objects.common import u
from models.generator.parts import ObjectModel, Part
from models.generator.shapes import bezier, ellipse, rect, rrect


def _cable(rng: np.random.Generator) -> ObjectModel:
    # A loosely coiled charging cable: copper cores inside a PVC jacket.
    t = np.linspace(0, u(rng, 3, 6) * np.pi, 90)
    r = u(rng, 25, 45)
    pts = np.stack([r * np.cos(t) + t * u(rng, 1, 4), r * 0.8 * np.sin(t)], 1).astype(np.float32)
    pts += rng.normal(0, 1.5, pts.shape).astype(np.float32)
    return ObjectModel("cable", [Part(pts, "pvc", 3.5, width=3.5), Part(pts, "copper", 0.8, width=1.0),
                                 Part(rect(10, 22, *pts[0]), "plastic", 8), Part(rect(6, 9, *pts[0]), "steel", 4)])


def clutter_item(rng: np.random.Generator, kind: str) -> ObjectModel:
    """One benign extra of the kind found in parcels: cable, leaflet, silica gel, zip bag, invoice."""
    pick = int(rng.integers(5))
    if pick == 0:
        return _cable(rng)
    if pick == 1:
        return ObjectModel("leaflet", [Part(rect(u(rng, 90, 150), u(rng, 60, 110)), "paper", u(rng, 0.3, 2.0))])
    if pick == 2:
        return ObjectModel("silica_gel", [Part(rrect(u(rng, 20, 40), u(rng, 25, 50), 3), "sand", 3.0, round=1.5)])
    if pick == 3:
        w, h = u(rng, 80, 160), u(rng, 80, 160)
        return ObjectModel("zip_bag", [Part(rect(w, h), "plastic", 0.4, wall=0.1),
                                       Part(rect(w, 4, 0, -h / 2 + 6), "plastic", 2.5)])
    return ObjectModel("invoice", [Part(rect(u(rng, 100, 210), u(rng, 70, 150)), "paper", u(rng, 0.2, 0.6))])


def battery_pack(rng: np.random.Generator) -> ObjectModel:
    """Loose 18650 cells taped together with nickel strips: a typical undeclared lithium shipment."""
    n = int(rng.integers(3, 9))
    cols = int(rng.integers(1, 3))
    parts: list[Part] = []
    for i in range(n):
        x, y = (i // cols) * 18.6, (i % cols) * 66
        parts.append(Part(rect(18.2, 65, x, y), "lithium_cell", 18, round=9))
        parts.append(Part(rect(14, 2, x, y - 32), "steel", 18))
    parts.append(Part(rect(18.6 * (n // cols + 1), 8, 18.6 * (n // cols) / 2, -33), "steel", 0.3))
    parts.append(Part(bezier((0, -40), (30, -80), (60, -50)), "copper", 2, width=2.5))
    return ObjectModel("battery_pack", parts).centred()


def pills(rng: np.random.Generator) -> ObjectModel:
    """A bag of tablets: dense compact pellets inside a thin film bag."""
    n = int(rng.integers(40, 120))
    w, h = u(rng, 60, 110), u(rng, 60, 120)
    rx, ry = u(rng, 4, 7), u(rng, 3, 5)
    parts = [Part(rect(w, h), "plastic", 0.6, wall=0.2)]
    xy = rng.uniform(-0.45, 0.45, (n, 2)) * (w, h)
    for (x, y), a in zip(xy, rng.uniform(0, 180, n), strict=True):
        e = ellipse(rx, ry, n=10)
        c, s = np.cos(np.radians(a)), np.sin(np.radians(a))
        e = (e @ np.array([[c, s], [-s, c]], np.float32) + (x, y)).astype(np.float32)
        parts.append(Part(e, "pills", u(rng, 4, 7), round=2.5))
    return ObjectModel("pills", parts)


def decoy_mass(rng: np.random.Generator, weight_kg: float) -> ObjectModel:
    """Something that makes the parcel weigh what the declaration says: sand, water, a paper block."""
    kind = ("sand", "water", "paper")[int(rng.integers(3))]
    density = {"sand": 1.6, "water": 1.0, "paper": 0.8}[kind]
    vol_cm3 = max(weight_kg, 0.05) * 1000 / density
    depth = u(rng, 20, 50)
    side = float(np.sqrt(vol_cm3 * 1000 / depth))
    w = side * u(rng, 0.7, 1.4)
    h = side * side / w
    if kind == "paper":
        return ObjectModel("decoy_mass", [Part(rect(w, h), "paper", depth)])
    bag = rrect(w, h, min(w, h) * 0.3)
    bag = bag + rng.normal(0, 2, bag.shape).astype(np.float32)
    return ObjectModel("decoy_mass", [Part(bag, kind, depth, round=depth * 0.5),
                                      Part(rrect(w, h, min(w, h) * 0.3), "plastic", 1.0, wall=0.2)])
