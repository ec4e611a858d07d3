from __future__ import annotations

import numpy as np
import pytest

from models.encoders.listing_words import CATEGORIES, NAMES, ListingWords
from models.encoders.sentences import SentenceEncoder
from models.encoders.taxonomy import TAXONOMY
from models.generator.synthetic import generate_shipment


@pytest.fixture(scope="module")
def words() -> ListingWords:
    return ListingWords(SentenceEncoder())


def test_every_category_has_names_and_every_name_one_category() -> None:
    assert set(NAMES) == set(TAXONOMY)
    names = [n.lower() for group in NAMES.values() for n in group]
    assert len(names) == len(set(names))


def test_readings_are_probabilities_over_the_taxonomy(words: ListingWords) -> None:
    probs = words.probabilities(["a pair of running shoes", "folding umbrella, black"])
    assert probs.shape == (2, len(CATEGORIES))
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert words.probabilities([]).shape == (0, len(CATEGORIES))


@pytest.mark.parametrize(
    ("title", "category"),
    [
        ("Apple iPhone 13, 128GB, Midnight - Unlocked (Renewed)", "smartphone"),
        ("Sony WH-1000XM4 Wireless Noise Canceling Overhead", "headphones"),
        ("Anker PowerCore 10000 Portable Charger", "power_bank"),
        ("Stanley 6-inch adjustable wrench", "wrench"),
        ("IRWIN VISE-GRIP Locking Pliers, 10-inch", "pliers"),
        ("Casio Men's F-91W Illuminator Digital Resin Strap", "watch"),
        ("Samsung T7 Portable SSD 1TB", "hard_disk"),
    ],
)
def test_titles_written_as_sellers_write_them_read_as_their_category(
    words: ListingWords, title: str, category: str
) -> None:
    reading = words([title])[0]
    assert reading.category == category, reading


def test_the_generators_listings_read_as_their_category(words: ListingWords) -> None:
    shipments = [generate_shipment(seed=31, index=i, scenario="match", size=64) for i in range(40)]
    readings = words([f"{s.title}. {s.description}" for s in shipments])
    right = [r.category == s.category for r, s in zip(readings, shipments, strict=True)]
    assert np.mean(right) >= 0.95
