"""From cosine to probability, and from probability to a decision, fitted on labelled pairs.

Platt scaling turns photo/x-ray cosine into P(contents match the listing). The thresholds come
from the target false-alarm rate: `mismatch_below` is the probability under which only that share
of true matches falls, and `match_from` the one above which only that share of mismatches lies.
Between them a verdict is inconclusive.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import Calibration


@dataclass(frozen=True)
class CalibrationParams:
    scale: float
    bias: float
    mismatch_below: float
    match_from: float
    target_false_alarm_rate: float
    roc_auc: float
    n: int
    source: str

    def probability(self, cosine: float) -> float:
        return float(1.0 / (1.0 + np.exp(-(self.scale * cosine + self.bias))))

    def decide(self, probability: float) -> str:
        if probability < self.mismatch_below:
            return "mismatch"
        if probability >= self.match_from:
            return "match"
        return "inconclusive"


def fit(cosines: np.ndarray, labels: np.ndarray, *, target_false_alarm_rate: float, source: str) -> CalibrationParams:
    """Fit on cosines of photo/x-ray pairs with labels 1 = contents match, 0 = mismatch."""
    cosines, labels = np.asarray(cosines, np.float64), np.asarray(labels, np.int64)
    if len(set(labels.tolist())) < 2 or min(np.bincount(labels, minlength=2)) < 5:
        raise ValueError("calibration needs at least 5 matching and 5 mismatching labelled pairs")
    model = LogisticRegression(C=1e4).fit(cosines.reshape(-1, 1), labels)
    scale, bias = float(model.coef_[0][0]), float(model.intercept_[0])
    probs = 1.0 / (1.0 + np.exp(-(scale * cosines + bias)))
    mismatch_below = float(np.quantile(probs[labels == 1], target_false_alarm_rate))
    match_from = max(float(np.quantile(probs[labels == 0], 1 - target_false_alarm_rate)), mismatch_below)
    return CalibrationParams(
        scale=scale,
        bias=bias,
        mismatch_below=mismatch_below,
        match_from=match_from,
        target_false_alarm_rate=target_false_alarm_rate,
        roc_auc=float(roc_auc_score(labels, cosines)),
        n=len(labels),
        source=source,
    )


def save(session: Session, *, model_sha256: str, params: CalibrationParams) -> None:
    session.add(Calibration(model_sha256=model_sha256, source=params.source, n=params.n, params=asdict(params)))
    session.commit()


def latest(session: Session, model_sha256: str) -> CalibrationParams | None:
    row = session.scalar(
        select(Calibration)
        .where(Calibration.model_sha256 == model_sha256)
        .order_by(Calibration.fitted_at.desc(), Calibration.id.desc())
        .limit(1)
    )
    return None if row is None else from_dict(row.params)


def from_dict(data: dict[str, Any]) -> CalibrationParams:
    return CalibrationParams(**data)
