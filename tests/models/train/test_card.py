"""The model card says what its own run recorded: an operator's manifests, device, budget and start."""

from __future__ import annotations

import json
from typing import Any

import pytest

from models.encoders.registry import CONFIGS_DIR, DEFAULT_ENCODER
from models.train.card import render_card, selection_score
from models.train.config import TrainConfig

MODEL_CONFIG = json.loads((CONFIGS_DIR / f"{DEFAULT_ENCODER}.json").read_text())


def _epoch(epoch: int, recall: float) -> dict[str, Any]:
    return {"epoch": epoch, "roc_auc": 0.9, "concealment_auc": 0.8, "recall_at_1": recall, "elapsed_s": 10.0 * epoch}


def _run(**changes: Any) -> dict[str, Any]:
    training = TrainConfig.model_validate(
        {"name": "operator-1", "train_manifest": "real/train.jsonl", "val_manifest": "real/val.jsonl", "epochs": 5}
    ).to_dict()
    history = [_epoch(1, 0.2), _epoch(2, 0.37), _epoch(3, 0.31)]
    return {
        "command": "python -m models.train --config real.json --out runs/real",
        "training": {**training, "train_minutes": 2.5},
        "data": {
            "train": {"manifest": "real/train.jsonl", "sha256": "ab" * 32, "n": 812},
            "val": {"manifest": "real/val.jsonl", "sha256": "cd" * 32, "n": 97},
        },
        "history": history,
        "kept_epoch": 2,
        "val": history[1],
        "device": "cuda",
        "device_name": "Some GPU",
        "precision": "float16",
        "total_seconds": 150.2,
        "feature_seconds": 40.1,
        "torch": "2.99",
        "platform": "Linux-x",
        "init_from": {"artifact": "models/artifacts/base", "weights_sha256": "ef" * 32},
        **changes,
    }


def _card(run: dict[str, Any], findings: dict | None = None) -> str:
    return render_card(model_config=MODEL_CONFIG, calibration={"scale": 9.0, "bias": -4.0}, findings=findings, run=run)


def test_an_operators_card_names_its_manifests_device_budget_and_start() -> None:
    card = _card(_run())
    assert card.startswith("# operator-1\n")
    assert f"- train: 812 shipments of `real/train.jsonl` (sha256 `{'ab' * 32}`)." in card
    assert "- val: 97 shipments of `real/val.jsonl`" in card and "synthetic" not in card
    assert "## Validation (`real/val.jsonl`, epoch 2 kept)" in card
    assert "| 2 (kept) | 0.9000 | 0.8000 | 0.3700 |" in card
    assert "`cuda` (Some GPU), float16 autocast; torch 2.99 on Linux-x" in card
    assert "3 of 5 planned epochs: what fitted its 2.5-minute budget" in card
    assert "150.2 s in all, of which 40.1 s" in card
    assert f"`models/artifacts/base` (weights sha256 `{'ef' * 8}...`)" in card
    assert "python -m models.train --config real.json --out runs/real" in card


def test_findings_thresholds_set_again_after_training_are_the_ones_the_card_states() -> None:
    findings = {"pills": {"threshold": 0.05, "roc_auc": 0.99, "detection_rate": 0.9, "false_alarm_rate": 0.01,
                          "n_positive": 12}}
    again = {"command": "python -m models.train.findings --artifact A", "rate": 0.02, "margin": 0.5, "n_val": 97}
    card = _card(_run(findings_thresholds=again), findings)
    assert "at most 2% false alarms" in card and "rises 0.5 of the way" in card
    assert "| pills | 0.0500 | 0.9900 | 0.9000 | 0.0100 | 12 |" in card
    assert "Thresholds set again after training: `python -m models.train.findings --artifact A`." in card
    # As trained: the training config's rate and margin.
    assert "at most 1% false alarms" in _card(_run(), findings) and "rises 0.25 of the way" in _card(_run(), findings)


def test_the_kept_epoch_is_chosen_on_a_validation_set_without_concealment() -> None:
    # Real shipments have no concealment scenario: its NaN must not make every epoch compare false.
    real = {"roc_auc": 0.8, "concealment_auc": float("nan"), "recall_at_1": 0.1}
    assert selection_score(real) == pytest.approx(0.9)
    assert selection_score(real) > selection_score({**real, "roc_auc": 0.5})
