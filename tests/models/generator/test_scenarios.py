from __future__ import annotations

import numpy as np
import pytest

from models.generator.scenarios import CONCEALED, NEAR, SCENARIOS, plan
from models.generator.synthetic import CATEGORIES, generate_shipment

# Declared goods big enough to hide any concealed item inside their footprint.
BIG = ("folded_clothing", "handbag", "laptop", "boots")


def _arr(img: object) -> np.ndarray:
    return np.asarray(img, np.float32)


@pytest.mark.parametrize("index", range(8))
def test_concealment_adds_dense_item_to_xray_not_photo(index: int) -> None:
    category = BIG[index % len(BIG)]
    clean = generate_shipment(seed=21, index=index, size=160, scenario="match", category=category)
    hid = generate_shipment(seed=21, index=index, size=160, scenario="concealment", category=category)
    assert hid.label == "mismatch" and clean.label == "match"
    extra = [c for c in hid.contents if c != category]
    assert len(extra) == 1 and extra[0] in CONCEALED
    # The photo is the listing: identical pixels, nothing hidden shows there.
    assert np.array_equal(_arr(clean.photo), _arr(hid.photo))
    a, b = _arr(clean.xray), _arr(hid.xray)
    changed = np.abs(a - b).max(axis=2) > 40
    assert changed.mean() > 0.004, "the concealed item must show in the x-ray"
    # Where it lies the beam is absorbed more: the pixels get darker, not lighter.
    assert b[changed].mean() < a[changed].mean() - 20
    if extra[0] != "pills":  # metal: the scanner paints it blue to black
        bb = b[changed]
        metal = (bb[:, 2] > bb[:, 0] + 15) | (bb.mean(axis=1) < 60)
        assert metal.mean() > 0.3


@pytest.mark.parametrize("index", range(6))
def test_substitution_changes_xray_category(index: int) -> None:
    category = CATEGORIES[(index * 5) % len(CATEGORIES)]
    s = generate_shipment(seed=8, index=index, size=96, scenario="substitution", category=category)
    m = generate_shipment(seed=8, index=index, size=96, scenario="match", category=category)
    assert s.label == "mismatch" and s.category == category
    assert s.contents and category not in s.contents and set(s.contents) <= set(CATEGORIES)
    assert np.array_equal(_arr(s.photo), _arr(m.photo))
    assert not np.array_equal(_arr(s.xray), _arr(m.xray))


@pytest.mark.parametrize("category", ["smartphone", "toy", "sneakers", "perfume_bottle"])
def test_near_substitution_stays_in_kind(category: str) -> None:
    s = generate_shipment(seed=2, index=0, size=64, scenario="near_substitution", category=category)
    assert s.contents and all(c in NEAR[category] for c in s.contents)


def test_plans_cover_every_scenario_with_consistent_truth() -> None:
    rng = np.random.default_rng(0)
    for scenario in SCENARIOS:
        for _ in range(40):
            p = plan(rng, scenario)
            assert (p.label == "match") == (scenario == "match")
            if scenario == "quantity_mismatch":
                assert len(p.shipped) != p.quantity and set(p.shipped) == {p.declared}
            if scenario == "empty_or_decoy":
                assert p.contents in ([], ["decoy_mass"])
            if scenario == "match":
                assert p.contents == [p.declared] * p.quantity
    with pytest.raises(ValueError):
        plan(rng, "smuggling")
