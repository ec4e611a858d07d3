"""Training reads an operator's manifest through the validated reader, with paths below its folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.generator.manifest import read_manifest
from models.train.__main__ import main as train_main
from models.train.config import TrainConfig
from models.train.text_features import split_texts
from tests.models.train.tiny import tiny_config


def _manifest_with_a_bad_line(folder: Path) -> Path:
    from models.generator.synthetic import write_dataset

    manifest = write_dataset(folder, n=2, seed=5, size=32, progress=False)
    good = json.loads(manifest.read_text().splitlines()[0])
    misspelt = {**{k: v for k, v in good.items() if k != "contents"}, "content": good["contents"]}
    with manifest.open("a") as f:
        f.write(json.dumps(misspelt) + "\n")
    return manifest


def test_training_refuses_a_bad_manifest_line_by_file_line_and_field(tmp_path: Path) -> None:
    manifest = _manifest_with_a_bad_line(tmp_path / "data")
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(tiny_config(train_manifest=str(manifest), val_manifest=str(manifest))))
    with pytest.raises(ValueError, match=r"manifest\.jsonl:3: invalid manifest line(.|\n)*content"):
        train_main(["--config", str(cfg_path), "--out", str(tmp_path / "run"), "--artifact", str(tmp_path / "a")])


def test_listing_texts_of_a_manifest_are_those_the_generator_gives(tmp_path: Path) -> None:
    from models.generator.synthetic import write_dataset

    config = tiny_config(n_val=3, val_seed=5)
    manifest = write_dataset(tmp_path / "data", n=3, seed=5, size=32, mix=config["mix"], progress=False)
    texts = split_texts(TrainConfig.model_validate({**config, "train_manifest": str(manifest)}))
    # Read from the written manifest (train) or from the generator's text stream (val): the same.
    assert texts["train"] == texts["val"]
    record = next(read_manifest(manifest))
    assert texts["train"][0] == f"{record.title}. {record.description}"
