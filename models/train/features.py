"""Paired data in, frozen-prefix features out, cached on disk.

The frozen parts (the stem and early blocks of the photo and x-ray towers, up to
`photo_trainable_from_block` and `xray_trainable_from_block`, and MiniLM) run once per image or
text; training then only runs the towers' trained late blocks and the heads. This is what makes a
CPU run fit in minutes instead of days (measurements in docs/design.md). Images are read or rendered in
DataLoader processes (`loader_workers`); listing texts are cached apart, keyed by the texts, so
a cache filled elsewhere (`python -m models.train.text_features`) spares the text weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from models.encoders import base_weights
from models.encoders.architecture import ScanMatchCLIP, build_tokenizer, load_text_weights
from models.encoders.preprocess import PreprocessConfig, to_tensor
from models.encoders.taxonomy import CATEGORIES, TAXONOMY
from models.generator.manifest import ManifestRecord, read_manifest


@dataclass
class FeatureSet:
    # (n, c, h, w) float16 maps after the frozen photo blocks; (n, 1280) pooled features when the
    # model config trains no photo block (no `photo_trainable_from_block`).
    photo: torch.Tensor
    xray: torch.Tensor  # (n, c, h, w) float16 maps after the frozen x-ray blocks
    xray_flip: torch.Tensor | None  # the same for horizontally flipped x-rays (augmentation)
    text: torch.Tensor  # (n, 384) mean-pooled MiniLM features
    label: torch.Tensor  # (n,) long
    scenario: list[str]
    category: list[str]  # what the listing declares (the photo shows it)
    # What the x-ray mainly shows (the parcel's first content; "" for an empty parcel).
    content: list[str] = field(default_factory=list)
    # (n, k) 1.0 where the parcel holds findings class j; set from the manifest, never cached.
    findings: torch.Tensor | None = None
    # (n, views - 1, c, h, w) float16: the same shipments photographed and scanned again.
    photo_views: torch.Tensor | None = None
    xray_views: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.label.shape[0])



def listing_text(title: str, description: str) -> str:
    """What training embeds of a listing: its title and description as one text."""
    return f"{title}. {description}".strip()


def label_texts() -> list[str]:
    """The taxonomy's labels as the service embeds them to name a listing's category."""
    return [TAXONOMY[c].label for c in CATEGORIES]


def ensure_generated(folder: Path, *, n: int, seed: int, size: int, mix: dict[str, float], workers: int) -> Path:
    """Generate a synthetic split once, in `workers` processes; later runs (and resumes) reuse it."""
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        from models.generator.synthetic import write_dataset

        write_dataset(folder, n=n, seed=seed, size=size, mix=mix, workers=workers)
    return manifest


def _digest(manifest: Path, extra: dict[str, Any]) -> str:
    h = hashlib.sha256(manifest.read_bytes())
    h.update(json.dumps(extra, sort_keys=True).encode())
    return h.hexdigest()[:16]


# Feature passes run in small batches: on a CPU the frozen prefix ran 141 images/s at batch 8 and
# 70 at batch 64 (1 thread, channels last; benchmarks/bench_training.py). Larger batches spill the caches.
# A GPU wants large ones.
FEATURE_BATCH = {"cpu": 8, "cuda": 128}
TEXT_BATCH = 64


def feature_batch(device: torch.device) -> int:
    return FEATURE_BATCH.get(device.type, FEATURE_BATCH["cpu"])


def loader_workers(device: torch.device, requested: int | None = None) -> int:
    """Processes that read or render images for a feature pass.

    On a CPU one, beside the network's threads (2 torch threads beside a busy renderer on 2 cores
    ran at half the speed of 1); on a GPU every core but one, since rendering is then the slow half.
    """
    if requested is not None:
        return max(0, requested)
    return max(1, (os.cpu_count() or 2) - 1) if device.type == "cuda" else 1


class _PairDataset(Dataset):
    """(photo, x-ray) pairs as preprocessed tensors, each through its own tower's preprocessing."""

    def __init__(self, preprocess: PreprocessConfig) -> None:
        self.photo_pre = preprocess.for_modality("photo")
        self.xray_pre = preprocess.for_modality("xray")

    def _tensors(self, photo: Image.Image, xray: Image.Image) -> tuple[torch.Tensor, torch.Tensor]:
        return to_tensor([photo], self.photo_pre)[0], to_tensor([xray], self.xray_pre)[0]


