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

And per `--gallery-encoders` encoder, the labelled gallery read as the service reads it
(`models.encoders.gallery`: `gallery_vectors`, the 50 nearest labelled scans, `vote`,
`agreement_risk`): category named with 5 / 20 / 100 scans a category, each threat item's finding
ROC-AUC and detection and false alarms at `FINDING_ALARM` (overall and within each source
repository), and the risk ROC-AUC of real photo + real scan shipments, with the listing category
named from the photo (`name_listing`) and given. `python -m models.evaluate --real MANIFEST`
runs this module.
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
from models.encoders.gallery import (
    FINDING_ALARM,
    NEIGHBOURS,
    GalleryVote,
    agreement_risk,
    gallery_vectors,
    scan_similarities,
    vote,
)
from models.encoders.photo_categories import CATEGORIES, ImageNetPhotoCategories, PhotoCategory, name_listing
from models.encoders.registry import DEFAULT_ENCODER, artifact_specs, default_registry
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
    trained = _trained_names(encoder, photos)
    if classified is None:
        return _named(trained, photos.labels), None
    service = np.array([n or "" for n in service_listings(encoder, photos, classified)])
    return _named(trained, photos.labels), _named(service, photos.labels)


def _trained_names(encoder: Encoder, photos: Embedded) -> np.ndarray:
    prompts = encoder.embed_texts([TAXONOMY[c].label for c in CATEGORIES])
    return np.array(CATEGORIES)[(photos.vectors @ prompts.T).argmax(axis=1)]


def service_listings(encoder: Encoder, photos: Embedded, classified: list[PhotoCategory]) -> list[str | None]:
    """Each real photo's listing category as the service names it from the photo alone (`name_listing`)."""
    named = [
        name_listing(classified=c, trained=str(t), photo=True, text=False)
        for c, t in zip(classified, _trained_names(encoder, photos), strict=True)
    ]
    return [n.category if n is not None else None for n in named]


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


@dataclass(frozen=True)
class GalleryScans:
    """Whole real scans and their gallery vectors (`models.encoders.gallery.gallery_vectors`)."""

    rows: list[RealImage]
    vectors: np.ndarray  # (n, views, dim)

    @property
    def labels(self) -> np.ndarray:
        return np.array([r.category for r in self.rows])


def embed_gallery(encoder: Encoder, folder: Path, rows: list[RealImage], *, batch: int = 32) -> GalleryScans:
    chosen = [r for r in rows if r.modality == "xray" and r.kind == "whole"]
    chunks = []
    for start in range(0, len(chosen), batch):
        images = []
        for row in chosen[start : start + batch]:
            with Image.open(folder / row.path) as img:
                images.append(img.convert("RGB"))
        chunks.append(gallery_vectors(encoder, images))
    return GalleryScans(chosen, np.concatenate(chunks) if chunks else np.zeros((0, 1, encoder.dim), np.float32))


def _gallery_draws(
    labels: np.ndarray, per_category: int, repeats: int, seed: int
) -> list[tuple[np.ndarray, list[str]]]:
    """`repeats` galleries of `per_category` scans of each category that has more than that many."""
    counts = Counter(labels.tolist())
    usable = sorted(c for c, n in counts.items() if n > per_category)
    if len(usable) < 2:
        return []
    rng = np.random.default_rng(seed)
    return [
        (np.concatenate([rng.choice(np.flatnonzero(labels == c), per_category, replace=False) for c in usable]), usable)
        for _ in range(repeats)
    ]


def read_through_gallery(scans: GalleryScans, gallery: np.ndarray, queries: np.ndarray) -> list[GalleryVote]:
    """Each query scan's gallery vote, from its `NEIGHBOURS` nearest labelled scans (as the service searches)."""
    sims = scan_similarities(scans.vectors[queries], scans.vectors[gallery])
    labels = scans.labels[gallery]
    items = [[r.category, *r.labels] for r in (scans.rows[i] for i in gallery)]
    counts = dict(Counter(labels.tolist()))
    near = np.argsort(-sims, axis=1)[:, :NEIGHBOURS]
    return [
        vote(labels[row].tolist(), sims[q, row], counts, items=[items[i] for i in row]) for q, row in enumerate(near)
    ]


