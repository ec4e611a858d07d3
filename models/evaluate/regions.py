"""Does matching regions of a scan beat the served whole-scan vote? Measured on real scans with boxes.

python -m models.evaluate.regions --manifest datasets/real/manifest.jsonl --cache datasets/real-cache
    [--per-category 20 100] [--draws 5] [--json OUT.json]

The served gallery (`models.encoders.gallery`) mean-pools block 4 of the ImageNet
EfficientNet-Lite0 trunk over the whole scan, which pools a small gun in a cluttered bag into
"a bag". Here each whole scan's block-4 map at 448 input (28 x 28 cells of 112 channels, cached
once as float16 under `--cache`) is cut into windows of 4, 6, 9 and 12 cells (387 a scan), and
the labelled item boxes of the manifest (1,331 scans carry them) say where the items are. Over
the same draws as `models.evaluate.real` (`per_category` labelled scans of each category, every
other scan a query), per threat item, the ROC-AUC of:
- `vote`: the served reading (the finding of `vote`, through `read_through_gallery`);
- `nearest item`: each query's best window against each labelled box's vector (the box's cells
  averaged), z-scored against the gallery scans that do not hold the item, top-3 boxes averaged;
- `window probe`: a linear classifier on window vectors (windows overlapping a box of the item
  by IoU >= 0.4 against windows of scans without it and windows clear of the boxes), the mean of
  a query's 3 highest window scores;
- `whole-scan probe`: the same classifier on the served whole-scan vectors;
- `ranks fused`: the sum of the ranks of `vote`, `window probe` and `whole-scan probe`;
- `vote, centred per source`: the served vote on vectors with each source repository's mean
  vector subtracted (the label-free equivalent of centring each carrier's scans).
Research-licensed images: evaluation only, never training of shipped weights.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from models.encoders.gallery import GALLERY_BLOCK, GALLERY_DIM
from models.encoders.imagenet import IMAGENET_PREPROCESS
from models.encoders.preprocess import to_tensor
from models.encoders.registry import load_encoder
from models.evaluate.metrics import verification_auc
from models.evaluate.real import (
    GalleryScans,
    RealImage,
    _gallery_draws,
    embed_gallery,
    read_real_manifest,
    read_through_gallery,
)

MAP_INPUT = 448  # input side of the block-4 maps: 28 x 28 cells
WINDOWS = ((4, 2), (6, 2), (9, 3), (12, 4))  # (side, stride) in cells
ITEMS = ("handgun", "kitchen_knife", "wrench")
POSITIVE_IOU = 0.4
TOP = 3
METHODS = ("vote", "nearest item", "window probe", "whole-scan probe", "ranks fused", "vote, centred per source")


def block4_maps(rows: list[RealImage], folder: Path, cache: Path, *, batch: int = 8) -> np.ndarray:
    """(n, 28, 28, 112) float16 block-4 maps of whole scans at `MAP_INPUT`, cached by manifest path."""
    target = cache / f"block4-maps-{MAP_INPUT}.npz"
    if target.is_file():
        stored = np.load(target)
        if stored["paths"].tolist() == [r.path for r in rows]:
            return cast(np.ndarray, stored["maps"])
    trunk = load_encoder("imagenet-effl0", device="cpu").module
    blocks = list(cast(torch.nn.Sequential, trunk.blocks))[: GALLERY_BLOCK + 1]
    cfg = replace(IMAGENET_PREPROCESS, image_size=MAP_INPUT)
    side = MAP_INPUT // 16
    maps = np.zeros((len(rows), side, side, GALLERY_DIM), np.float16)
    started = time.time()
    for start in range(0, len(rows), batch):
        images = []
        for row in rows[start : start + batch]:
            with Image.open(folder / row.path) as img:
                images.append(img.convert("RGB"))
        with torch.inference_mode():
            x = cast(torch.nn.Module, trunk.bn1)(cast(torch.nn.Module, trunk.conv_stem)(to_tensor(images, cfg)))
            for block in blocks:
                x = block(x)
        maps[start : start + batch] = x.permute(0, 2, 3, 1).numpy().astype(np.float16)
        if start % (batch * 25) == 0:
            print(f"block-4 maps: {start}/{len(rows)} scans, {time.time() - started:.0f}s", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(target, maps=maps, paths=np.array([r.path for r in rows]))
    return maps


def window_geometry(side: int) -> np.ndarray:
    """(w, 4) window corners in cells, in the order `window_vectors` lays them out."""
    return np.array(
        [
            (x, y, x + k, y + k)
            for k, stride in WINDOWS
            for y in range(0, side - k + 1, stride)
            for x in range(0, side - k + 1, stride)
        ],
        np.float32,
    )


def window_vectors(maps: np.ndarray, *, chunk: int = 64) -> np.ndarray:
    """(n, w, 112) float16 L2-normalised window means of each map."""
    out = []
    for start in range(0, len(maps), chunk):
        m = torch.from_numpy(maps[start : start + chunk].astype(np.float32)).permute(0, 3, 1, 2)
        w = torch.cat([F.avg_pool2d(m, k, stride).flatten(2) for k, stride in WINDOWS], 2).transpose(1, 2)
        out.append(F.normalize(w, dim=-1).numpy().astype(np.float16))
    return np.concatenate(out)


def grid_boxes(row: RealImage, size: tuple[int, int], side: int) -> list[tuple[np.ndarray, str]]:
    """The row's boxes in map cells (the maps squash the scan to a square)."""
    w, h = size
    return [
        (np.array([x0 / w * side, y0 / h * side, x1 / w * side, y1 / h * side]), c) for x0, y0, x1, y1, c in row.boxes
    ]


