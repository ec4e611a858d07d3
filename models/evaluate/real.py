"""The encoders on real photos and real scans: what the generated figures cannot say.

python -m models.evaluate.real --manifest datasets/real/manifest.jsonl
    [--encoders scanmatch-effl0-minilm imagenet-effl0] [--json OUT.json]

The manifest (built by `datasets/build_real.py`, see `datasets/README.md`) lists real images, one
JSON object a line: `path` (relative to the manifest), `modality` (`photo` or `xray`), `category`
(a taxonomy name, or `benign` for a scan holding none of them), `kind` (`photo`, `whole` scan or
item `crop`), `source`, and for scans `labels`, every category the scan holds (a bag with a gun
and a knife is filed under one and labelled with both). Research-licensed images: evaluation
only, never training.

Per encoder it reports:
- listing category from a real photo alone (the taxonomy label nearest the photo, as the service
  names a listing's category; encoders with a text tower only);
- x-ray category by a labelled gallery: `k` labelled scans per category, every other scan a query,
  1-NN, averaged over `repeats` random draws (crops and whole scans apart);
- photo -> x-ray category: the category of the nearest real photo to each x-ray crop;
- each x-ray finding's ROC-AUC on whole scans (scans of that item against every other scan) and
  its detection and false-alarm rates at the shipped thresholds;
- shipments assembled from a real photo and a real scan: P(match) ROC-AUC of same-category pairs
  against different-category pairs, and how many threat scans (handgun, kitchen knife) under a
  listing of another category still get a P(match) at or above the pairs' median.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from models.encoders.device import choose_placement
from models.encoders.encoder import Encoder
from models.encoders.photo_categories import CATEGORIES, ImageNetPhotoCategories, PhotoCategory, name_listing
from models.encoders.registry import DEFAULT_ENCODER, load_encoder
from models.encoders.taxonomy import TAXONOMY
from models.evaluate.gallery import nn_category_accuracy
from models.evaluate.metrics import verification_auc

BENIGN = "benign"
THREATS = ("handgun", "kitchen_knife")
GALLERY_SIZES = (5, 20, 100)


class RealImage(BaseModel):
    """One real image of the evaluation set; `path` is relative to the manifest's folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    modality: Literal["photo", "xray"]
    category: str = Field(min_length=1)
    kind: Literal["photo", "whole", "crop"]
    source: str = ""
    labels: list[str] = []
    boxes: list[tuple[float, float, float, float, str]] = []
    title: str = ""  # a listing title, for photos that come with one

    def holds(self, item: str) -> bool:
        return item == self.category or item in self.labels


def read_real_manifest(path: Path) -> list[RealImage]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(RealImage.model_validate_json(line))
            except ValueError as error:
                raise ValueError(f"{path}:{n}: invalid real-image line: {error}") from error
    unknown = sorted({c for r in rows for c in (r.category, *r.labels)} - set(TAXONOMY) - {BENIGN})
    if unknown:
        raise ValueError(f"{path}: categories {unknown} are not in the taxonomy (or {BENIGN!r})")
    return rows


@dataclass(frozen=True)
class Embedded:
    rows: list[RealImage]
    vectors: np.ndarray  # (n, dim), L2-normalised

    def where(self, kind: str) -> Embedded:
        keep = [i for i, r in enumerate(self.rows) if r.kind == kind]
        return Embedded([self.rows[i] for i in keep], self.vectors[keep])

    @property
    def labels(self) -> np.ndarray:
        return np.array([r.category for r in self.rows])


def embed(encoder: Encoder, folder: Path, rows: list[RealImage], modality: Literal["photo", "xray"]) -> Embedded:
    chosen = [r for r in rows if r.modality == modality]
    images = []
    for row in chosen:
        with Image.open(folder / row.path) as img:
            images.append(img.convert("RGB"))
    vectors = encoder.embed_images(modality, images) if images else np.zeros((0, encoder.dim), np.float32)
    return Embedded(chosen, vectors)


