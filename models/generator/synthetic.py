"""Synthetic paired shipments: a marketplace product photo and a dual-energy parcel x-ray.

Python API (stable; the model and the service import it)::

    from models.generator.synthetic import CATEGORIES, SCENARIOS, Shipment, generate_shipment, write_dataset

    s = generate_shipment(seed=1, index=42, size=256, scenario="concealment", category="smartphone")
    s.photo, s.xray            # PIL RGB images, size x size
    s.category, s.scenario     # declared category; one of SCENARIOS
    s.label                    # "match" | "mismatch"
    s.title, s.description, s.hts, s.declared_weight_kg, s.declared_value
    s.contents                 # what is really in the parcel, e.g. ["smartphone", "handgun"]
    s.concealed                # concealment: the concealed item's pixels on the x-ray (bool mask), else None
    generate_listing(seed=1, index=42).title   # the same listing, without rendering the images

    manifest = write_dataset(Path("data/synth"), n=1000, seed=1, size=256, mix={"match": 0.5, ...})

`generate_shipment` depends on (seed, index) alone, never on n, so a dataset can be generated in
slices by several processes and still be identical. Scenarios: match; substitution (another
category in the parcel); near_substitution (same broad kind, e.g. phone declared, tablet shipped;
toy declared, handgun shipped); concealment (declared item plus a knife, handgun, battery pack or
pills, x-ray only); quantity_mismatch; empty_or_decoy (packaging only, or a mass to fake the weight).
The photo always shows the declared item. `contents` lists product categories, concealed goods
("kitchen_knife", "handgun", "battery_pack", "pills") and "decoy_mass"; packaging and clutter
(cables, leaflets) are not listed.

CLI: ``python -m models.generator.synthetic --out DIR --n N --seed S [--size 256]
[--mix match=0.5,concealment=0.2,...]`` writes ``DIR/images/*`` and ``DIR/manifest.jsonl``
(format: datasets/README.md, schema: models.generator.manifest.ManifestRecord).
"""

from __future__ import annotations

import argparse
import io
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from models.generator import photo, xray
from models.generator.manifest import Label, ManifestRecord, dumps
from models.generator.objects import CATEGORIES, build
from models.generator.objects.extras import battery_pack, decoy_mass, pills
from models.generator.packaging import pack
from models.generator.parts import ObjectModel
from models.generator.scenarios import SCENARIOS, Plan, plan, sample_scenario
from models.generator.text import Listing, listing

__all__ = ["CATEGORIES", "SCENARIOS", "Shipment", "generate_listing", "generate_shipment", "write_dataset"]


@dataclass
class Shipment:
    photo: Image.Image
    xray: Image.Image
    category: str
    scenario: str
    label: Label
    title: str
    description: str
    hts: str
    declared_weight_kg: float
    declared_value: float
    contents: list[str] = field(default_factory=list)
    # Where the concealed item lies on the x-ray, (size, size) bool; None without one. Not written to manifests.
    concealed: np.ndarray | None = None


def _hidden(name: str, rng: np.random.Generator) -> ObjectModel:
    if name == "battery_pack":
        return battery_pack(rng)
    if name == "pills":
        return pills(rng)
    return build(name, rng)


def _streams(seed: int, index: int) -> list[np.random.Generator]:
    """Shipment `index`'s six random streams: objects, substitutes, photo, packing, x-ray, text."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence([seed, index, 1]).spawn(6)]


def _shipment_from_plan(p: Plan, seed: int, index: int, size: int, view: int = 0) -> Shipment:
    r_obj, r_sub, r_photo, r_pack, r_xray, r_text = _streams(seed, index)
    if view:  # the same goods, photographed and packed and scanned again
        r_photo, r_pack, r_xray = (
            np.random.default_rng(s) for s in np.random.SeedSequence([seed, index, 2, view]).spawn(3))
    declared = build(p.declared, r_obj)
    # A match ships the very instance that was photographed; copies of one product are identical.
    units = [declared if c == p.declared else build(c, r_sub) for c in p.shipped]
    if units and p.shipped[0] != p.declared:
        units = [units[0]] * len(units)
    text = listing(declared, p.quantity, r_text)
    hidden = _hidden(p.hidden, r_sub) if p.hidden else None
    decoy = decoy_mass(r_sub, text.declared_weight_kg * 0.8) if p.decoy else None
    scene = pack(r_pack, main=units, hidden=hidden, decoy=decoy, size=size)
    return Shipment(
        photo=photo.render([declared] * p.quantity, r_photo, size=size),
        xray=xray.render(scene, r_xray),
        category=p.declared, scenario=p.scenario, label=p.label, title=text.title,
        description=text.description, hts=text.hts, declared_weight_kg=text.declared_weight_kg,
        declared_value=text.declared_value, contents=p.contents,
        concealed=xray.coverage(scene, scene.hidden) if scene.hidden else None,
    )


def generate_shipment(*, seed: int, index: int, size: int = 256, scenario: str | None = None,
                      category: str | None = None, mix: dict[str, float] | None = None, view: int = 0) -> Shipment:
    """Generate shipment `index` of the stream `seed`; same arguments, same pixels.

    `view` > 0 renders the same shipment again (same goods, instances, listing and contents) with
    another listing photo and another packing and scan: training uses these as augmentations.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, 0]))
    scenario = scenario or sample_scenario(rng, mix)
    return _shipment_from_plan(plan(rng, scenario, category), seed, index, size, view)


