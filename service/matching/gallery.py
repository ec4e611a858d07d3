"""How the labelled x-ray gallery reads a scan: its vectors, its neighbours' vote, and what the vote means.

The simplest correct version of the method, behind small functions so that a measured one (issue
18, models/encoders/gallery.py) can replace it: one globally pooled vector per image in the gallery
encoder's space; a similarity-weighted vote of the k nearest labelled images; a weight n / (n + prior)
that grows with the labelled evidence, blending the gallery with the model's own reading; and the
listing-vs-x-ray category rule. `METHOD` names the vectors this method reads: it is stored with
them, so a new method re-embeds the gallery instead of searching vectors it did not make.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from models.encoders.encoder import Encoder, Finding

METHOD = "pooled-v1"
PHOTO_METHOD = "photo-pooled-v1"  # the labelled listing photos: the same pooling, of the photo tower
# The vector is the encoder's own x-ray embedding, so with the familiarity encoder's network it lies
# in familiarity's space: one forward pass serves both, and nearness to labelled scans is familiarity.
POOLED = True
BENIGN = "benign"  # a scan that holds nothing of concern
# Items of concern when the x-ray model has no findings head to name them.
THREATS = ("kitchen_knife", "handgun", "battery_pack", "pills")
# Neighbours vote with weight exp((cosine - nearest cosine) / TEMPERATURE): cosines between scans
# crowd into a narrow band, so plain cosine weights hand every query the gallery's majority label.
TEMPERATURE = 0.02
ALARM_SHARE = 0.5  # a threat the majority of the nearest labelled scans' similarity holds
CONFIDENT_SHARE = 0.6  # a gallery category this sure may contradict the listing


@dataclass(frozen=True)
class Neighbour:
    """One labelled image near the x-ray: its gallery rows, their categories, and its cosine."""

    image_sha256: str
    gallery_ids: tuple[int, ...]
    categories: tuple[str, ...]
    similarity: float


@dataclass(frozen=True)
class Vote:
    neighbours: list[Neighbour]
    shares: dict[str, float]  # category -> share of the neighbours' similarity, summing to 1
    holding: dict[str, float]  # category -> share of that similarity on images that hold it (multi-label)
    counts: dict[str, int]  # category -> labelled images of it in the gallery
    weight: float  # the gallery's say, n / (n + prior)

    @property
    def top(self) -> tuple[str, float] | None:
        return max(self.shares.items(), key=lambda kv: kv[1]) if self.shares else None

    def among(self, category: str) -> int:
        """How many of the nearest labelled images hold this category."""
        return sum(1 for n in self.neighbours if category in n.categories)


@dataclass(frozen=True)
class GalleryFinding:
    """The model's finding blended with the gallery's: each weighted by the labelled evidence."""

    item: str
    probability: float
    threshold: float
    head: Finding | None
    gallery_share: float  # share of the nearest labelled scans' similarity on scans holding the item

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
    """Each image's gallery vectors, (parts, dim), L2-normalised: here one globally pooled vector."""
    if not images:
        return []
    return [vector[None, :] for vector in encoder.embed_images(modality, list(images))]


def weight(n: int, prior: float) -> float:
    return n / (n + prior)


def vote(neighbours: Sequence[Neighbour], counts: dict[str, int], *, prior: float) -> Vote:
    """Softmax-of-similarity-weighted k-NN: an image with several labels shares its weight among them for
    `shares`, and gives all of it to each for `holding` (a bag with a gun and a knife holds both)."""
    shares: dict[str, float] = defaultdict(float)
    holding: dict[str, float] = defaultdict(float)
    nearest = max((n.similarity for n in neighbours), default=0.0)
    weights = [float(np.exp((n.similarity - nearest) / TEMPERATURE)) for n in neighbours]
    total = sum(weights)
    if total > 0:
        for n, w in zip(neighbours, weights, strict=True):
            for category in n.categories:
                shares[category] += w / total / len(n.categories)
                holding[category] += w / total
    return Vote(
        neighbours=list(neighbours),
        shares=dict(shares),
        holding=dict(holding),
        counts=dict(counts),
        weight=weight(sum(counts.values()), prior) if total > 0 else 0.0,
    )


def findings(vote: Vote, head: Sequence[Finding]) -> list[GalleryFinding]:
    """Per item of concern, (1 - w) * the head's probability + w * the gallery's share, against the same
    blend of the head's threshold and ALARM_SHARE; without a head the gallery alone, weighted."""
    by_item = {f.item: f for f in head}
    items = list(by_item) or list(THREATS)
    w = vote.weight
    out = []
    for item in items:
        f = by_item.get(item)
        share = vote.holding.get(item, 0.0)
        probability = (1 - w) * (f.probability if f else 0.0) + w * share
        threshold = (1 - w) * (f.threshold if f else 0.0) + w * ALARM_SHARE
        out.append(GalleryFinding(item, round(probability, 4), round(threshold, 4), f, round(share, 4)))
    return sorted(out, key=lambda g: -g.probability)


def looks_like(vote: Vote, zero_shot: Sequence[tuple[str, float]], k: int = 3) -> list[tuple[str, float]]:
    """The k categories the x-ray most resembles: the model's zero-shot reading and the gallery's shares,
    blended by the gallery's weight (the gallery alone when the model has no text tower)."""
    w = vote.weight if zero_shot else 1.0
    blended: dict[str, float] = defaultdict(float)
    for category, p in zero_shot:
        blended[category] += (1 - w) * p
    for category, share in vote.shares.items():
        blended[category] += w * share
    ranked = sorted(blended.items(), key=lambda kv: -kv[1])[:k]
    return [(c, round(v, 4)) for c, v in ranked if v > 0]


def disagreement(vote: Vote, listing_category: str | None) -> tuple[str, float, float] | None:
    """(category, share, risk) when the gallery is confident the x-ray shows another category than the
    listing's; benign scans contradict no listing. The risk lies between 0.5 and 1, by share and weight."""
    top = vote.top
    if top is None or listing_category is None:
        return None
    category, share = top
    if category in (listing_category, BENIGN) or share < CONFIDENT_SHARE:
        return None
    return category, share, 0.5 + 0.5 * vote.weight * share


def nearest_k_score(neighbours: Sequence[Neighbour], k: int) -> float | None:
    """Cosine to the k-th nearest labelled image (the nearest there is, in a smaller gallery): how near
    the x-ray lies to scans the operator labelled, for familiarity."""
    if not neighbours:
        return None
    ranked = sorted((n.similarity for n in neighbours), reverse=True)
    return ranked[min(k, len(ranked)) - 1]