def listing_category(
    encoder: Encoder, photos: Embedded, classified: list[PhotoCategory] | None = None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Share of real photos whose nearest taxonomy label is their category; and, given the ImageNet
    classifier's readings, the share the service's rule (`name_listing`) gets right."""
    if not encoder.has_text or not len(photos.rows):
        return None, None
    prompts = encoder.embed_texts([TAXONOMY[c].label for c in CATEGORIES])
    trained = np.array(CATEGORIES)[(photos.vectors @ prompts.T).argmax(axis=1)]
    if classified is None:
        return _named(trained, photos.labels), None
    named = [
        name_listing(classified=c, trained=str(t), photo=True, text=False)
        for c, t in zip(classified, trained, strict=True)
    ]
    service = np.array([n.category if n is not None else "" for n in named])
    return _named(trained, photos.labels), _named(service, photos.labels)


def classify_photos(folder: Path, rows: list[RealImage]) -> list[PhotoCategory]:
    """EfficientNet-Lite0's ImageNet classifier's reading of each real photo, in manifest order."""
    images = []
    for row in (r for r in rows if r.modality == "photo"):
        with Image.open(folder / row.path) as img:
            images.append(img.convert("RGB"))
    return ImageNetPhotoCategories(choose_placement("cpu"))(images)


def _named(named: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    right = named == labels
    per_category = {c: float(right[labels == c].mean()) for c in sorted(set(labels))}
    return {"accuracy": float(right.mean()), "n": int(right.size), "per_category": per_category}


def gallery_accuracy(scans: Embedded, per_category: int, *, repeats: int = 5, seed: int = 0) -> dict[str, Any] | None:
    """1-NN category accuracy with `per_category` labelled scans of each category as the gallery."""
    labels = scans.labels
    counts = Counter(labels.tolist())
    usable = sorted(c for c, n in counts.items() if n > per_category)
    if len(usable) < 2:
        return None
    rng = np.random.default_rng(seed)
    accuracies = []
    for _ in range(repeats):
        picks = [rng.choice(np.flatnonzero(labels == c), per_category, replace=False) for c in usable]
        gallery = np.concatenate(picks)
        queries = np.setdiff1d(np.flatnonzero(np.isin(labels, usable)), gallery)
        result = nn_category_accuracy(
            scans.vectors[gallery], labels[gallery].tolist(), scans.vectors[queries], labels[queries].tolist()
        )
        accuracies.append(result["top1_accuracy"])
    return {
        "accuracy": float(np.mean(accuracies)),
        "spread": float(np.std(accuracies)),
        "categories": usable,
        "queries": int(sum(counts[c] - per_category for c in usable)),
    }


def photo_to_xray_category(photos: Embedded, crops: Embedded) -> dict[str, Any] | None:
    """Share of x-ray crops whose nearest real photo (categories both sides have) is of their category."""
    shared = sorted(set(photos.labels) & set(crops.labels))
    if len(shared) < 2:
        return None
    p = photos.labels
    x = crops.labels
    keep_p, keep_x = np.isin(p, shared), np.isin(x, shared)
    nearest = p[keep_p][(crops.vectors[keep_x] @ photos.vectors[keep_p].T).argmax(axis=1)]
    return {"accuracy": float((nearest == x[keep_x]).mean()), "n": int(keep_x.sum()), "categories": shared}


def findings(encoder: Encoder, whole: Embedded) -> dict[str, Any]:
    """Per finding item present among the whole scans: ROC-AUC, detection and false alarms at threshold."""
    head = encoder.findings
    if head is None or not len(whole.rows):
        return {}
    probs = head.probabilities(whole.vectors)
    out = {}
    for j, item in enumerate(head.items):
        has = np.array([r.holds(item) for r in whole.rows])
        if not has.any() or has.all():
            continue
        alarms = probs[:, j] >= head.thresholds[j]
        out[item] = {
            "roc_auc": verification_auc(probs[:, j], has.astype(int)),
            "detected": float(alarms[has].mean()),
            "false_alarms": float(alarms[~has].mean()),
            "n_with": int(has.sum()),
            "n_without": int((~has).sum()),
        }
    return out


def assembled_shipments(encoder: Encoder, photos: Embedded, scans: Embedded, *, seed: int = 0) -> dict[str, Any] | None:
    """P(match) of real photo + real scan pairs: same category against another category."""
    if encoder.calibration is None:
        return None
    shared = sorted(set(photos.labels) & set(scans.labels))
    if len(shared) < 2:
        return None
    rng = np.random.default_rng(seed)
    by_category = defaultdict(list)
    for i, label in enumerate(photos.labels):
        by_category[label].append(i)
    pairs, same = [], []
    for i, label in enumerate(scans.labels):
        if label not in shared:
            continue
        other = rng.choice([c for c in shared if c != label])
        pairs += [(int(rng.choice(by_category[label])), i), (int(rng.choice(by_category[other])), i)]
        same += [1, 0]
    photo_idx, scan_idx = np.array(pairs).T
    p = encoder.match_probability(photos.vectors[photo_idx], scans.vectors[scan_idx])
    labels = np.array(same)
    median = float(np.median(p))
    threat = np.array([any(scans.rows[i].holds(t) for t in THREATS) for i in scan_idx]) & (labels == 0)
    return {
        "roc_auc": verification_auc(p, labels),
        "pairs": int(labels.size),
        "categories": shared,
        "threats_under_other_listings": int(threat.sum()),
        "threats_at_or_above_median": int((p[threat] >= median).sum()),
    }


def evaluate(
    encoder: Encoder, manifest: Path, *, repeats: int = 5, classified: list[PhotoCategory] | None = None
) -> dict[str, Any]:
    rows = read_real_manifest(manifest)
    folder = manifest.parent
    photos = embed(encoder, folder, rows, "photo")
    by_photo, by_rule = listing_category(encoder, photos, classified)
    scans = embed(encoder, folder, rows, "xray")
    whole, crops = scans.where("whole"), scans.where("crop")
    return {
        "encoder": encoder.version,
        "counts": dict(Counter(f"{r.kind}:{r.category}" for r in rows)),
        "listing_category_from_photo": by_photo,
        "listing_category_service_rule": by_rule,
        "gallery": {
            kind: {str(k): gallery_accuracy(part, k, repeats=repeats) for k in GALLERY_SIZES}
            for kind, part in (("crop", crops), ("whole", whole))
        },
        "photo_to_xray_category": photo_to_xray_category(photos, crops),
        "findings_on_whole_scans": findings(encoder, whole),
        "assembled_shipments": assembled_shipments(encoder, photos, whole),
    }


def _cell(value: dict[str, Any] | None, key: str = "accuracy") -> str:
    return "n/a" if value is None else f"{value[key]:.3f}"


def render(results: list[dict[str, Any]]) -> str:
    lines = ["| measure | " + " | ".join(r["encoder"] for r in results) + " |", "|---|" + "---|" * len(results)]

    def row(name: str, cells: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    row("listing category from a real photo", [_cell(r["listing_category_from_photo"]) for r in results])
    rule = [_cell(r.get("listing_category_service_rule")) for r in results]
    row("the same by the service's rule (ImageNet classifier where sure, else the encoder)", rule)
    for kind in ("crop", "whole"):
        for k in GALLERY_SIZES:
            cells = [_cell(r["gallery"][kind][str(k)] if "gallery" in r else None) for r in results]
            row(f"x-ray {kind} category, gallery of {k} per category", cells)
    row("photo -> x-ray crop category", [_cell(r.get("photo_to_xray_category")) for r in results])
    items = sorted({item for r in results for item in r.get("findings_on_whole_scans", {})})
    for item in items:
        cells = []
        for r in results:
            f = r.get("findings_on_whole_scans", {}).get(item)
            at = (
                "n/a" if f is None else f"{f['roc_auc']:.3f} ({f['detected']:.2f} found, {f['false_alarms']:.2f} false)"
            )
            cells.append(at)
        row(f"`{item}` finding on whole scans: ROC-AUC (at threshold)", cells)
    assembled = [_cell(r.get("assembled_shipments"), "roc_auc") for r in results]
    row("real photo + real scan, same vs other category: ROC-AUC", assembled)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate.real", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True, help="real-image manifest.jsonl (datasets/README.md)")
    parser.add_argument("--encoders", nargs="*", default=[DEFAULT_ENCODER, "imagenet-effl0"])
    parser.add_argument("--repeats", type=int, default=5, help="random gallery draws averaged")
    parser.add_argument(
        "--no-classifier", action="store_true", help="leave out the ImageNet classifier's listing category"
    )
    parser.add_argument("--json", type=Path, help="also write the full results here")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        parser.error(f"no manifest at {args.manifest}: build the real set first (datasets/README.md)")
    rows = read_real_manifest(args.manifest)
    classified = None if args.no_classifier else classify_photos(args.manifest.parent, rows)
    results = [
        evaluate(load_encoder(name), args.manifest, repeats=args.repeats, classified=classified)
        for name in args.encoders
    ]
    if classified is not None:
        truth = np.array([r.category for r in rows if r.modality == "photo"])
        named = _named(np.array([c.category for c in classified]), truth) if classified else None
        results.append({"encoder": "imagenet classifier, mapped", "listing_category_from_photo": named})
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
