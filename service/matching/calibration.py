"""From cosines to a probability, and from probability to a decision, fitted on labelled pairs.

Logistic regression (Platt scaling) turns the photo/x-ray cosine, and where the listing has a
description also the description/x-ray cosine, into P(contents match the listing). The
thresholds come from the target false-alarm rate: `mismatch_below` is the probability under which
only that share of true matches falls, and `match_from` the one above which only that share of
mismatches lies. Between them a verdict is inconclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import Calibration

FEATURES = ("picture", "description")  # columns: photo/x-ray cosine, description/x-ray cosine


@dataclass(frozen=True)
class CalibrationParams:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    mismatch_below: float
    match_from: float
    target_false_alarm_rate: float
    roc_auc: float
    n: int
    source: str

    def probability(self, cosines: Sequence[float]) -> float:
        z = float(np.dot(self.weights, cosines[: len(self.weights)])) + self.bias
        return float(expit(z))

    def decide(self, probability: float) -> str:
        if probability < self.mismatch_below:
            return "mismatch"
        if probability >= self.match_from:
            return "match"
        return "inconclusive"


@dataclass(frozen=True)
class CalibrationSet:
    """One model per evidence available: the picture alone, or the picture and the description."""

    picture: CalibrationParams
    picture_description: CalibrationParams | None

    def for_evidence(self, *, description: bool) -> CalibrationParams:
        return self.picture_description if description and self.picture_description else self.picture

    @property
    def source(self) -> str:
        return self.picture.source

    @property
    def n(self) -> int:
        return self.picture.n


def _fit_one(
    x: np.ndarray, labels: np.ndarray, features: tuple[str, ...], *, target: float, source: str
) -> CalibrationParams:
    model = LogisticRegression(C=1e4).fit(x, labels)
    probs = model.predict_proba(x)[:, 1]
    mismatch_below = float(np.quantile(probs[labels == 1], target))
    match_from = max(float(np.quantile(probs[labels == 0], 1 - target)), mismatch_below)
    return CalibrationParams(
        features=features,
        weights=tuple(float(w) for w in model.coef_[0]),
        bias=float(model.intercept_[0]),
        mismatch_below=mismatch_below,
        match_from=match_from,
        target_false_alarm_rate=target,
        roc_auc=float(roc_auc_score(labels, probs)),
        n=len(labels),
        source=source,
    )


def fit(cosines: np.ndarray, labels: np.ndarray, *, target_false_alarm_rate: float, source: str) -> CalibrationSet:
    """Fit on (n, 1) or (n, 2) cosines (picture, description) with labels 1 = contents match."""
    labels = np.asarray(labels, np.int64)
    if len(labels) == 0 or min(np.bincount(labels, minlength=2)) < 5:
        raise ValueError("calibration needs at least 5 matching and 5 mismatching labelled pairs")
    x = np.asarray(cosines, np.float64).reshape(len(labels), -1)
    picture = _fit_one(x[:, :1], labels, FEATURES[:1], target=target_false_alarm_rate, source=source)
    both = None
    if x.shape[1] > 1 and np.isfinite(x[:, 1]).all():
        both = _fit_one(x[:, :2], labels, FEATURES, target=target_false_alarm_rate, source=source)
    return CalibrationSet(picture=picture, picture_description=both)


def save(session: Session, *, model_sha256: str, calibration: CalibrationSet) -> None:
    params = {"picture": asdict(calibration.picture)}
    if calibration.picture_description is not None:
        params["picture_description"] = asdict(calibration.picture_description)
    session.add(Calibration(model_sha256=model_sha256, source=calibration.source, n=calibration.n, params=params))
    session.commit()


def latest(session: Session, model_sha256: str) -> CalibrationSet | None:
    row = session.scalar(
        select(Calibration)
        .where(Calibration.model_sha256 == model_sha256)
        .order_by(Calibration.fitted_at.desc(), Calibration.id.desc())
        .limit(1)
    )
    return None if row is None else from_dict(row.params)


def _params(data: dict[str, Any]) -> CalibrationParams:
    return CalibrationParams(**{**data, "features": tuple(data["features"]), "weights": tuple(data["weights"])})


def from_dict(data: dict[str, Any]) -> CalibrationSet:
    both = data.get("picture_description")
    return CalibrationSet(picture=_params(data["picture"]), picture_description=_params(both) if both else None)
