"""Where photo-to-x-ray retrieval fails: the wrong category, or the right category but another instance.

python -m models.evaluate.retrieval_errors --artifact models/artifacts/scanmatch-effl0-minilm \\
    --manifest runs/eval-data/eval-s7-n1000/manifest.jsonl

Each match shipment's photo queries every x-ray of the manifest (as recall@1 in `models.evaluate`).
An x-ray's category is what it shows (its first content), so a substitution scan of a phone counts
as a phone. Prints recall@1, the share of queries whose top x-ray shows another category, recall@1
within the query's own category (gallery: the x-rays showing it) and recall@1 per category.
`--mirror-xrays` measures test-time augmentation: each x-ray's embedding is the normalised mean of
the scan's and its mirror image's (the tower was trained on both orientations).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.encoders.encoder import Encoder
from models.generator.manifest import read_manifest


def retrieval_errors(encoder: Encoder, manifest: Path, *, mirror_xrays: bool = False) -> dict[str, Any]:
    rows = list(read_manifest(manifest))
    photo = encoder.embed_images("photo", [Image.open(manifest.parent / r.photo) for r in rows])
    scans = [Image.open(manifest.parent / r.xray).convert("RGB") for r in rows]
    xray = encoder.embed_images("xray", scans)
    if mirror_xrays:
        xray = xray + encoder.embed_images("xray", [ImageOps.mirror(s) for s in scans])
        xray /= np.linalg.norm(xray, axis=1, keepdims=True)
    declared = np.array([r.category for r in rows])
    shows = np.array([(r.contents or ["nothing"])[0] for r in rows])
    queries = np.array([i for i, r in enumerate(rows) if r.label == "match"])
    sims = photo[queries] @ xray.T
    top = sims.argmax(axis=1)
    hit = top == queries
    within = []
    per_category: dict[str, list[bool]] = defaultdict(list)
    for q, row, ok in zip(queries, sims, hit, strict=True):
        same = np.nonzero(shows == declared[q])[0]
        within.append(bool(same[row[same].argmax()] == q))
        per_category[str(declared[q])].append(bool(ok))
    return {
        "queries": int(queries.size),
        "gallery": len(rows),
        "recall_at_1": float(hit.mean()),
        "top1_other_category": float((shows[top] != declared[queries]).mean()),
        "within_category_recall_at_1": float(np.mean(within)),
        "per_category_recall_at_1": {c: round(float(np.mean(v)), 3) for c, v in sorted(per_category.items())},
    }


def main(argv: list[str] | None = None) -> int:
    prog = "python -m models.evaluate.retrieval_errors"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, required=True, help="an artifact folder (weights + model card)")
    parser.add_argument("--manifest", type=Path, required=True, help="a paired manifest.jsonl (generator format)")
    parser.add_argument("--mirror-xrays", action="store_true", help="average each x-ray's embedding with its mirror's")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        raise SystemExit(f"{args.manifest}: no such manifest; write one with python -m models.generator.synthetic")
    encoder = load_artifact(args.artifact, name=args.artifact.name, placement=choose_placement("cpu"))
    out = retrieval_errors(encoder, args.manifest, mirror_xrays=args.mirror_xrays)
    mirrored = " (x-rays averaged with their mirror images)" if args.mirror_xrays else ""
    queries = f"{out['queries']} photo queries among {out['gallery']} x-rays{mirrored}"
    print(f"{args.artifact} on {args.manifest}: {queries}\n")
    print(f"recall@1 {out['recall_at_1']:.3f}")
    print(f"top x-ray shows another category {out['top1_other_category']:.3f}")
    print(f"recall@1 within the query's category {out['within_category_recall_at_1']:.3f}\n")
    print("| category | recall@1 |\n|---|---|")
    for category, value in sorted(out["per_category_recall_at_1"].items(), key=lambda kv: kv[1]):
        print(f"| {category} | {value:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
