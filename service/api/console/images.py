"""Images as a browser can show them: JPEG and PNG as stored; TIFF (16-bit scanner exports) as a lossless PNG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def for_browser(data: bytes, content_type: str) -> tuple[bytes, str]:
    if content_type != "image/tiff":
        return data, content_type
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            # Stretch the scanner's range onto 8 bits for display; the stored original keeps every bit.
            pixels = np.asarray(image, dtype=np.float64)
            low, high = float(pixels.min()), float(pixels.max())
            scaled = (pixels - low) / (high - low) * 255 if high > low else np.zeros_like(pixels)
            shown = Image.fromarray(scaled.astype(np.uint8))
        else:
            shown = image.convert("RGB") if image.mode not in ("L", "RGB", "RGBA") else image.copy()
    out = io.BytesIO()
    shown.save(out, format="PNG")
    return out.getvalue(), "image/png"
