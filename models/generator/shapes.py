"""2-D outline helpers in millimetres (x right, y down), all returning float32 (k, 2) arrays."""

from __future__ import annotations

import numpy as np

Pts = np.ndarray


def rect(w: float, h: float, cx: float = 0.0, cy: float = 0.0) -> Pts:
    x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def ellipse(rx: float, ry: float, cx: float = 0.0, cy: float = 0.0, n: int = 28,
            a0: float = 0.0, a1: float = 360.0) -> Pts:
    t = np.radians(np.linspace(a0, a1, n, endpoint=(a1 - a0) < 360.0))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1).astype(np.float32)


def rrect(w: float, h: float, r: float, cx: float = 0.0, cy: float = 0.0, n: int = 5) -> Pts:
    r = float(max(0.0, min(r, w / 2 - 1e-3, h / 2 - 1e-3)))
    if r < 0.5:
        return rect(w, h, cx, cy)
    corners = [(cx + w / 2 - r, cy + h / 2 - r, 0), (cx - w / 2 + r, cy + h / 2 - r, 90),
               (cx - w / 2 + r, cy - h / 2 + r, 180), (cx + w / 2 - r, cy - h / 2 + r, 270)]
    arcs = [ellipse(r, r, x, y, n, a, a + 90.0001)[: n] for x, y, a in corners]
    return np.concatenate(arcs).astype(np.float32)


def poly(points: list[tuple[float, float]] | Pts) -> Pts:
    return np.asarray(points, np.float32).reshape(-1, 2)


def bezier(p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float], n: int = 12) -> Pts:
    t = np.linspace(0, 1, n)[:, None]
    a, b, c = (np.asarray(p, np.float32) for p in (p0, p1, p2))
    return ((1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c).astype(np.float32)


def rotate(pts: Pts, deg: float, cx: float = 0.0, cy: float = 0.0) -> Pts:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    d = pts - (cx, cy)
    return np.stack([cx + c * d[:, 0] - s * d[:, 1], cy + s * d[:, 0] + c * d[:, 1]], 1).astype(np.float32)


def shift(pts: Pts, dx: float, dy: float) -> Pts:
    return (pts + np.array([dx, dy], np.float32)).astype(np.float32)


def affine(pts: Pts, m: np.ndarray) -> Pts:
    """Apply a 2x3 affine matrix."""
    return (pts @ m[:, :2].T + m[:, 2]).astype(np.float32)


def pose_matrix(deg: float, tx: float, ty: float, scale: float = 1.0) -> np.ndarray:
    c, s = np.cos(np.radians(deg)) * scale, np.sin(np.radians(deg)) * scale
    return np.array([[c, -s, tx], [s, c, ty]], np.float64)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """outer ∘ inner for 2x3 affine matrices."""
    a = np.vstack([outer, [0, 0, 1]])
    b = np.vstack([inner, [0, 0, 1]])
    return (a @ b)[:2]


def area(pts: Pts) -> float:
    x, y = pts[:, 0].astype(np.float64), pts[:, 1].astype(np.float64)
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def polyline_length(pts: Pts) -> float:
    return float(np.linalg.norm(np.diff(pts.astype(np.float64), axis=0), axis=1).sum())
