"""Small real PIL images for encoder tests (different sizes, so resizing is exercised)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def sample_images(n: int, *, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    sizes = [(256, 256), (300, 200), (128, 180)]
    return [
        Image.fromarray(rng.integers(0, 256, size=(*sizes[i % 3][::-1], 3), dtype=np.uint8), "RGB") for i in range(n)
    ]
