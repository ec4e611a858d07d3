"""Synthetic paired shipments: product photo + dual-energy parcel x-ray with known contents.

Public API lives in :mod:`models.generator.synthetic`; the manifest schema and its reader in
:mod:`models.generator.manifest`.
"""
