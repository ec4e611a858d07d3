"""Rasterise parts into per-pixel path lengths (mm), region by region so small parts stay cheap."""

from __future__ import annotations

import cv2
import numpy as np

from models.generator.parts import Part

_SHIFT = 4  # cv2 fixed-point bits: sub-pixel vertex positions keep thin parts from jittering
_ONE = 1 << _SHIFT


def _roi(pts: np.ndarray, pad: int, h: int, w: int) -> tuple[int, int, int, int] | None:
    x0 = max(int(np.floor(pts[:, 0].min())) - pad, 0)
    y0 = max(int(np.floor(pts[:, 1].min())) - pad, 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + pad + 1, w)
    y1 = min(int(np.ceil(pts[:, 1].max())) + pad + 1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _chord(d: np.ndarray, r: float, depth: float) -> np.ndarray:
    # Path length through a rounded edge of radius r at distance d from the outline.
    k = 1.0 - np.clip(d / max(r, 1e-3), 0.0, 1.0)
    return depth * np.sqrt(1.0 - k * k)


def path_length(part: Part, pts_px: np.ndarray, mm_per_px: float, shape: tuple[int, int],
                ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Return (roi, thickness_mm) for one part whose outline is already in pixel coordinates."""
    width_px = part.width / mm_per_px
    roi = _roi(pts_px, int(width_px / 2) + 2, shape[0], shape[1])
    if roi is None:
        return None
    x0, y0, x1, y1 = roi
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    p = np.round((pts_px - (x0, y0)) * _ONE).astype(np.int32)
    if part.width > 0:
        cv2.polylines(mask, [p], False, 255, max(1, round(width_px)), cv2.LINE_AA, _SHIFT)
    else:
        cv2.fillPoly(mask, [p], 255, cv2.LINE_AA, _SHIFT)
    cover = mask.astype(np.float32) * (1.0 / 255.0)
    if part.round <= 0 and part.wall <= 0:
        return roi, cover * part.depth
    d = cv2.distanceTransform((mask >= 128).astype(np.uint8), cv2.DIST_L2, 3)
    d = np.maximum(d - 0.5, 0.0) * mm_per_px
    outer = _chord(d, part.round, part.depth) if part.round > 0 else np.full_like(d, part.depth)
    if part.wall > 0:
        inner_depth = max(part.depth - 2 * part.wall, 0.0)
        di = d - part.wall
        if part.round > 0:
            inner = _chord(di, max(part.round - part.wall, 0.5), inner_depth)
        else:
            inner = inner_depth * np.clip(di / mm_per_px, 0.0, 1.0)
        outer = outer - np.where(di > 0, inner, 0.0)
    return roi, outer.astype(np.float32) * cover
