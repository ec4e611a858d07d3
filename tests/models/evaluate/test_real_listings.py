from __future__ import annotations

import numpy as np

from models.encoders.listing_words import WordsReading
from models.encoders.photo_categories import PhotoCategory
from models.evaluate.real import RealImage
from models.evaluate.real_listings import evaluate


def test_the_gallery_names_its_categories_and_never_one_it_lacks() -> None:
    # Two well-separated categories with 4 photos each, one category with a single photo.
    labels = ["wrench"] * 4 + ["scissors"] * 4 + ["hammer"]
    rows = [RealImage(path=f"{i}.jpg", modality="photo", category=c, kind="photo") for i, c in enumerate(labels)]
    centres = {"wrench": [1.0, 0.0, 0.0], "scissors": [0.0, 1.0, 0.0], "hammer": [0.0, 0.0, 1.0]}
    rng = np.random.default_rng(0)
    vectors = np.array([centres[c] for c in labels]) + 0.05 * rng.standard_normal((len(labels), 3))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    classified = [PhotoCategory("hammer", 0.9 if c == "hammer" else 0.05) for c in labels]
    words = [WordsReading(c, 0.99) if i % 2 else None for i, c in enumerate(labels)]
    report = evaluate(
        rows, vectors, classified, ["toy"] * len(labels), words, sizes=(2,), repeats=3, k=3, prior=2.0, seed=1
    )
    results = report["results"]
    assert report["gallery_categories"] == {"2": ["scissors", "wrench"]}
    assert results["gallery_2"]["per_category"] == {"hammer": 0.0, "scissors": 1.0, "wrench": 1.0}
    assert results["gallery_2"]["n"] == 3 * (2 + 2 + 1)  # every photo not drawn, each draw
    assert results["fused_2"]["accuracy"] == 1.0  # the classifier keeps the hammer
    assert results["rule"]["per_category"]["wrench"] == 0.0 and results["words_self_label"]["accuracy"] == 1.0
