"""Dual-energy x-ray projection (Beer-Lambert) and the scanner's pseudo-colour display."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from models.generator.materials import MATERIALS
from models.generator.parts import Part
from models.generator.raster import path_length
from models.generator.shapes import affine


@dataclass
class Scene:
    """Parts with their mm->px matrices, plus ready-made path-length maps (bubble wrap, paper)."""

    size: int
    mm_per_px: float
    parts: list[tuple[Part, np.ndarray]]
    maps: list[tuple[str, np.ndarray]]
    hidden: range = range(0)  # which of `parts` are the concealed item's (none in most scenes)


def coverage(scene: Scene, which: range, *, min_mm: float = 0.25) -> np.ndarray:
    """(size, size) bool: the pixels where these parts put at least `min_mm` of material in the beam."""
    shape = (scene.size, scene.size)
    mask = np.zeros(shape, bool)
    for i in which:
        part, m = scene.parts[i]
        got = path_length(part, affine(part.outline, m), scene.mm_per_px, shape)
        if got is not None:
            (x0, y0, x1, y1), t = got
            mask[y0:y1, x0:x1] |= t >= min_mm
    return mask


def attenuation(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """Optical depth sum(mu * t) per pixel in the low and high channel."""
    shape = (scene.size, scene.size)
    a_low = np.zeros(shape, np.float32)
    a_high = np.zeros(shape, np.float32)
    for part, m in scene.parts:
        got = path_length(part, affine(part.outline, m), scene.mm_per_px, shape)
        if got is None:
            continue
        (x0, y0, x1, y1), t = got
        mat = MATERIALS[part.material]
        a_low[y0:y1, x0:x1] += mat.mu_low * t
        a_high[y0:y1, x0:x1] += mat.mu_high * t
    for name, t in scene.maps:
        mat = MATERIALS[name]
        a_low += mat.mu_low * t
        a_high += mat.mu_high * t
    return a_low, a_high


# Hue keyed on the low/high optical-depth ratio, the way scanners classify effective Z.
_RATIO_KEYS = np.array([1.0, 1.25, 1.42, 1.65, 2.1, 2.7, 3.4, 5.0], np.float32)
_RATIO_RGB = np.array([
    [238, 150, 45], [236, 145, 40], [205, 175, 55], [120, 180, 70],
    [70, 165, 85], [45, 140, 165], [40, 95, 215], [35, 60, 190],
], np.float32)
_NR, _NQ, _QMAX, _RMIN, _RMAX = 64, 256, 6.0, 1.0, 5.0


def _build_lut() -> np.ndarray:
    r = np.linspace(_RMIN, _RMAX, _NR, dtype=np.float32)
    q = np.linspace(0.0, _QMAX, _NQ, dtype=np.float32)
    base = np.stack([np.interp(r, _RATIO_KEYS, _RATIO_RGB[:, c]) for c in range(3)], 1)  # (NR, 3)
    sat = 1.0 - np.exp(-q / 0.12)  # thin items already tinted
    val = np.exp(-0.75 * q) ** 0.9  # brightness follows transmission, compressed like the display
    white = np.array([255, 255, 255], np.float32)
    col = white[None, None] * (1 - sat)[None, :, None] + base[:, None, :] * sat[None, :, None]
    # Thick material goes towards dark brown (organic) or dark navy/black (metal), not grey.
    dark = base[:, None, :] * np.array([0.45, 0.4, 0.6], np.float32)[None, None]
    mixk = np.clip((q - 1.2) / 3.0, 0, 1)[None, :, None]
    col = col * (1 - mixk) + dark * mixk
    out = col * val[None, :, None] ** 0.55
    return np.clip(out, 0, 255).astype(np.uint8)


_LUT = _build_lut()


def render(scene: Scene, rng: np.random.Generator, *, noise: float = 0.007, blur: float = 0.7) -> Image.Image:
    """Project the scene and return the scanner's RGB display image."""
    a_low, a_high = attenuation(scene)
    t_low, t_high = np.exp(-a_low), np.exp(-a_high)
    k = int(2 * round(3 * blur) + 1)
    t_low = cv2.GaussianBlur(t_low, (k, k), blur)
    t_high = cv2.GaussianBlur(t_high, (k, k), blur)
    # Photon noise grows with the square root of the counts; line-scan detectors add per-row gain.
    gain = 1.0 + rng.normal(0, 0.002, (scene.size, 1)).astype(np.float32)
    n = rng.standard_normal((2, scene.size, scene.size), dtype=np.float32)
    t_low = np.clip(t_low * gain + noise * 1.3 * np.sqrt(t_low) * n[0], 2.5e-3, 1.0)
    t_high = np.clip(t_high * gain + noise * np.sqrt(t_high) * n[1], 2.5e-3, 1.0)
    # Dead zone at the white level keeps empty belt white; the material ratio is estimated on a
    # smoothed image, as scanners do, because per-pixel ratios of faint signals are pure noise.
    q_low = np.maximum(-np.log(t_low) - 0.018, 0.0)
    q_high = np.maximum(-np.log(t_high) - 0.014, 0.0)
    s_low = cv2.GaussianBlur(q_low, (5, 5), 1.2)
    s_high = cv2.GaussianBlur(q_high, (5, 5), 1.2)
    ratio = (s_low + 0.0012) / (s_high + 0.001)
    ri = np.clip((ratio - _RMIN) * ((_NR - 1) / (_RMAX - _RMIN)), 0, _NR - 1).astype(np.int32)
    # The display shows a lightly denoised brightness, as scanner consoles do; edges stay sharp enough.
    q_show = 0.5 * q_high + 0.5 * cv2.GaussianBlur(q_high, (3, 3), 0.8)
    qi = np.clip(q_show * ((_NQ - 1) / _QMAX), 0, _NQ - 1).astype(np.int32)
    rgb = _LUT[ri, qi]
    return Image.fromarray(np.ascontiguousarray(rgb), "RGB")