def overlap(box: np.ndarray, geometry: np.ndarray) -> np.ndarray:
    """IoU of one box with every window."""
    x0, y0 = np.maximum(box[0], geometry[:, 0]), np.maximum(box[1], geometry[:, 1])
    x1, y1 = np.minimum(box[2], geometry[:, 2]), np.minimum(box[3], geometry[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    areas = (geometry[:, 2] - geometry[:, 0]) * (geometry[:, 3] - geometry[:, 1])
    return cast(np.ndarray, inter / ((box[2] - box[0]) * (box[3] - box[1]) + areas - inter))


def linear_probe(x: np.ndarray, y: np.ndarray, *, decay: float = 1e-3) -> tuple[np.ndarray, float]:
    """Class-balanced L2-regularised logistic regression (LBFGS) on rows of `x`."""
    xs, ys = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32))
    weights = torch.where(ys > 0, 0.5 / ys.sum().clamp(min=1), 0.5 / (1 - ys).sum().clamp(min=1))
    w = torch.zeros(xs.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logits = xs @ w * 10 + b  # cosine-scale inputs: a wider weight range for the same decay
        loss = (F.binary_cross_entropy_with_logits(logits, ys, reduction="none") * weights).sum() + decay * (
            w * w
        ).sum()
        loss.backward()
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    return w.detach().numpy() * 10, float(b.detach())


def _top_mean(scores: np.ndarray, k: int = TOP) -> np.ndarray:
    return cast(np.ndarray, np.sort(scores, axis=1)[:, -min(k, scores.shape[1]) :].mean(axis=1))


def _ranks(scores: np.ndarray) -> np.ndarray:
    return cast(np.ndarray, scores.argsort().argsort())


class Regions:
    """Window vectors, box vectors and the served gallery vectors of the same whole scans."""

    def __init__(self, rows: list[RealImage], maps: np.ndarray, scans: GalleryScans, sizes: list[tuple[int, int]]):
        self.rows, self.scans = rows, scans
        side = maps.shape[1]
        self.geometry = window_geometry(side)
        self.windows = window_vectors(maps)
        self.boxes = [grid_boxes(r, s, side) for r, s in zip(rows, sizes, strict=True)]
        owner, names, vectors = [], [], []
        for n, boxes in enumerate(self.boxes):
            for box, name in boxes:
                a0, b0 = int(np.floor(box[0])), int(np.floor(box[1]))
                a1, b1 = max(a0 + 1, int(np.ceil(box[2]))), max(b0 + 1, int(np.ceil(box[3])))
                vectors.append(maps[n, b0:b1, a0:a1].astype(np.float32).mean(axis=(0, 1)))
                owner.append(n)
                names.append(name)
        self.box_owner, self.box_item = np.array(owner), np.array(names)
        box_vectors = F.normalize(torch.from_numpy(np.stack(vectors)), dim=-1)
        # every scan's best window against every box: (n, boxes)
        self.best_window = np.concatenate(
            [
                torch.einsum("bwd,id->bwi", torch.from_numpy(self.windows[s : s + 16].astype(np.float32)), box_vectors)
                .amax(dim=1)
                .numpy()
                for s in range(0, len(rows), 16)
            ]
        )
        sources = np.array([r.source.split("/")[0] for r in rows])
        centred = scans.vectors.astype(np.float32).copy()
        for source in set(sources.tolist()):
            centred[sources == source] -= centred[sources == source].mean(axis=0)
        self.centred = GalleryScans(rows, centred / np.linalg.norm(centred, axis=-1, keepdims=True))

    def holds(self, item: str, idx: np.ndarray) -> np.ndarray:
        return np.array([self.rows[i].holds(item) for i in idx])

    def nearest_item(self, item: str, gallery: np.ndarray, queries: np.ndarray) -> np.ndarray | None:
        cols = np.flatnonzero(np.isin(self.box_owner, gallery) & (self.box_item == item))
        background = gallery[~self.holds(item, gallery)]
        if not cols.size or not background.size:
            return None
        reference = self.best_window[np.ix_(background, cols)]
        z = (self.best_window[np.ix_(queries, cols)] - reference.mean(0)) / (reference.std(0) + 1e-6)
        return _top_mean(z)

    def window_probe(self, item: str, gallery: np.ndarray, queries: np.ndarray) -> np.ndarray | None:
        positives, negatives = [], []
        for n in gallery:
            mine = [box for box, name in self.boxes[n] if name == item]
            if self.rows[n].holds(item):
                if not mine:
                    continue  # held but not boxed: which windows hold it is unknown
                best = np.max([overlap(box, self.geometry) for box in mine], axis=0)
                positives.append(self.windows[n][best >= POSITIVE_IOU])
                negatives.append(self.windows[n][best < 0.05][::4])
            else:
                negatives.append(self.windows[n][::2])
        if not positives:
            return None
        pos, neg = np.concatenate(positives), np.concatenate(negatives)
        w, b = linear_probe(np.concatenate([pos, neg]), np.r_[np.ones(len(pos)), np.zeros(len(neg))])
        return _top_mean(self.windows[queries].astype(np.float32) @ w + b)

    def whole_probe(self, item: str, gallery: np.ndarray, queries: np.ndarray) -> np.ndarray:
        w, b = linear_probe(self.scans.vectors[gallery, 0], self.holds(item, gallery).astype(float))
        return cast(np.ndarray, self.scans.vectors[queries, 0].astype(np.float32) @ w + b)


def measure(regions: Regions, per_category: int, *, draws: int = 5, seed: int = 0) -> dict[str, Any]:
    """Per item and method: ROC-AUC over all queries and within each source, averaged over the draws."""
    rows = regions.rows
    sources = np.array([r.source.split("/")[0] for r in rows])
    collected: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for gallery, _ in _gallery_draws(regions.scans.labels, per_category, draws, seed):
        queries = np.setdiff1d(np.arange(len(rows)), gallery)
        served = read_through_gallery(regions.scans, gallery, queries)
        centred = read_through_gallery(regions.centred, gallery, queries)
        for item in ITEMS:
            has = regions.holds(item, queries).astype(int)
            if not has.any() or has.all():
                continue
            scores: dict[str, np.ndarray | None] = {
                "vote": np.array([v.findings.get(item, v.shares.get(item, 0.0)) for v in served]),
                "nearest item": regions.nearest_item(item, gallery, queries),
                "window probe": regions.window_probe(item, gallery, queries),
                "whole-scan probe": regions.whole_probe(item, gallery, queries),
                "vote, centred per source": np.array([v.findings.get(item, v.shares.get(item, 0.0)) for v in centred]),
            }
            parts = [scores["vote"], scores["window probe"], scores["whole-scan probe"]]
            if all(p is not None for p in parts):
                scores["ranks fused"] = np.sum([_ranks(cast(np.ndarray, p)) for p in parts], axis=0)
            for method, s in scores.items():
                if s is None:
                    continue
                collected[item][method].append(verification_auc(s, has))
                for source in sorted(set(sources[queries].tolist())):
                    mine = sources[queries] == source
                    if has[mine].sum() >= 10 and not has[mine].all():
                        collected[item][f"{method} within {source}"].append(verification_auc(s[mine], has[mine]))
    return {item: {k: float(np.mean(v)) for k, v in got.items()} for item, got in collected.items()}


def render(results: dict[str, dict[str, Any]]) -> str:
    sizes = list(results)
    lines = [
        "| item | method | " + " | ".join(f"{k} per category" for k in sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    for item in ITEMS:
        methods = [m for m in METHODS if any(m in results[k].get(item, {}) for k in sizes)]
        within = sorted({k.split(" within ")[1] for s in sizes for k in results[s].get(item, {}) if " within " in k})
        for method in methods:
            cells = []
            for k in sizes:
                got = results[k].get(item, {})
                cell = f"{got[method]:.3f}" if method in got else "n/a"
                parts = [f"{s} {got[f'{method} within {s}']:.2f}" for s in within if f"{method} within {s}" in got]
                cells.append(cell + (f" ({', '.join(parts)})" if parts else ""))
            lines.append(f"| `{item}` | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate.regions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True, help="folder for the block-4 maps (about 400 MB)")
    parser.add_argument("--per-category", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    rows = [r for r in read_real_manifest(args.manifest) if r.modality == "xray" and r.kind == "whole"]
    folder = args.manifest.parent
    maps = block4_maps(rows, folder, args.cache)
    sizes = []
    for row in rows:
        with Image.open(folder / row.path) as img:
            sizes.append(img.size)
    print(
        f"{len(rows)} whole scans, {sum(bool(r.boxes) for r in rows)} with boxes; embedding the served vectors",
        flush=True,
    )
    scans = embed_gallery(load_encoder("imagenet-effl0", device="cpu"), folder, rows)
    regions = Regions(rows, maps, scans, sizes)
    results = {str(k): measure(regions, k, draws=args.draws) for k in args.per_category}
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
