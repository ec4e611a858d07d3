"""Setting a trained artifact's x-ray findings thresholds again (`python -m models.train.findings`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models.encoders.artifact import CARD, CONFIG, WEIGHTS, load_artifact, read_checksums
from models.encoders.device import choose_placement
from models.train.__main__ import main as train_main
from models.train.findings import main as findings_main
from tests.models.train.tiny import tiny_config


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("findings")
    cfg = root / "tiny.json"
    cfg.write_text(json.dumps(tiny_config(n_train=32, n_val=24, source_size=64, epochs=1)))
    assert train_main(["--config", str(cfg), "--out", str(root / "run"), "--artifact", str(root / "artifact")]) == 0
    return root / "artifact"


def test_thresholds_are_set_again_and_the_weights_left_alone(artifact: Path) -> None:
    weights = read_checksums(artifact)[WEIGHTS]
    argv = ["--artifact", str(artifact), "--n", "24", "--size", "64", "--margin", "0.5"]
    assert findings_main(argv) == 0

    cfg = json.loads((artifact / CONFIG).read_text())
    assert cfg["provenance"]["findings_thresholds"]["margin"] == 0.5
    assert read_checksums(artifact)[WEIGHTS] == weights
    card = (artifact / CARD).read_text()
    assert card.count("### X-ray findings (validation") == 1 and "0.5 of the way" in card
    for item, f in cfg["findings"].items():
        assert f"| {item} | {f['threshold']:.4f} |" in card
        assert 0.0 <= f["false_alarm_rate"] <= 0.01 + 1 / 24
    # The artifact still verifies and loads, with the new thresholds.
    encoder = load_artifact(artifact, name="tiny", placement=choose_placement("cpu"))
    assert encoder.findings is not None
    assert encoder.findings.thresholds == tuple(cfg["findings"][i]["threshold"] for i in encoder.findings.items)


def test_an_artifact_without_a_validation_seed_is_refused(artifact: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(artifact, tmp_path / "copy"))
    cfg = json.loads((copy / CONFIG).read_text())
    del cfg["provenance"]["val_seed"]
    (copy / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(SystemExit, match="no validation seed"):
        findings_main(["--artifact", str(copy), "--n", "8", "--size", "64"])
