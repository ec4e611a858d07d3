"""Paired data in, frozen-tower features out, cached on disk.

The frozen parts (photo trunk, x-ray stem and early blocks, MiniLM) run once per image or text;
training then only runs the trained heads and the x-ray tail. This is what makes a CPU run fit
in minutes instead of days (measurements in the model card).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from tqdm import tqdm

from models.architecture import ScanMatchCLIP
from models.preprocess import PreprocessConfig, to_tensor


@dataclass
class Record:
    photo: Path
    xray: Path
    label: int  # 1 = the x-ray shows what the photo sells
    scenario: str
    category: str
    text: str
    contents: tuple[str, ...] = ()


@dataclass
class FeatureSet:
    photo: torch.Tensor  # (n, 1280) pooled ImageNet photo features
    xray: torch.Tensor  # (n, c, h, w) float16 maps after the frozen x-ray blocks
    xray_flip: torch.Tensor | None  # the same for horizontally flipped x-rays (augmentation)
    text: torch.Tensor  # (n, 384) mean-pooled MiniLM features
    label: torch.Tensor  # (n,) long
    scenario: list[str]
    category: list[str]
    # (n, k) 1.0 where the parcel holds findings class j; set from the manifest, never cached.
    findings: torch.Tensor | None = None
    # (n, views - 1, c, h, w) float16: the same shipments photographed and scanned again.
    photo_views: torch.Tensor | None = None
    xray_views: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.label.shape[0])


_ATTACHED = ("findings", "photo_views", "xray_views")


def listing_text(row: dict[str, Any]) -> str:
    return f"{row.get('title', '')}. {row.get('description', '')}".strip()


def read_manifest(path: Path) -> list[Record]:
    """Read a paired manifest (the generator's format, also the import format for real data)."""
    root = path.parent
    records = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        records.append(
            Record(
                photo=root / row["photo"],
                xray=root / row["xray"],
                label=1 if row["label"] == "match" else 0,
                scenario=str(row["scenario"]),
                category=str(row["category"]),
                text=listing_text(row),
                contents=tuple(row.get("contents", ())),
            )
        )
    return records


def ensure_generated(folder: Path, *, n: int, seed: int, size: int, mix: dict[str, float]) -> Path:
    """Generate a synthetic split once; later runs (and resumes) reuse it."""
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        from models.data.synthetic import write_dataset

        write_dataset(folder, n=n, seed=seed, size=size, mix=mix, workers=min(2, os.cpu_count() or 1))
    return manifest


def _digest(manifest: Path, extra: dict[str, Any]) -> str:
    h = hashlib.sha256(manifest.read_bytes())
    h.update(json.dumps(extra, sort_keys=True).encode())
    return h.hexdigest()[:16]


# Feature passes run in small batches: on a CPU the frozen prefix ran 141 images/s at batch 8 and
# 70 at batch 64 (1 thread, channels last; benchmarks/bench_training.py). Larger batches spill the caches.
FEATURE_BATCH = 8


@torch.no_grad()
def compute_features(
    model: ScanMatchCLIP,
    tokenizer: Any,
    records: list[Record],
    preprocess: PreprocessConfig,
    *,
    batch_size: int = FEATURE_BATCH,
    hflip: bool = True,
    desc: str = "features",
) -> FeatureSet:
    model.eval()
    device = next(model.parameters()).device
    photos, xrays, flips, texts = [], [], [], []
    for start in tqdm(range(0, len(records), batch_size), desc=desc, unit="batch"):
        part = records[start : start + batch_size]
        photo_imgs = [Image.open(r.photo) for r in part]
        xray_imgs = [Image.open(r.xray) for r in part]
        photo = model.photo_features(to_tensor(photo_imgs, preprocess.for_modality("photo")).to(device))
        photos.append((photo.half() if photo.ndim == 4 else photo).cpu())
        xb = to_tensor(xray_imgs, preprocess.for_modality("xray")).to(device)
        # float16 halves the cache; the tail runs in float32 on it.
        xrays.append(model.xray_prefix(xb).half().cpu())
        if hflip:
            flips.append(model.xray_prefix(torch.flip(xb, dims=[3])).half().cpu())
        texts.append(model.text_features(tokenizer([r.text for r in part]).to(device)).cpu())
    return FeatureSet(
        photo=torch.cat(photos),
        xray=torch.cat(xrays),
        xray_flip=torch.cat(flips) if hflip else None,
        text=torch.cat(texts),
        label=torch.tensor([r.label for r in records], dtype=torch.long),
        scenario=[r.scenario for r in records],
        category=[r.category for r in records],
    )


def findings_targets(records: list[Record], classes: tuple[str, ...]) -> torch.Tensor:
    """Multi-hot (n, k): which of `classes` each parcel really holds (declared or concealed)."""
    return torch.tensor([[float(c in r.contents) for c in classes] for r in records], dtype=torch.float32)


def cached_features(
    cache_dir: Path,
    manifest: Path,
    model: ScanMatchCLIP,
    tokenizer: Any,
    preprocess: PreprocessConfig,
    *,
    hflip: bool,
    desc: str,
) -> FeatureSet:
    """Features for `manifest`, from the cache when the data and frozen towers are unchanged."""
    key = _digest(
        manifest,
        {"pre": preprocess.to_dict(), "split": model.split, "photo_split": model.photo_split, "hflip": hflip, "v": 1},
    )
    records = read_manifest(manifest)

    def compute() -> dict[str, Any]:
        feats = compute_features(model, tokenizer, records, preprocess, hflip=hflip, desc=desc)
        return {k: v for k, v in feats.__dict__.items() if k not in _ATTACHED}

    feats = FeatureSet(**_load_or_compute(cache_dir / f"{desc}-{key}.pt", compute))
    if model.findings_classes:
        feats.findings = findings_targets(records, model.findings_classes)
    return feats


def _load_or_compute(path: Path, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The tensors saved at `path`, or `compute()`d and saved there atomically."""
    if path.is_file():
        return dict(torch.load(path, weights_only=False))
    path.parent.mkdir(parents=True, exist_ok=True)  # before the long computation, not after it
    data = compute()
    tmp = path.with_suffix(".tmp")
    torch.save(data, tmp)
    tmp.replace(path)
    return data


def _render_view(job: tuple[int, int, int, int, dict[str, float] | None]) -> tuple[Image.Image, Image.Image]:
    from models.data.synthetic import render_view

    seed, index, view, size, mix = job
    return render_view(seed, index, view, size=size, mix=mix)


def check_generated(records: list[Record], *, seed: int, mix: dict[str, float] | None) -> None:
    """Re-rendered views need the split to be the generator's stream `seed` with this mix, in order."""
    from models.data.synthetic import generate_shipment

    for i, r in enumerate(records):
        if r.photo.name != f"s{seed}-{i:07d}-photo.jpg":
            raise ValueError(
                f"views > 1 re-renders generated shipments, but record {i} ({r.photo.name}) is not shipment "
                f"{i} of seed {seed}; use views = 1 for imported data"
            )
    for i, r in enumerate(records[:5]):
        s = generate_shipment(seed=seed, index=i, size=64, mix=mix)
        if (s.category, s.scenario) != (r.category, r.scenario):
            raise ValueError(f"shipment {i} of seed {seed} differs from the manifest: was it written with this mix?")


def view_features(
    cache_dir: Path,
    model: ScanMatchCLIP,
    preprocess: PreprocessConfig,
    *,
    seed: int,
    n: int,
    size: int,
    mix: dict[str, float] | None,
    views: int,
    batch_size: int = FEATURE_BATCH,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frozen-prefix features of views 1..views-1 of generated shipments 0..n-1: (n, views-1, c, h, w) each.

    Each view is cached on its own, so raising `views` only renders the new ones.
    """
    spec = {"seed": seed, "n": n, "size": size, "mix": mix, "pre": preprocess.to_dict()}
    spec |= {"split": model.split, "photo_split": model.photo_split, "v": 2}
    photos, xrays = [], []
    for view in range(1, views):
        key = hashlib.sha256(json.dumps({**spec, "view": view}, sort_keys=True).encode()).hexdigest()[:16]
        render = partial(
            _render_view_features,
            model,
            preprocess,
            seed=seed,
            n=n,
            size=size,
            mix=mix,
            view=view,
            batch_size=batch_size,
        )
        saved = _load_or_compute(cache_dir / f"view{view}-{key}.pt", render)
        photos.append(saved["photo"])
        xrays.append(saved["xray"])
    return torch.stack(photos, dim=1), torch.stack(xrays, dim=1)


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@torch.no_grad()
def _render_view_features(
    model: ScanMatchCLIP,
    preprocess: PreprocessConfig,
    *,
    seed: int,
    n: int,
    size: int,
    mix: dict[str, float] | None,
    view: int,
    batch_size: int,
) -> dict[str, torch.Tensor]:
    model.eval()
    device = next(model.parameters()).device
    photos: list[torch.Tensor] = []
    xrays: list[torch.Tensor] = []
    # Rendered one process ahead of the feature pass, which leaves that core to the renderer:
    # 2 torch threads beside a busy renderer on 2 cores ran at half the speed of 1.
    with _torch_threads(max(1, torch.get_num_threads() - 1)), ProcessPoolExecutor(1) as pool:
        rendered = pool.map(_render_view, [(seed, i, view, size, mix) for i in range(n)], chunksize=16)
        with tqdm(total=n, desc=f"view {view + 1}", unit="pair") as bar:
            for start in range(0, n, batch_size):
                part = [next(rendered) for _ in range(min(batch_size, n - start))]
                photo = to_tensor([p for p, _ in part], preprocess.for_modality("photo"))
                xray = to_tensor([x for _, x in part], preprocess.for_modality("xray"))
                photos.append(model.photo_features(photo.to(device)).half().cpu())
                xrays.append(model.xray_prefix(xray.to(device)).half().cpu())
                bar.update(len(part))
    return {"photo": torch.cat(photos), "xray": torch.cat(xrays)}
