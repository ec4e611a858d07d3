"""The square window both framings crop: shared by `models.xray_align` and `models.photo_align`."""

from __future__ import annotations

import numpy as np


def window_matrix(
    pts: np.ndarray, rot: np.ndarray, side: int, *, pad: float, min_window: float, max_window: float | None = None
) -> np.ndarray:
    """The 2x3 map that applies `rot`, then scales the padded square around `pts` (already rotated
    by `rot`) to fill a `side`-pixel image. The window is at least `min_window` and, when given, at
    most `max_window` of the image side."""
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    win = max(float(x1 - x0), float(y1 - y0), 1.0) * (1 + 2 * pad)
    win = max(win, min_window * side)
    if max_window is not None:
        win = min(win, max_window * side)
    scale = side / win
    # Window centre to image centre, then scale.
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    crop = np.array([[scale, 0, side / 2 - scale * mx], [0, scale, side / 2 - scale * my]], np.float64)
    return crop @ np.vstack([rot, [0, 0, 1]])
