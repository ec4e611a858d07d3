"""Calibration: probabilities rise with cosine; thresholds honour the target false-alarm rate."""

from __future__ import annotations

import numpy as np
import pytest

from service.matching.calibration import fit


def test_thresholds_follow_the_target_false_alarm_rate() -> None:
    rng = np.random.default_rng(0)
    matches, mismatches = rng.normal(0.6, 0.1, 2000), rng.normal(0.2, 0.1, 2000)
    cosines = np.concatenate([matches, mismatches])
    labels = np.array([1] * 2000 + [0] * 2000)
    params = fit(cosines, labels, target_false_alarm_rate=0.05, source="test")
    probs = np.array([params.probability(c) for c in cosines])
    false_alarms = np.mean(probs[labels == 1] < params.mismatch_below)
    missed = np.mean(probs[labels == 0] >= params.match_from)
    assert abs(false_alarms - 0.05) < 0.01 and missed <= 0.051
    assert params.mismatch_below <= params.match_from
    assert params.probability(0.9) > 0.95 > 0.05 > params.probability(-0.1)
    assert params.roc_auc > 0.99
    assert [params.decide(p) for p in (0.0, 1.0)] == ["mismatch", "match"]


def test_overlapping_classes_collapse_the_inconclusive_band_never_invert_it() -> None:
    rng = np.random.default_rng(1)
    cosines = rng.normal(0.3, 0.1, 400)
    labels = rng.integers(0, 2, 400)
    params = fit(cosines, labels, target_false_alarm_rate=0.05, source="test")
    assert params.mismatch_below <= params.match_from


def test_too_few_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 5 matching and 5 mismatching"):
        fit(np.array([0.1, 0.2, 0.9]), np.array([0, 0, 1]), target_false_alarm_rate=0.05, source="test")
