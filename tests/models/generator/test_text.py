from __future__ import annotations

import re

import numpy as np
import pytest

from models.encoders.taxonomy import TAXONOMY
from models.generator.objects import CATEGORIES, UnknownCategory, build
from models.generator.text import CATALOG, listing


def test_every_category_has_an_hts_heading() -> None:
    assert set(CATALOG) == set(CATEGORIES)
    for name in CATEGORIES:
        assert re.fullmatch(r"\d{4}\.\d{2}", TAXONOMY[name].hts)


@pytest.mark.parametrize("category", CATEGORIES)
def test_listing_is_plausible(category: str) -> None:
    rng = np.random.default_rng(3)
    obj = build(category, rng)
    for qty in (1, 3):
        text = listing(obj, qty, rng)
        assert text.title and text.description and "{" not in text.title + text.description
        assert text.declared_weight_kg >= 0.01 and text.declared_value > 0
        if qty > 1:
            assert str(qty) in text.title


def test_unknown_category_is_refused() -> None:
    with pytest.raises(UnknownCategory):
        build("hoverboard", np.random.default_rng(0))