class PairImages(_PairDataset):
    """Preprocessed (photo, x-ray) tensors of manifest records, read from disk below `root`."""

    def __init__(self, records: list[ManifestRecord], root: Path, preprocess: PreprocessConfig) -> None:
        super().__init__(preprocess)
        self.records, self.root = records, root

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        r = self.records[i]
        with Image.open(self.root / r.photo) as photo, Image.open(self.root / r.xray) as xray:
            return self._tensors(photo, xray)


class RenderedViews(_PairDataset):
    """Preprocessed (photo, x-ray) tensors of generated shipments 0..n-1, rendered again as `view`."""

    def __init__(
        self, preprocess: PreprocessConfig, *, seed: int, n: int, view: int, size: int, mix: dict[str, float] | None
    ) -> None:
        super().__init__(preprocess)
        self.seed, self.n, self.view, self.size, self.mix = seed, n, view, size, mix

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        from models.generator.synthetic import render_view

        return self._tensors(*render_view(self.seed, i, self.view, size=self.size, mix=self.mix))


@torch.no_grad()
def image_features(
    model: ScanMatchCLIP, images: Dataset, *, hflip: bool, workers: int, desc: str
) -> dict[str, torch.Tensor]:
    """Frozen-prefix features of every (photo, x-ray) pair in `images`: {"photo", "xray"[, "xray_flip"]}."""
    model.eval()
    device = next(model.parameters()).device
    loader = DataLoader(
        images,
        batch_size=feature_batch(device),
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )
    photos, xrays, flips = [], [], []
    threads = max(1, torch.get_num_threads() - workers) if device.type == "cpu" else torch.get_num_threads()
    with _torch_threads(threads), tqdm(total=len(images), desc=desc, unit="pair") as bar:  # type: ignore[arg-type]
        for photo_batch, xray_batch in loader:
            photo = model.photo_features(photo_batch.to(device, non_blocking=True))
            photos.append((photo.half() if photo.ndim == 4 else photo).cpu())
            xb = xray_batch.to(device, non_blocking=True)
            # float16 halves the cache; the trained blocks run in float32 on it.
            xrays.append(model.xray_prefix(xb).half().cpu())
            if hflip:
                flips.append(model.xray_prefix(torch.flip(xb, dims=[3])).half().cpu())
            bar.update(len(xb))
    out = {"photo": torch.cat(photos), "xray": torch.cat(xrays)}
    if hflip:
        out["xray_flip"] = torch.cat(flips)
    return out


