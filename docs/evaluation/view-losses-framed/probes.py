"""Throwaway probes behind the README's orientation, flip and hubness figures (not part of the product).

python docs/evaluation/view-losses-framed/probes.py --artifact models/artifacts/scanmatch-effl0-minilm \
    --manifest runs/eval-data/eval-s7-n1000/manifest.jsonl --bank runs/eval-data/bank-s1001-n2000/manifest.jsonl

The bank is 2,000 training-stream shipments: python -m models.generator.synthetic --out
runs/eval-data/bank-s1001-n2000 --n 2000 --seed 1001 --workers 2. Prints:
1. how often the framing's heavier-end decision agrees between two renderings of a parcel (framed
   darkness maps compared under the four flips, first 300 shipments), per category, and the trained
   tower's x-ray-to-x-ray recall@1 split by it;
2. photo-to-x-ray recall@1 when each x-ray embedding is averaged with that of its flipped framing;
3. recall@1 after gallery-side hubness corrections (CSLS, inverted softmax) with the bank's photos.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.encoders.framing import frame_xray
from models.encoders.preprocess import to_tensor
from models.evaluate.metrics import recall_at_k
from models.evaluate.view_consistency import generated_index
from models.generator.manifest import read_manifest
from models.generator.synthetic import render_view

FLIPS = {"id": (), "h": (3,), "v": (2,), "hv": (2, 3)}


def recall(photo: np.ndarray, xray: np.ndarray, labels: np.ndarray) -> float:
    """recall@1 of the evaluation, the x-ray embeddings (maybe sums) normalised first."""
    return recall_at_k(photo, xray / np.linalg.norm(xray, axis=1, keepdims=True), labels, 1)


def darkness_map(img: Image.Image) -> np.ndarray:
    a = np.asarray(frame_xray(img)).astype(np.float32)
    d = 1 - (a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114) / 255
    d = cv2.resize(d, (48, 48), interpolation=cv2.INTER_AREA)
    d = d - d.mean()
    return d / (np.linalg.norm(d) + 1e-6)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifact", type=Path, required=True)
    ap.add_argument("--manifest", type=Path, required=True)
    ap.add_argument("--bank", type=Path, required=True)
    args = ap.parse_args()
    enc = load_artifact(args.artifact, name=args.artifact.name, placement=choose_placement("cpu"))
    rows = list(read_manifest(args.manifest))
    root = args.manifest.parent
    photo = enc.embed_images("photo", [Image.open(root / r.photo) for r in rows])
    scans = [Image.open(root / r.xray).convert("RGB") for r in rows]
    labels = np.array([r.label == "match" for r in rows], dtype=int)
    matches = np.nonzero(labels)[0]

    # 2. Flipped framings, embedded by the x-ray tower directly (after framing and resizing).
    tower, pre = enc._image_towers["xray"], enc.preprocess.for_modality("xray")
    flipped: dict[str, list[np.ndarray]] = defaultdict(list)
    with torch.inference_mode():
        for s in range(0, len(scans), 32):
            t = to_tensor(scans[s : s + 32], pre)
            for name, dims in FLIPS.items():
                x = t.flip(dims) if dims else t
                flipped[name].append(F.normalize(tower(x).float(), dim=-1).numpy())
    emb = {k: np.concatenate(v) for k, v in flipped.items()}
    xray = emb["id"]
    print(f"photo -> x-ray recall@1: {recall(photo, xray, labels):.3f}")
    for name in ("h", "v", "hv"):
        print(f"  x-ray averaged with its {name}-flipped framing: {recall(photo, xray + emb[name], labels):.3f}")

    # 1. Heavier-end agreement between renderings, and the tower's x-ray -> x-ray recall by it.
    n = min(300, len(rows))
    again = [render_view(*generated_index(r), 1)[1].convert("RGB") for r in rows]
    xray_again = enc.embed_images("xray", again)
    hit = (xray @ xray_again.T).argmax(axis=1) == np.arange(len(rows))
    agree = []
    by_category: dict[str, list[bool]] = defaultdict(list)
    for i in range(n):
        a, b = darkness_map(scans[i]), darkness_map(again[i])
        scores = {
            "id": (a * b).sum(),
            "h": (a * b[:, ::-1]).sum(),
            "v": (a * b[::-1]).sum(),
            "hv": (a * b[::-1, ::-1]).sum(),
        }
        same_end = max(scores, key=lambda k: scores[k]) in ("id", "h")
        agree.append(same_end)
        by_category[rows[i].category].append(same_end)
    ok = np.array(agree)
    print(f"heavier end agrees between renderings: {ok.mean():.3f} of {n}")
    print("  by category:", {c: round(float(np.mean(v)), 2) for c, v in sorted(by_category.items())})
    print(f"  x-ray -> x-ray recall@1 when it agrees {hit[:n][ok].mean():.3f}, when not {hit[:n][~ok].mean():.3f}")

    # 3. Hubness corrections with a bank of training photos (never the evaluated queries).
    bank_rows = list(read_manifest(args.bank))
    bank = enc.embed_images("photo", [Image.open(args.bank.parent / r.photo) for r in bank_rows])
    sims = photo[matches] @ xray.T
    to_bank = xray @ bank.T
    for k in (5, 10, 20, 50):
        r = np.sort(to_bank, axis=1)[:, -k:].mean(axis=1)
        hits = (sims - 0.5 * r[None, :]).argmax(axis=1) == matches
        print(f"  CSLS k={k}, weight 0.5: recall@1 {hits.mean():.3f}")
    for beta in (10, 20, 30):
        z = np.log(np.exp(beta * to_bank).sum(axis=1))
        hits = (beta * sims - z[None, :]).argmax(axis=1) == matches
        print(f"  inverted softmax beta={beta}: recall@1 {hits.mean():.3f}")


if __name__ == "__main__":
    main()
