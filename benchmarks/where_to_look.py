"""How often the console's where-to-look overlay puts its hottest cell on the concealed item.

python -m benchmarks.where_to_look [--shipments 100] [--seed 1919] [--encoder NAME] [--cells 8 --window 2]
    [--gallery N] [--json OUT]

Renders concealment shipments with the paired generator (a declared item with a knife, handgun,
battery pack or pills hidden in it; the generator reports the concealed item's pixels), computes
the overlay exactly as the service does for a shipment with that listing photo and x-ray and an
empty labelled gallery (service.matching.where_to_look; `--gallery N`: N generated scans labelled as
examinations label them, so that findings blend the model's head with the gallery's vote), and
counts a hit when the hottest cell holds any pixel of the concealed item (and, stricter, when the
item covers a fifth of the cell). Baselines under the same rules: a cell drawn at random from the
grid (its expected hit rate, exact: the share of cells holding the item), a cell drawn at random
among those holding goods (a quarter of the cell's pixels dense), and the densest cell.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from models.encoders.encoder import Encoder
from models.encoders.occlusion import Grid
from models.encoders.registry import default_registry
from models.generator.scenarios import CONCEALED
from models.generator.synthetic import generate_shipment
from service.matching import gallery, where_to_look
from service.matching.gallery import Neighbour, Vote
from service.settings import Matching

DENSE = 0.25  # darkness from which a pixel is goods rather than packaging (models.encoders.framing)
GOODS_SHARE = 0.25  # a cell holds goods when this share of its pixels is dense
COVERS = 0.2  # the stricter rule: the concealed item covers this share of the cell
GALLERY_SEED = 77  # the labelled scans of --gallery: another seed than the shipments'
COLUMNS = ("shown", "mismatch", "finding", "random cell", "random goods cell", "densest cell")


def darkness(image: Image.Image) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB"), np.float32)
    return 1.0 - (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114) / 255.0


def cell_sums(mask: np.ndarray, cells: int) -> np.ndarray:
    """(cells, cells): how many pixels of `mask` each cell of the grid over the image holds."""
    h, w = mask.shape
    ys, xs = np.linspace(0, h, cells + 1).round().astype(int), np.linspace(0, w, cells + 1).round().astype(int)
    return np.array(
        [[mask[ys[r] : ys[r + 1], xs[c] : xs[c + 1]].sum() for c in range(cells)] for r in range(cells)], np.float64
    )


def hottest(cells: list[list[float]]) -> tuple[int, int]:
    grid = np.asarray(cells)
    r, c = np.unravel_index(int(np.argmax(grid)), grid.shape)
    return int(r), int(c)


@dataclass(frozen=True)
class Labelled:
    """Generated scans labelled as examinations label them (a concealment by its concealed item, a match by its
    category), read in the gallery's space as the service reads its labelled gallery."""

    encoder: Encoder
    vectors: np.ndarray  # (n, d) gallery vectors
    categories: list[str]

    @classmethod
    def generated(cls, encoder: Encoder, n: int) -> Labelled:
        kinds = ("match", "concealment")
        scans = [generate_shipment(seed=GALLERY_SEED, index=i, scenario=kinds[i % 2]) for i in range(n)]
        categories = [s.contents[-1] if s.scenario == "concealment" else s.category for s in scans]
        return cls(encoder, np.concatenate(gallery.embed(encoder, [s.xray for s in scans])), categories)

    def vote(self, vectors: np.ndarray) -> Vote:
        """The service's vote (GalleryStore.vote) over these scans, searched exactly instead of by FAISS."""
        similarity = self.vectors @ vectors[0]
        nearest = np.argsort(-similarity)[: gallery.NEIGHBOURS]
        near = [Neighbour(f"{i:064x}", (int(i),), (self.categories[i],), float(similarity[i])) for i in nearest]
        m = Matching()
        return gallery.vote(near, dict(Counter(self.categories)), half_evidence=m.gallery_prior, shown=m.gallery_k)


