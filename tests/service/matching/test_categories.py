"""Categories from the text tower's category names: each name is nearest to itself."""

from __future__ import annotations

import pytest

from models.encoders.taxonomy import TAXONOMY
from service.matching import categories
from service.matching.matcher import Matcher


def test_each_category_name_is_its_own_category(matcher: Matcher) -> None:
    if matcher.prompts is None:
        pytest.skip(f"{matcher.encoder.name} has no text tower: no zero-shot categories")
    for index, category in enumerate(matcher.categories):
        named = categories.listing(matcher, picture=None, words=None, photo=None, text=matcher.prompts[index])
        assert named is not None and named.category == category
        assert named.evidence == "the listing text (trained encoder)"
        # The same name as the listing's own words: the sentence encoder reads it the same way.
        label = TAXONOMY[category].label
        by_words = categories.listing(matcher, picture=None, words=label, photo=None, text=matcher.prompts[index])
        assert by_words is not None and by_words.category == category
        assert by_words.evidence.startswith("the listing's words (P ")
    ranked = categories.zero_shot(matcher, matcher.prompts, k=3)
    assert [top[0][0] for top in ranked] == list(matcher.categories)
    assert all(1 >= top[0][1] >= top[1][1] >= top[2][1] > 0 for top in ranked)
    assert categories.listing(matcher, picture=None, words=None, photo=None, text=None) is None
