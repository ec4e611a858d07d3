"""Text features cached ahead of training, a time budget, and starting from a trained artifact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from models.encoders import base_weights
from models.encoders.architecture import build_model
from models.encoders.artifact import WEIGHTS, init_from_artifact
from models.encoders.errors import WeightsIntegrityError
from models.train.__main__ import main as train_main
from models.train.features import loader_workers
from models.train.loop import WarmupCosine, epochs_that_fit
from models.train.text_features import main as text_features_main
from tests.models.train.tiny import tiny_config

TINY = tiny_config(n_train=32, n_val=16, source_size=64, epochs=3, categories_per_batch=2)


def _refuse_minilm(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the MiniLM weights were loaded although every text was cached")


def test_a_run_with_cached_texts_trains_without_the_text_weights_and_keeps_to_its_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg_path = tmp_path / "tiny.json"
    # A budget of 0.6 s: after the first epoch the other two cannot fit.
    cfg_path.write_text(json.dumps({**TINY, "train_minutes": 0.01}))
    out = tmp_path / "run"
    assert text_features_main(["--config", str(cfg_path), "--out", str(out)]) == 0
    # The two splits and the taxonomy labels (the label losses embed them).
    assert len(list((out / "cache").glob("text-*.pt"))) == 3

    monkeypatch.setattr(base_weights, "load_minilm", _refuse_minilm)
    artifact = tmp_path / "artifact"
    assert train_main(["--config", str(cfg_path), "--out", str(out), "--artifact", str(artifact)]) == 0
    history = torch.load(out / "checkpoints" / "last.pt", weights_only=False)["state"]["history"]
    assert len(history) == 1
    assert "1 of 3 planned epochs" in (artifact / "MODEL_CARD.md").read_text()


def test_the_text_cache_is_keyed_by_the_texts(tmp_path: Path) -> None:
    from models.train.features import TextFeatures

    cfg = json.loads(Path(TINY["model_config"]).read_text())
    text = TextFeatures(build_model(cfg, load_base=False), cfg, tmp_path)
    a = text(["A red phone. New.", "Boots. Leather."], "train")
    assert a.shape == (2, 384) and a.dtype == torch.float32
    assert text.path(["A red phone. New."], "train") != text.path(["A blue phone. New."], "train")
    # Read back from the file: the same features, and nothing recomputed for the same texts.
    assert torch.equal(text(["A red phone. New.", "Boots. Leather."], "train"), a)
    assert len(list(tmp_path.glob("text-train-*.pt"))) == 1


def test_training_can_start_from_a_trained_artifact_and_refuses_a_changed_one(tmp_path: Path) -> None:
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps({**TINY, "epochs": 1}))
    first = tmp_path / "first"
    assert train_main(["--config", str(cfg_path), "--out", str(tmp_path / "run1"), "--artifact", str(first)]) == 0

    model_cfg = json.loads(Path(TINY["model_config"]).read_text())
    model = build_model(model_cfg, load_base=False)
    sha = init_from_artifact(model, first)
    saved = load_file(str(first / WEIGHTS))
    state = model.trained_state_dict()
    assert len(sha) == 64 and all(torch.equal(state[k].to(v.dtype), v) for k, v in saved.items())

    # A continued run records where it started.
    cfg_path.write_text(json.dumps({**TINY, "epochs": 1, "init_from": str(first)}))
    second = tmp_path / "second"
    assert train_main(["--config", str(cfg_path), "--out", str(tmp_path / "run2"), "--artifact", str(second)]) == 0
    assert sha[:16] in (second / "MODEL_CARD.md").read_text()

    (first / WEIGHTS).write_bytes((first / WEIGHTS).read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(WeightsIntegrityError):
        init_from_artifact(build_model(model_cfg, load_base=False), first)


def test_the_budget_plans_only_whole_epochs_that_fit_and_never_more_than_planned() -> None:
    assert epochs_that_fit(done=1, planned=50, seconds_per_epoch=10.0, seconds_left=95.0) == 10
    assert epochs_that_fit(done=3, planned=5, seconds_per_epoch=1.0, seconds_left=100.0) == 5
    assert epochs_that_fit(done=2, planned=5, seconds_per_epoch=10.0, seconds_left=-5.0) == 2


def test_a_shortened_schedule_ends_at_zero_on_its_new_last_step() -> None:
    schedule = WarmupCosine(total=100, warmup=10)
    assert schedule(0) == pytest.approx(0.1) and schedule(9) == pytest.approx(1.0)
    assert schedule(55) == pytest.approx(0.5)
    schedule.total = 40
    assert schedule(40) == pytest.approx(0.0) and 0.0 < schedule(30) < schedule(20) < 1.0


def test_feature_passes_read_in_one_process_on_a_cpu_and_all_but_one_core_on_a_gpu() -> None:
    assert loader_workers(torch.device("cpu")) == 1
    assert loader_workers(torch.device("cuda")) >= 1
    assert loader_workers(torch.device("cuda"), 3) == 3 and loader_workers(torch.device("cpu"), 0) == 0
