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


@dataclass(frozen=True)
class GalleryCategory(PhotoCategory):
    """The labelled listing photos' reading (`models.encoders.photo_gallery`): `probability` is the
    vote's share weighted by how much labelled evidence the gallery holds."""

    among: int = 0  # of the nearest labelled photos, how many are of the category
    nearest: int = 0  # how many voted
    share: float = 0.0  # the category's share of their similarity-weighted vote


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


def name_listing(
    *,
    classified: PhotoCategory | None,
    trained: str | None,
    photo: bool,
    text: bool,
    words: WordsReading | None = None,
    gallery: GalleryCategory | None = None,
) -> NamedCategory | None:
    """A listing's category from the listing's words and its picture, fused; else as the trained encoder reads it.

    `classified` is the ImageNet classifier's reading of the product picture, `words` the sentence
    encoder's reading of the listing's text (`models.encoders.listing_words`), `gallery` the vote of
    the labelled listing photos nearest the picture (`models.encoders.photo_gallery`), `trained` the
    category the trained encoder's photo and text embeddings are closest to (`photo`, `text`: which
    it had).

    With words or a gallery reading, each reading is its top category at its probability and the
    rest spread evenly over the other categories; the product of the readings names the category
    (of two that disagree, the one with the higher odds wins), its normalised value is the
    confidence, and the evidence says which readings disagreed. Without either, the classifier names
    it where it is sure, else the trained encoder.
    """
    readings = [
        _Reading(
            words.category, words.probability, f"the listing's words (P {words.probability:.2f})", "the words read"
        )
        if words is not None
        else None,
        _Reading(
            classified.category,
            classified.probability,
            f"the product picture (ImageNet classifier, P {classified.probability:.2f})",
            "the picture reads",
        )
        if classified is not None and photo
        else None,
        _gallery_reading(gallery) if gallery is not None and photo else None,
    ]
    if words is not None or readings[2] is not None:
        return _fused([r for r in readings if r is not None])
    if classified is not None and classified.probability >= SURE_FROM:
        agree = " and the listing text agrees" if text and trained == classified.category else ""
        picture = f"the product picture (ImageNet classifier, P {classified.probability:.2f}){agree}"
        return NamedCategory(classified.category, picture, round(classified.probability, 4))
    if trained is None:
        return None
    what = " and ".join(name for name, had in (("product picture", photo), ("listing text", text)) if had)
    return NamedCategory(trained, f"the {what} (trained encoder)")


@dataclass(frozen=True)
class _Reading:
    category: str
    probability: float
    said: str  # the reading, when it names the category
    who: str  # the reading, when another names it


def _gallery_reading(gallery: GalleryCategory) -> _Reading:
    name = _plural(gallery.category)
    said = (
        f"{gallery.among} of its {gallery.nearest} nearest labelled listing photos are {name} "
        f"({gallery.share:.0%} of their vote, P {gallery.probability:.2f})"
    )
    return _Reading(gallery.category, gallery.probability, said, "its nearest labelled listing photos read")


def _fused(readings: list[_Reading]) -> NamedCategory:
    """The product of the readings, each its top category at its probability and the rest spread evenly."""
    others = len(CATEGORIES) - 1
    named = list(dict.fromkeys(r.category for r in readings))
    score = {c: 1.0 for c in named}
    unnamed = 1.0  # each category no reading names
    for r in readings:
        p = min(max(r.probability, 1e-6), 1 - 1e-6)
        for c in named:
            score[c] *= p if c == r.category else (1 - p) / others
        unnamed *= (1 - p) / others
    # Ties go to the earlier reading: the words, then the picture, then the gallery.
    best = max(named, key=lambda c: (score[c], -named.index(c)))
    total = sum(score.values()) + (len(CATEGORIES) - len(named)) * unnamed
    agree = " and ".join(r.said for r in readings if r.category == best)
    differ = "".join(
        f"; {r.who} as a {TAXONOMY[r.category].label} (P {r.probability:.2f})" for r in readings if r.category != best
    )
    return NamedCategory(best, agree + differ, round(score[best] / total, 4))


def _plural(category: str) -> str:
    label = TAXONOMY[category].label
    if label.endswith("s"):
        return label
    if label.endswith("fe"):  # knife
        return label[:-2] + "ves"
    return label + "es" if label.endswith(("ch", "sh", "x")) else label + "s"
