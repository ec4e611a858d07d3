"""From embeddings to the figures OUT.json reports for one method."""

from __future__ import annotations

from typing import Any

import numpy as np

from models.encoders.encoder import FindingsHead, pair_cosine
from models.evaluate.gallery import nn_category_accuracy
from models.evaluate.methods import Embeddings
from models.evaluate.metrics import (
    alarm_threshold,
    cross_fitted_platt,
    detection_at_false_alarm,
    expected_calibration_error,
    recall_from_similarity,
    scenario_auc,
    verification_auc,
)

# Per-scenario detection is read at the threshold that flags this share of genuine matches.
DETECTION_FALSE_ALARM_RATE = 0.05


def _nan_to_none(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def score_method(
    emb: Embeddings,
    *,
    labels: np.ndarray,
    scenarios: list[str],
    categories: list[str],
    gallery_labels: list[str],
    query_labels: list[str | None],
) -> dict[str, Any]:
    cosine = pair_cosine(emb.photo, emb.xray)
    # A method's own calibration if it ships one (fitted on its validation split), else cross-fitted Platt.
    probs = emb.probability if emb.probability is not None else cross_fitted_platt(cosine, labels)
    threshold = alarm_threshold(probs, labels, DETECTION_FALSE_ALARM_RATE)
    flagged = probs < threshold
    per_scenario = {}
    for scenario in sorted(set(scenarios)):
        members = np.array([s == scenario for s in scenarios])
        per_scenario[scenario] = {
            "roc_auc": None if scenario == "match" else _nan_to_none(scenario_auc(probs, labels, scenarios, scenario)),
            # For "match" this is the false-alarm rate itself.
            "detection_rate": round(float(flagged[members].mean()), 4),
            "n": int(members.sum()),
        }
    per_category = {}
    for category in sorted(set(categories)):
        members = np.array([c == category for c in categories])
        per_category[category] = {
            "roc_auc": _nan_to_none(verification_auc(probs[members], labels[members])),
            "n": int(members.sum()),
        }
    sims = emb.photo @ emb.xray.T
    keep = [i for i, q in enumerate(query_labels) if q is not None]
    gallery = nn_category_accuracy(emb.gallery, gallery_labels, emb.xray[keep], [str(query_labels[i]) for i in keep])
    return {
        "roc_auc": round(verification_auc(probs, labels), 4),
        "tpr_at_fpr_1pct": round(detection_at_false_alarm(probs, labels, 0.01), 4),
        "tpr_at_fpr_5pct": round(detection_at_false_alarm(probs, labels, 0.05), 4),
        "ece": round(expected_calibration_error(probs, labels), 4),
        "recall_at_1": round(recall_from_similarity(sims, labels, 1), 4),
        "recall_at_5": round(recall_from_similarity(sims, labels, 5), 4),
        "per_scenario": per_scenario,
        "per_category": per_category,
        "xray_nn_category": gallery,
        "alarm_threshold_at_5pct_false_alarms": round(threshold, 4),
        "_roc_inputs": (probs, labels),
    }


def score_findings(head: FindingsHead, xrays: np.ndarray, contents: list[list[str]]) -> dict[str, Any]:
    """Per item of concern: ROC-AUC, and detection / false-alarm rates at the shipped threshold."""
    probs = head.probabilities(xrays)
    out = {}
    for j, (item, threshold) in enumerate(zip(head.items, head.thresholds, strict=True)):
        holds = np.array([item in c for c in contents])
        alarm = probs[:, j] >= threshold
        out[item] = {
            "roc_auc": _nan_to_none(verification_auc(probs[:, j], holds.astype(int))),
            "detection_rate": round(float(alarm[holds].mean()), 4) if holds.any() else None,
            "false_alarm_rate": round(float(alarm[~holds].mean()), 4),
            "threshold": threshold,
            "n": int(holds.sum()),
        }
    return out


def false_alarmed_xrays(head: FindingsHead, xrays: np.ndarray, contents: list[list[str]]) -> dict[str, int]:
    """How many x-rays alarm for some item they do not hold: each such verdict is forced to mismatch."""
    alarms = head.probabilities(xrays) >= np.asarray(head.thresholds, np.float32)
    holds = np.array([[item in c for item in head.items] for c in contents])
    return {"n": int((alarms & ~holds).any(axis=1).sum()), "of": len(contents)}
