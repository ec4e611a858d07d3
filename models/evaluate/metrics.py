"""Verification, calibration and retrieval metrics.

Convention: a score is P(match). Inspectors act on alarms, so the ROC is read with mismatch as
the positive class: TPR = share of mismatches flagged, FPR = share of genuine matches flagged.
ROC-AUC is the same either way round.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold


def verification_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    if len(set(labels.tolist())) < 2:
        return float("nan")
    return float(roc_auc_score(labels, scores))


def scenario_auc(scores: np.ndarray, labels: np.ndarray, scenarios: list[str], scenario: str) -> float:
    """ROC-AUC of genuine matches against one mismatch scenario."""
    keep = np.array([(lab == 1) or (s == scenario) for lab, s in zip(labels, scenarios, strict=True)])
    return verification_auc(scores[keep], labels[keep])


def recall_at_k(photo: np.ndarray, xray: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Photo-to-x-ray retrieval among all x-rays; queries are the match shipments' photos."""
    return recall_from_similarity(photo @ xray.T, labels, k)


def recall_from_similarity(sims: np.ndarray, labels: np.ndarray, k: int) -> float:
    """`recall_at_k` from the (photos, x-rays) similarity matrix, shipment i's own x-ray in column i."""
    queries = np.nonzero(labels == 1)[0]
    if queries.size == 0:
        return float("nan")
    sims = sims[queries]
    own = sims[np.arange(queries.size), queries][:, None]
    rank = (sims > own).sum(axis=1)
    return float((rank < k).mean())


def alarm_threshold(scores: np.ndarray, labels: np.ndarray, false_alarm_rate: float) -> float:
    """P(match) below which a shipment is flagged, so that `false_alarm_rate` of matches are flagged."""
    return float(np.quantile(scores[labels == 1], false_alarm_rate))


def detection_at_false_alarm(scores: np.ndarray, labels: np.ndarray, false_alarm_rate: float) -> float:
    """TPR at a given FPR, mismatch positive, read off the ROC curve."""
    fpr, tpr, _ = roc_curve(1 - labels, -scores)
    return float(np.interp(false_alarm_rate, fpr, tpr))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probs, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            ece += members.mean() * abs(probs[members].mean() - labels[members].mean())
    return float(ece)


def cross_fitted_platt(scores: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Calibrate an uncalibrated score without scoring a sample with a fit that saw it."""
    probs = np.zeros_like(scores, dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, out_idx in splitter.split(scores, labels):
        lr = LogisticRegression(C=1e4).fit(scores[fit_idx, None], labels[fit_idx])
        probs[out_idx] = lr.predict_proba(scores[out_idx, None])[:, 1]
    return probs
