from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.evaluate.real import RealImage
from models.generator.manifest import ManifestRecord, read_manifest
from models.train.config import TrainConfig
from models.train.operator_data import split, with_data, write
from models.train.real_pairs import build


def record(n: int, label: str) -> ManifestRecord:
    return ManifestRecord(
        id=f"examination-{n}",
        category="watch",
        scenario="real",
        label=label,  # type: ignore[arg-type]
        photo=f"images/p{n}.png",
        xray=f"images/x{n}.png",
        title="Steel watch",
        description="",
        hts="",
        declared_weight_kg=0.2,
        declared_value=50,
        contents=["watch"],
    )


def test_the_split_holds_out_a_share_of_each_label_fixed_by_the_ids() -> None:
    records = [record(n, "match" if n % 3 else "mismatch") for n in range(30)]
    train, val = split(records, 0.25)
    assert len(val) == 5 + 3 and {r.label for r in val} == {"match", "mismatch"}
    assert not {r.id for r in train} & {r.id for r in val} and len(train) + len(val) == 30
    again_train, again_val = split(list(reversed(records)), 0.25)
    assert {r.id for r in again_val} == {r.id for r in val}
    with pytest.raises(ValueError, match="between 0 and 1"):
        split(records, 1.0)


def test_a_lone_manifest_is_split_with_absolute_paths_and_too_little_is_refused(tmp_path: Path) -> None:
    manifest = write([record(n, "match" if n % 2 else "mismatch") for n in range(40)], tmp_path / "x" / "m.jsonl")
    cfg = with_data(TrainConfig(), tmp_path / "run", name="ours", train=manifest, val=None, share=0.25)
    assert cfg.name == "ours" and cfg.views == 1
    val = list(read_manifest(Path(str(cfg.val_manifest))))
    assert len(val) == 10 and Path(val[0].photo) == (tmp_path / "x" / "images" / Path(val[0].photo).name).resolve()
    assert len(list(read_manifest(Path(str(cfg.train_manifest))))) == 30
    few = write([record(n, "match") for n in range(12)], tmp_path / "few.jsonl")
    with pytest.raises(ValueError, match="at least 8 with matches and mismatches"):
        with_data(TrainConfig(), tmp_path / "run2", name=None, train=few, val=None, share=0.25)
    with pytest.raises(ValueError, match="needs --train-manifest"):
        with_data(TrainConfig(), tmp_path / "run3", name=None, train=None, val=few, share=0.25)


def test_real_pairs_hold_out_the_largest_draw_for_every_n_and_pair_each_scan() -> None:
    rows = [
        RealImage(path=f"x/{c}/{i}.jpg", modality="xray", category=c, kind="whole", labels=[] if c == "benign" else [c])
        for c in ("handgun", "benign", "pliers")
        for i in range(30 if c != "pliers" else 5)
    ] + [
        RealImage(path=f"p/{c}/{i}.jpg", modality="photo", category=c, kind="photo")
        for c in ("handgun", "watch")
        for i in range(6)
    ]
    runs = {n: build(rows, per_category=n, held_out_from=20, seed=0) for n in (8, 20)}
    assert runs[8][2] == runs[20][2]  # one held-out set
    train, val, held_out = runs[8]
    scans = {r.xray for r in train + val}
    assert len(scans) == 16 and not scans & {r.path for r in held_out}
    assert {r.path for r in held_out if r.category == "pliers"} == {f"x/pliers/{i}.jpg" for i in range(5)}
    assert sum(r.modality == "photo" for r in held_out) == 6 and len(val) == 2 + 2 + 2  # 2 gun scans x 2, 2 benign
    for pair in train + val:
        assert (pair.label == "match") == (pair.category in pair.xray)
        assert pair.contents == ([] if "benign" in pair.xray else ["handgun"])
        assert pair.photo not in {r.path for r in held_out}
    assert json.loads(train[0].model_dump_json())["scenario"] == "real"
