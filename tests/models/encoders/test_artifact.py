from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.encoders.architecture import ScanMatchCLIP, build_model
from models.encoders.artifact import CARD, CHECKSUMS, CONFIG, WEIGHTS, load_artifact, write_checksums
from models.encoders.device import choose_placement
from models.encoders.errors import RandomWeightsRefused, WeightsIntegrityError, WeightsMissing
from models.encoders.identity import PRETRAINED, identity_of
from models.encoders.registry import CONFIGS_DIR, DEFAULT_ENCODER
from tests.models.artifacts import write_test_artifact
from tests.models.images import sample_images

CPU = choose_placement("cpu")


@pytest.fixture(scope="module")
def model_config() -> dict:
    return json.loads((CONFIGS_DIR / f"{DEFAULT_ENCODER}.json").read_text())


@pytest.fixture(scope="module")
def model(model_config: dict) -> ScanMatchCLIP:
    return build_model(model_config)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory, model: ScanMatchCLIP, model_config: dict) -> Path:
    return write_test_artifact(tmp_path_factory.mktemp("artifact") / "a", model, model_config)


def _copy(artifact: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(artifact, tmp_path / "copy"))


def test_artifact_loads_and_reproduces_the_model(artifact: Path, model: ScanMatchCLIP) -> None:
    enc = load_artifact(artifact, name="t", placement=CPU)
    assert enc.identity == identity_of({**json.loads((artifact / CHECKSUMS).read_text()), **PRETRAINED})
    assert enc.version.startswith("t@")
    assert enc.preprocess.image_size == 160
    photo = enc.embed_images("photo", sample_images(2))
    xray = enc.embed_images("xray", sample_images(2, seed=1))
    probs = enc.match_probability(photo, xray)
    assert probs.shape == (2,) and np.all((probs > 0) & (probs < 1))


def test_changed_weights_are_refused_even_when_random_is_allowed(artifact: Path, tmp_path: Path) -> None:
    folder = _copy(artifact, tmp_path)
    data = bytearray((folder / WEIGHTS).read_bytes())
    data[-1] ^= 0xFF
    (folder / WEIGHTS).write_bytes(bytes(data))
    for allow in (False, True):
        with pytest.raises(WeightsIntegrityError, match="sha256"):
            load_artifact(folder, name="t", placement=CPU, allow_random=allow)


def test_changed_config_is_refused(artifact: Path, tmp_path: Path) -> None:
    folder = _copy(artifact, tmp_path)
    cfg = json.loads((folder / CONFIG).read_text())
    cfg["calibration"]["bias"] = 0.0
    (folder / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(WeightsIntegrityError):
        load_artifact(folder, name="t", placement=CPU)


def test_a_changed_or_unrecorded_file_of_any_kind_is_refused(artifact: Path, tmp_path: Path) -> None:
    folder = _copy(artifact, tmp_path)
    (folder / CARD).write_text((folder / CARD).read_text() + "edited\n")
    with pytest.raises(WeightsIntegrityError, match="MODEL_CARD.md has sha256"):
        load_artifact(folder, name="t", placement=CPU)
    shutil.copy(artifact / CARD, folder / CARD)
    (folder / "thresholds.json").write_text("{}")
    with pytest.raises(WeightsIntegrityError, match="thresholds.json not recorded"):
        load_artifact(folder, name="t", placement=CPU)


def test_identity_covers_every_file_so_a_re_exported_artifact_is_another_model(artifact: Path, tmp_path: Path) -> None:
    original = load_artifact(artifact, name="t", placement=CPU)
    for edit in (CONFIG, CARD):
        folder = Path(shutil.copytree(artifact, tmp_path / edit))
        if edit == CONFIG:  # the same weights with other findings thresholds
            cfg = json.loads((folder / CONFIG).read_text())
            cfg["calibration"]["bias"] = -4.0
            (folder / CONFIG).write_text(json.dumps(cfg))
        else:
            (folder / CARD).write_text((folder / CARD).read_text() + "trained on the operator's scans\n")
        write_checksums(folder)
        changed = load_artifact(folder, name="t", placement=CPU)
        assert changed.identity != original.identity and len(changed.identity) == 64
    assert load_artifact(Path(shutil.copytree(artifact, tmp_path / "same")), name="u", placement=CPU).identity == (
        original.identity
    )


def test_missing_weights_are_refused_unless_random_is_allowed(artifact: Path, tmp_path: Path) -> None:
    folder = _copy(artifact, tmp_path)
    (folder / WEIGHTS).unlink()
    with pytest.raises(WeightsMissing, match="random"):
        load_artifact(folder, name="t", placement=CPU)
    enc = load_artifact(folder, name="t", placement=CPU, allow_random=True)
    assert enc.identity == "random"
    assert enc.embed_images("xray", sample_images(1)).shape == (1, 256)


def test_missing_checksums_are_refused(artifact: Path, tmp_path: Path) -> None:
    folder = _copy(artifact, tmp_path)
    (folder / CHECKSUMS).unlink()
    with pytest.raises(WeightsMissing, match="checksums"):
        load_artifact(folder, name="t", placement=CPU)


def test_untrained_artifact_is_refused(tmp_path: Path, model: ScanMatchCLIP, model_config: dict) -> None:
    folder = write_test_artifact(tmp_path / "untrained", model, model_config, trained=False)
    with pytest.raises(RandomWeightsRefused):
        load_artifact(folder, name="t", placement=CPU)
    load_artifact(folder, name="t", placement=CPU, allow_random=True)


def test_layout_head_configs_are_refused(model_config: dict) -> None:
    # The layout-head experiment was removed; its config keys must not build a different model silently.
    with pytest.raises(ValueError, match=r"\['layout_head'\] belong to the layout-head experiment"):
        ScanMatchCLIP({**model_config, "layout_head": {"grid": 3}})