def score(index: int, *, seed: int, encoder: Any, grid: Grid, labelled: Labelled | None = None) -> dict[str, Any]:
    s = generate_shipment(seed=seed, index=index, scenario="concealment")
    assert s.concealed is not None
    hidden = s.contents[-1]
    listed = io.BytesIO()
    s.photo.save(listed, format="JPEG", quality=90)  # as marketplaces file it (and the datasets store it)
    photo = encoder.embed_images("photo", [Image.open(listed).convert("RGB")])[0]
    started = time.perf_counter()
    found = where_to_look.saliency(
        encoder=encoder,
        xray=s.xray,
        photo=photo,
        grid=grid,
        gallery_encoder=labelled.encoder if labelled else None,
        vote=labelled.vote if labelled else None,
    )
    seconds = time.perf_counter() - started
    maps, shown = where_to_look.overlay_maps(found)
    by_key = {m.key: m for m in maps}
    area = (s.xray.size[0] / grid.cells) * (s.xray.size[1] / grid.cells)
    dense = cell_sums(darkness(s.xray) > DENSE, grid.cells)
    goods = dense >= GOODS_SHARE * area
    picked = {
        "shown": hottest(by_key[shown].cells),
        "mismatch": hottest(by_key[where_to_look.MISMATCH].cells),
        "finding": hottest(by_key[f"finding:{hidden}"].cells),
        "densest cell": hottest(dense.tolist()),
    }
    row: dict[str, Any] = {"index": index, "hidden": hidden, "declared": s.category, "seconds": seconds}
    row["reported"] = [m.key for m in maps if m.present]
    covered = cell_sums(s.concealed, grid.cells)
    for rule, holds in (("any", covered > 0), ("fifth", covered >= COVERS * area)):
        row[rule] = {name: float(holds[cell]) for name, cell in picked.items()}
        row[rule]["random cell"] = float(holds.mean())
        row[rule]["random goods cell"] = float(holds[goods].mean()) if goods.any() else float(holds.mean())
    return row


def table(rows: list[dict[str, Any]], rule: str) -> str:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["hidden"]].append(row)
    lines = [
        "| concealed | n | reported | " + " | ".join(COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(COLUMNS),
    ]
    for name, chosen in [*((k, groups[k]) for k in CONCEALED if k in groups), ("all", rows)]:
        reported = np.mean([f"finding:{r['hidden']}" in r["reported"] for r in chosen])
        figures = " | ".join(f"{np.mean([r[rule][c] for r in chosen]):.2f}" for c in COLUMNS)
        lines.append(f"| {name} | {len(chosen)} | {reported:.2f} | {figures} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1919, help="a seed no training, calibration or demo uses")
    parser.add_argument("--encoder", default=Matching().encoder)
    parser.add_argument("--cells", type=int, default=where_to_look.GRID.cells)
    parser.add_argument("--window", type=int, default=where_to_look.GRID.window)
    parser.add_argument("--gallery", type=int, default=0, help="labelled generated scans in the gallery (0: none)")
    parser.add_argument("--json", type=Path, default=None, help="write every shipment's figures here")
    args = parser.parse_args()
    encoder = default_registry().load(args.encoder)
    grid = Grid(cells=args.cells, window=args.window)
    m = Matching()
    labelled = Labelled.generated(default_registry().load(m.gallery_encoder), args.gallery) if args.gallery else None
    rows = [score(i, seed=args.seed, encoder=encoder, grid=grid, labelled=labelled) for i in range(args.shipments)]
    seconds = np.array([r["seconds"] for r in rows])
    print(
        f"{args.shipments} concealment shipments (seed {args.seed}), {args.encoder}, grid {grid.cells}x{grid.cells}, "
        f"windows of {grid.window}x{grid.window} cells ({grid.steps**2} greyed-out copies); labelled gallery: "
        + (f"{args.gallery} generated scans (seed {GALLERY_SEED}) through {m.gallery_encoder}" if labelled else "none")
    )
    print("\nhit: the cell holds a pixel of the concealed item\n")
    print(table(rows, "any"))
    print(f"\nhit: the concealed item covers {COVERS:.0%} of the cell\n")
    print(table(rows, "fifth"))
    print(f"overlay: median {np.median(seconds):.2f} s, p90 {np.quantile(seconds, 0.9):.2f} s per shipment")
    if args.json is not None:
        args.json.write_text("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n")  # a line a shipment


if __name__ == "__main__":
    main()
