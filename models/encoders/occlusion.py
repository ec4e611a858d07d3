"""Occlusion saliency: copies of a scan with one window of a coarse grid greyed out, ready for a tower.

The window is drawn on the image's own pixels (the grid an overlay shows on the scan) and carried
through the tower's geometry, which is one affine map from the image to the network's input: the
x-ray framing (`models.encoders.framing`, fitted once on the whole scan, so a grey window never
moves the crop), then the resize (and centre crop) of the preprocessing. Each copy is the
preprocessed scan with that window's footprint blended to the scan's mean colour: one tensor batch,
one forward pass per tower, whatever the image's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from PIL import Image

from models.encoders.framing import framing_matrix
from models.encoders.preprocess import PreprocessConfig, to_tensor

_SUBPIXEL = 4  # fixed-point bits of the window outlines drawn on the network's input
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class Grid:
    """`cells` x `cells` cells over the image; windows of `window` x `window` cells, one cell apart."""

    cells: int = 8
    window: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.window <= self.cells:
            raise ValueError(f"a window of {self.window} cells does not fit a grid of {self.cells}")

    @property
    def steps(self) -> int:
        return self.cells - self.window + 1

    def boxes(self, width: int, height: int) -> np.ndarray:
        """(steps**2, 4) windows as (x0, y0, x1, y1) in image pixels (edges), row-major."""
        xs, ys = np.linspace(0, width, self.cells + 1), np.linspace(0, height, self.cells + 1)
        return np.array(
            [
                (xs[c], ys[r], xs[c + self.window], ys[r + self.window])
                for r in range(self.steps)
                for c in range(self.steps)
            ],
            np.float64,
        )

    def cell_map(self, deltas: np.ndarray) -> np.ndarray:
        """(cells, cells): each cell's mean change over the windows covering it."""
        d = np.asarray(deltas, np.float64).reshape(self.steps, self.steps)
        total = np.zeros((self.cells, self.cells))
        count = np.zeros((self.cells, self.cells))
        for dr in range(self.window):
            for dc in range(self.window):
                total[dr : dr + self.steps, dc : dc + self.steps] += d
                count[dr : dr + self.steps, dc : dc + self.steps] += 1
        return total / count


def input_map(image: Image.Image, cfg: PreprocessConfig) -> np.ndarray:
    """The 2x3 affine map from the image's pixel edges to the network input's, as `to_tensor` sees it."""
    rgb = np.asarray(image.convert("RGB"))
    h, w = rgb.shape[:2]
    size = cfg.image_size
    m = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    if cfg.xray_framing == "contents":
        framed = framing_matrix(rgb)
        if framed is not None:
            # cv2 maps pixel centres; edges sit half a pixel off them.
            half = np.array([[1.0, 0, 0.5], [0, 1.0, 0.5], [0, 0, 1.0]])
            m = half @ np.vstack([framed, [0, 0, 1]]) @ np.linalg.inv(half)
            w = h = max(w, h)
    if cfg.resize_mode == "squash":
        scale = np.diag([size / w, size / h, 1.0])
    else:  # "shortest": the short side to `size`, then the centre square
        s = size / min(w, h)
        rw, rh = max(size, round(w * s)), max(size, round(h * s))
        scale = np.array([[rw / w, 0, -((rw - size) // 2)], [0, rh / h, -((rh - size) // 2)], [0, 0, 1.0]])
    return (scale @ m)[:2]


def footprints(boxes: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """(n, size, size) float32 in [0, 1]: the share of each input pixel each box covers (drawn at
    `_SUPERSAMPLE` times the size, then averaged down)."""
    out = np.zeros((len(boxes), size, size), np.float32)
    big, one = size * _SUPERSAMPLE, 1 << _SUBPIXEL
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
        on_input = (corners @ affine[:, :2].T + affine[:, 2]) * _SUPERSAMPLE - 0.5  # edges to pixel centres
        canvas = np.zeros((big, big), np.uint8)
        cv2.fillPoly(canvas, [np.round(on_input * one).astype(np.int32)], 1, cv2.LINE_8, _SUBPIXEL)
        out[i] = cv2.resize(canvas.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return out


def occluded(image: Image.Image, cfg: PreprocessConfig, grid: Grid) -> tuple[torch.Tensor, np.ndarray]:
    """(batch, boxes): the preprocessed scan first, then one copy per window of `grid` with the window
    filled with the scan's mean colour as the network sees it; the windows in image pixels."""
    base = to_tensor([image], cfg)[0]
    boxes = grid.boxes(*image.size)
    cover = torch.from_numpy(footprints(boxes, input_map(image, cfg), cfg.image_size))[:, None]
    fill = base.mean(dim=(1, 2))[None, :, None, None]
    copies = base[None] * (1 - cover) + fill * cover
    return torch.cat([base[None], copies]), boxes
