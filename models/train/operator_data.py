"""The operator's paired manifest as a training run's data: given on the command line, split into training
and validation shipments when no validation manifest is given."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from models.generator.manifest import ManifestRecord, dumps, read_manifest
from models.train.config import TrainConfig

MIN_VALIDATION = 8  # shipments: fewer cannot set a calibration or a findings threshold


def split(records: list[ManifestRecord], share: float) -> tuple[list[ManifestRecord], list[ManifestRecord]]:
    """(train, val): per label, the share of shipments first in the order of their ids' hashes is held out (at
    least one of each label), so the draw is fixed by the data and both labels are validated on."""
    if not 0 < share < 1:
        raise ValueError(f"--val-share must lie between 0 and 1, not {share}")
    train: list[ManifestRecord] = []
    val: list[ManifestRecord] = []
    for label in sorted({r.label for r in records}):
        ordered = sorted((r for r in records if r.label == label), key=lambda r: hashlib.sha256(r.id.encode()).digest())
        held = max(1, math.ceil(share * len(ordered)))
        val += ordered[:held]
        train += ordered[held:]
    return train, val


def _absolute(record: ManifestRecord, root: Path) -> ManifestRecord:
    paths = {"photo": str((root / record.photo).resolve()), "xray": str((root / record.xray).resolve())}
    return record.model_copy(update=paths)


def write(records: list[ManifestRecord], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def with_data(
    cfg: TrainConfig, out: Path, *, name: str | None, train: Path | None, val: Path | None, share: float
) -> TrainConfig:
    """The config with the command line's name and manifests; a lone training manifest is split in `out/split/`
    (image paths made absolute, so the split manifests can live anywhere)."""
    update: dict[str, object] = {}
    if name:
        update["name"] = name
    if val is not None and train is None:
        raise ValueError("--val-manifest needs --train-manifest")
    if train is not None:
        if val is None:
            records = list(read_manifest(train))
            kept, held = split([_absolute(r, train.parent) for r in records], share)
            if len(held) < MIN_VALIDATION or len({r.label for r in held}) < 2:
                raise ValueError(
                    f"{train}: {len(held)} of {len(records)} shipments held out to validate on, with labels "
                    f"{sorted({r.label for r in held})}; at least {MIN_VALIDATION} with matches and mismatches are "
                    "needed: export more examined shipments, raise --val-share or give --val-manifest"
                )
            train, val = write(kept, out / "split" / "train.jsonl"), write(held, out / "split" / "val.jsonl")
        update |= {"train_manifest": str(train), "val_manifest": str(val), "views": 1}
    return cfg.model_copy(update=update)
