"""What a scan looks like, read off an operator's labelled x-ray gallery: vectors, vote and rule.

The gallery is the operator's archive of real scans labelled by category (`handgun`,
`kitchen_knife`, ..., `benign` for a scan holding none of the items of concern). A new scan is
compared with it in the untouched ImageNet EfficientNet-Lite0 feature space, which serves real
scans better than the trained x-ray tower (docs/evaluation/real-images/, "The labelled gallery").

Three pure parts, numpy in and out, used by the service and by `models.evaluate.real`:
- `gallery_vectors(encoder, image)`: the scan's gallery vector(s), one row per view;
- `vote(...)`: the nearest labelled scans -> per-category shares, a confidence that grows with
  the labelled evidence, and a probability per item of concern;
- `agreement_risk(listing, vote)`: how much the gallery's reading contradicts the listing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from models.encoders.encoder import Encoder
from models.encoders.preprocess import to_tensor

GALLERY_ENCODER = "imagenet-effl0"  # the encoder the gallery is read through
GALLERY_BLOCK = 4  # EfficientNet-Lite0 block whose mean-pooled output is the gallery vector
GALLERY_DIM = 112  # its channels
BENIGN = "benign"
THREAT_ITEMS: tuple[str, ...] = ("handgun", "kitchen_knife")
# How many labelled scans of a category give its reading half weight: 5 -> 0.5, 20 -> 0.8, 100 -> 0.95.
HALF_EVIDENCE = 5.0
# Per category, the mean of its `TOP_M` best similarities is its score (fewer if it has fewer).
TOP_M = 3
# Softmax temperature over category scores (cosine units).
TEMPERATURE = 0.02
# How many nearest labelled scans a caller should hand to `vote` (a FAISS search's k).
NEIGHBOURS = 50
# A finding alarms from this probability: more likely than not, once weighted by the evidence.
FINDING_ALARM = 0.5


def gallery_vectors(encoder: Encoder, images: Sequence[Image.Image]) -> np.ndarray:
    """(n, 1, d) float32 gallery vectors of x-ray scans, each row L2-normalised: one view per scan.

    Through an ImageNet EfficientNet trunk (`load_encoder("imagenet-effl0")`, the gallery's
    encoder): the output of block `GALLERY_BLOCK` (112 channels at a sixteenth of the input's
    side), mean-pooled over the whole scan, squashed to the encoder's input size; one forward pass
    a scan, stopped two blocks early. Mid-level features keep the shapes of small items in a
    cluttered bag that the last blocks pool into "a bag". Any other encoder (the trained towers)
    gives its own embedding. The gallery index holds one row per labelled scan, searched by inner
    product (cosine); `scan_similarities` compares stacks of views when a method has several.
    """
    return read_scans(encoder, images, embedding=False)[0]


def gallery_dim(encoder: Encoder) -> int:
    """Width of `gallery_vectors` through this encoder."""
    return GALLERY_DIM if _is_efficientnet(encoder.module) else encoder.dim


def read_scans(
    encoder: Encoder, images: Sequence[Image.Image], *, embedding: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """(gallery vectors (n, 1, d), the encoder's own x-ray embedding (n, dim) or None) in one pass.

    The gallery vector is block `GALLERY_BLOCK`'s output; the embedding (`encoder.embed_images`,
    asked with `embedding=True`) continues the same pass through the last blocks, so a service that
    needs both (the gallery's reading and familiarity) runs the trunk once."""
    rgb = [img.convert("RGB") for img in images]
    if not _is_efficientnet(encoder.module):
        own = encoder.embed_images("xray", rgb)
        return own[:, None, :], own if embedding else None
    cfg = encoder.preprocess.for_modality("xray")
    parts = [
        read_tensors(encoder, to_tensor(rgb[start : start + encoder.batch_size], cfg), embedding=embedding)
        for start in range(0, len(rgb), encoder.batch_size)
    ]
    finals = [own for _, own in parts if own is not None]
    return (
        np.concatenate([np.zeros((0, 1, GALLERY_DIM), np.float32), *(vectors for vectors, _ in parts)]),
        np.concatenate([np.zeros((0, encoder.dim), np.float32), *finals]) if embedding else None,
    )


def read_tensors(encoder: Encoder, batch: torch.Tensor, *, embedding: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """`read_scans` of a batch already preprocessed for the x-ray tower (occlusion edits the tensor)."""
    trunk = encoder.module
    if not _is_efficientnet(trunk):
        own = encoder.embed_tensors("xray", batch)
        return own[:, None, :], own if embedding else None
    chunks = [np.zeros((0, 1, GALLERY_DIM), np.float32)]
    finals = [np.zeros((0, encoder.dim), np.float32)]
    blocks = list(cast(torch.nn.Sequential, trunk.blocks))
    for start in range(0, len(batch), encoder.batch_size):
        part = batch[start : start + encoder.batch_size].to(encoder.placement.device)
        with (
            torch.inference_mode(),
            torch.autocast(
                device_type=encoder.placement.device.type,
                dtype=encoder.placement.dtype,
                enabled=encoder.placement.autocast,
            ),
        ):
            x = cast(torch.nn.Module, trunk.bn1)(cast(torch.nn.Module, trunk.conv_stem)(part))
            for block in blocks[: GALLERY_BLOCK + 1]:
                x = block(x)
            pooled = x.float().mean(dim=(2, 3))
            if embedding:
                for block in blocks[GALLERY_BLOCK + 1 :]:
                    x = block(x)
                for layer in ("conv_head", "bn2", "global_pool"):
                    x = cast(torch.nn.Module, getattr(trunk, layer))(x)
                final = cast(torch.nn.Module, trunk.classifier)(x)
                finals.append(F.normalize(final.float(), dim=-1).cpu().numpy().astype(np.float32))
        chunks.append(F.normalize(pooled, dim=-1).cpu().numpy()[:, None, :].astype(np.float32))
    return np.concatenate(chunks), np.concatenate(finals) if embedding else None


def _is_efficientnet(module: torch.nn.Module) -> bool:
    blocks = getattr(module, "blocks", None)
    return (
        hasattr(module, "conv_stem")
        and hasattr(module, "bn1")
        and isinstance(blocks, torch.nn.Sequential)
        and (len(blocks) > GALLERY_BLOCK)
    )


def scan_similarities(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """(nq, ng) similarity of scans given as stacks of gallery vectors (nq, v, d) and (ng, v, d):
    the best cosine over their pairs of views (plain cosine for one view each)."""
    q, g = np.asarray(queries, np.float32), np.asarray(gallery, np.float32)
    if q.shape[1] == 1 and g.shape[1] == 1:
        return q[:, 0] @ g[:, 0].T
    return np.einsum("qid,gjd->qgij", q, g, optimize=True).max(axis=(2, 3))


@dataclass(frozen=True)
class GalleryVote:
    """The labelled gallery's reading of one scan."""

    shares: dict[str, float]  # per gallery category, summing to 1 (empty when nothing to go on)
    category: str | None  # the category with the largest share
    confidence: float  # that share times the evidence weight of its labelled scans, in [0, 1]
    findings: dict[str, float]  # P(item of concern in the scan) per threat item the gallery holds
    evidence: dict[str, float] = field(default_factory=dict)  # weight of each category's labelled scans
    # Per threat item: the share of the vote on neighbours holding it, before the evidence weight,
    # and that weight (findings = holding x item_evidence).
    holding: dict[str, float] = field(default_factory=dict)
    item_evidence: dict[str, float] = field(default_factory=dict)


def evidence_weight(count: int | float, half: float = HALF_EVIDENCE) -> float:
    """Weight of a reading backed by `count` labelled scans: count / (count + half)."""
    return float(count) / (float(count) + half) if count > 0 else 0.0


def _class_scores(names: np.ndarray, sims: np.ndarray, classes: Sequence[str], floor: float, top_m: int) -> np.ndarray:
    """Mean of each class's `top_m` best similarities among the neighbours, padded with `floor`."""
    scores = np.empty(len(classes), np.float64)
    for j, name in enumerate(classes):
        best = np.sort(sims[names == name])[::-1][:top_m]
        pad = top_m - best.size
        scores[j] = (best.sum() + pad * floor) / top_m
    return scores


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = (scores - scores.max()) / temperature
    e = np.exp(z)
    return e / e.sum()


def vote(
    labels: Sequence[str],
    similarities: np.ndarray,
    counts: Mapping[str, int],
    *,
    items: Sequence[Sequence[str]] | None = None,
    threats: Sequence[str] = THREAT_ITEMS,
    top_m: int = TOP_M,
    temperature: float = TEMPERATURE,
    half_evidence: float = HALF_EVIDENCE,
) -> GalleryVote:
    """The gallery's reading of a scan from its nearest labelled scans.

    labels: the category each neighbour is filed under; similarities: their cosines to the scan
    (any order; pass the `NEIGHBOURS` nearest); counts: how many labelled scans of each category
    the whole gallery holds (categories absent from the neighbours score as the farthest one);
    items: per neighbour, every item it holds (a bag filed under `handgun` may hold a knife too;
    default: its category alone).

    Each category scores the mean of its `top_m` best similarities (so a category with many
    labelled scans is not favoured for being frequent), the shares are a softmax of the scores,
    and each threat item's probability is the same softmax between the neighbours holding it
    and those that do not, times the evidence weight of its labelled scans (`half_evidence`
    labelled scans give half weight).
    """
    sims = np.asarray(similarities, np.float64).reshape(-1)
    names = np.asarray(list(labels), dtype=object)
    if names.size != sims.size:
        raise ValueError(f"{names.size} labels for {sims.size} similarities")
    held = [list(i) for i in items] if items is not None else [[n] for n in names]
    if len(held) != sims.size:
        raise ValueError(f"{len(held)} item lists for {sims.size} similarities")
    classes = sorted(c for c, n in counts.items() if n > 0)
    if not classes or sims.size == 0:
        return GalleryVote({}, None, 0.0, {})
    floor = float(sims.min())
    shares_arr = _softmax(_class_scores(names, sims, classes, floor, top_m), temperature)
    shares = {c: float(s) for c, s in zip(classes, shares_arr, strict=True)}
    evidence = {c: evidence_weight(counts[c], half_evidence) for c in classes}
    best = classes[int(np.argmax(shares_arr))]
    findings, holding, item_evidence = {}, {}, {}
    for item in threats:
        has = np.array([item in h for h in held])
        with_item = sum(n for c, n in counts.items() if c == item)
        if with_item == 0 and not has.any():
            continue
        pair = _class_scores(np.where(has, "yes", "no").astype(object), sims, ["yes", "no"], floor, top_m)
        holding[item] = float(_softmax(pair, temperature)[0])
        item_evidence[item] = evidence_weight(max(with_item, int(has.sum())), half_evidence)
        findings[item] = holding[item] * item_evidence[item]
    return GalleryVote(shares, best, shares[best] * evidence[best], findings, evidence, holding, item_evidence)


@dataclass(frozen=True)
class Disagreement:
    risk: float  # in [0, 1]: 0 when the gallery agrees with the listing or has nothing to say
    reason: str | None  # an inspector's sentence, None when risk is 0


def category_risk(listing: str | None, reading: GalleryVote) -> float | None:
    """How far the gallery's category reading contradicts the listing's category, in [0, 1]; None
    when either is unknown. The share not consistent with the listing (the listing's category
    where the gallery holds it; else `benign`, a scan with none of the gallery's items, is what
    such goods look like), times the confidence of the gallery's category where that is another,
    else times the evidence behind the listing's own category."""
    if reading.category is None or listing is None:
        return None
    consistent = listing if listing in reading.shares else BENIGN
    off = 1.0 - reading.shares.get(consistent, 0.0)
    weight = reading.confidence if reading.category != consistent else reading.evidence.get(reading.category, 0.0)
    return float(weight * off)


def agreement_risk(listing: str | None, reading: GalleryVote, *, threats: Sequence[str] = THREAT_ITEMS) -> Disagreement:
    """Risk that the scan does not hold what the listing sells, by the labelled gallery.

    Two ways the gallery contradicts a listing:
    - it names, with confidence, a category other than the listing's: risk = confidence x the
      share not consistent with the listing (the listing's category where the gallery holds it;
      else `benign`, a scan with none of the gallery's items, is what such goods look like);
    - it finds a threat item the listing does not declare: risk = that item's probability.
    The larger of the two is the risk; `listing=None` (no category known) keeps only the second.
    """
    risks: list[tuple[float, str]] = []
    contradiction = category_risk(listing, reading)
    if contradiction is not None and reading.category is not None:
        risks.append(
            (
                contradiction,
                f"the labelled gallery reads the scan as {reading.category} "
                f"(share {reading.shares[reading.category]:.2f}), the listing as {listing}",
            )
        )
    for item in threats:
        p = reading.findings.get(item)
        if p is not None and item != listing:
            risks.append(
                (
                    float(p),
                    f"the labelled gallery finds a {item.replace('_', ' ')} (P {p:.2f}) the listing does not declare",
                )
            )
    if not risks:
        return Disagreement(0.0, None)
    risk, reason = max(risks, key=lambda r: r[0])
    return Disagreement(float(np.clip(risk, 0.0, 1.0)), reason if risk > 0 else None)
