"""Writing a loadable artifact from a model in tests (random weights unless the test trains them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from models.encoders.architecture import ScanMatchCLIP
from models.encoders.artifact import CONFIG, write_checksums
from models.encoders.preprocess import PreprocessConfig
from models.train.export import write_artifact


def write_test_artifact(
    folder: Path, model: ScanMatchCLIP, model_config: dict[str, Any], *, trained: bool = True
) -> Path:
    write_artifact(
        folder,
        model=model,
        model_config=model_config,
        preprocess=PreprocessConfig.from_dict(model_config["preprocess"]),
        trained=trained,
        calibration={"scale": 10.0, "bias": -5.0},
        card="# test artifact\n",
    )
    return folder


def copy_with_thresholds(source: Path, folder: Path, *, scale: float) -> Path:
    """Another model built from a shipped one: the same weights, every findings threshold scaled, the
    checksums recorded again; its identity differs, so the service must treat it as a model of its own."""
    shutil.copytree(source, folder)
    config = json.loads((folder / CONFIG).read_text())
    for item in config["findings"].values():
        item["threshold"] = round(item["threshold"] * scale, 4)
    (folder / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    write_checksums(folder)
    return folder
