"""Synthetic paired shipments: product photo + dual-energy parcel x-ray with known contents.

Public API lives in :mod:`models.generator.synthetic`; the torch Dataset in :mod:`models.generator.dataset`.
"""
