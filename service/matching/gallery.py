"""How the labelled x-ray gallery reads a scan, in the service's terms: its vectors, its neighbours'
vote, and what the vote means for findings, looks-like and the listing.

The method itself is the one measured on real scans (models/encoders/gallery.py,
docs/evaluation/real-images): ImageNet EfficientNet-Lite0 block-4 vectors, each category scored by
its top-3 similarities among the `NEIGHBOURS` nearest labelled scans, a softmax over the scores, and
an evidence weight n / (n + half) per category. This module shapes that reading for a verdict: the
model's findings head blended with the gallery's, the looks-like list, the contradiction with the
listing. `METHOD` names the vectors the method reads: it is stored with them, so a new method
re-embeds the gallery instead of searching vectors it did not make.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from models.encoders import gallery as method
from models.encoders.encoder import Encoder, Finding
from models.encoders.gallery import GalleryVote

METHOD = "block4-v1"  # models.encoders.gallery.gallery_vectors
PHOTO_METHOD = "photo-pooled-v1"  # the labelled listing photos: the photo tower's own pooled embedding
BENIGN = method.BENIGN  # a scan that holds nothing of concern
# Items of concern when the x-ray model has no findings head to name them.
THREATS = ("kitchen_knife", "handgun", "battery_pack", "pills")
NEIGHBOURS = method.NEIGHBOURS  # labelled scans the vote reads
ALARM_SHARE = method.FINDING_ALARM  # the gallery alone raises an item from this share of the vote
CONTRADICTS_FROM = 0.5  # a gallery reading this far from the listing's category contradicts it
LOOKS_LIKE_FLOOR = 0.05  # a category the x-ray resembles less than this is not listed


@dataclass(frozen=True)
class Neighbour:
    """One labelled image near the x-ray: its gallery rows, their categories, and its cosine."""

    image_sha256: str
    gallery_ids: tuple[int, ...]
    categories: tuple[str, ...]
    similarity: float


@dataclass(frozen=True)
class Vote:
    """The gallery's reading of one x-ray (`reading`) and the nearest labelled scans behind it."""

    neighbours: list[Neighbour]  # nearest first, all that voted
    reading: GalleryVote
    counts: dict[str, int]  # category -> labelled images of it in the gallery
    shown: int = 10  # how many of the nearest a verdict lists

    @property
    def shares(self) -> dict[str, float]:
        return self.reading.shares

    @property
    def weight(self) -> float:
        """The gallery's say: the evidence weight of the category it reads, 0 with nothing to go on."""
        return self.reading.evidence.get(self.reading.category, 0.0) if self.reading.category else 0.0

    @property
    def top(self) -> tuple[str, float] | None:
        category = self.reading.category
        return (category, self.reading.shares[category]) if category is not None else None

    @property
    def nearest(self) -> list[Neighbour]:
        return self.neighbours[: self.shown]

    def among(self, category: str) -> int:
        """How many of the nearest labelled images shown hold this category."""
        return sum(1 for n in self.nearest if category in n.categories)


@dataclass(frozen=True)
class GalleryFinding:
    """The model's finding blended with the gallery's: each weighted by the labelled evidence."""

    item: str
    probability: float
    threshold: float
    head: Finding | None
    gallery_share: float  # share of the nearest labelled scans' vote on scans holding the item

    @property
    def present(self) -> bool:
        return self.probability > 0 and self.probability >= self.threshold

    @property
    def by_gallery(self) -> bool:
        """Raised by the labelled scans: the model's head alone would not raise it."""
        return self.present and self.gallery_share >= ALARM_SHARE and not (self.head and self.head.present)


def embed(
    encoder: Encoder, images: Sequence[Image.Image], modality: Literal["xray", "photo"] = "xray"
) -> list[np.ndarray]:
    """Each image's gallery vectors, (parts, dim), L2-normalised: block-4 vectors for x-rays, the
    pooled embedding for listing photos."""
    if not images:
        return []
    if modality == "xray":
        return list(method.gallery_vectors(encoder, images))
    return [vector[None, :] for vector in encoder.embed_images(modality, list(images))]


