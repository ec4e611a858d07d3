"""Paired data in, frozen-tower features out, cached on disk.

The frozen parts (photo trunk, x-ray stem and early blocks, MiniLM) run once per image or text;
training then only runs the trained heads and the x-ray tail. This is what makes a CPU run fit
in minutes instead of days (measurements in the model card).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
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

    def __len__(self) -> int:
        return int(self.label.shape[0])


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

        write_dataset(folder, n=n, seed=seed, size=size, mix=mix)
    return manifest


def _digest(manifest: Path, extra: dict[str, Any]) -> str:
    h = hashlib.sha256(manifest.read_bytes())
    h.update(json.dumps(extra, sort_keys=True).encode())
    return h.hexdigest()[:16]


@torch.no_grad()
def compute_features(
    model: ScanMatchCLIP,
    tokenizer: Any,
    records: list[Record],
    preprocess: PreprocessConfig,
    *,
    batch_size: int = 64,
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
        photo = model.photo_features(to_tensor(photo_imgs, preprocess).to(device))
        photos.append((photo.half() if photo.ndim == 4 else photo).cpu())
        xb = to_tensor(xray_imgs, preprocess).to(device)
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
    feats = _cached_features(cache_dir, manifest, model, tokenizer, preprocess, hflip=hflip, desc=desc)
    if model.findings_classes:
        feats.findings = findings_targets(read_manifest(manifest), model.findings_classes)
    return feats


def _cached_features(
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
    path = cache_dir / f"{desc}-{key}.pt"
    if path.is_file():
        return FeatureSet(**torch.load(path, weights_only=False))
    cache_dir.mkdir(parents=True, exist_ok=True)  # before the long computation, not after it
    feats = compute_features(model, tokenizer, read_manifest(manifest), preprocess, hflip=hflip, desc=desc)
    tmp = path.with_suffix(".tmp")
    torch.save({k: v for k, v in feats.__dict__.items() if k != "findings"}, tmp)
    tmp.replace(path)
    return feats