def gallery_reading(
    scans: GalleryScans, per_category: int, *, repeats: int = 5, seed: int = 0
) -> dict[str, Any] | None:
    """Category named by the gallery vote, `per_category` labelled scans a category, queries outside it:
    `accuracy` against the category each scan is filed under, `accuracy_any_item` against every
    item it holds (its `labels`)."""
    labels = scans.labels
    draws = _gallery_draws(labels, per_category, repeats, seed)
    if not draws:
        return None
    accuracies: list[float] = []
    holding: list[float] = []
    balanced: list[float] = []
    per_category_right: dict[str, list[float]] = defaultdict(list)
    for gallery, usable in draws:
        queries = np.setdiff1d(np.flatnonzero(np.isin(labels, usable)), gallery)
        named = np.array([v.category for v in read_through_gallery(scans, gallery, queries)])
        right = named == labels[queries]
        accuracies.append(float(right.mean()))
        holding.append(float(np.mean([scans.rows[q].holds(str(n)) for q, n in zip(queries, named, strict=True)])))
        recalls = [float(right[labels[queries] == c].mean()) for c in usable]
        balanced.append(float(np.mean(recalls)))
        for c, r in zip(usable, recalls, strict=True):
            per_category_right[c].append(r)
    return {
        "accuracy": float(np.mean(accuracies)),
        # a bag filed under `handgun` that also holds a knife is read right as `kitchen_knife` too
        "accuracy_any_item": float(np.mean(holding)),
        "spread": float(np.std(accuracies)),
        "balanced_accuracy": float(np.mean(balanced)),
        "per_category": {c: float(np.mean(v)) for c, v in per_category_right.items()},
        "categories": draws[0][1],
        "queries": int(sum(np.isin(labels, draws[0][1])) - len(draws[0][0])),
    }


def gallery_findings(scans: GalleryScans, per_category: int = 20, *, repeats: int = 5, seed: int = 0) -> dict[str, Any]:
    """Each threat item's gallery finding on whole scans outside the gallery: ROC-AUC, and
    detection and false alarms at `FINDING_ALARM`, averaged over the draws; and the ROC-AUC within
    each source repository that holds scans with and without the item (a figure the source's own
    look cannot give)."""
    out: dict[str, Any] = {}
    draws = _gallery_draws(scans.labels, per_category, repeats, seed)
    collected: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for gallery, _ in draws:
        queries = np.setdiff1d(np.arange(len(scans.rows)), gallery)
        votes = read_through_gallery(scans, gallery, queries)
        for item in THREATS:
            has = np.array([scans.rows[q].holds(item) for q in queries])
            p = np.array([v.findings.get(item, 0.0) for v in votes])
            if not has.any() or has.all() or not any(item in v.findings for v in votes):
                continue
            alarms = p >= FINDING_ALARM
            got = collected[item]
            got["roc_auc"].append(verification_auc(p, has.astype(int)))
            got["detected"].append(float(alarms[has].mean()))
            got["false_alarms"].append(float(alarms[~has].mean()))
            got["n_with"].append(float(has.sum()))
            got["n_without"].append(float((~has).sum()))
            sources = np.array([scans.rows[q].source.split("/")[0] for q in queries])
            for source in sorted(set(sources.tolist())):
                mine = sources == source
                if has[mine].any() and not has[mine].all():
                    got[f"roc_auc within {source}"].append(verification_auc(p[mine], has[mine].astype(int)))
                    got[f"n_with within {source}"].append(float(has[mine].sum()))
    for item, got in collected.items():
        out[item] = {k: float(np.mean(v)) for k, v in got.items()} | {"threshold": FINDING_ALARM}
    return out