class TextFeatures:
    """Mean-pooled MiniLM features of listing texts, cached on disk by the texts themselves.

    The frozen text weights load only when a text is missing from the cache, so a machine with a
    filled cache (`python -m models.train.text_features`) trains without them.
    """

    def __init__(self, model: ScanMatchCLIP, model_cfg: dict[str, Any], cache_dir: Path) -> None:
        self.model, self.model_cfg, self.cache_dir = model, model_cfg, cache_dir
        self.spec = {"text_cfg": model_cfg["text_cfg"], "weights": base_weights.MINILM_SHA256, "v": 1}

    def path(self, texts: list[str], desc: str) -> Path:
        h = hashlib.sha256(json.dumps(self.spec, sort_keys=True).encode())
        for t in texts:
            h.update(t.encode() + b"\0")
        return self.cache_dir / f"text-{desc}-{h.hexdigest()[:16]}.pt"

    def __call__(self, texts: list[str], desc: str) -> torch.Tensor:
        # Stored as float16 (half the file, ~5e-4 relative error); the projection runs in float32.
        saved = _load_or_compute(self.path(texts, desc), lambda: {"text": self._compute(texts, desc).half()})
        return saved["text"].float()

    @torch.no_grad()
    def _compute(self, texts: list[str], desc: str) -> torch.Tensor:
        load_text_weights(self.model)
        tokenizer = build_tokenizer(self.model_cfg)
        device = next(self.model.parameters()).device
        self.model.eval()
        out = []
        for start in tqdm(range(0, len(texts), TEXT_BATCH), desc=f"{desc} texts", unit="batch"):
            tokens = tokenizer(texts[start : start + TEXT_BATCH]).to(device)
            out.append(self.model.text_features(tokens).float().cpu())
        return torch.cat(out)


def findings_targets(records: list[ManifestRecord], classes: tuple[str, ...]) -> torch.Tensor:
    """Multi-hot (n, k): which of `classes` each parcel really holds (declared or concealed)."""
    return torch.tensor([[float(c in r.contents) for c in classes] for r in records], dtype=torch.float32)


def cached_features(
    cache_dir: Path,
    manifest: Path,
    model: ScanMatchCLIP,
    text: TextFeatures,
    preprocess: PreprocessConfig,
    *,
    hflip: bool,
    desc: str,
    workers: int,
) -> FeatureSet:
    """Features for `manifest`, from the cache when the data and frozen towers are unchanged."""
    key = _digest(
        manifest,
        {"pre": preprocess.to_dict(), "split": model.split, "photo_split": model.photo_split, "hflip": hflip, "v": 2},
    )
    records = list(read_manifest(manifest))
    images = PairImages(records, manifest.parent, preprocess)
    saved = _load_or_compute(
        cache_dir / f"{desc}-{key}.pt",
        lambda: image_features(model, images, hflip=hflip, workers=workers, desc=desc),
    )
    feats = FeatureSet(
        photo=saved["photo"],
        xray=saved["xray"],
        xray_flip=saved.get("xray_flip"),
        text=text([listing_text(r.title, r.description) for r in records], desc),
        label=torch.tensor([r.label == "match" for r in records], dtype=torch.long),
        scenario=[r.scenario for r in records],
        category=[r.category for r in records],
        content=[r.contents[0] if r.contents else "" for r in records],
    )
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


def check_generated(manifest: Path, *, seed: int, mix: dict[str, float] | None) -> None:
    """Re-rendered views need the split to be the generator's stream `seed` with this mix, in order."""
    from models.generator.synthetic import generate_shipment

    records = list(read_manifest(manifest))
    for i, r in enumerate(records):
        if Path(r.photo).name != f"s{seed}-{i:07d}-photo.jpg":
            raise ValueError(
                f"views > 1 re-renders generated shipments, but record {i} ({r.photo}) is not shipment "
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
    workers: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frozen-prefix features of views 1..views-1 of generated shipments 0..n-1: (n, views-1, c, h, w) each.

    Each view is cached on its own, so raising `views` only renders the new ones.
    """
    spec = {"seed": seed, "n": n, "size": size, "mix": mix, "pre": preprocess.to_dict()}
    spec |= {"split": model.split, "photo_split": model.photo_split, "v": 2}
    photos, xrays = [], []
    for view in range(1, views):
        key = hashlib.sha256(json.dumps({**spec, "view": view}, sort_keys=True).encode()).hexdigest()[:16]
        images = RenderedViews(preprocess, seed=seed, n=n, view=view, size=size, mix=mix)
        saved = _load_or_compute(
            cache_dir / f"view{view}-{key}.pt",
            partial(image_features, model, images, hflip=False, workers=workers, desc=f"view {view + 1}"),
        )
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
