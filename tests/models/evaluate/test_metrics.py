from __future__ import annotations

import numpy as np
import pytest

from models.evaluate.gallery import nn_category_accuracy
from models.evaluate.metrics import (
    cross_fitted_platt,
    detection_at_false_alarm,
    expected_calibration_error,
    recall_at_k,
    scenario_auc,
    verification_auc,
)


def test_perfect_scores_give_perfect_figures() -> None:
    labels = np.array([1, 1, 1, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    assert verification_auc(scores, labels) == 1.0
    assert detection_at_false_alarm(scores, labels, 0.01) == pytest.approx(1.0)
    scenarios = ["match"] * 3 + ["concealment", "substitution", "concealment"]
    assert scenario_auc(scores, labels, scenarios, "concealment") == 1.0


def test_ece_is_zero_when_probabilities_match_frequencies() -> None:
    labels = np.array([1, 0] * 50)
    assert expected_calibration_error(np.full(100, 0.5), labels) == pytest.approx(0.0)
    assert expected_calibration_error(np.full(100, 0.95), labels) == pytest.approx(0.45)


def test_recall_counts_only_match_queries() -> None:
    photo = np.eye(4, dtype=np.float32)
    xray = np.eye(4, dtype=np.float32)[[0, 1, 3, 2]]  # rows 2 and 3 swapped
    labels = np.array([1, 1, 1, 0])
    assert recall_at_k(photo, xray, labels, 1) == pytest.approx(2 / 3)
    assert recall_at_k(photo, xray, labels, 2) == pytest.approx(1.0)


def test_cross_fitted_platt_keeps_ranking_and_gives_probabilities() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([1] * 100 + [0] * 100)
    scores = labels + rng.normal(0, 0.5, 200)
    probs = cross_fitted_platt(scores, labels)
    assert np.all((probs > 0) & (probs < 1))
    assert verification_auc(probs, labels) > 0.85


def test_faiss_gallery_nearest_neighbour_accuracy() -> None:
    gallery = np.eye(3, dtype=np.float32)
    queries = np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.9]], dtype=np.float32)
    out = nn_category_accuracy(gallery, ["mug", "shoe", "lamp"], queries, ["mug", "shoe"])
    assert out["top1_accuracy"] == 0.5 and out["n_queries"] == 2 and out["n_gallery"] == 3


def test_an_xray_counts_as_false_alarmed_only_for_items_it_does_not_hold() -> None:
    from models.encoders.encoder import FindingsHead
    from models.evaluate.scoring import false_alarmed_xrays

    # Two items read off a 2-d embedding: item k's logit is 10 * e[k] - 5.
    head = FindingsHead(
        items=("knife", "pills"), weight=10 * np.eye(2, dtype=np.float32), bias=np.full(2, -5.0), thresholds=(0.5, 0.5)
    )
    xrays = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]], np.float32)
    contents = [["knife", "book"], ["book"], ["book"], ["pills", "knife"]]
    # Row 0 alarms for the knife it holds; row 1 for a knife it does not hold; rows 2-3 raise nothing false.
    assert false_alarmed_xrays(head, xrays, contents) == {"n": 1, "of": 4}
