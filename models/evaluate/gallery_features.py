"""Every candidate gallery feature of every real scan, computed once and cached for the method sweep.

python -m models.evaluate.gallery_features --manifest datasets/real/manifest.jsonl --cache /tmp/gallery-cache

Per real x-ray (whole scans and crops) and per view, through the untouched ImageNet
EfficientNet-Lite0 trunk: the final 1280-channel map pooled by mean, max and GeM (p=3), and
blocks 4 (112 channels, stride 16) and 6 (320 channels, stride 32) pooled by mean and max; through
the trained x-ray tower (at its own input size): its embedding of the whole scan, its mirror image
and the 2x2 tiles. Views (`VIEWS`): the whole scan squashed to 224, its mirror image, the whole
scan framed on its contents (`models.encoders.framing`), the whole scan at 448, 4 overlapping
tiles (2x2, 60% of each side); with `--grid3` also 9 tiles (3x3, 40% of each side). Crops get
the first view only. Stored as float16 `.npz` per encoder, keyed by
manifest path: the sweep (`models.evaluate.gallery_methods`) reads them and never embeds again.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from models.encoders.encoder import Encoder
from models.encoders.framing import frame_xray
from models.encoders.imagenet import IMAGENET_PREPROCESS
from models.encoders.preprocess import to_tensor
from models.encoders.registry import DEFAULT_ENCODER, load_encoder
from models.evaluate.real import read_real_manifest

VIEWS = ("whole", "flip", "framed", "whole448", *(f"t2_{i}" for i in range(4)))
GRID3 = tuple(f"t3_{i}" for i in range(9))
TRAINED_VIEWS = ("whole", "flip", *(f"t2_{i}" for i in range(4)))
IMAGENET_FEATURES = ("avg", "max", "gem", "b4avg", "b4max", "b6avg", "b6max")


def tiles(img: Image.Image, grid: int, side: float) -> list[Image.Image]:
    """`grid` x `grid` overlapping tiles, each `side` of the image's width and height, evenly spread."""
    w, h = img.size
    tw, th = round(w * side), round(h * side)
    steps = [0.0] if grid == 1 else [i / (grid - 1) for i in range(grid)]
    return [
        img.crop((round(x * (w - tw)), round(y * (h - th)), round(x * (w - tw)) + tw, round(y * (h - th)) + th))
        for y in steps
        for x in steps
    ]


def views(img: Image.Image, names: tuple[str, ...] = VIEWS) -> list[tuple[str, Image.Image, int]]:
    """(view name, image, input size) for each named view of one scan."""
    made: dict[str, tuple[Image.Image, int]] = {
        "whole": (img, 224),
        "flip": (ImageOps.mirror(img), 224),
        "framed": (frame_xray(img), 224),
        "whole448": (img, 448),
    }
    if any(n.startswith("t2_") for n in names):
        made |= {f"t2_{i}": (t, 224) for i, t in enumerate(tiles(img, 2, 0.6))}
    if any(n.startswith("t3_") for n in names):
        made |= {f"t3_{i}": (t, 224) for i, t in enumerate(tiles(img, 3, 0.4))}
    return [(n, *made[n]) for n in names]


def _pool(fmap: torch.Tensor, prefix: str) -> dict[str, torch.Tensor]:
    return {f"{prefix}avg": fmap.mean(dim=(2, 3)), f"{prefix}max": fmap.amax(dim=(2, 3))}


def imagenet_features(trunk: torch.nn.Module, batch: torch.Tensor) -> dict[str, np.ndarray]:
    """Pooled final and intermediate maps of the ImageNet trunk for a preprocessed batch."""
    out: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        x = trunk.bn1(trunk.conv_stem(batch))  # type: ignore[operator]
        for i, block in enumerate(trunk.blocks):  # type: ignore[union-attr,arg-type]
            x = block(x)
            if i in (4, 6):
                out |= _pool(x, f"b{i}")
        x = trunk.bn2(trunk.conv_head(x))  # type: ignore[operator]
        out |= _pool(x, "")
        out["gem"] = x.clamp(min=1e-6).pow(3).mean(dim=(2, 3)).pow(1 / 3)
    return {k: F.normalize(v.float(), dim=-1).numpy() for k, v in out.items()}


def extract(manifest: Path, cache: Path, *, trained: str | None = DEFAULT_ENCODER, grid3: bool = False) -> None:
    rows = [r for r in read_real_manifest(manifest) if r.modality == "xray"]
    cache.mkdir(parents=True, exist_ok=True)
    paths = np.array([r.path for r in rows])
    imagenet = load_encoder("imagenet-effl0", device="cpu")
    encoders: list[tuple[str, Encoder]] = [("imagenet-effl0", imagenet)]
    if trained:
        encoders.append((trained, load_encoder(trained, device="cpu")))
    for name, encoder in encoders:
        target = cache / f"{name}.npz"
        if target.is_file():
            continue
        started = time.time()
        store: dict[str, np.ndarray] = {}
        wanted = (VIEWS + GRID3 if grid3 else VIEWS) if name == "imagenet-effl0" else TRAINED_VIEWS
        for n, row in enumerate(rows):
            with Image.open(manifest.parent / row.path) as img:
                scan = img.convert("RGB")
            names = wanted if row.kind == "whole" else wanted[:1]
            per_view = views(scan, names)
            feats: dict[str, list[np.ndarray]] = {}
            if name == "imagenet-effl0":
                for size in sorted({s for _, _, s in per_view}):
                    group = [v for _, v, s in per_view if s == size]
                    batch = to_tensor(group, replace(IMAGENET_PREPROCESS, image_size=size))
                    for k, v in imagenet_features(encoder.module, batch).items():
                        feats.setdefault(k, []).append(v)
                # sizes were grouped: put the views back in VIEWS order (448 is the 4th view)
                order = [
                    i for s in sorted({s for _, _, s in per_view}) for i, (_, _, t) in enumerate(per_view) if t == s
                ]
                inverse = np.argsort(order)
                stacked = {k: np.concatenate(v)[inverse] for k, v in feats.items()}
            else:
                stacked = {"emb": encoder.embed_images("xray", [v for _, v, _ in per_view])}
            for k, v in stacked.items():
                full = np.full((len(wanted), v.shape[1]), np.nan, np.float16)
                full[: len(v)] = v
                store.setdefault(k, np.zeros((len(rows), len(wanted), v.shape[1]), np.float16))[n] = full
            if n % 100 == 0:
                print(f"{name}: {n}/{len(rows)} scans, {time.time() - started:.0f}s", flush=True)
        arrays: dict[str, Any] = {"paths": paths, "views": np.array(wanted), **store}
        np.savez(target, **arrays)
        print(f"{name}: wrote {target} in {time.time() - started:.0f}s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.evaluate.gallery_features", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--grid3", action="store_true", help="also the 9 tiles of a 3x3 grid (9 more passes a scan)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    extract(args.manifest, args.cache, grid3=args.grid3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
