"""Measuring operator adaptation on the real evaluation set: paired training data from N labelled real scans
per category, and the rest held out.

    python -m models.train.real_pairs --manifest datasets/real/manifest.jsonl --per-category 20 --out runs/real-20

It stands in for an operator's own examined shipments, which pair their listing photo with their scan. The
real set has no such pairs, so they are assembled, as `models.evaluate.real`'s shipments are:
- scans: per x-ray category with at least `held_out_from` whole scans (handgun, kitchen knife, wrench,
  benign), the first N of a seeded shuffle (so the 20 are among the 100), three quarters to train on and
  a quarter to validate on (calibration, findings thresholds, the kept epoch);
- photos: half of the real photos of each category (seeded); the other half stays held out;
- each labelled scan gives a `mismatch` pair with a photo of another category (a listing of other goods), and
  where photos of its own category exist (handgun, wrench) a `match` pair with one of them; `contents` are
  the scan's labels (what it holds of the taxonomy; none for a benign bag), the title the photo's listing
  title or its category's label.
- `OUT/heldout.jsonl`: every real image not used above, in the real-image format, for
  `python -m models.evaluate.real --manifest OUT/heldout.jsonl`. Every run with the same `--seed` and
  `--held-out-from` (and `--held-out-max`) holds out the same images, so models adapted with 20 and with
  100 are compared on one set.

Research-licensed images: this writes paths to them, never copies, and what it trains is for measurement,
never shipped (datasets/README.md).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from models.encoders.taxonomy import TAXONOMY
from models.evaluate.real import BENIGN, RealImage, read_real_manifest
from models.generator.manifest import Label, ManifestRecord
from models.train.operator_data import write

VALIDATION_SHARE = 0.25


def _absolute(row: RealImage, folder: Path) -> RealImage:
    return row.model_copy(update={"path": str((folder / row.path).resolve())})


def _pair(scan: RealImage, photo: RealImage, n: int, split: str) -> ManifestRecord:
    label: Label = "match" if photo.category == scan.category else "mismatch"
    return ManifestRecord(
        id=f"real-{split}-{n:05d}-{label}",
        category=photo.category,
        scenario="real",
        label=label,
        photo=photo.path,
        xray=scan.path,
        title=photo.title or TAXONOMY[photo.category].label,
        description="",
        hts="",
        declared_weight_kg=0.0,
        declared_value=0.0,
        contents=sorted({c for c in (scan.category, *scan.labels) if c != BENIGN}),
    )


def build(
    rows: list[RealImage], *, per_category: int, held_out_from: int, seed: int, held_out_max: int | None = None
) -> tuple[list[ManifestRecord], list[ManifestRecord], list[RealImage]]:
    """(train pairs, validation pairs, held-out real images: at most `held_out_max` of each modality, kind and
    category, drawn with the seed)."""
    rng = np.random.default_rng(seed)
    scans: dict[str, list[RealImage]] = defaultdict(list)
    photos: dict[str, list[RealImage]] = defaultdict(list)
    for row in rows:
        if row.modality == "xray" and row.kind == "whole":
            scans[row.category].append(row)
        elif row.modality == "photo":
            photos[row.category].append(row)
    used: set[str] = set()
    labelled: dict[str, list[RealImage]] = {}
    for category in sorted(scans):
        if len(scans[category]) < held_out_from:
            continue  # too few to hold out as many as the largest draw: left to evaluation
        order = rng.permutation(len(scans[category]))
        drawn = [scans[category][i] for i in order[:held_out_from]]
        used |= {r.path for r in drawn}  # held out of evaluation whatever N is, so every N shares one held-out set
        labelled[category] = drawn[:per_category]
    train_photos: dict[str, list[RealImage]] = {}
    for category in sorted(photos):
        order = rng.permutation(len(photos[category]))
        train_photos[category] = [photos[category][i] for i in order[: len(order) // 2]]
        used |= {r.path for r in train_photos[category]}
    listing_categories = [c for c in sorted(train_photos) if train_photos[c]]
    splits: dict[str, list[ManifestRecord]] = {"train": [], "val": []}
    for category, drawn in labelled.items():
        n_val = max(1, round(VALIDATION_SHARE * len(drawn)))
        for split, part in (("val", drawn[:n_val]), ("train", drawn[n_val:])):
            for scan in part:
                if train_photos.get(category):
                    own = train_photos[category][int(rng.integers(len(train_photos[category])))]
                    splits[split].append(_pair(scan, own, len(splits[split]), split))
                other = rng.choice([c for c in listing_categories if c != category])
                photo = train_photos[other][int(rng.integers(len(train_photos[other])))]
                splits[split].append(_pair(scan, photo, len(splits[split]), split))
    held_out = [r for r in rows if r.path not in used]
    if held_out_max is not None:
        groups: dict[tuple[str, str, str], list[RealImage]] = defaultdict(list)
        for row in held_out:
            groups[(row.modality, row.kind, row.category)].append(row)
        kept = set()
        for key in sorted(groups):
            group = groups[key]
            kept |= {group[i].path for i in np.random.default_rng(seed).permutation(len(group))[:held_out_max]}
        held_out = [r for r in held_out if r.path in kept]
    return splits["train"], splits["val"], held_out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train.real_pairs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True, help="the real-image manifest (datasets/README.md)")
    parser.add_argument("--per-category", type=int, required=True, help="labelled real scans per category")
    parser.add_argument("--held-out-from", type=int, default=100, help="scans per category kept out of evaluation")
    parser.add_argument("--held-out-max", type=int, default=None, help="held-out images per modality, kind, category")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.per_category > args.held_out_from:
        parser.error("--per-category cannot exceed --held-out-from")
    folder = args.manifest.parent
    rows = [_absolute(r, folder) for r in read_real_manifest(args.manifest)]
    train, val, held_out = build(
        rows,
        per_category=args.per_category,
        held_out_from=args.held_out_from,
        seed=args.seed,
        held_out_max=args.held_out_max,
    )
    write(train, args.out / "train.jsonl")
    write(val, args.out / "val.jsonl")
    (args.out / "heldout.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in held_out))
    summary = {
        "train_pairs": len(train),
        "val_pairs": len(val),
        "train_labels": dict(sorted(Counter(r.label for r in train).items())),
        "held_out": dict(sorted(Counter(f"{r.modality}:{r.kind}:{r.category}" for r in held_out).items())),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
