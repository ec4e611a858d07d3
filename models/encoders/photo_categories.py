"""A product photo's category from what ImageNet knows about real objects.

The trained photo tower learned the generator's drawings: on real product photos it names the
category 16% of the time (`docs/evaluation/real-images/`). EfficientNet-Lite0's own ImageNet
classifier, untouched, has seen photographs of most of the taxonomy's goods; its 1000 classes are
mapped onto the categories here (a category's probability is the sum over its classes). Six
categories have no ImageNet class (headphones, power bank, charger, scissors, wrench, pliers):
for those, and for photos the classifier does not recognise, the caller needs other evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import timm
import torch
from PIL import Image
from scipy.special import softmax

from models.encoders import base_weights
from models.encoders.device import Placement, place_model
from models.encoders.imagenet import IMAGENET_PREPROCESS
from models.encoders.listing_words import WordsReading
from models.encoders.preprocess import to_tensor
from models.encoders.taxonomy import TAXONOMY

# ImageNet-1k class indices per category: classes whose photographs show the goods themselves.
IMAGENET_CLASSES: dict[str, tuple[int, ...]] = {
    "smartphone": (487,),  # cellular telephone
    "laptop": (620, 681),  # laptop, notebook computer
    "tablet": (590,),  # hand-held computer
    "watch": (531, 826),  # digital watch, stopwatch
    "sneakers": (770,),  # running shoe
    "boots": (514,),  # cowboy boot
    "handbag": (748, 414),  # purse, backpack
    "folded_clothing": (474, 608, 610, 841),  # cardigan, jean, jersey, sweatshirt
    "book": (921, 917),  # book jacket, comic book
    "perfume_bottle": (711,),  # perfume
    "lipstick": (629,),
    "liquid_bottle": (898, 737, 440, 907, 899),  # water, pop, beer, wine bottle; water jug
    "toy": (850,),  # teddy bear
    "kitchen_knife": (499,),  # cleaver
    "hammer": (587,),
    "screwdriver": (784,),
    "umbrella": (879,),
    "hard_disk": (592,),
    "lighter": (626,),
    "handgun": (763,),  # revolver
}
CATEGORIES: tuple[str, ...] = tuple(TAXONOMY)


@dataclass(frozen=True)
class PhotoCategory:
    category: str
    probability: float  # the ImageNet classifier's mass on the category's classes


class ImageNetPhotoCategories:
    """EfficientNet-Lite0 with its ImageNet classifier (weights sha256-checked), read as categories."""

    def __init__(self, placement: Placement, *, batch_size: int = 32) -> None:
        unknown = set(IMAGENET_CLASSES) - set(TAXONOMY)
        if unknown:
            raise ValueError(f"IMAGENET_CLASSES names categories not in the taxonomy: {sorted(unknown)}")
        model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=1000)
        base_weights.load_efficientnet_lite0(model)
        self.model = place_model(model, placement)
        self.placement = placement
        self.batch_size = batch_size
        self._columns = np.zeros((1000, len(CATEGORIES)), np.float32)
        for category, classes in IMAGENET_CLASSES.items():
            self._columns[list(classes), CATEGORIES.index(category)] = 1.0

    def probabilities(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, len(CATEGORIES)): each photo's ImageNet probability mass per category (rows sum to <= 1)."""
        logits = []
        for start in range(0, len(images), self.batch_size):
            batch = to_tensor(images[start : start + self.batch_size], IMAGENET_PREPROCESS).to(self.placement.device)
            with torch.inference_mode():
                logits.append(self.model(batch).float().cpu().numpy())
        if not logits:
            return np.zeros((0, len(CATEGORIES)), np.float32)
        return softmax(np.concatenate(logits), axis=1) @ self._columns

    def __call__(self, images: Sequence[Image.Image]) -> list[PhotoCategory]:
        """The most probable category of each photo, with its probability."""
        probs = self.probabilities(images)
        best = probs.argmax(axis=1)
        return [PhotoCategory(CATEGORIES[int(j)], float(row[j])) for row, j in zip(probs, best, strict=True)]


# The classifier's mass on one category from which it names the listing: the photo is then more
# likely that category than anything else ImageNet knows. On generated photos (drawings) it gets
# there for 3% of listings, right each time; on real photos for a third (docs/evaluation/real-images/).
SURE_FROM = 0.5


@dataclass(frozen=True)
class NamedCategory:
    category: str
    evidence: str  # what named it, in an inspector's words
    confidence: float | None = None  # the fused probability, where the readings give one


def _odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return p / (1 - p)


def name_listing(
    *,
    classified: PhotoCategory | None,
    trained: str | None,
    photo: bool,
    text: bool,
    words: WordsReading | None = None,
) -> NamedCategory | None:
    """A listing's category from the listing's words and its picture, fused; else as the trained encoder reads it.

    `classified` is the ImageNet classifier's reading of the product picture, `words` the sentence
    encoder's reading of the listing's text (`models.encoders.listing_words`), `trained` the category
    the trained encoder's photo and text embeddings are closest to (`photo`, `text`: which it had).

    With words, each reading is its top category at its probability and the rest spread evenly
    over the other categories; the product of the two names the category, so the reading with the
    higher odds wins a disagreement, and the evidence says the other reading disagreed. Without
    words, the classifier names it where it is sure, else the trained encoder.
    """
    if words is not None:
        return _fused(words, classified if classified is not None and photo else None)
    if classified is not None and classified.probability >= SURE_FROM:
        agree = " and the listing text agrees" if text and trained == classified.category else ""
        picture = f"the product picture (ImageNet classifier, P {classified.probability:.2f}){agree}"
        return NamedCategory(classified.category, picture, round(classified.probability, 4))
    if trained is None:
        return None
    what = " and ".join(name for name, had in (("product picture", photo), ("listing text", text)) if had)
    return NamedCategory(trained, f"the {what} (trained encoder)")


def _fused(words: WordsReading, classified: PhotoCategory | None) -> NamedCategory:
    said = f"the listing's words (P {words.probability:.2f})"
    if classified is None:
        return NamedCategory(words.category, said, round(words.probability, 4))
    seen = f"the product picture (ImageNet classifier, P {classified.probability:.2f})"
    others = len(CATEGORIES) - 1
    if classified.category == words.category:
        both = words.probability * classified.probability
        rest = (1 - words.probability) * (1 - classified.probability) / others
        return NamedCategory(words.category, f"{said} and {seen}", round(both / (both + rest), 4))
    # Disagreement: p_w * (1 - p_c) / others against p_c * (1 - p_w) / others, i.e. the odds.
    w_odds, c_odds = _odds(words.probability), _odds(classified.probability)
    w_mass = words.probability * (1 - classified.probability) / others
    c_mass = classified.probability * (1 - words.probability) / others
    rest = (1 - words.probability) * (1 - classified.probability) * (others - 1) / others**2
    if w_odds >= c_odds:
        label = TAXONOMY[classified.category].label
        return NamedCategory(
            words.category,
            f"{said}; the picture reads as a {label} (P {classified.probability:.2f})",
            round(w_mass / (w_mass + c_mass + rest), 4),
        )
    label = TAXONOMY[words.category].label
    return NamedCategory(
        classified.category,
        f"{seen}; the words read as a {label} (P {words.probability:.2f})",
        round(c_mass / (w_mass + c_mass + rest), 4),
    )
