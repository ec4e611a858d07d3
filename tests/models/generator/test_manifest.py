from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.generator.manifest import ManifestRecord, read_manifest
from models.generator.synthetic import CATEGORIES, SCENARIOS, main, write_dataset


def test_manifest_validates_and_points_at_images(tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "d", n=12, seed=4, size=64, progress=False)
    records = list(read_manifest(path))
    assert len(records) == 12 and len({r.id for r in records}) == 12
    for r in records:
        assert r.category in CATEGORIES and r.scenario in SCENARIOS
        assert (r.label == "match") == (r.scenario == "match")
        assert (path.parent / r.photo).is_file() and (path.parent / r.xray).is_file()
        assert r.hts and r.title and r.declared_weight_kg > 0 and r.declared_value > 0
    raw = json.loads(path.read_text().splitlines()[0])
    assert list(raw) == list(ManifestRecord.model_fields)


def test_manifest_rejects_bad_lines(tmp_path: Path) -> None:
    good = write_dataset(tmp_path / "d", n=1, seed=4, size=32, progress=False).read_text().strip()
    rec = json.loads(good)
    for bad in ({**rec, "label": "maybe"}, {**rec, "extra": 1}, {k: v for k, v in rec.items() if k != "xray"}):
        with pytest.raises(ValidationError):
            ManifestRecord.model_validate(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(good + "\n" + json.dumps({**rec, "label": "maybe"}) + "\n")
    with pytest.raises(ValueError, match="broken.jsonl:2"):
        list(read_manifest(broken))


def test_cli_writes_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--out", str(tmp_path / "c"), "--n", "3", "--seed", "1", "--size", "48", "--mix", "concealment=1"])
    assert "manifest.jsonl" in capsys.readouterr().out
    assert {r.scenario for r in read_manifest(tmp_path / "c" / "manifest.jsonl")} == {"concealment"}
