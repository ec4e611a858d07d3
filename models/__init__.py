"""scanmatch's models, in four parts.

- `models.encoders`: the inference library the service imports (encoders, registry, loaders,
  preprocessing, weight integrity, the category taxonomy). It imports none of the parts below.
- `models.generator`: the synthetic paired generator (product photo + dual-energy x-ray of one
  procedural object) and the paired-data manifest, the import format for an operator's data.
- `models.train`: training of the cross-modal encoder; writes artifacts the library loads.
- `models.evaluate`: evaluation of encoders on held-out paired data.

Shipped artifacts (weights, preprocessing, config, model card, checksums) live in `models/artifacts/`.
"""
