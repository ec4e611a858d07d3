"""Calibration: probabilities rise with cosine; thresholds honour the target false-alarm rate."""

from __future__ import annotations

import numpy as np
import pytest

from service.matching.calibration import fit, from_dict


def separable(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    picture = np.concatenate([rng.normal(0.6, 0.15, n), rng.normal(0.2, 0.15, n)])
    description = np.concatenate([rng.normal(0.5, 0.15, n), rng.normal(0.1, 0.15, n)])
    return np.stack([picture, description], axis=1), np.array([1] * n + [0] * n)


def test_thresholds_follow_the_target_false_alarm_rate() -> None:
    cosines, labels = separable()
    params = fit(cosines[:, :1], labels, target_false_alarm_rate=0.05, source="test").picture
    probs = np.array([params.probability([c]) for c in cosines[:, 0]])
    false_alarms = np.mean(probs[labels == 1] < params.mismatch_below)
    missed = np.mean(probs[labels == 0] >= params.match_from)
    assert abs(false_alarms - 0.05) < 0.01 and missed <= 0.051
    assert params.mismatch_below <= params.match_from
    assert params.probability([0.9]) > 0.9 > 0.1 > params.probability([-0.2])
    assert [params.decide(p) for p in (0.0, 1.0)] == ["mismatch", "match"]


def test_the_description_adds_evidence_when_the_listing_has_one() -> None:
    cosines, labels = separable()
    fitted = fit(cosines, labels, target_false_alarm_rate=0.05, source="test")
    assert fitted.picture.features == ("picture",) and fitted.picture_description is not None
    assert fitted.picture_description.roc_auc > fitted.picture.roc_auc
    assert fitted.for_evidence(description=False) is fitted.picture
    assert fitted.for_evidence(description=True) is fitted.picture_description
    without_text = fit(
        np.stack([cosines[:, 0], np.full(len(labels), np.nan)], axis=1),
        labels,
        target_false_alarm_rate=0.05,
        source="test",
    )
    assert without_text.picture_description is None
    assert without_text.for_evidence(description=True) is without_text.picture


def test_round_trip_through_the_stored_form() -> None:
    from dataclasses import asdict

    cosines, labels = separable(200)
    fitted = fit(cosines, labels, target_false_alarm_rate=0.1, source="generated")
    stored = {"picture": asdict(fitted.picture), "picture_description": asdict(fitted.picture_description)}
    assert from_dict(stored) == fitted


def test_overlapping_classes_collapse_the_inconclusive_band_never_invert_it() -> None:
    rng = np.random.default_rng(1)
    params = fit(rng.normal(0.3, 0.1, 400), rng.integers(0, 2, 400), target_false_alarm_rate=0.05, source="t").picture
    assert params.mismatch_below <= params.match_from


def test_too_few_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 5 matching and 5 mismatching"):
        fit(np.array([0.1, 0.2, 0.9]), np.array([0, 0, 1]), target_false_alarm_rate=0.05, source="test")


def test_no_labels_at_all_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="at least 5 matching"):
        fit(np.zeros((0, 2)), np.zeros(0, np.int64), target_false_alarm_rate=0.05, source="examinations")
