"""Linear attenuation coefficients of the materials parcels are made of, at two effective energies.

Values are NIST XCOM mass attenuation coefficients (cm^2/g) at ~60 keV (low channel) and ~120 keV
(high channel) of a 160 kVp dual-energy line scanner, times bulk density. Bulk density, not solid
density, for porous goods (corrugated board, folded fabric, foam) because the beam sees the voids.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Material:
    density: float  # g/cm^3, bulk
    mass_mu_low: float  # cm^2/g at the low-energy channel
    mass_mu_high: float  # cm^2/g at the high-energy channel

    @property
    def mu_low(self) -> float:
        """Linear attenuation in 1/mm (cm^2/g * g/cm^3 = 1/cm; /10 for mm)."""
        return self.mass_mu_low * self.density / 10.0

    @property
    def mu_high(self) -> float:
        return self.mass_mu_high * self.density / 10.0


# The low/high ratio is what the scanner turns into colour: ~1.2-1.35 organic (orange),
# ~1.6-2.5 mixed / light metals (green), >3 transition metals (blue).
MATERIALS: dict[str, Material] = {
    # organics
    "cardboard": Material(0.12, 0.197, 0.153),
    "paper": Material(0.80, 0.197, 0.153),
    "foam": Material(0.03, 0.192, 0.156),
    "bubble_film": Material(0.92, 0.192, 0.156),
    "plastic": Material(1.10, 0.195, 0.152),
    "rubber": Material(1.25, 0.215, 0.156),
    "fabric": Material(0.35, 0.197, 0.153),
    "leather": Material(0.90, 0.205, 0.155),
    "wood": Material(0.60, 0.196, 0.152),
    "wax": Material(0.95, 0.193, 0.154),
    "water": Material(1.00, 0.206, 0.162),
    "ethanol": Material(0.85, 0.196, 0.157),
    "butane": Material(0.58, 0.190, 0.156),
    "pills": Material(1.30, 0.260, 0.160),
    # mixed / light elements
    "pvc": Material(1.40, 0.360, 0.172),
    "glass": Material(2.50, 0.300, 0.158),
    "aluminium": Material(2.70, 0.278, 0.155),
    "silicon": Material(2.33, 0.321, 0.163),
    "pcb": Material(1.90, 0.450, 0.180),
    "sand": Material(1.60, 0.273, 0.155),
    # metals
    "lithium_cell": Material(2.60, 0.750, 0.200),
    "ferrite": Material(5.00, 1.000, 0.250),
    "steel": Material(7.85, 1.205, 0.280),
    "zinc_alloy": Material(6.60, 1.450, 0.310),
    "brass": Material(8.50, 1.550, 0.320),
    "copper": Material(8.96, 1.593, 0.330),
    "magnet": Material(7.50, 5.000, 0.900),
    "lead": Material(11.3, 5.020, 3.600),
}

# Anything a test may call "dense or metal": high-Z or compact high-density goods.
DENSE_MATERIALS: frozenset[str] = frozenset(
    {"lithium_cell", "ferrite", "steel", "zinc_alloy", "brass", "copper", "magnet", "lead", "pills"}
)
