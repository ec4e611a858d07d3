"""Product categories: what customs knows about each kind of goods, shared by the generator and the checks.

Per category: the HTS subheading it is declared under, a plausible listed price per unit (USD) and
weight per unit with retail packaging (kg), and a broad kind. The ranges are deliberately wide:
the structured checks flag only what falls well outside them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    name: str
    label: str  # how a person writes it ("kitchen knife")
    hts: str  # HTS subheading, dotted (8517.13)
    price_usd: tuple[float, float]
    weight_kg: tuple[float, float]
    kind: str

    @property
    def hts_heading(self) -> str:
        return self.hts[:4]


TAXONOMY: dict[str, Category] = {
    "smartphone": Category("smartphone", "smartphone", "8517.13", (90, 900), (0.1, 0.8), "electronics"),
    "laptop": Category("laptop", "laptop", "8471.30", (250, 1800), (0.7, 4.5), "electronics"),
    "tablet": Category("tablet", "tablet", "8471.30", (80, 900), (0.25, 1.2), "electronics"),
    "headphones": Category("headphones", "headphones", "8518.30", (20, 350), (0.1, 0.9), "electronics"),
    "watch": Category("watch", "watch", "9102.11", (15, 450), (0.03, 0.5), "electronics"),
    "power_bank": Category("power_bank", "power bank", "8507.60", (12, 80), (0.1, 0.9), "batteries"),
    "charger": Category("charger", "charger", "8504.40", (8, 60), (0.03, 0.5), "electronics"),
    "sneakers": Category("sneakers", "sneakers", "6404.11", (25, 200), (0.4, 2.5), "footwear"),
    "boots": Category("boots", "boots", "6403.91", (35, 260), (0.8, 3.5), "footwear"),
    "handbag": Category("handbag", "handbag", "4202.21", (20, 400), (0.2, 2.0), "bags"),
    "folded_clothing": Category("folded_clothing", "folded clothing", "6109.10", (8, 90), (0.1, 2.0), "apparel"),
    "book": Category("book", "book", "4901.99", (6, 60), (0.1, 2.5), "printed"),
    "perfume_bottle": Category("perfume_bottle", "perfume bottle", "3303.00", (15, 180), (0.1, 1.0), "cosmetics"),
    "lipstick": Category("lipstick", "lipstick", "3304.10", (4, 45), (0.01, 0.3), "cosmetics"),
    "liquid_bottle": Category("liquid_bottle", "liquid bottle", "3305.10", (4, 40), (0.1, 2.0), "cosmetics"),
    "toy": Category("toy", "toy", "9503.00", (5, 60), (0.05, 2.0), "toys"),
    "kitchen_knife": Category("kitchen_knife", "kitchen knife", "8211.92", (10, 150), (0.08, 0.6), "blades"),
    "scissors": Category("scissors", "scissors", "8213.00", (4, 40), (0.03, 0.4), "blades"),
    "wrench": Category("wrench", "wrench", "8204.11", (5, 45), (0.05, 1.2), "tools"),
    "pliers": Category("pliers", "pliers", "8203.20", (6, 45), (0.1, 0.6), "tools"),
    "hammer": Category("hammer", "hammer", "8205.20", (8, 60), (0.3, 2.0), "tools"),
    "screwdriver": Category("screwdriver", "screwdriver", "8205.40", (3, 30), (0.02, 0.5), "tools"),
    "umbrella": Category("umbrella", "umbrella", "6601.91", (8, 50), (0.2, 1.0), "apparel"),
    "hard_disk": Category("hard_disk", "hard disk", "8471.70", (35, 250), (0.05, 0.9), "electronics"),
    "lighter": Category("lighter", "lighter", "9613.10", (2, 40), (0.02, 0.35), "flammables"),
    "handgun": Category("handgun", "handgun", "9302.00", (300, 1200), (0.6, 1.5), "weapons"),
}
CATEGORIES: tuple[str, ...] = tuple(TAXONOMY)


def category(name: str) -> Category:
    try:
        return TAXONOMY[name]
    except KeyError:
        raise KeyError(f"unknown category {name!r}; known: {', '.join(CATEGORIES)}") from None
