"""A listing's category from the marketplace's own words, read by a general sentence encoder.

The trained text tower learned the generator's listing texts; a real title ("Apple iPhone 13,
128GB, Midnight - Unlocked (Renewed)") is not written like them. all-MiniLM-L6-v2, untouched, has
read the web: each category is described by the names sellers give its goods (`NAMES`), and a
listing's text reads as the category whose names it is nearest to.

The declared HTS number is not used here on purpose: the HTS check tests the declared heading
against the category the picture and the words name, and naming the category from the heading
would make that check pass by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

from models.encoders.sentences import SentenceEncoder
from models.encoders.taxonomy import TAXONOMY

# What sellers call each category's goods. Several names per category: a listing reads as the
# category of the name nearest to it.
NAMES: dict[str, tuple[str, ...]] = {
    "smartphone": ("smartphone", "mobile phone", "cell phone", "iPhone", "Android phone", "Samsung Galaxy phone"),
    "laptop": ("laptop", "notebook computer", "MacBook", "Chromebook", "ultrabook"),
    "tablet": ("tablet", "iPad", "Android tablet", "e-reader"),
    "headphones": ("headphones", "earphones", "earbuds", "headset", "wireless headphones"),
    "watch": ("watch", "wristwatch", "smartwatch", "chronograph watch"),
    "power_bank": ("power bank", "portable charger", "battery pack", "external battery", "mAh power bank"),
    "charger": ("charger", "USB wall charger", "fast charger", "GaN charger", "charging adapter", "power adapter"),
    "sneakers": ("sneakers", "running shoes", "trainers", "athletic shoes"),
    "boots": ("boots", "ankle boots", "hiking boots", "leather boots"),
    "handbag": ("handbag", "purse", "tote bag", "shoulder bag", "backpack", "wallet"),
    "folded_clothing": ("clothing", "t-shirt", "shirt", "dress", "sweater", "hoodie", "jeans", "jacket"),
    "book": ("book", "paperback", "hardcover book", "novel", "illustrated guide"),
    "perfume_bottle": ("perfume", "eau de parfum", "eau de toilette", "fragrance", "cologne"),
    "lipstick": ("lipstick", "lip gloss", "lip balm", "makeup"),
    "liquid_bottle": ("bottle of liquid", "shampoo", "lotion", "water bottle", "cosmetic liquid"),
    "toy": ("toy", "action figure", "doll", "plush toy", "building blocks", "toy car"),
    "kitchen_knife": ("kitchen knife", "chef knife", "knife", "cleaver", "knife set"),
    "scissors": ("scissors", "shears", "sewing scissors"),
    "wrench": ("wrench", "spanner", "adjustable wrench", "socket wrench"),
    "pliers": ("pliers", "needle-nose pliers", "locking pliers", "wire cutters"),
    "hammer": ("hammer", "claw hammer", "mallet", "sledgehammer"),
    "screwdriver": ("screwdriver", "screwdriver set", "precision screwdriver"),
    "umbrella": ("umbrella", "folding umbrella", "parasol"),
    "hard_disk": ("hard drive", "hard disk", "external hard drive", "SSD", "solid state drive"),
    "lighter": ("lighter", "cigarette lighter", "butane lighter", "torch lighter"),
    "handgun": ("handgun", "pistol", "revolver", "gun", "firearm"),
}
CATEGORIES: tuple[str, ...] = tuple(TAXONOMY)
# Cosines of a title to the names differ by a few hundredths to a few tenths: this turns the
# nearest names into a probability that is sure only when one category stands clear.
TEMPERATURE = 30.0


@dataclass(frozen=True)
class WordsReading:
    category: str
    probability: float  # the words' probability of that category (softmax over the categories)


class ListingWords:
    """Reads listing texts as probabilities over the taxonomy's categories."""

    def __init__(self, sentences: SentenceEncoder) -> None:
        missing = set(TAXONOMY) - set(NAMES)
        if missing:
            raise ValueError(f"NAMES lacks categories of the taxonomy: {sorted(missing)}")
        self.sentences = sentences
        names = [(category, name) for category in CATEGORIES for name in NAMES[category]]
        self._owner = np.array([CATEGORIES.index(category) for category, _ in names])
        self._names = sentences.embed([name for _, name in names])

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(n, len(CATEGORIES)): each text's probability per category (rows sum to 1)."""
        if not texts:
            return np.zeros((0, len(CATEGORIES)), np.float32)
        cosines = self.sentences.embed(list(texts)) @ self._names.T
        best = np.full((len(texts), len(CATEGORIES)), -1.0, np.float32)
        np.maximum.at(best.T, self._owner, cosines.T)
        return softmax(TEMPERATURE * best, axis=1).astype(np.float32)

    def __call__(self, texts: Sequence[str]) -> list[WordsReading]:
        probs = self.probabilities(texts)
        return [WordsReading(CATEGORIES[int(j)], float(row[j])) for row, j in zip(probs, probs.argmax(1), strict=True)]
