"""How familiar an image is to the model: is it near images the model is known to handle?

The shipped encoder was trained on generated pairs and is at chance on real images, so its P(match)
on an image unlike anything it has seen means nothing. An image's familiarity is its cosine to the
k-th nearest reference image of the same modality (the generated calibration shipments), measured
in the embedding space of a familiarity encoder: the untouched ImageNet one, because the trained
towers map real scans right onto generated ones (docs/evaluation/unfamiliar-images: ROC-AUC 0.18
in the trained space, 1.00 in ImageNet's). The threshold is a low quantile of the same score on
the references themselves, each left out of its own search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import FamiliarityReference

MODALITIES = ("photo", "xray")
OTHER = {"photo": "xray", "xray": "photo"}
NOUN = {"xray": ("x-ray", "scans"), "photo": ("product picture", "product photos")}


@dataclass(frozen=True)
class Familiarity:
    """One modality's references and threshold, for one model."""

    modality: str
    k: int
    quantile: float
    threshold: float  # familiar from this score
    references: np.ndarray  # (n, dim) float32, L2-normalised
    source: str

    def score(self, vector: np.ndarray) -> float:
        """Cosine to the k-th nearest reference embedding."""
        return float(np.partition(self.references @ vector, -self.k)[-self.k])

    def familiar(self, score: float, other: float) -> bool:
        """Familiar: near enough its own modality's references, and nearer them than the other modality's."""
        return score >= self.threshold and score >= other

    def reason(
        self, score: float, other: float, *, alarm: bool, gallery: tuple[float, float | None] | None = None
    ) -> str:
        """Why the image counts as unfamiliar; `gallery`: its cosine to the labelled gallery scans and the
        cosine from which that would make it familiar."""
        noun, kind = NOUN[self.modality]
        other_noun = NOUN[OTHER[self.modality]][0]
        why = f"familiarity {score:.2f}, familiar from {self.threshold:.2f}"
        if gallery is not None:
            near, near_from = gallery
            why += f"; {near:.2f} to the labelled gallery scans" + (
                f", familiar from {near_from:.2f}" if near_from is not None else ""
            )
        if other > score:  # a photo sent as the scan, or a scan as the picture
            why += f"; it looks more like a {other_noun} ({other:.2f})"
        if self.modality == "xray":
            consequence = "treat the image match and what the x-ray shows as unknown"
        elif alarm:
            consequence = "treat the image match as unknown; the alarm on what the x-ray shows stands"
        else:
            consequence = "treat the image match as unknown"
        return (
            f"unfamiliar image: the {noun} is unlike the {kind} this model was trained and calibrated on "
            f"({why}): {consequence}"
        )


def leave_one_out(references: np.ndarray, k: int) -> np.ndarray:
    """Each reference's cosine to its k-th nearest other reference."""
    gram = references @ references.T
    np.fill_diagonal(gram, -np.inf)
    return np.partition(gram, -k, axis=1)[:, -k]


def fit(references: np.ndarray, *, modality: str, k: int, quantile: float, source: str) -> Familiarity:
    references = np.ascontiguousarray(references, np.float32)
    if len(references) <= k:
        raise ValueError(f"familiarity needs more than k={k} reference embeddings, got {len(references)}")
    threshold = float(np.quantile(leave_one_out(references, k), quantile))
    return Familiarity(
        modality=modality, k=k, quantile=quantile, threshold=threshold, references=references, source=source
    )


def save(session: Session, *, model_sha256: str, familiarity: dict[str, Familiarity]) -> None:
    for fitted in familiarity.values():
        session.add(
            FamiliarityReference(
                model_sha256=model_sha256,
                modality=fitted.modality,
                source=fitted.source,
                k=fitted.k,
                quantile=fitted.quantile,
                threshold=fitted.threshold,
                n=len(fitted.references),
                dim=fitted.references.shape[1],
                vectors=fitted.references.astype("<f4").tobytes(),
            )
        )
    session.commit()


def latest(session: Session, model_sha256: str) -> dict[str, Familiarity] | None:
    """The newest fit of every modality for this model, or None when a modality has none."""
    found = {}
    for modality in MODALITIES:
        row = session.scalar(
            select(FamiliarityReference)
            .where(FamiliarityReference.model_sha256 == model_sha256, FamiliarityReference.modality == modality)
            .order_by(FamiliarityReference.fitted_at.desc(), FamiliarityReference.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        found[modality] = Familiarity(
            modality=modality,
            k=row.k,
            quantile=row.quantile,
            threshold=row.threshold,
            references=np.frombuffer(row.vectors, dtype="<f4").reshape(row.n, row.dim),
            source=row.source,
        )
    return found


def fit_all(photos: np.ndarray, xrays: np.ndarray, *, k: int, quantile: float, source: str) -> dict[str, Familiarity]:
    return {
        modality: fit(vectors, modality=modality, k=k, quantile=quantile, source=source)
        for modality, vectors in (("photo", photos), ("xray", xrays))
    }
