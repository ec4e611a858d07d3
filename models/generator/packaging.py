"""Lay items into a parcel: pose, box or mailer, padding and clutter, then hand a Scene to the x-ray."""

from __future__ import annotations

import cv2
import numpy as np

from models.generator.objects.extras import clutter_item
from models.generator.parts import ObjectModel, Part
from models.generator.shapes import affine, compose, ellipse, pose_matrix, rect, rotate
from models.generator.xray import Scene

_MIN_BOX = (140.0, 100.0)


def _extent(obj: ObjectModel, deg: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = obj.bounds()
    c = rotate(rect(x1 - x0, y1 - y0, (x0 + x1) / 2, (y0 + y1) / 2), deg)
    return float(c[:, 0].min()), float(c[:, 1].min()), float(c[:, 0].max()), float(c[:, 1].max())


def _angle(rng: np.random.Generator, obj: ObjectModel) -> float:
    x0, y0, x1, y1 = obj.bounds()
    aspect = max(x1 - x0, y1 - y0) / max(min(x1 - x0, y1 - y0), 1.0)
    # Long goods get laid along the box; compact ones end up at any angle.
    if aspect > 1.8 and rng.random() < 0.7:
        return float(rng.choice([0.0, 90.0, 180.0, 270.0]) + rng.normal(0, 6))
    return float(rng.uniform(0, 360))


def _place_main(rng: np.random.Generator, objs: list[ObjectModel]) -> list[tuple[ObjectModel, np.ndarray]]:
    placed: list[tuple[ObjectModel, np.ndarray]] = []
    x_cursor, row_y, row_h = 0.0, 0.0, 0.0
    base_angle = None
    for obj in objs:
        deg = _angle(rng, obj) if base_angle is None or rng.random() < 0.4 else base_angle + rng.normal(0, 10)
        base_angle = deg
        ex0, ey0, ex1, ey1 = _extent(obj, deg)
        w, h = ex1 - ex0, ey1 - ey0
        if placed and x_cursor > 2.2 * max(row_h, 60.0):
            x_cursor, row_y, row_h = 0.0, row_y + row_h * rng.uniform(0.6, 1.0), 0.0
        # Copies of one product overlap a little, as they do when stacked in a carton.
        tx, ty = x_cursor - ex0, row_y - ey0 + rng.normal(0, 0.08 * h)
        placed.append((obj, pose_matrix(deg, tx, ty)))
        x_cursor += w * rng.uniform(0.65, 1.05)
        row_h = max(row_h, h)
    return placed


def _bounds(placed: list[tuple[ObjectModel, np.ndarray]]) -> tuple[float, float, float, float]:
    pts = np.concatenate([affine(p.outline, m) for o, m in placed for p in o.parts])
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


def _bubble_map(size: int, region: np.ndarray, rng: np.random.Generator, mm_per_px: float) -> np.ndarray:
    """Film path length (mm) of a bubble-wrap sheet: bright rings where the film is seen edge-on."""
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(region).astype(np.int32)], 1)
    pitch = rng.uniform(9, 13) / mm_per_px
    rad = pitch * 0.38
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    a = np.radians(rng.uniform(0, 180))
    u = xx * np.cos(a) + yy * np.sin(a)
    v = -xx * np.sin(a) + yy * np.cos(a)
    row = np.floor(v / (pitch * 0.866))
    du = np.mod(u + (row % 2) * pitch / 2, pitch) - pitch / 2
    dv = np.mod(v, pitch * 0.866) - pitch * 0.433
    r = np.sqrt(du * du + dv * dv)
    ring = np.exp(-(((r - rad) / max(0.8, 0.12 * rad)) ** 2))
    return (mask * (0.15 + 2.0 * ring)).astype(np.float32)


