from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from models.encoders.errors import WeightsIntegrityError, WeightsMissing
from models.encoders.identity import PRETRAINED, identity_of, main, verified_identity
from models.encoders.integrity import sha256_file


def test_identity_is_the_sha256_of_sorted_path_and_hash_lines() -> None:
    files = {"weights.safetensors": "B" * 64, "config.json": "a" * 64}
    expected = hashlib.sha256(f"config.json\t{'a' * 64}\nweights.safetensors\t{'b' * 64}\n".encode()).hexdigest()
    assert identity_of(files) == expected
    assert identity_of(dict(reversed(files.items()))) == expected
    assert identity_of({**files, "MODEL_CARD.md": "c" * 64}) != expected
    with pytest.raises(ValueError, match="at least one file"):
        identity_of({})


def _folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "m"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "sub" / "calibration.json").write_text("[1]")
    sums = {
        "config.json": sha256_file(folder / "config.json"),
        "sub/calibration.json": sha256_file(folder / "sub" / "calibration.json"),
    }
    (folder / "checksums.json").write_text(json.dumps(sums))
    return folder, sums


def test_a_folder_identity_verifies_every_file_and_names_nested_ones(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder, sums = _folder(tmp_path)
    assert verified_identity(folder, sums) == identity_of({**sums, **PRETRAINED})
    assert main([str(folder)]) == 0 and capsys.readouterr().out.strip() == identity_of({**sums, **PRETRAINED})
    (folder / "sub" / "calibration.json").write_text("[2]")
    with pytest.raises(WeightsIntegrityError, match="sub/calibration.json has sha256"):
        verified_identity(folder, sums)
    (folder / "sub" / "calibration.json").unlink()
    with pytest.raises(WeightsMissing, match="sub/calibration.json recorded"):
        verified_identity(folder, sums)
