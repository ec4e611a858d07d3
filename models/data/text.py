"""Listing text for a declared product: title, description, HTS heading, declared weight and value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.data.parts import ObjectModel


@dataclass(frozen=True)
class Listing:
    title: str
    description: str
    hts: str
    declared_weight_kg: float
    declared_value: float


# category: (HTS heading, nouns, price range USD, selling points)
CATALOG: dict[str, tuple[str, tuple[str, ...], tuple[float, float], tuple[str, ...]]] = {
    "smartphone": ("8517.13", ("Smartphone", "Unlocked Mobile Phone", "Android Cell Phone"), (90, 900),
                   ("dual SIM", "fast charging", "triple camera", "OLED display", "5G ready")),
    "laptop": ("8471.30", ("Laptop", "Notebook Computer", "Ultrabook"), (250, 1800),
               ("16GB RAM", "backlit keyboard", "all-day battery", "full HD screen", "lightweight")),
    "tablet": ("8471.30", ("Tablet", "Tablet PC", "Android Tablet"), (80, 900),
               ("Wi-Fi", "stylus support", "kids mode", "long battery life", "HD display")),
    "headphones": ("8518.30", ("Over-Ear Headphones", "Bluetooth Headphones", "Noise Cancelling Headset"),
                   (20, 350), ("noise cancelling", "40h playtime", "foldable", "built-in mic", "deep bass")),
    "watch": ("9102.11", ("Wrist Watch", "Smart Watch", "Fitness Watch"), (15, 450),
              ("water resistant", "heart-rate monitor", "quartz movement", "sapphire glass")),
    "power_bank": ("8507.60", ("Power Bank", "Portable Charger", "Battery Pack"), (12, 80),
                   ("USB-C PD", "LED indicator", "dual output", "slim design")),
    "charger": ("8504.40", ("Wall Charger", "USB-C Charger", "GaN Fast Charger"), (8, 60),
                ("foldable plug", "2 ports", "overheat protection", "cable included")),
    "sneakers": ("6404.11", ("Running Shoes", "Sneakers", "Trainers"), (25, 200),
                 ("breathable mesh", "cushioned sole", "non-slip", "lightweight")),
    "boots": ("6403.91", ("Leather Boots", "Ankle Boots", "Work Boots"), (35, 260),
              ("waterproof", "side zip", "steel shank", "lug sole", "genuine leather")),
    "handbag": ("4202.21", ("Leather Handbag", "Tote Bag", "Shoulder Bag"), (20, 400),
                ("zip closure", "inner pockets", "adjustable strap", "vegan leather")),
    "folded_clothing": ("6109.10", ("Cotton T-Shirt", "Knit Sweater", "Denim Jeans", "Hoodie"), (8, 90),
                        ("100% cotton", "regular fit", "machine washable", "soft touch")),
    "book": ("4901.99", ("Paperback Novel", "Hardcover Cookbook", "Illustrated Guide"), (6, 60),
             ("first edition", "illustrated", "English language", "gift idea")),
    "perfume_bottle": ("3303.00", ("Eau de Parfum", "Eau de Toilette", "Fragrance Spray"), (15, 180),
                       ("floral notes", "long lasting", "gift box", "woody accord")),
    "lipstick": ("3304.10", ("Matte Lipstick", "Lip Color", "Satin Lipstick"), (4, 45),
                 ("long wear", "moisturising", "cruelty free", "vivid pigment")),
    "liquid_bottle": ("3305.10", ("Shampoo", "Body Lotion", "Hair Conditioner", "Shower Gel"), (4, 40),
                      ("sulfate free", "family size", "natural extracts", "pump bottle")),
    "toy": ("9503.00", ("Action Figure", "Toy Car", "Plush Toy", "Water Blaster Toy"), (5, 60),
            ("ages 3+", "non-toxic", "gift for kids", "durable plastic")),
    "kitchen_knife": ("8211.92", ("Chef Knife", "Kitchen Knife", "Santoku Knife"), (10, 150),
                      ("stainless steel", "full tang", "ergonomic handle", "razor sharp")),
    "scissors": ("8213.00", ("Scissors", "Tailor Shears", "Kitchen Scissors"), (4, 40),
                 ("stainless blades", "soft grip", "left and right handed")),
    "wrench": ("8204.11", ("Combination Wrench", "Spanner", "Open End Wrench"), (5, 45),
               ("chrome vanadium", "metric", "polished finish")),
    "pliers": ("8203.20", ("Combination Pliers", "Needle Nose Pliers", "Cutting Pliers"), (6, 45),
               ("insulated grips", "hardened jaws", "wire cutter")),
    "hammer": ("8205.20", ("Claw Hammer", "Framing Hammer", "Ball Peen Hammer"), (8, 60),
               ("fiberglass handle", "anti-vibration grip", "forged steel head")),
    "screwdriver": ("8205.40", ("Screwdriver", "Phillips Screwdriver", "Precision Screwdriver"), (3, 30),
                    ("magnetic tip", "cushion grip", "chrome vanadium")),
    "umbrella": ("6601.91", ("Compact Umbrella", "Folding Umbrella", "Travel Umbrella"), (8, 50),
                 ("windproof", "auto open", "UV protection", "teflon coated")),
    "hard_disk": ("8471.70", ("Hard Drive", "Internal HDD", "Portable Hard Disk"), (35, 250),
                  ("7200 RPM", "SATA III", "256MB cache", "for NAS and desktop")),
    "lighter": ("9613.10", ("Pocket Lighter", "Windproof Lighter", "Refillable Lighter"), (2, 40),
                ("refillable", "adjustable flame", "child resistant")),
    "handgun": ("9302.00", ("Pistol", "Semi-Automatic Handgun"), (300, 1200),
                ("polymer frame", "15-round magazine")),
}

_TITLE = ("{colour} {noun}{spec}", "{noun}, {colour}{spec}, {point}", "New {noun} {spec_bare} - {point}",
          "{noun} {point} ({colour})", "{point} {noun}{spec}")
_DESC = ("{noun} in {colour_l}. {Point}, {point2}. Ships in a secure package.",
         "Brand new {noun_l}{spec}. Features: {point}; {point2}. Colour: {colour_l}.",
         "High quality {noun_l} with {point} and {point2}. Perfect for everyday use.",
         "This {noun_l} comes in {colour_l}. {Point}. Item weight about {weight} kg.")


def _spec(obj: ObjectModel) -> str:
    a = obj.attrs
    if "inches" in a and "storage" in a:
        return f" {a['inches']}\" {a['storage']}GB"
    for key, unit in (("mah", "mAh"), ("watts", "W"), ("tb", "TB"), ("ml", "ml"), ("eu_size", " EU")):
        if key in a:
            return f" {a[key]}{unit}"
    return ""


def listing(obj: ObjectModel, quantity: int, rng: np.random.Generator) -> Listing:
    """Title, description and declaration a seller would file for `quantity` of `obj`."""
    hts, nouns, (lo, hi), points = CATALOG[obj.category]
    noun = nouns[int(rng.integers(len(nouns)))]
    # Skip selling points the noun already says ("Refillable Lighter, refillable").
    fresh = [q for q in points if q.lower() not in noun.lower()]
    fresh = fresh if len(fresh) >= 2 else list(points)
    p1, p2 = (fresh[int(i)] for i in rng.choice(len(fresh), 2, replace=False))
    spec = _spec(obj)
    colour = (obj.colour_name or "Assorted").title()
    weight = obj.weight_kg() * quantity
    fields = dict(colour=colour, colour_l=colour.lower(), noun=noun, noun_l=noun.lower(), spec=spec,
                  spec_bare=spec.strip() or colour, point=p1, Point=p1[:1].upper() + p1[1:], point2=p2,
                  weight=f"{weight:.2f}")
    title = _TITLE[int(rng.integers(len(_TITLE)))].format(**fields)
    if quantity > 1:
        title = f"{title} (Pack of {quantity})" if rng.random() < 0.5 else f"{quantity} x {title}"
    desc = _DESC[int(rng.integers(len(_DESC)))].format(**fields)
    unit_value = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    # Sellers round declarations; packaging weight and estimation error creep in.
    declared_weight = round(max(0.01, (weight + rng.uniform(0.03, 0.25)) * rng.uniform(0.85, 1.15)), 2)
    return Listing(title, desc, hts, declared_weight, round(unit_value * quantity, 2))
