"""Listing text for a declared product: title, description, HTS heading, declared weight and value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.encoders.taxonomy import TAXONOMY
from models.generator.parts import ObjectModel


@dataclass(frozen=True)
class Listing:
    title: str
    description: str
    hts: str
    declared_weight_kg: float
    declared_value: float


# category: (nouns, selling points); HTS subheading and price range come from models.encoders.taxonomy
CATALOG: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "smartphone": (
        ("Smartphone", "Unlocked Mobile Phone", "Android Cell Phone"),
        ("dual SIM", "fast charging", "triple camera", "OLED display", "5G ready"),
    ),
    "laptop": (
        ("Laptop", "Notebook Computer", "Ultrabook"),
        ("16GB RAM", "backlit keyboard", "all-day battery", "full HD screen", "lightweight"),
    ),
    "tablet": (
        ("Tablet", "Tablet PC", "Android Tablet"),
        ("Wi-Fi", "stylus support", "kids mode", "long battery life", "HD display"),
    ),
    "headphones": (
        ("Over-Ear Headphones", "Bluetooth Headphones", "Noise Cancelling Headset"),
        ("noise cancelling", "40h playtime", "foldable", "built-in mic", "deep bass"),
    ),
    "watch": (
        ("Wrist Watch", "Smart Watch", "Fitness Watch"),
        ("water resistant", "heart-rate monitor", "quartz movement", "sapphire glass"),
    ),
    "power_bank": (
        ("Power Bank", "Portable Charger", "Battery Pack"),
        ("USB-C PD", "LED indicator", "dual output", "slim design"),
    ),
    "charger": (
        ("Wall Charger", "USB-C Charger", "GaN Fast Charger"),
        ("foldable plug", "2 ports", "overheat protection", "cable included"),
    ),
    "sneakers": (
        ("Running Shoes", "Sneakers", "Trainers"),
        ("breathable mesh", "cushioned sole", "non-slip", "lightweight"),
    ),
    "boots": (
        ("Leather Boots", "Ankle Boots", "Work Boots"),
        ("waterproof", "side zip", "steel shank", "lug sole", "genuine leather"),
    ),
    "handbag": (
        ("Leather Handbag", "Tote Bag", "Shoulder Bag"),
        ("zip closure", "inner pockets", "adjustable strap", "vegan leather"),
    ),
    "folded_clothing": (
        ("Cotton T-Shirt", "Knit Sweater", "Denim Jeans", "Hoodie"),
        ("100% cotton", "regular fit", "machine washable", "soft touch"),
    ),
    "book": (
        ("Paperback Novel", "Hardcover Cookbook", "Illustrated Guide"),
        ("first edition", "illustrated", "English language", "gift idea"),
    ),
    "perfume_bottle": (
        ("Eau de Parfum", "Eau de Toilette", "Fragrance Spray"),
        ("floral notes", "long lasting", "gift box", "woody accord"),
    ),
    "lipstick": (
        ("Matte Lipstick", "Lip Color", "Satin Lipstick"),
        ("long wear", "moisturising", "cruelty free", "vivid pigment"),
    ),
    "liquid_bottle": (
        ("Shampoo", "Body Lotion", "Hair Conditioner", "Shower Gel"),
        ("sulfate free", "family size", "natural extracts", "pump bottle"),
    ),
    "toy": (
        ("Action Figure", "Toy Car", "Plush Toy", "Water Blaster Toy"),
        ("ages 3+", "non-toxic", "gift for kids", "durable plastic"),
    ),
    "kitchen_knife": (
        ("Chef Knife", "Kitchen Knife", "Santoku Knife"),
        ("stainless steel", "full tang", "ergonomic handle", "razor sharp"),
    ),
    "scissors": (
        ("Scissors", "Tailor Shears", "Kitchen Scissors"),
        ("stainless blades", "soft grip", "left and right handed"),
    ),
    "wrench": (("Combination Wrench", "Spanner", "Open End Wrench"), ("chrome vanadium", "metric", "polished finish")),
    "pliers": (
        ("Combination Pliers", "Needle Nose Pliers", "Cutting Pliers"),
        ("insulated grips", "hardened jaws", "wire cutter"),
    ),
    "hammer": (
        ("Claw Hammer", "Framing Hammer", "Ball Peen Hammer"),
        ("fiberglass handle", "anti-vibration grip", "forged steel head"),
    ),
    "screwdriver": (
        ("Screwdriver", "Phillips Screwdriver", "Precision Screwdriver"),
        ("magnetic tip", "cushion grip", "chrome vanadium"),
    ),
    "umbrella": (
        ("Compact Umbrella", "Folding Umbrella", "Travel Umbrella"),
        ("windproof", "auto open", "UV protection", "teflon coated"),
    ),
    "hard_disk": (
        ("Hard Drive", "Internal HDD", "Portable Hard Disk"),
        ("7200 RPM", "SATA III", "256MB cache", "for NAS and desktop"),
    ),
    "lighter": (
        ("Pocket Lighter", "Windproof Lighter", "Refillable Lighter"),
        ("refillable", "adjustable flame", "child resistant"),
    ),
    "handgun": (("Pistol", "Semi-Automatic Handgun"), ("polymer frame", "15-round magazine")),
}

_TITLE = (
    "{colour} {noun}{spec}",
    "{noun}, {colour}{spec}, {point}",
    "New {noun} {spec_bare} - {point}",
    "{noun} {point} ({colour})",
    "{point} {noun}{spec}",
)
_DESC = (
    "{noun} in {colour_l}. {Point}, {point2}. Ships in a secure package.",
    "Brand new {noun_l}{spec}. Features: {point}; {point2}. Colour: {colour_l}.",
    "High quality {noun_l} with {point} and {point2}. Perfect for everyday use.",
    "This {noun_l} comes in {colour_l}. {Point}. Item weight about {weight} kg.",
)


def _spec(obj: ObjectModel) -> str:
    a = obj.attrs
    if "inches" in a and "storage" in a:
        return f' {a["inches"]}" {a["storage"]}GB'
    for key, unit in (("mah", "mAh"), ("watts", "W"), ("tb", "TB"), ("ml", "ml"), ("eu_size", " EU")):
        if key in a:
            return f" {a[key]}{unit}"
    return ""


def listing(obj: ObjectModel, quantity: int, rng: np.random.Generator) -> Listing:
    """Title, description and declaration a seller would file for `quantity` of `obj`."""
    nouns, points = CATALOG[obj.category]
    hts, (lo, hi) = TAXONOMY[obj.category].hts, TAXONOMY[obj.category].price_usd
    noun = nouns[int(rng.integers(len(nouns)))]
    # Skip selling points the noun already says ("Refillable Lighter, refillable").
    fresh = [q for q in points if q.lower() not in noun.lower()]
    fresh = fresh if len(fresh) >= 2 else list(points)
    p1, p2 = (fresh[int(i)] for i in rng.choice(len(fresh), 2, replace=False))
    spec = _spec(obj)
    colour = (obj.colour_name or "Assorted").title()
    weight = obj.weight_kg() * quantity
    fields = dict(
        colour=colour,
        colour_l=colour.lower(),
        noun=noun,
        noun_l=noun.lower(),
        spec=spec,
        spec_bare=spec.strip() or colour,
        point=p1,
        Point=p1[:1].upper() + p1[1:],
        point2=p2,
        weight=f"{weight:.2f}",
    )
    title = _TITLE[int(rng.integers(len(_TITLE)))].format(**fields)
    if quantity > 1:
        title = f"{title} (Pack of {quantity})" if rng.random() < 0.5 else f"{quantity} x {title}"
    desc = _DESC[int(rng.integers(len(_DESC)))].format(**fields)
    unit_value = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    # Sellers round declarations; packaging weight and estimation error creep in.
    declared_weight = round(max(0.01, (weight + rng.uniform(0.03, 0.25)) * rng.uniform(0.85, 1.15)), 2)
    return Listing(title, desc, hts, declared_weight, round(unit_value * quantity, 2))
