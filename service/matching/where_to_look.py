"""Where to look on a shipment's x-ray: which regions drive the mismatch, by occlusion saliency.

Each window of a coarse grid over the scan is greyed out in turn (models.encoders.occlusion) and the
copies go through the x-ray tower in one batch. Greying out a region the listing photo does not show
raises the photo / x-ray similarity: that rise is the mismatch map. Greying out an item of concern
lowers its finding, as the verdict computes it (the model's findings head blended with the labelled
gallery's vote, service.matching.gallery): that drop is the item's map. Computed on demand, kept in
the data directory per model, scan, photo and gallery size (a grown gallery reads findings anew).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlalchemy.orm import Session

from models.encoders import occlusion
from models.encoders.encoder import Encoder, Finding
from models.encoders.gallery import read_tensors
from models.encoders.occlusion import Grid
from service.db.tables import utcnow
from service.domain import shipments
from service.domain.errors import NotFound
from service.matching import gallery, verdicts
from service.matching.embedder import decode
from service.matching.gallery import GalleryFinding, Vote
from service.matching.matcher import Matcher
from service.matching.overlays import Overlay, OverlayMap
from service.matching.xray_evidence import label

METHOD = "occlusion-mean-v1"  # part of every cache key: a new method computes every overlay anew
GRID = Grid(cells=8, window=2)
MISMATCH, MATCH = "mismatch", "match"
HEAD_CARRIES = 0.5  # a finding is the head's while the labelled gallery's weight in it stays below this


@dataclass(frozen=True)
class Saliency:
    """Per grid cell, the mean change over the windows covering it when they are greyed out."""

    grid: Grid
    similarity: np.ndarray | None  # similarity with the photo, greyed out minus whole (None without a photo)
    findings: dict[str, np.ndarray]  # per item of concern, its probability whole minus greyed out
    baseline: list[GalleryFinding]  # the findings of the whole scan, as the verdict reads them
    gallery_weight: dict[str, float]  # per item, the labelled gallery's weight in its finding (the rest: the head)


def saliency(
    *,
    encoder: Encoder,
    xray: Image.Image,
    photo: np.ndarray | None,
    grid: Grid = GRID,
    gallery_encoder: Encoder | None = None,
    vote: Callable[[np.ndarray], Vote] | None = None,
) -> Saliency:
    """Occlusion saliency of the photo / x-ray similarity (`photo`: the photo's embedding) and of each finding;
    `vote` reads a scan's gallery vectors (through `gallery_encoder`), None for no labelled gallery."""
    batch, _ = occlusion.occluded(xray, encoder.preprocess.for_modality("xray"), grid)
    embedded = encoder.embed_tensors("xray", batch, batch_size=len(batch))  # one forward pass
    heads: list[list[Finding]] = [encoder.findings(row) for row in embedded] if encoder.findings else []
    if vote is not None and gallery_encoder is not None:
        galleried, _ = occlusion.occluded(xray, gallery_encoder.preprocess.for_modality("xray"), grid)
        votes = [vote(vectors) for vectors in read_tensors(gallery_encoder, galleried, embedding=False)[0]]
    else:
        votes = [gallery.vote([], {}, half_evidence=1.0, shown=0)] * len(batch)
    read = [gallery.findings(v, heads[i] if heads else []) for i, v in enumerate(votes)]
    probability = np.array([[_probability(f, item.item) for item in read[0]] for f in read])
    similarity = embedded @ photo if photo is not None else None
    return Saliency(
        grid=grid,
        similarity=None if similarity is None else grid.cell_map(similarity[1:] - similarity[0]),
        findings={item.item: grid.cell_map(probability[0, j] - probability[1:, j]) for j, item in enumerate(read[0])},
        baseline=read[0],
        gallery_weight=dict(votes[0].reading.item_evidence),
    )


def _probability(findings: list[GalleryFinding], item: str) -> float:
    return next((f.probability for f in findings if f.item == item), 0.0)


def overlay_maps(found: Saliency) -> tuple[list[OverlayMap], str]:
    """The maps an inspector can choose from, and the one to show first: the most probable item of concern
    the verdict reports where the model's head carries the finding, else where the x-ray departs from the photo.
    Greying out a window barely moves the labelled gallery's vote (one pooled vector, its nearest labelled
    scans): where the gallery carries a finding, its map points at the item less often than the departure from
    the photo does (docs/evaluation/where-to-look)."""
    maps: list[OverlayMap] = []
    if found.similarity is not None:
        maps.append(_map(MISMATCH, "where the x-ray departs from the listing photo", found.similarity))
        maps.append(_map(MATCH, "where the x-ray matches the listing photo", -found.similarity))
    pointing = []
    for f in found.baseline:
        if f.head is None and f.gallery_share == 0:  # neither the model's head nor a labelled scan names it
            continue
        words = f"{label(f.item)} (P {f.probability:.2f}{', reported' if f.present else ''})"
        maps.append(_map(f"finding:{f.item}", words, found.findings[f.item], present=f.present))
        if f.present and found.gallery_weight.get(f.item, 0.0) < HEAD_CARRIES:
            pointing.append(maps[-1].key)
    shown = pointing[0] if pointing else (maps[0].key if maps else "")
    return maps, shown


def _map(key: str, words: str, values: np.ndarray, *, present: bool = False) -> OverlayMap:
    heat = np.clip(values, 0.0, None)
    return OverlayMap(
        key=key,
        label=words,
        cells=np.round(heat, 5).tolist(),
        peak=round(float(heat.max()), 5),
        present=present,
    )


def current(session: Session, matcher: Matcher, shipment_id: str) -> tuple[Overlay, bool]:
    """The shipment's overlay, and whether it was computed now (False: read from the store)."""
    shipment = shipments.resolve(session, shipment_id)
    images = {modality: sha for sha, modality in verdicts.image_items(session, shipment.id)}
    if "xray" not in images:
        raise NotFound(f"shipment {shipment.id} has no x-ray to look at")
    counts = matcher.gallery.counts(session)
    labelled = sum(counts.values())
    store = matcher.overlays
    path = store.path(
        method=METHOD,
        model=matcher.encoder.identity,
        gallery=matcher.gallery.encoder.identity if labelled else "",
        labelled=labelled,
        xray=images["xray"],
        photo=images.get("photo", ""),
        cells=GRID.cells,
        window=GRID.window,
    )
    with store.lock:
        found = store.read(path)
        if found is not None:
            return found.model_copy(update={"shipment_id": shipment.id}), False
        started = time.perf_counter()
        read = matcher.embedder.store.read
        photo = images.get("photo")
        photo_vector = matcher.encoder.embed_images("photo", [decode(read(photo))])[0] if photo else None
        found_saliency = saliency(
            encoder=matcher.encoder,
            xray=decode(read(images["xray"])),
            photo=photo_vector,
            gallery_encoder=matcher.gallery.encoder,
            vote=(lambda vectors: matcher.gallery.vote(session, vectors)) if labelled else None,
        )
        maps, shown = overlay_maps(found_saliency)
        made = Overlay(
            shipment_id=shipment.id,
            xray_sha256=images["xray"],
            photo_sha256=photo,
            cells=GRID.cells,
            window=GRID.window,
            shown=shown,
            maps=maps,
            model=matcher.encoder.version,
            gallery_labelled=labelled,
            seconds=round(time.perf_counter() - started, 3),
            computed_at=utcnow(),
        )
        store.write(path, made)
    return made, True
