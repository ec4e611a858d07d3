"""Shipment scenarios and their ground truth: what was declared versus what is in the parcel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.generator.manifest import Label
from models.generator.objects import CATEGORIES

SCENARIOS: tuple[str, ...] = (
    "match", "substitution", "near_substitution", "concealment", "quantity_mismatch", "empty_or_decoy",
)
DEFAULT_MIX: dict[str, float] = {
    "match": 0.5, "substitution": 0.1, "near_substitution": 0.1, "concealment": 0.12,
    "quantity_mismatch": 0.08, "empty_or_decoy": 0.1,
}
# Goods smuggled inside a declared item; battery_pack and pills are not listing categories.
CONCEALED: tuple[str, ...] = ("kitchen_knife", "handgun", "battery_pack", "pills")
# Nobody lists a prohibited firearm, so declared categories are drawn from the rest by default.
DECLARABLE: tuple[str, ...] = tuple(c for c in CATEGORIES if c != "handgun")

# Same broad kind, other item: the hard cases for a matcher.
NEAR: dict[str, tuple[str, ...]] = {
    "smartphone": ("tablet", "power_bank", "hard_disk"), "tablet": ("smartphone", "laptop", "book"),
    "laptop": ("tablet", "book"), "headphones": ("watch", "charger"), "watch": ("headphones", "charger"),
    "power_bank": ("smartphone", "hard_disk", "charger"), "charger": ("power_bank", "hard_disk"),
    "hard_disk": ("power_bank", "smartphone"), "sneakers": ("boots",), "boots": ("sneakers",),
    "handbag": ("folded_clothing", "umbrella"), "folded_clothing": ("handbag",),
    "umbrella": ("handbag", "folded_clothing"), "book": ("tablet", "laptop"),
    "perfume_bottle": ("liquid_bottle", "lipstick"), "lipstick": ("lighter", "perfume_bottle"),
    "liquid_bottle": ("perfume_bottle",), "toy": ("handgun",), "lighter": ("lipstick",),
    "kitchen_knife": ("scissors", "screwdriver"), "scissors": ("kitchen_knife", "pliers"),
    "wrench": ("pliers", "hammer"), "pliers": ("wrench", "scissors"), "hammer": ("wrench", "screwdriver"),
    "screwdriver": ("kitchen_knife", "wrench"), "handgun": ("toy",),
}

_MULTI_OK = frozenset({"lipstick", "lighter", "charger", "screwdriver", "wrench", "book", "liquid_bottle",
                       "perfume_bottle", "folded_clothing", "power_bank", "watch", "toy", "scissors"})


@dataclass(frozen=True)
class Plan:
    declared: str
    quantity: int  # declared and shown in the photo
    scenario: str
    shipped: tuple[str, ...]  # main items in the parcel, one entry per unit
    hidden: str | None = None
    decoy: bool = False

    @property
    def label(self) -> Label:
        return "match" if self.scenario == "match" else "mismatch"

    @property
    def contents(self) -> list[str]:
        return list(self.shipped) + ([self.hidden] if self.hidden else []) + (["decoy_mass"] if self.decoy else [])


def sample_scenario(rng: np.random.Generator, mix: dict[str, float] | None = None) -> str:
    mix = mix or DEFAULT_MIX
    unknown = set(mix) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"unknown scenarios in mix: {sorted(unknown)}")
    names = [s for s in SCENARIOS if mix.get(s, 0) > 0]
    w = np.array([mix[s] for s in names], np.float64)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def plan(rng: np.random.Generator, scenario: str, declared: str | None = None) -> Plan:
    """Decide what is declared and what really ships for one shipment."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    declared = declared or DECLARABLE[int(rng.integers(len(DECLARABLE)))]
    if declared not in CATEGORIES:
        raise ValueError(f"unknown category {declared!r}")
    qty = 1
    if declared in _MULTI_OK and rng.random() < 0.25:
        qty = int(rng.integers(2, 4))
    if scenario == "match":
        return Plan(declared, qty, scenario, (declared,) * qty)
    if scenario == "substitution":
        others = [c for c in CATEGORIES if c != declared and c not in NEAR[declared]]
        return Plan(declared, qty, scenario, (others[int(rng.integers(len(others)))],) * qty)
    if scenario == "near_substitution":
        near = NEAR[declared]
        return Plan(declared, qty, scenario, (near[int(rng.integers(len(near)))],) * qty)
    if scenario == "concealment":
        hidden = CONCEALED[int(rng.integers(len(CONCEALED)))]
        return Plan(declared, qty, scenario, (declared,) * qty, hidden=hidden)
    if scenario == "quantity_mismatch":
        shipped = qty + int(rng.integers(1, 4)) if (qty == 1 or rng.random() < 0.6) else qty - 1
        return Plan(declared, qty, scenario, (declared,) * shipped)
    return Plan(declared, qty, scenario, (), decoy=bool(rng.random() < 0.6))
