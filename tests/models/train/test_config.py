"""Training configs: every shipped one loads as written, and a misspelt key is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.train.config import TrainConfig
from tests.models.train.tiny import tiny_config

CONFIGS = sorted((Path(__file__).resolve().parents[3] / "models" / "train" / "configs").glob("*.json"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_shipped_config_loads_and_records_what_it_says(path: Path) -> None:
    written = json.loads(path.read_text())
    recorded = TrainConfig.load(path).to_dict()
    assert {k: recorded[k] for k in written} == written
    # The record is the JSON's own spelling, and reads back as the same config.
    assert list(recorded)[:2] == ["name", "model_config"]
    assert TrainConfig.model_validate(recorded).to_dict() == recorded


def test_a_misspelt_key_is_refused_with_its_name_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(tiny_config(epoch=3)))
    with pytest.raises(ValueError, match=r"typo\.json: invalid training config(.|\n)*epoch\n.*Extra inputs"):
        TrainConfig.load(path)


def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(tiny_config(views="three")))
    with pytest.raises(ValueError, match="views"):
        TrainConfig.load(path)


def test_the_model_config_path_is_the_json_model_config_key() -> None:
    cfg = TrainConfig.model_validate(tiny_config())
    assert cfg.model_config_path == tiny_config()["model_config"]
    assert cfg.to_dict()["model_config"] == cfg.model_config_path
