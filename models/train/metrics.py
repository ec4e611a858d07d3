"""Validation figures computed on cached features during training."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def verification_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    if len(set(labels.tolist())) < 2:
        return float("nan")
    return float(roc_auc_score(labels, scores))


def scenario_auc(scores: np.ndarray, labels: np.ndarray, scenarios: list[str], scenario: str) -> float:
    keep = np.array([(lab == 1) or (s == scenario) for lab, s in zip(labels, scenarios, strict=True)])
    return verification_auc(scores[keep], labels[keep])


def recall_at_k(photo: np.ndarray, xray: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Photo-to-x-ray retrieval among all x-rays; queries are the match shipments' photos."""
    queries = np.nonzero(labels == 1)[0]
    if queries.size == 0:
        return float("nan")
    sims = photo[queries] @ xray.T
    own = sims[np.arange(queries.size), queries][:, None]
    rank = (sims > own).sum(axis=1)
    return float((rank < k).mean())
