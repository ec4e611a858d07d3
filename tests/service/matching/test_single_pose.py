from __future__ import annotations

from pathlib import Path

import pytest

from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.encoders.errors import EncoderError
from service.matching.matcher import require_single_pose
from tests.models.layout import write_layout_artifact


def test_the_service_refuses_an_encoder_that_matches_photos_in_poses(tmp_path: Path) -> None:
    folder = write_layout_artifact(tmp_path / "layout")
    encoder = load_artifact(folder, name="layout", placement=choose_placement("cpu"))
    with pytest.raises(EncoderError, match="8 poses.*serve an encoder with one photo embedding"):
        require_single_pose(encoder)
