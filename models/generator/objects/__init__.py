"""Registry of procedural product categories. Unknown names raise, loudly."""

from __future__ import annotations

import numpy as np

from models.generator.objects import apparel, electronics, household, tools
from models.generator.objects.common import Builder
from models.generator.objects.marks import with_marks
from models.generator.parts import ObjectModel

_BUILDERS: dict[str, Builder] = {
    "smartphone": electronics.smartphone,
    "laptop": electronics.laptop,
    "tablet": electronics.tablet,
    "headphones": electronics.headphones,
    "watch": electronics.watch,
    "power_bank": electronics.power_bank,
    "charger": electronics.charger,
    "hard_disk": electronics.hard_disk,
    "sneakers": apparel.sneakers,
    "boots": apparel.boots,
    "handbag": apparel.handbag,
    "folded_clothing": apparel.folded_clothing,
    "umbrella": apparel.umbrella,
    "book": household.book,
    "perfume_bottle": household.perfume_bottle,
    "lipstick": household.lipstick,
    "liquid_bottle": household.liquid_bottle,
    "toy": household.toy,
    "lighter": household.lighter,
    "kitchen_knife": tools.kitchen_knife,
    "scissors": tools.scissors,
    "wrench": tools.wrench,
    "pliers": tools.pliers,
    "hammer": tools.hammer,
    "screwdriver": tools.screwdriver,
    "handgun": tools.handgun,
}

CATEGORIES: tuple[str, ...] = tuple(_BUILDERS)


class UnknownCategory(KeyError):
    pass


def build(category: str, rng: np.random.Generator) -> ObjectModel:
    """One random instance of `category`, centred on its bounding box, in millimetres."""
    try:
        builder = _BUILDERS[category]
    except KeyError:
        raise UnknownCategory(f"unknown category {category!r}; known: {', '.join(CATEGORIES)}") from None
    # Marks make instances of one category distinguishable in both modalities (see marks.py).
    return with_marks(builder(rng), rng).centred()
