"""The labelled gallery's vote and the listing-agreement rule, on small hand-made neighbour lists."""

from __future__ import annotations

import numpy as np
import pytest

from models.encoders.gallery import (
    BENIGN,
    FINDING_ALARM,
    GalleryVote,
    agreement_risk,
    evidence_weight,
    scan_similarities,
    vote,
)


def test_shares_sum_to_one_and_the_nearest_category_wins() -> None:
    reading = vote(
        ["handgun", "benign", "handgun", "kitchen_knife", "benign"],
        np.array([0.91, 0.80, 0.90, 0.70, 0.79]),
        {"handgun": 20, "benign": 20, "kitchen_knife": 20},
    )
    assert reading.category == "handgun"
    assert sum(reading.shares.values()) == pytest.approx(1.0)
    assert reading.shares["handgun"] > 0.9
    assert reading.confidence == pytest.approx(reading.shares["handgun"] * evidence_weight(20))


def test_a_frequent_category_does_not_win_by_numbers() -> None:
    # Eight benign neighbours a little farther than three guns: a majority vote would say benign.
    labels = ["handgun"] * 3 + [BENIGN] * 8
    sims = np.array([0.9, 0.89, 0.88] + [0.85] * 8)
    reading = vote(labels, sims, {"handgun": 3, BENIGN: 500})
    assert reading.category == "handgun"


def test_confidence_grows_with_labelled_evidence() -> None:
    labels, sims = ["wrench", "pliers"], np.array([0.9, 0.6])
    thin = vote(labels, sims, {"wrench": 1, "pliers": 1})
    thick = vote(labels, sims, {"wrench": 100, "pliers": 100})
    assert thin.category == thick.category == "wrench"
    assert thin.confidence < 0.5 < thick.confidence
    assert evidence_weight(0) == 0.0
    assert evidence_weight(5) == pytest.approx(0.5)


def test_findings_count_every_item_a_neighbour_holds() -> None:
    # The gun bag is filed under handgun but also holds a knife: the knife finding sees it.
    reading = vote(
        ["handgun", BENIGN, BENIGN],
        np.array([0.95, 0.7, 0.69]),
        {"handgun": 20, BENIGN: 20, "kitchen_knife": 20},
        items=[["handgun", "kitchen_knife"], [BENIGN], [BENIGN]],
    )
    assert reading.findings["handgun"] >= FINDING_ALARM
    assert reading.findings["kitchen_knife"] >= FINDING_ALARM
    clean = vote([BENIGN, "handgun"], np.array([0.95, 0.7]), {"handgun": 20, BENIGN: 20})
    assert clean.findings["handgun"] < 0.1
    assert "kitchen_knife" not in clean.findings  # the gallery holds no knife: it cannot say


def test_no_gallery_says_nothing_and_bad_inputs_are_refused() -> None:
    empty = vote([], np.array([]), {})
    assert empty == GalleryVote({}, None, 0.0, {})
    assert agreement_risk("laptop", empty).risk == 0.0
    with pytest.raises(ValueError, match="2 labels for 3 similarities"):
        vote(["a", "b"], np.array([0.1, 0.2, 0.3]), {"a": 1})


def _reading(shares: dict[str, float], findings: dict[str, float] | None = None, n: int = 20) -> GalleryVote:
    best = max(shares, key=lambda c: shares[c])
    return GalleryVote(
        shares,
        best,
        shares[best] * evidence_weight(n),
        findings or {},
        {c: evidence_weight(n) for c in shares},
    )


def test_risk_rises_when_the_gallery_names_another_category() -> None:
    reading = _reading({"wrench": 0.9, "scissors": 0.05, BENIGN: 0.05})
    assert agreement_risk("wrench", reading).risk < 0.1
    wrong = agreement_risk("scissors", reading)
    assert wrong.risk > 0.6  # 0.9 share x 0.8 weight of 20 labelled scans x 0.95 not scissors
    assert wrong.reason is not None and "wrench" in wrong.reason


def test_goods_the_gallery_does_not_know_are_consistent_with_benign() -> None:
    # A laptop listing: the gallery holds no laptops, and a scan with none of its items agrees with it.
    plain = _reading({"handgun": 0.05, "kitchen_knife": 0.05, BENIGN: 0.9})
    assert agreement_risk("laptop", plain).risk < 0.1
    # ...but a wrench listing whose scan reads benign is missing its wrench.
    assert agreement_risk("wrench", _reading({"wrench": 0.05, BENIGN: 0.95})).risk > 0.7


def test_an_undeclared_threat_raises_risk_a_declared_one_does_not() -> None:
    reading = _reading({"handgun": 0.6, BENIGN: 0.4}, findings={"handgun": 0.7})
    undeclared = agreement_risk("laptop", reading)
    assert undeclared.risk >= 0.7
    assert undeclared.reason is not None and "handgun" in undeclared.reason
    assert agreement_risk("handgun", reading).risk < 0.5
    assert agreement_risk(None, reading).risk == pytest.approx(0.7)  # no listing category: the finding alone


def test_thin_evidence_weighs_less() -> None:
    shares = {"wrench": 0.9, BENIGN: 0.1}
    assert agreement_risk("scissors", _reading(shares, n=1)).risk < agreement_risk("scissors", _reading(shares)).risk


def test_scan_similarity_is_the_best_pair_of_views() -> None:
    e = np.eye(3, dtype=np.float32)
    q = np.stack([np.stack([e[0], e[1]])])  # one scan, two views
    g = np.stack([np.stack([e[1], e[2]]), np.stack([e[2], e[2]])])
    assert scan_similarities(q, g).tolist() == [[1.0, 0.0]]
    assert scan_similarities(q[:, :1], g[:, :1]).tolist() == [[0.0, 0.0]]
