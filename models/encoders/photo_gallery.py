"""A listing photo's category from the labelled listing photos it resembles.

The ImageNet classifier names only the categories ImageNet has classes for (none for headphones,
scissors, wrenches or chargers) and only the photos it recognises. Labelled real listing photos fill
the gap: in the untouched ImageNet EfficientNet-Lite0 space a photo's nearest labelled photos mostly
show its category (`docs/evaluation/real-images/listings.md`). Their similarity-weighted vote is a
reading like the classifier's (`GalleryCategory`), which `name_listing` fuses with the others.
Pure: the service finds the neighbours, the evaluation finds them in numpy, both vote here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from models.encoders.listing_words import WordsReading
from models.encoders.photo_categories import SURE_FROM, GalleryCategory, PhotoCategory

WORDS_FROM = 0.95  # the service's default for a listing's words to label its own photo

# Neighbours vote with weight exp((cosine - nearest cosine) / TEMPERATURE): photos of one category lie
# a few hundredths nearer each other than photos of another, so the nearest carry the vote.
TEMPERATURE = 0.05


def evidence_weight(labelled: int, prior: float) -> float:
    """How far the vote is to be believed: n / (n + prior) for n labelled photos."""
    return labelled / (labelled + prior) if labelled > 0 else 0.0


def read(
    similarities: Sequence[float],
    categories: Sequence[Sequence[str]],
    *,
    labelled: int,
    prior: float,
    temperature: float = TEMPERATURE,
) -> GalleryCategory | None:
    """The category most of the nearest labelled photos' similarity holds, at share x evidence weight.

    `similarities[i]` is the cosine to the i-th nearest labelled photo, `categories[i]` its categories
    (a photo labelled twice shares its weight), `labelled` the photos in the gallery."""
    if not len(similarities):
        return None
    sims = np.asarray(similarities, np.float64)
    weights = np.exp((sims - sims.max()) / temperature)
    shares: dict[str, float] = defaultdict(float)
    for w, held in zip(weights / weights.sum(), categories, strict=True):
        for category in held:
            shares[category] += float(w) / len(held)
    category, share = max(shares.items(), key=lambda kv: kv[1])
    return GalleryCategory(
        category,
        share * evidence_weight(labelled, prior),
        among=sum(1 for held in categories if category in held),
        nearest=len(categories),
        share=round(share, 4),
    )


def self_label(words: WordsReading | None, classified: PhotoCategory | None, words_from: float) -> str | None:
    """The category a listing's own words label its photo with: where the words are sure (P >= words_from)
    and the ImageNet classifier, where it is sure itself, names no other category."""
    if words is None or words.probability < words_from:
        return None
    if classified is not None and classified.category != words.category and classified.probability >= SURE_FROM:
        return None
    return words.category
