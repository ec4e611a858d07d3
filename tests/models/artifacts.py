"""Writing a loadable artifact from a model in tests (random weights unless the test trains them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.encoders.architecture import ScanMatchCLIP
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
