"""The taxonomy the checks rely on agrees with the generator that makes the training data."""

from __future__ import annotations

import re

import pytest

from models.encoders.taxonomy import TAXONOMY, category
from models.generator.synthetic import CATEGORIES, generate_shipment


def test_every_generated_category_is_in_the_taxonomy() -> None:
    assert set(CATEGORIES) == set(TAXONOMY)


@pytest.mark.parametrize("name", sorted(TAXONOMY))
def test_generated_matches_declare_plausible_weight_price_and_hts(name: str) -> None:
    entry = category(name)
    for index in range(4):
        shipment = generate_shipment(seed=5, index=index, category=name, scenario="match", size=32)
        pack = re.search(r"Pack of (\d+)|^(\d+) x ", shipment.title)
        quantity = int(pack.group(1) or pack.group(2)) if pack else 1
        assert entry.weight_kg[0] <= shipment.declared_weight_kg / quantity <= entry.weight_kg[1]
        assert entry.price_usd[0] <= shipment.declared_value / quantity <= entry.price_usd[1] + 0.01
        assert shipment.hts == entry.hts


def test_unknown_categories_are_refused() -> None:
    with pytest.raises(KeyError, match="known: smartphone"):
        category("spaceship")
