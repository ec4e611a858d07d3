"""Which tower loses the instance: the same goods photographed (or packed and scanned) again.

python -m models.evaluate.view_consistency --artifact models/artifacts/scanmatch-effl0-minilm \\
    --manifest runs/eval-data/eval-s7-n1000/manifest.jsonl

Photo-to-x-ray recall@1 needs both towers to keep what tells one instance from another and to drop
how it was shown. This re-renders every shipment of a generated manifest as another view (same goods,
listing and contents; another listing photo, packing and scan, as training's `views`) and reports
recall@1 within each modality across the two renderings, over all shipments: a photo finding the
other photo of its goods among every other shipment's, an x-ray finding the other scan of its parcel.
It also reports photo-to-x-ray recall@1 (match shipments) for each pairing of renderings. A tower
whose own re-rendering is hard to find is the one that keeps the nuisance (pose, packing, clutter).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.encoders.encoder import Encoder
from models.evaluate.metrics import recall_at_k, recall_from_similarity
from models.generator.manifest import ManifestRecord, read_manifest
from models.generator.synthetic import generate_shipment, parse_mix, render_view

_GENERATED_ID = re.compile(r"^s(\d+)-(\d{7})$")


def generated_index(row: ManifestRecord) -> tuple[int, int]:
    """(seed, index) of a generated shipment, from its id; ValueError for anything else."""
    m = _GENERATED_ID.match(row.id)
    if m is None:
        raise ValueError(
            f"shipment {row.id!r} is not a generated one (ids look like s7-0000042): only generated "
            "shipments can be rendered again; write the split with python -m models.generator.synthetic"
        )
    return int(m.group(1)), int(m.group(2))


def view_consistency(
    encoder: Encoder, manifest: Path, *, view: int = 1, mix: dict[str, float] | None = None, size: int | None = None
) -> dict[str, Any]:
    """Recall@1 within and across modalities between the written split and its re-rendering `view`.

    `size` is the side the split was written at; by default read off its first photo.
    """
    if view < 1:
        raise ValueError(f"view must be at least 1 (view 0 is the written split), got {view}")
    rows = list(read_manifest(manifest))
    if size is None and rows:
        with Image.open(manifest.parent / rows[0].photo) as first:
            size = first.size[0]
    for row in rows[:5]:
        seed, index = generated_index(row)
        s = generate_shipment(seed=seed, index=index, size=32, mix=mix)
        if (s.category, s.scenario) != (row.category, row.scenario):
            raise ValueError(
                f"shipment {row.id} renders as a {s.scenario} of {s.category}, but the manifest has a "
                f"{row.scenario} of {row.category}: was the split written with another --mix? pass the same --mix"
            )
    photos, xrays, again_photos, again_xrays = [], [], [], []
    for row in tqdm(rows, desc=f"view {view}", unit="shipment"):
        seed, index = generated_index(row)
        photo, xray = render_view(seed, index, view, size=size or 256, mix=mix)
        photos.append(manifest.parent / row.photo)
        xrays.append(manifest.parent / row.xray)
        again_photos.append(photo)
        again_xrays.append(xray)
    p0 = encoder.embed_images("photo", [Image.open(p) for p in photos])
    x0 = encoder.embed_images("xray", [Image.open(x).convert("RGB") for x in xrays])
    p1 = encoder.embed_images("photo", again_photos)
    x1 = encoder.embed_images("xray", [x.convert("RGB") for x in again_xrays])
    # Within a modality every shipment is a query; across them, the match shipments only.
    everyone = np.ones(len(rows), dtype=int)
    matches = np.array([r.label == "match" for r in rows], dtype=int)
    return {
        "shipments": len(rows),
        "match_queries": int(matches.sum()),
        "view": view,
        "photo_to_photo": recall_at_k(p0, p1, everyone, 1),
        "xray_to_xray": recall_at_k(x0, x1, everyone, 1),
        "photo_to_xray": {
            "written": recall_from_similarity(p0 @ x0.T, matches, 1),
            "photo written, x-ray again": recall_from_similarity(p0 @ x1.T, matches, 1),
            "photo again, x-ray written": recall_from_similarity(p1 @ x0.T, matches, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    prog = "python -m models.evaluate.view_consistency"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, required=True, help="an artifact folder (weights + model card)")
    parser.add_argument("--manifest", type=Path, required=True, help="a generated manifest.jsonl (ids s<seed>-<index>)")
    parser.add_argument("--view", type=int, default=1, help="which re-rendering to compare with (default 1)")
    parser.add_argument("--mix", type=parse_mix, default=None, help="the --mix the split was written with, if any")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        raise SystemExit(f"{args.manifest}: no such manifest; write one with python -m models.generator.synthetic")
    encoder = load_artifact(args.artifact, name=args.artifact.name, placement=choose_placement("cpu"))
    try:
        out = view_consistency(encoder, args.manifest, view=args.view, mix=args.mix)
    except ValueError as e:
        raise SystemExit(str(e)) from e
    print(f"{args.artifact} on {args.manifest}: {out['shipments']} shipments, rendered again as view {out['view']}\n")
    print("| recall@1 across renderings | value |\n|---|---|")
    print(f"| photo -> other photo of the same goods (all shipments) | {out['photo_to_photo']:.3f} |")
    print(f"| x-ray -> other scan of the same parcel (all shipments) | {out['xray_to_xray']:.3f} |")
    for name, value in out["photo_to_xray"].items():
        print(f"| photo -> x-ray, {name} ({out['match_queries']} matches) | {value:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
