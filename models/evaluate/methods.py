"""The three methods compared side by side: trained model, ImageNet cosine, OpenCV descriptor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from models.encoders.encoder import Encoder

HOG_SIZE = 128


@dataclass
class Embeddings:
    """Row-aligned photo and x-ray embeddings (L2-normalised) for one method."""

    photo: np.ndarray  # (n, d)
    xray: np.ndarray
    gallery: np.ndarray  # labelled reference x-rays
    probability: np.ndarray | None = None  # the method's own P(match), when it has a calibration


def hog_descriptor(images: Sequence[Image.Image], cells: int = 8, bins: int = 9) -> np.ndarray:
    """Histogram of oriented gradients (Sobel, OpenCV) over a grid of cells, unsigned orientation.

    Unsigned gradients let a dark-on-light scan and a photo agree on an edge. Written with
    `cv2.Sobel` / `cv2.cartToPolar` because OpenCV 5 dropped `cv2.HOGDescriptor` from the main wheel.
    """
    rows = []
    step = HOG_SIZE // cells
    for img in images:
        grey = cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, (HOG_SIZE, HOG_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
        mag, ang = cv2.cartToPolar(gx, gy, angleInDegrees=True)
        which = (np.mod(ang, 180.0) / (180.0 / bins)).astype(np.int64).clip(0, bins - 1)
        hist = np.zeros((cells, cells, bins), np.float32)
        for cy in range(cells):
            for cx in range(cells):
                sl = (slice(cy * step, (cy + 1) * step), slice(cx * step, (cx + 1) * step))
                hist[cy, cx] = np.bincount(which[sl].ravel(), weights=mag[sl].ravel(), minlength=bins)
        hist /= np.linalg.norm(hist, axis=2, keepdims=True) + 1e-6
        vec = hist.ravel()
        # Centre before normalising: raw HOG is non-negative, so every pair would look alike.
        vec = vec - vec.mean()
        rows.append(vec / (np.linalg.norm(vec) + 1e-8))
    return np.stack(rows).astype(np.float32)


def opencv_embeddings(
    photos: Sequence[Image.Image], xrays: Sequence[Image.Image], gallery: Sequence[Image.Image]
) -> Embeddings:
    return Embeddings(photo=hog_descriptor(photos), xray=hog_descriptor(xrays), gallery=hog_descriptor(gallery))


def encoder_embeddings(
    encoder: Encoder,
    photos: Sequence[Image.Image],
    xrays: Sequence[Image.Image],
    gallery: Sequence[Image.Image],
) -> Embeddings:
    photo = encoder.embed_images("photo", photos)
    xray = encoder.embed_images("xray", xrays)
    probability = encoder.match_probability(photo, xray) if encoder.calibration is not None else None
    return Embeddings(photo=photo, xray=xray, gallery=encoder.embed_images("xray", gallery), probability=probability)
