"""Marketplace product photo of the same object instance: outside surfaces only, listing viewpoint."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from models.generator.parts import ObjectModel, Part
from models.generator.shapes import affine, compose, pose_matrix

_SHIFT = 4
_FINISH = {"matte": 0, "gloss": 1, "metal": 2, "fabric": 3}


def _backdrop(rng: np.random.Generator, size: int) -> tuple[np.ndarray, float]:
    yy = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    if rng.random() < 0.65:  # studio white / light grey sweep, most listing photos
        top = np.array(rng.uniform(235, 255, 3).round() if rng.random() < 0.7 else rng.uniform(200, 240, 3), np.float32)
        top = np.full(3, float(top.mean()), np.float32) if rng.random() < 0.7 else top
        img = np.broadcast_to(top * (1.0 - 0.06 * yy), (size, size, 3)).copy()
        return img, size * 0.85
    horizon = size * rng.uniform(0.5, 0.68)
    wall = np.array(rng.uniform(150, 240, 3), np.float32)
    table = np.array([rng.uniform(110, 200), rng.uniform(70, 140), rng.uniform(40, 90)], np.float32)
    if rng.random() < 0.4:
        table = np.array(rng.uniform(200, 245, 3), np.float32)  # white stone / linen
    img = np.empty((size, size, 3), np.float32)
    h = int(horizon)
    img[:h] = wall * (0.9 + 0.1 * yy[:h])
    grain = 1.0 + 0.04 * np.sin(np.linspace(0, rng.uniform(20, 60), size - h)[:, None] +
                                rng.normal(0, 0.6, (1, size))).astype(np.float32)
    img[h:] = table * grain[:, :, None]
    return img, horizon + (size - horizon) * 0.6


def _layout(rng: np.random.Generator, objs: list[ObjectModel], size: int, floor: float,
            view: str) -> list[np.ndarray]:
    b = objs[0].bounds()
    w0, h0 = b[2] - b[0], b[3] - b[1]
    # Several units of a long product are shown stacked, of a compact one side by side.
    vertical = len(objs) > 1 and w0 > 1.4 * h0
    step = (h0 if vertical else w0) * 1.12
    n = len(objs)
    total_w = w0 + (0 if vertical else step * (n - 1))
    total_h = h0 + (step * (n - 1) if vertical else 0)
    tilt = rng.uniform(-25, 25) if view == "three_quarter" else rng.uniform(-3, 3)
    scale = size * rng.uniform(0.55, 0.72) / max(total_w, total_h * 1.05)
    cy = min(size / 2, floor - total_h * scale / 2)
    view_m = pose_matrix(tilt, size / 2, cy, scale)
    if view == "three_quarter":  # foreshorten as if the camera looked down at ~35 degrees
        view_m = compose(view_m, np.array([[1.0, 0.18, 0], [0, 0.82, 0]]))
    mats = []
    for i, o in enumerate(objs):
        ob = o.bounds()
        dx = -(ob[0] + ob[2]) / 2 + (0.0 if vertical else step * i - (total_w - w0) / 2)
        dy = -(ob[1] + ob[3]) / 2 + (step * i - (total_h - h0) / 2 if vertical else 0.0)
        mats.append(compose(view_m, np.array([[1, 0, dx], [0, 1, dy]], np.float64)))
    return mats


def _draw(img: np.ndarray, fin: np.ndarray, part: Part, pts: np.ndarray, col: np.ndarray, scale: float) -> None:
    size = img.shape[0]
    lw = max(1, round(part.width * scale)) if part.width > 0 else 0
    x0 = max(int(pts[:, 0].min()) - lw - 2, 0)
    y0 = max(int(pts[:, 1].min()) - lw - 2, 0)
    x1 = min(int(pts[:, 0].max()) + lw + 3, size)
    y1 = min(int(pts[:, 1].max()) + lw + 3, size)
    if x1 <= x0 or y1 <= y0:
        return
    p = np.round((pts - (x0, y0)) * (1 << _SHIFT)).astype(np.int32)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    if lw:
        cv2.polylines(mask, [p], False, 255, lw, cv2.LINE_AA, _SHIFT)
    else:
        cv2.fillPoly(mask, [p], 255, cv2.LINE_AA, _SHIFT)
    a = mask[..., None].astype(np.float32) * (1.0 / 255.0)
    img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - a) + col * a
    fin[y0:y1, x0:x1][mask > 127] = _FINISH.get(part.finish, 0)


def render(objs: list[ObjectModel], rng: np.random.Generator, *, size: int = 256) -> Image.Image:
    """Render one or more copies of the declared product as a listing photo."""
    # The camera sees the outside: internal parts neither show nor take part in framing.
    objs = [ObjectModel(o.category, [p for p in o.parts if p.colour] or o.parts, o.colour_name) for o in objs]
    bg, floor = _backdrop(rng, size)
    view = "three_quarter" if rng.random() < 0.5 else "front"
    mats = _layout(rng, objs, size, floor, view)
    scale = float(np.hypot(*mats[0][:, 0]))
    obj_img = np.zeros((size, size, 3), np.float32)
    fin = np.full((size, size), -1, np.int8)
    ext = np.array([0.45, 0.6], np.float32) if view == "three_quarter" else np.array([0.0, 0.0], np.float32)
    visible = [(p, affine(p.outline, m)) for o, m in zip(objs, mats, strict=True) for p in o.parts if p.colour]
    span = max(max(o.bounds()[2] - o.bounds()[0], o.bounds()[3] - o.bounds()[1]) for o in objs)
    for part, pts in visible:  # side faces first, far to near, darker than the top
        # Deep goods (shoes, bags) would turn into wedges if extruded by their full depth.
        d = ext * min(part.depth, 0.12 * span) * scale * 0.8
        steps = int(min(8, np.hypot(*d) / 1.5))
        for i in range(steps, 0, -1):
            c = np.array(part.colour, np.float32) * (0.5 + 0.15 * i / steps)
            _draw(obj_img, fin, part, pts + d * (i / steps), c, scale)
    for part, pts in visible:
        _draw(obj_img, fin, part, pts, np.array(part.colour, np.float32), scale)
    sil = (fin >= 0).astype(np.float32)
    # Key light from the upper left, rounded edges from a blurred silhouette, finish-specific sheen.
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    light = 1.12 - 0.28 * (0.6 * xx + 0.4 * yy)
    edge = cv2.GaussianBlur(sil, (0, 0), max(1.0, size / 90))
    shade = light * (0.72 + 0.28 * edge)
    band = np.exp(-(((xx + yy) - rng.uniform(0.6, 1.0)) / 0.07) ** 2)
    gloss = np.isin(fin, (1, 2)).astype(np.float32)
    brushed = 1.0 + (fin == 2) * 0.025 * np.sin(yy * rng.uniform(300, 500)).astype(np.float32)
    fabric = 1.0 + (fin == 3) * rng.normal(0, 0.05, (size, size)).astype(np.float32)
    obj_img = obj_img * (shade * brushed * fabric)[..., None] + (gloss * band * 70.0)[..., None]
    # Soft contact shadow under the product.
    m = np.array([[1, 0, size * 0.02], [0, 1, size * 0.03]], np.float32)
    shadow = cv2.GaussianBlur(cv2.warpAffine(sil, m, (size, size)), (0, 0), size / 40)
    bg = bg * (1.0 - 0.35 * shadow)[..., None]
    alpha = cv2.GaussianBlur(sil, (3, 3), 0.6)[..., None]
    out = bg * (1 - alpha) + obj_img * alpha
    out += rng.normal(0, 2.0, out.shape).astype(np.float32)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB")
