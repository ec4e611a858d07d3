"""Frame a listing photo on the product, long axis upright, before the photo tower sees it.

The x-ray tower sees its parcel's contents framed and upright (`models.encoders.framing`); the listing
photo shows the product at 55-72% of the frame, tilted up to 25 degrees in three-quarter views, on
a studio sweep or a table. Framing the photo the same way hands both towers the goods at the same
scale and orientation:

1. the backdrop is modelled row by row from the photo's left and right margins (studio sweeps
   and wall-and-table scenes both change from top to bottom, hardly from left to right);
2. the product is where the photo departs sharply from that backdrop: edges of the residual, so
   the soft contact shadow under the product (a blurred darkening) is not taken for it;
3. the edge pixels give the orientation (second moments) and, turned upright when the product is
   clearly longer than wide, the padded square window to crop.

A photo without a clear product (nothing departs from the backdrop) is returned unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from models.encoders.framing import window_matrix

_MARGIN = 0.08  # fraction of the width on each side taken as backdrop
_EDGE = 14.0  # residual gradient (0-255 scale, per pixel) above which a pixel is a product edge
_MIN_EDGE = 0.003  # of the image area: fewer edge pixels than this and there is nothing to frame
_ELONGATED = 1.6  # ratio of the principal axes above which the long axis is turned upright
_PAD = 0.10  # margin around the product, of the window side
_MIN_WINDOW = 0.4  # never zoom in further than this fraction of the image side


def _backdrop_residual(rgb: np.ndarray) -> np.ndarray:
    """|photo - backdrop| (uint8, largest over the channels), the backdrop being each row's median
    over the left and right margins."""
    w = rgb.shape[1]
    m = max(2, int(round(_MARGIN * w)))
    margins = np.concatenate([rgb[:, :m], rgb[:, w - m :]], axis=1)
    rows = np.median(margins, axis=1).astype(np.uint8)  # (h, 3)
    diff = cv2.absdiff(rgb, np.ascontiguousarray(np.broadcast_to(rows[:, None, :], rgb.shape)))
    r, g, b = cv2.split(diff)
    return cv2.max(cv2.max(r, g), b)


def product_edges(rgb: np.ndarray) -> np.ndarray:
    """Boolean mask of the product's edge pixels (outline and drawn parts)."""
    res = cv2.GaussianBlur(_backdrop_residual(np.ascontiguousarray(rgb, dtype=np.uint8)), (3, 3), 0.8)
    gx = cv2.Sobel(res, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(res, cv2.CV_32F, 0, 1, ksize=3)
    # Sobel's 3x3 kernel weighs a unit step 8 times over; _EDGE is per pixel.
    edges = cv2.magnitude(gx, gy) > 8.0 * _EDGE
    # Specks (noise, table grain) are not products.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(edges.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 6
    return keep[labels]


def framing_matrix(rgb: np.ndarray) -> np.ndarray | None:
    """The 2x3 affine map from the photo to its framed square of the same size; None to keep it."""
    side = max(rgb.shape[:2])
    edges = product_edges(rgb)
    if edges.mean() < _MIN_EDGE:
        return None
    ys, xs = np.nonzero(edges)
    pts = np.stack([xs, ys], axis=1).astype(np.float32)
    centre = pts.mean(axis=0)
    cov = np.cov((pts - centre).T)
    evals, evecs = np.linalg.eigh(cov)  # ascending
    cx, cy = float(centre[0]), float(centre[1])
    rot = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if evals[1] > _ELONGATED**2 * max(evals[0], 1e-6):
        theta = float(np.degrees(np.arctan2(evecs[1, 1], evecs[0, 1])))  # long axis from the x axis
        # The smallest turn (-90..90 degrees) that makes the long axis vertical.
        turn = theta % 180.0 - 90.0
        rot = cv2.getRotationMatrix2D((cx, cy), turn, 1.0)
    moved = np.hstack([pts, np.ones((len(pts), 1), np.float32)]) @ rot.T.astype(np.float32)
    return window_matrix(moved, rot, side, pad=_PAD, min_window=_MIN_WINDOW, max_window=1.0)


def align_photo(img: Image.Image) -> Image.Image:
    """The photo framed on the product, upright, at the input's size (see the module docstring)."""
    rgb = np.asarray(img.convert("RGB"))
    mat = framing_matrix(rgb)
    if mat is None:
        return img.convert("RGB")
    side = max(rgb.shape[:2])
    out = cv2.warpAffine(rgb, mat, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return Image.fromarray(out, "RGB")
