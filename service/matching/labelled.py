"""Labelled photo / x-ray pairs to calibrate on: generated ones at first, examined ones later."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from models.encoder import Encoder
from service.db.tables import Embedding, Examination, Filing, FilingImage
from service.matching.embedder import to_vector


def generated_pairs(
    encoder: Encoder, *, n: int, seed: int, size: int = 256, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Cosines and labels (1 = match) of n synthetic shipments rendered by the paired generator."""
    from models.data.synthetic import generate_shipment  # only calibration needs the generator

    cosines, labels = np.zeros(n, np.float32), np.zeros(n, np.int64)
    step = encoder.batch_size
    for start in tqdm(range(0, n, step), desc="calibration pairs", unit="batch", disable=not progress):
        batch = [generate_shipment(seed=seed, index=i, size=size) for i in range(start, min(n, start + step))]
        photos = encoder.embed_images("photo", [s.photo for s in batch])
        xrays = encoder.embed_images("xray", [s.xray for s in batch])
        cosines[start : start + len(batch)] = np.sum(photos * xrays, axis=1)
        labels[start : start + len(batch)] = [int(s.label == "match") for s in batch]
    return cosines, labels


def examined_pairs(session: Session, model_sha256: str) -> tuple[np.ndarray, np.ndarray]:
    """Cosines and labels of examined shipments that have both a product picture and an x-ray embedded."""
    cosines: list[float] = []
    labels: list[int] = []
    for shipment_id, outcome in session.execute(select(Examination.shipment_id, Examination.outcome)).all():
        vectors = {}
        for role, modality in (("product_picture", "photo"), ("security_scan", "xray")):
            row = session.scalar(
                select(Embedding)
                .join(FilingImage, FilingImage.image_sha256 == Embedding.image_sha256)
                .join(Filing, Filing.id == FilingImage.filing_id)
                .where(
                    Filing.shipment_id == shipment_id,
                    FilingImage.role == role,
                    Embedding.modality == modality,
                    Embedding.model_sha256 == model_sha256,
                )
                .order_by(Filing.received_at.desc())
                .limit(1)
            )
            if row is not None:
                vectors[modality] = to_vector(row)
        if len(vectors) == 2:
            cosines.append(float(vectors["photo"] @ vectors["xray"]))
            labels.append(int(outcome == "contents_match"))
    return np.array(cosines, np.float32), np.array(labels, np.int64)
