"""Labelled shipments to calibrate on: generated ones at first, examined ones later.

Each yields two cosines per shipment, photo/x-ray and description/x-ray (NaN where the encoder
has no text tower or the listing no description), and a label, 1 when the contents match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from models.encoders.encoder import Encoder
from service.db.tables import Embedding, Examination, Filing, FilingImage
from service.matching.embedder import to_vector


@dataclass(frozen=True)
class Generated:
    """Synthetic shipments embedded: their pair cosines and labels, and the embeddings themselves."""

    cosines: np.ndarray  # (n, 2): photo/x-ray, description/x-ray (NaN without a text tower)
    labels: np.ndarray  # (n,): 1 when the contents match
    photos: np.ndarray  # (n, dim)
    xrays: np.ndarray  # (n, dim)


def generated(encoder: Encoder, *, n: int, seed: int, size: int = 256, progress: bool = False) -> Generated:
    """n synthetic shipments rendered by the paired generator, embedded."""
    from models.generator.synthetic import generate_shipment  # only calibration needs the generator

    cosines, labels = np.full((n, 2), np.nan, np.float32), np.zeros(n, np.int64)
    photos, xrays = np.zeros((n, encoder.dim), np.float32), np.zeros((n, encoder.dim), np.float32)
    step = encoder.batch_size
    for start in tqdm(range(0, n, step), desc="calibration pairs", unit="batch", disable=not progress):
        batch = [generate_shipment(seed=seed, index=i, size=size) for i in range(start, min(n, start + step))]
        end = start + len(batch)
        photos[start:end] = encoder.embed_images("photo", [s.photo for s in batch])
        xrays[start:end] = encoder.embed_images("xray", [s.xray for s in batch])
        cosines[start:end, 0] = np.sum(photos[start:end] * xrays[start:end], axis=1)
        if encoder.has_text:
            texts = encoder.embed_texts([f"{s.title}. {s.description}" for s in batch])
            cosines[start:end, 1] = np.sum(texts * xrays[start:end], axis=1)
        labels[start:end] = [int(s.label == "match") for s in batch]
    return Generated(cosines=cosines, labels=labels, photos=photos, xrays=xrays)


def generated_pairs(
    encoder: Encoder, *, n: int, seed: int, size: int = 256, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2) cosines and labels of n synthetic shipments rendered by the paired generator."""
    shipments = generated(encoder, n=n, seed=seed, size=size, progress=progress)
    return shipments.cosines, shipments.labels


def examined_pairs(session: Session, encoder: Encoder) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2) cosines and labels of examined shipments with both a product picture and an x-ray embedded."""
    model_sha256 = encoder.identity
    cosines: list[tuple[float, float]] = []
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
            description = session.scalars(
                select(Filing.payload).where(Filing.shipment_id == shipment_id, Filing.filer_type == "marketplace")
            ).first()
            text = (description or {}).get("enhanced_description")
            text_cos = float(encoder.embed_texts([text])[0] @ vectors["xray"]) if text and encoder.has_text else np.nan
            cosines.append((float(vectors["photo"] @ vectors["xray"]), text_cos))
            labels.append(int(outcome == "contents_match"))
    return np.array(cosines, np.float32).reshape(-1, 2), np.array(labels, np.int64)
