"""A tiny training config for tests that run `python -m models.train` end to end."""

from __future__ import annotations

from typing import Any

from models.encoders.registry import CONFIGS_DIR, DEFAULT_ENCODER


def tiny_config(**changes: Any) -> dict[str, Any]:
    """The default model on a few dozen small generated shipments, one thread; `changes` override."""
    return {
        "name": "tiny",
        "model_config": str(CONFIGS_DIR / f"{DEFAULT_ENCODER}.json"),
        "batch_size": 16,
        "warmup_steps": 1,
        "threads": 1,
        "mix": {"match": 0.5, "concealment": 0.5},
        **changes,
    }
