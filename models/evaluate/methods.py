"""The three methods compared side by side: trained model, ImageNet cosine, OpenCV descriptor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from models.encoder import Encoder

HOG_SIZE = 128


@dataclass
class Embeddings:
    """Row-aligned photo and x-ray embeddings (L2-normalised) for one method."""

    photo: np.ndarray
    xray: np.ndarray
    gallery: np.ndarray  # labelled reference x-rays
    probability: np.ndarray | None = None  # the method's own P(match), when it has a calibration


def hog_descriptor(images: Sequence[Image.Image]) -> np.ndarray:
    """HOG of the grey image: unsigned gradients, so a dark-on-light scan and a photo can agree."""
    hog = cv2.HOGDescriptor((HOG_SIZE, HOG_SIZE), (32, 32), (16, 16), (16, 16), 9)
    rows = []
    for img in images:
        grey = cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, (HOG_SIZE, HOG_SIZE), interpolation=cv2.INTER_AREA)
        vec = hog.compute(grey).reshape(-1).astype(np.float32)
        # Centre before normalising: raw HOG is non-negative, so every pair would look alike.
        vec -= vec.mean()
        rows.append(vec / (np.linalg.norm(vec) + 1e-8))
    return np.stack(rows)


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
