from __future__ import annotations

import pytest

from models.encoders import photo_gallery


def test_the_nearest_labelled_photos_carry_the_vote_weighted_by_the_evidence() -> None:
    assert photo_gallery.read([], [], labelled=0, prior=20) is None
    near = photo_gallery.read(
        [0.90, 0.88, 0.70, 0.69], [("scissors",), ("scissors",), ("wrench",), ("wrench",)], labelled=20, prior=20
    )
    assert near is not None and near.category == "scissors" and (near.among, near.nearest) == (2, 4)
    assert near.share > 0.95 and near.probability == pytest.approx(near.share * 0.5, abs=1e-4)
    # Equally near: the majority; a photo labelled twice shares its weight.
    tied = photo_gallery.read([0.8, 0.8, 0.8], [("watch",), ("watch", "toy"), ("toy",)], labelled=3, prior=1)
    assert tied is not None and tied.category == "watch" and tied.share == 0.5 and tied.among == 2
    assert photo_gallery.evidence_weight(0, 20) == 0 and photo_gallery.evidence_weight(60, 20) == 0.75