def read_scan(encoder: Encoder, scan: Image.Image, *, embedding: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """An x-ray's gallery vectors (parts, dim) and, with `embedding`, the encoder's own embedding of it,
    from one forward pass (the familiarity check reads the embedding where it shares the network)."""
    vectors, own = method.read_scans(encoder, [scan], embedding=embedding)
    return vectors[0], None if own is None else own[0]


def dim(encoder: Encoder, modality: Literal["xray", "photo"]) -> int:
    return method.gallery_dim(encoder) if modality == "xray" else encoder.dim


def vote(neighbours: Sequence[Neighbour], counts: dict[str, int], *, half_evidence: float, shown: int) -> Vote:
    """The measured vote over the nearest labelled scans: an image filed under several categories is
    filed under the first and holds them all (a bag with a gun and a knife holds both)."""
    reading = method.vote(
        [n.categories[0] for n in neighbours],
        np.array([n.similarity for n in neighbours], np.float64),
        counts,
        items=[n.categories for n in neighbours],
        threats=THREATS,
        half_evidence=half_evidence,
    )
    return Vote(neighbours=list(neighbours), reading=reading, counts=dict(counts), shown=shown)


def findings(vote: Vote, head: Sequence[Finding]) -> list[GalleryFinding]:
    """Per item of concern, the model's head and the gallery blended by the item's labelled evidence w:
    (1 - w) * head + w * gallery share, against (1 - w) * the head's threshold + w * ALARM_SHARE. An item
    the head does not name counts as P 0 at ALARM_SHARE, so the gallery alone alarms from w * share >= 0.5,
    as measured (docs/evaluation/real-images)."""
    by_item = {f.item: f for f in head}
    items = list(dict.fromkeys([*by_item, *vote.reading.holding])) or list(THREATS)
    out = []
    for item in items:
        f = by_item.get(item)
        w = vote.reading.item_evidence.get(item, 0.0)
        share = vote.reading.holding.get(item, 0.0)
        probability = (1 - w) * (f.probability if f else 0.0) + w * share
        threshold = (1 - w) * (f.threshold if f else ALARM_SHARE) + w * ALARM_SHARE
        out.append(GalleryFinding(item, round(probability, 4), round(threshold, 4), f, round(share, 4)))
    return sorted(out, key=lambda g: -g.probability)


def looks_like(
    vote: Vote, zero_shot: Sequence[tuple[str, float]], k: int = 3, *, ruled_out: Collection[str] = ()
) -> list[tuple[str, float]]:
    """The k categories the x-ray most resembles: the model's zero-shot reading and the gallery's shares,
    blended by the gallery's weight (the gallery alone when the model has no text tower).

    `ruled_out`: items of concern whose findings (the model's dedicated head, calibrated on its own, and
    the gallery) say are absent. The zero-shot reading is a softmax over category names that must name
    something: an empty parcel, padding or several items read as whichever name lies nearest "a cluttered
    parcel" (a handgun, for the shipped model: 48 of 93 generated x-rays not holding exactly one item),
    with a share near 1. Its share for a ruled-out item is dropped, not handed to the others, so what is
    left says how little the names fit; readings under `LOOKS_LIKE_FLOOR` are not listed."""
    w = vote.weight if zero_shot else 1.0
    blended: dict[str, float] = defaultdict(float)
    for category, p in zero_shot:
        if category not in ruled_out:
            blended[category] += (1 - w) * p
    for category, share in vote.shares.items():
        blended[category] += w * share
    ranked = sorted(blended.items(), key=lambda kv: -kv[1])[:k]
    return [(c, round(v, 4)) for c, v in ranked if v >= LOOKS_LIKE_FLOOR]


def contradiction(vote: Vote, listing_category: str | None) -> float | None:
    """How far the gallery's reading contradicts the listing's category, in [0, 1]
    (models.encoders.gallery.category_risk); None when either is unknown."""
    return method.category_risk(listing_category, vote.reading)


def disagreement(vote: Vote, listing_category: str | None) -> tuple[str, float, float] | None:
    """(category, share, risk) when the gallery reads the x-ray as another category than the listing's,
    far enough to contradict it (risk >= CONTRADICTS_FROM)."""
    top, risk = vote.top, contradiction(vote, listing_category)
    if top is None or risk is None or risk < CONTRADICTS_FROM or top[0] == listing_category:
        return None
    return top[0], top[1], risk


def nearest_k_score(neighbours: Sequence[Neighbour], k: int) -> float | None:
    """Cosine to the k-th nearest labelled image (the nearest there is, in a smaller gallery): how near
    the x-ray lies to scans the operator labelled, for familiarity."""
    if not neighbours:
        return None
    ranked = sorted((n.similarity for n in neighbours), reverse=True)
    return ranked[min(k, len(ranked)) - 1]
