"""The models the service can serve: the built-in encoders and the operator's trained artifacts."""

from __future__ import annotations

from models.encoders.encoder import Encoder
from models.encoders.registry import Registry, artifact_specs, default_registry
from service.settings import Settings


def registry(settings: Settings) -> Registry:
    """The built-in encoders plus every artifact folder in `settings.model_dir`."""
    return default_registry(extra=artifact_specs(settings.model_dir))


def load(settings: Settings, name: str) -> Encoder:
    """A verified encoder by name, placed and batched as the settings say."""
    m = settings.matching
    return registry(settings).load(name, device=m.device, batch_size=m.max_batch_size)