def pack(rng: np.random.Generator, *, main: list[ObjectModel], hidden: ObjectModel | None = None,
         decoy: ObjectModel | None = None, size: int = 256) -> Scene:
    """Pose the items in a parcel and return the scene to project."""
    placed = _place_main(rng, main) if main else []
    if decoy is not None:
        placed.append((decoy, pose_matrix(rng.uniform(0, 360), 0, 0)))
    if not placed:  # empty parcel: something box-sized to pad around
        placed_bounds = (-rng.uniform(60, 120), -rng.uniform(45, 90), rng.uniform(60, 120), rng.uniform(45, 90))
    else:
        placed_bounds = _bounds(placed)
    x0, y0, x1, y1 = placed_bounds
    # The concealed item draws from its own stream and, when it fits, stays inside the declared
    # goods' footprint: the same parcel with and without it differs only where it lies.
    h_rng = np.random.default_rng(int(rng.integers(2**32)))
    depth = max([o.max_depth() for o, _ in placed] + [20.0])
    if hidden is not None:
        deg = _angle(h_rng, hidden)
        ex0, ey0, ex1, ey1 = _extent(hidden, deg)
        lo_x, hi_x = x0 - ex0, x1 - ex1
        lo_y, hi_y = y0 - ey0, y1 - ey1
        hx = h_rng.uniform(lo_x, hi_x) if hi_x > lo_x else (x0 + x1 - ex0 - ex1) / 2
        hy = h_rng.uniform(lo_y, hi_y) if hi_y > lo_y else (y0 + y1 - ey0 - ey1) / 2
        placed.append((hidden, pose_matrix(deg, hx, hy)))
        x0, y0, x1, y1 = _bounds(placed)
    margin = rng.uniform(8, 30)
    bw, bh = max(x1 - x0 + 2 * margin, _MIN_BOX[0]), max(y1 - y0 + 2 * margin, _MIN_BOX[1])
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    kind = "carton" if (depth > 30 or rng.random() < 0.6) else ("mailer" if rng.random() < 0.6 else "envelope")
    extra: list[tuple[ObjectModel, np.ndarray]] = []
    for _ in range(int(rng.integers(0, 3))):
        item = clutter_item(rng, kind)
        extra.append((item, pose_matrix(rng.uniform(0, 360), rng.uniform(x0, x1), rng.uniform(y0, y1))))
    box_parts: list[Part] = []
    tw = rng.uniform(3, 7)
    hb = depth * rng.uniform(1.3, 2.2) + 20
    outer = rect(bw + 2 * tw, bh + 2 * tw, cx, cy)
    if kind == "carton":
        box_parts.append(Part(outer, "cardboard", 2 * tw))  # top and bottom flaps
        box_parts.append(Part(outer, "cardboard", hb, wall=tw))  # side walls, seen edge-on
        box_parts.append(Part(rect(bw * 0.97, bh / 2, cx, cy - bh / 4), "cardboard", tw))  # inner flap
        box_parts.append(Part(rect(50, bh + 2 * tw, cx, cy), "plastic", 0.15))  # tape
    else:
        box_parts.append(Part(outer, "plastic" if kind == "mailer" else "paper", 0.5 if kind == "mailer" else 0.8,
                              wall=0.2))
        box_parts.append(Part(outer, "plastic", 2.5, round=3.0, wall=1.0))  # welded seam
    # Fit the (slightly rotated) parcel into the frame.
    box_deg = float(rng.normal(0, 6))
    corners = rotate(outer - (cx, cy), box_deg)
    span = max(float(np.ptp(corners[:, 0])), float(np.ptp(corners[:, 1])))
    mm_per_px = span / (size * rng.uniform(0.86, 0.95))
    to_px = compose(pose_matrix(box_deg, size / 2, size / 2, 1.0 / mm_per_px),
                    np.array([[1, 0, -cx], [0, 1, -cy]], np.float64))
    parts: list[tuple[Part, np.ndarray]] = [(p, to_px) for p in box_parts]
    maps: list[tuple[str, np.ndarray]] = []
    if kind == "envelope" or (kind == "carton" and rng.random() < 0.35):
        sheet = rect(bw * rng.uniform(0.6, 0.98), bh * rng.uniform(0.6, 0.98), cx, cy)
        maps.append(("bubble_film", _bubble_map(size, affine(sheet, to_px), rng, mm_per_px)))
    elif kind == "carton" and rng.random() < 0.5:
        for _ in range(int(rng.integers(3, 8))):  # crumpled paper wads
            r = rng.uniform(25, 60)
            wad = ellipse(r, r * rng.uniform(0.5, 1), rng.uniform(cx - bw / 2, cx + bw / 2),
                          rng.uniform(cy - bh / 2, cy + bh / 2), n=9)
            wad = wad + rng.normal(0, r * 0.18, wad.shape).astype(np.float32)
            parts.append((Part(wad, "paper", rng.uniform(3, 10), round=r * 0.6), to_px))
    concealed = range(0)
    for obj, m in placed + extra:
        mm = compose(to_px, m)
        if obj is hidden:
            concealed = range(len(parts), len(parts) + len(obj.parts))
        parts.extend((p, mm) for p in obj.parts)
    return Scene(size=size, mm_per_px=mm_per_px, parts=parts, maps=maps, hidden=concealed)