def generate_listing(*, seed: int, index: int, mix: dict[str, float] | None = None) -> Listing:
    """The listing of shipment `index` of the stream `seed`, without rendering its photo or x-ray.

    The same title, description and declared values as `generate_shipment` gives (the listing has
    its own random stream), about a hundred times faster: what text features need.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, 0]))
    p = plan(rng, sample_scenario(rng, mix), None)
    r_obj, *_, r_text = _streams(seed, index)
    return listing(build(p.declared, r_obj), p.quantity, r_text)


def render_view(seed: int, index: int, view: int, *, size: int = 256,
                mix: dict[str, float] | None = None) -> tuple[Image.Image, Image.Image]:
    """Photo and x-ray of shipment `index` of stream `seed`, rendered again as `view`.

    Same path as a written split: the listing photo goes through JPEG (quality 90), the x-ray stays
    lossless. View 0 gives exactly the written images.
    """
    s = generate_shipment(seed=seed, index=index, size=size, mix=mix, view=view)
    buf = io.BytesIO()
    s.photo.save(buf, format="JPEG", quality=90)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), s.xray


def _write_one(out: Path, seed: int, index: int, size: int, mix: dict[str, float] | None) -> str:
    s = generate_shipment(seed=seed, index=index, size=size, mix=mix)
    sid = f"s{seed}-{index:07d}"
    photo_rel, xray_rel = f"images/{sid}-photo.jpg", f"images/{sid}-xray.png"
    # Listing photos are JPEGs in the wild; x-rays stay lossless for the colour ratios.
    s.photo.save(out / photo_rel, quality=90)
    s.xray.save(out / xray_rel, compress_level=3)
    rec = ManifestRecord(
        id=sid, category=s.category, scenario=s.scenario, label=s.label, photo=photo_rel,
        xray=xray_rel, title=s.title, description=s.description, hts=s.hts,
        declared_weight_kg=s.declared_weight_kg, declared_value=s.declared_value, contents=s.contents)
    return dumps(rec)


def write_dataset(out: Path, *, n: int, seed: int, size: int = 256, mix: dict[str, float] | None = None,
                  progress: bool = True, workers: int = 1) -> Path:
    """Write n shipments under `out` (images/ + manifest.jsonl) and return the manifest path.

    `workers` > 1 renders in that many processes; the output is byte-identical either way, because
    each shipment depends on (seed, index) alone. The manifest appears only when every image is
    written, so an interrupted run never leaves a manifest that points at missing files.
    """
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.jsonl"
    tmp = manifest.with_suffix(".jsonl.tmp")
    write = partial(_write_one, out, seed, size=size, mix=mix)
    with tmp.open("w", encoding="utf-8") as f, ProcessPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        lines = pool.map(write, range(n), chunksize=16) if pool else map(write, range(n))
        for line in tqdm(lines, total=n, desc="shipments", unit="pair", disable=not progress):
            f.write(line + "\n")
    tmp.replace(manifest)
    return manifest


def parse_mix(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    mix = {}
    for item in text.split(","):
        name, _, weight = item.partition("=")
        if name.strip() not in SCENARIOS:
            raise argparse.ArgumentTypeError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        mix[name.strip()] = float(weight or 1.0)
    return mix


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m models.generator.synthetic", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--workers", type=int, default=1, help="rendering processes (output is identical)")
    ap.add_argument("--mix", type=parse_mix, default=None, help="e.g. match=0.5,concealment=0.3,substitution=0.2")
    args = ap.parse_args(argv)
    path = write_dataset(args.out, n=args.n, seed=args.seed, size=args.size, mix=args.mix, workers=args.workers)
    print(path)


if __name__ == "__main__":
    main()
