from __future__ import annotations

from models.encoders.registry import DEFAULT_ENCODER, load_encoder
from models.evaluate.concealed import concealed_detection


def test_the_shipped_findings_head_reports_most_concealed_items() -> None:
    encoder = load_encoder(DEFAULT_ENCODER, device="cpu")
    hidden, found, misses = concealed_detection(encoder, seed=23, n=12)
    assert sum(hidden.values()) == 12  # every concealment parcel hides one item of concern
    assert sum(found.values()) + len(misses) == 12
    assert sum(found.values()) >= 9, misses