def gallery_shipments(
    scans: GalleryScans,
    photos: list[RealImage],
    listings: list[str | None],
    per_category: int = 20,
    *,
    repeats: int = 5,
    seed: int = 0,
) -> dict[str, Any] | None:
    """Risk (`agreement_risk`) of shipments assembled from a real photo and a real whole scan.

    Per query scan outside the gallery: a consistent pair (a photo of its category, or for a
    benign scan a photo of goods no scan category holds: `plain` listings), risk should be low;
    and an inconsistent one (a photo of any category the scan does not hold; for a benign scan, a
    photo of a category the scans hold), risk should be high. `listings` is each photo's category
    as the service names it (`name_listing`); the same pairs with the photos' true categories
    separate the gallery's errors from the listing's.
    """
    photo_labels = np.array([p.category for p in photos])
    scan_categories = set(scans.labels.tolist()) - {BENIGN}
    plain = [i for i, c in enumerate(photo_labels) if c not in scan_categories and c not in THREATS]
    draws = _gallery_draws(scans.labels, per_category, repeats, seed)
    if not draws or not plain:
        return None
    rng = np.random.default_rng(seed)
    collected: dict[str, list[float]] = defaultdict(list)
    kinds: Counter[str] = Counter()
    for gallery, _ in draws:
        queries = np.setdiff1d(np.arange(len(scans.rows)), gallery)
        pairs: list[tuple[int, GalleryVote, int, str]] = []  # photo, scan's reading, inconsistent, kind
        for q, reading in zip(queries, read_through_gallery(scans, gallery, queries), strict=True):
            row = scans.rows[q]
            held = {row.category, *row.labels}
            options: list[tuple[np.ndarray, int, str]]
            if row.category == BENIGN:
                options = [(np.array(plain), 0, "benign scan, plain listing")]
                options.append(
                    (
                        np.flatnonzero(np.isin(photo_labels, sorted(scan_categories))),
                        1,
                        "benign scan, listing of a scan category",
                    )
                )
            else:
                options = [(np.flatnonzero(photo_labels == row.category), 0, "same category")]
                options.append((np.flatnonzero(~np.isin(photo_labels, sorted(held))), 1, "other category"))
                if row.category in THREATS:
                    options.append(
                        (np.array([i for i in plain if photo_labels[i] not in held]), 1, "threat scan, plain listing")
                    )
            for pool, y, kind in options:
                if len(pool):
                    pairs.append((int(rng.choice(pool)), reading, y, kind))
        y_arr = np.array([p[2] for p in pairs])
        k_arr = np.array([p[3] for p in pairs])
        kinds = Counter(k_arr.tolist())
        subsets = {
            "all pairs": np.ones(len(pairs), bool),
            "same vs other category": np.isin(k_arr, ["same category", "other category"]),
            "threat scans under plain listings vs consistent pairs": np.isin(
                k_arr, ["threat scan, plain listing", "same category", "benign scan, plain listing"]
            ),
        }
        for source, listing_of in (("named", lambda i: listings[i]), ("true", lambda i: str(photo_labels[i]))):
            risk = np.array([agreement_risk(listing_of(p), reading).risk for p, reading, _, _ in pairs])
            for name, keep in subsets.items():
                collected[f"{name}, listing {source}"].append(verification_auc(risk[keep], y_arr[keep]))
    return {
        "roc_auc": {k: float(np.nanmean(v)) for k, v in collected.items()},
        "pairs_per_draw": dict(kinds),
        "gallery_per_category": per_category,
        "draws": len(draws),
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


def evaluate_gallery(
    encoder: Encoder,
    manifest: Path,
    *,
    photos: list[RealImage],
    listings: list[str | None] | None,
    repeats: int = 5,
    per_category: int = 20,
) -> dict[str, Any]:
    """The labelled gallery as the service reads it (`models.encoders.gallery`), through `encoder`:
    category named by the vote with 5 / 20 / 100 scans a category, threat findings and shipment
    risk with 20 a category; queries are always scans outside the gallery."""
    rows = read_real_manifest(manifest)
    scans = embed_gallery(encoder, manifest.parent, rows)
    shipments = {}
    if photos:
        true = [p.category for p in photos]
        shipments = {
            "listing named from the photo": None
            if listings is None
            else gallery_shipments(scans, photos, listings, per_category, repeats=repeats),
            "listing category given": gallery_shipments(scans, photos, list(true), per_category, repeats=repeats),
        }
    return {
        "encoder": f"{encoder.version} (gallery vote)",
        "gallery_vote": {str(k): gallery_reading(scans, k, repeats=repeats) for k in GALLERY_SIZES},
        "gallery_findings": gallery_findings(scans, per_category, repeats=repeats),
        "gallery_per_category": per_category,
        "gallery_shipments": shipments,
    }


def render_gallery(results: list[dict[str, Any]]) -> str:
    lines = ["| through the labelled gallery | " + " | ".join(r["encoder"] for r in results) + " |"]
    lines.append("|---|" + "---|" * len(results))

    def row(name: str, cells: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    for k in GALLERY_SIZES:
        row(f"x-ray whole category by the vote, {k} per category", [_cell(r["gallery_vote"][str(k)]) for r in results])
        row(
            f"the same, counted right when the scan holds the category named, {k} per category",
            [_cell(r["gallery_vote"][str(k)], "accuracy_any_item") for r in results],
        )
        row(
            f"the same, mean per-category recall, {k} per category",
            [_cell(r["gallery_vote"][str(k)], "balanced_accuracy") for r in results],
        )
    for item in THREATS:
        cells = []
        for r in results:
            f = r["gallery_findings"].get(item)
            cells.append(
                "n/a"
                if f is None
                else f"{f['roc_auc']:.3f} ({f['detected']:.2f} found, {f['false_alarms']:.2f} false"
                f" at {f['threshold']})"
            )
        row(f"`{item}` gallery finding: ROC-AUC (at threshold)", cells)
    for listing in ("listing named from the photo", "listing category given"):
        for subset in ("all pairs", "same vs other category", "threat scans under plain listings vs consistent pairs"):
            cells = []
            for r in results:
                got = r["gallery_shipments"].get(listing)
                key = f"{subset}, listing {'named' if 'named' in listing else 'true'}"
                cells.append("n/a" if not got else f"{got['roc_auc'][key]:.3f}")
            row(f"shipment risk ROC-AUC, {subset} ({listing})", cells)
    return "\n".join(lines)


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
    parser.add_argument(
        "--gallery-encoders",
        nargs="*",
        default=["imagenet-effl0", DEFAULT_ENCODER],
        help="encoders the labelled-gallery vote is measured through (models.encoders.gallery)",
    )
    parser.add_argument(
        "--gallery-per-category",
        type=int,
        default=20,
        help="labelled scans a category in the gallery behind the findings and shipment risk",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="a folder of trained artifacts (e.g. python -m models.train --artifact DIR/NAME): each loadable by NAME",
    )
    parser.add_argument("--json", type=Path, help="also write the full results here")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        parser.error(f"no manifest at {args.manifest}: build the real set first (datasets/README.md)")
    rows = read_real_manifest(args.manifest)
    classified = None if args.no_classifier else classify_photos(args.manifest.parent, rows)
    registry = default_registry(extra=artifact_specs(args.models_dir) if args.models_dir else ())
    loaded = {name: registry.load(name) for name in dict.fromkeys([*args.encoders, *args.gallery_encoders])}
    results = [
        evaluate(loaded[name], args.manifest, repeats=args.repeats, classified=classified) for name in args.encoders
    ]
    photos = [r for r in rows if r.modality == "photo"]
    listings = None
    texts = [e for e in loaded.values() if e.has_text]
    if classified is not None and texts:
        listings = service_listings(texts[0], embed(texts[0], args.manifest.parent, rows, "photo"), classified)
    gallery = [
        evaluate_gallery(
            loaded[name],
            args.manifest,
            photos=photos,
            listings=listings,
            repeats=args.repeats,
            per_category=args.gallery_per_category,
        )
        for name in args.gallery_encoders
    ]
    if classified is not None:
        truth = np.array([r.category for r in rows if r.modality == "photo"])
        named = _named(np.array([c.category for c in classified]), truth) if classified else None
        results.append({"encoder": "imagenet classifier, mapped", "listing_category_from_photo": named})
    print(render(results))
    if gallery:
        print()
        print(render_gallery(gallery))
    if args.json:
        args.json.write_text(json.dumps([*results, *gallery], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
