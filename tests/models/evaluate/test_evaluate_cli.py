"""`python -m models.evaluate` end to end on a small held-out split: three methods, one report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.evaluate.__main__ import main

_KEYS = {"roc_auc", "tpr_at_fpr_1pct", "tpr_at_fpr_5pct", "ece", "recall_at_1", "recall_at_5"}


def test_three_methods_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "report" / "eval.json"
    argv = ["--n", "32", "--seed", "7", "--gallery-n", "16", "--data", str(tmp_path / "data"), "--json", str(out)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert set(result["methods"]) == {"trained", "imagenet_cosine", "opencv_baseline"}
    for name, method in result["methods"].items():
        assert set(method) >= _KEYS, name
        assert 0.0 <= method["recall_at_1"] <= method["recall_at_5"] <= 1.0
        assert {"roc_auc", "detection_rate"} <= set(next(iter(method["per_scenario"].values())))
    assert out.with_suffix(".md").read_text().startswith("#")
    assert out.with_suffix(".roc.png").stat().st_size > 0
    # The split is kept and read back on the next run, through the validated manifest reader.
    manifest = tmp_path / "data" / "eval-s7-n32" / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"label": "match"', '"label": "same"', 1))
    with pytest.raises(ValueError, match="manifest.jsonl:"):
        main(argv)


def test_training_seeds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="were used to train"):
        main(["--seed", "1001", "--json", str(tmp_path / "x.json"), "--data", str(tmp_path / "data")])
