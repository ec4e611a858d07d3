"""A layout-head model config and artifact (random weights written as trained) for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.encoders.architecture import build_model
from models.encoders.registry import CONFIGS_DIR, DEFAULT_ENCODER
from tests.models.artifacts import write_test_artifact


def layout_config(**extra: Any) -> dict[str, Any]:
    """The default model config with layout heads (`models.encoders.layout_head`) and photos matched in D4."""
    cfg = json.loads((CONFIGS_DIR / f"{DEFAULT_ENCODER}.json").read_text())
    for key in ("vision_cfg", "xray_cfg"):
        cfg[key] = {**cfg[key], "timm_pool": "", "timm_proj": "none"}
    return {**cfg, "layout_head": {"grid": 3, "cell_dim": 16}, "photo_poses": "d4", **extra}


def write_layout_artifact(folder: Path) -> Path:
    cfg = layout_config()
    return write_test_artifact(folder, build_model(cfg), cfg)
