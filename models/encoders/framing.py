"""Frame a parcel x-ray on its contents, long axis upright, before the x-ray tower sees it.

A listing photo shows the product upright and filling most of the frame; the scan shows it at
any angle, often small inside a large carton (a lighter in a 140 x 100 mm minimum box spans a
fifth of the image). Telling one instance from another comes down to a few millimetres of metal
marks, so the encoder is handed the contents rather than the parcel:

1. darkness = 1 - luminance: the empty belt is white, thin packaging faint, goods dark;
2. the carton walls, seen edge-on at the rim of the parcel, are cut away by eroding the parcel's
   silhouette, so they never pull the window towards the frame;
3. the dense pixels left give the orientation (second moments) and, rotated upright, the square
   window to crop, padded, with the heavier end of the long axis at the bottom (third moment),
   so the same goods land the same way up in every scan.

A parcel with nothing dense in it (an empty box, a mailer of clothing) is returned unchanged.
The crop keeps everything dense inside the parcel, concealed items included.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

# Fractions of the image side; the generator's parcel fills 86-95% of the frame, and walls are
# at most ~5% of it thick.
_RIM = 0.06
_DENSE = 0.25  # darkness above which a pixel counts as goods rather than packaging
_MIN_DENSE = 0.002  # of the image area: below this there is nothing to frame
_PAD = 0.12  # margin around the contents, of the window side
_MIN_WINDOW = 0.3  # never zoom in further than this fraction of the image side


def _darkness(rgb: np.ndarray) -> np.ndarray:
    lum = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return 1.0 - lum / 255.0


def _inner_parcel(dark: np.ndarray) -> np.ndarray:
    """Inside the parcel, walls excluded: its bounding rotated rectangle, shrunk by the rim."""
    contours, _ = cv2.findContours((dark > 0.03).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    inner = np.zeros(dark.shape, np.uint8)
    if not contours:
        return inner.astype(bool)
    # The outer contours hold every extreme point: the same minimal rectangle as all the pixels.
    (cx, cy), (w, h), angle = cv2.minAreaRect(np.concatenate(contours))
    rim = 2 * _RIM * max(dark.shape)
    box = cv2.boxPoints(((cx, cy), (max(w - rim, 1.0), max(h - rim, 1.0)), angle))
    cv2.fillPoly(inner, [np.round(box).astype(np.int32)], 1)
    return inner.astype(bool)


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


def framing_matrix(rgb: np.ndarray) -> np.ndarray | None:
    """The 2x3 affine map from the scan to its framed, upright square of the same size; None to keep it."""
    h, w = rgb.shape[:2]
    side = max(h, w)
    dark = _darkness(rgb.astype(np.float32))
    weight = np.where(_inner_parcel(dark) & (dark > _DENSE), dark, 0.0).astype(np.float32)
    if (weight > 0).mean() < _MIN_DENSE:
        return None
    m = cv2.moments(weight)
    cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
    # Angle of the long axis from the x axis; rotate by (90 - it) to stand it upright.
    theta = 0.5 * np.degrees(np.arctan2(2 * m["mu11"], m["mu20"] - m["mu02"]))
    rot = cv2.getRotationMatrix2D((cx, cy), theta - 90.0, 1.0)  # cv2 angles are anticlockwise
    ys, xs = np.nonzero(weight)
    homog = np.stack([xs, ys, np.ones_like(xs)], axis=1).astype(np.float32)
    pts = homog @ rot.T.astype(np.float32)
    wts = weight[ys, xs]
    # Heavier end at the bottom: flip 180 degrees when the third moment along y is negative.
    dy = pts[:, 1] - float((pts[:, 1] * wts).sum() / wts.sum())
    if float((wts * dy**3).sum()) < 0:
        rot = cv2.getRotationMatrix2D((cx, cy), theta + 90.0, 1.0)
        pts = homog @ rot.T.astype(np.float32)
    return window_matrix(pts, rot, side, pad=_PAD, min_window=_MIN_WINDOW)


def frame_xray(img: Image.Image) -> Image.Image:
    """The scan framed on its contents, upright, at the input's size (see the module docstring)."""
    rgb = np.asarray(img.convert("RGB"))
    mat = framing_matrix(rgb)
    if mat is None:
        return img.convert("RGB")
    side = max(rgb.shape[:2])
    out = cv2.warpAffine(rgb, mat, (side, side), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    return Image.fromarray(out, "RGB")
