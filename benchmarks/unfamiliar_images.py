"""Familiarity (service.matching.familiarity) of generated against real images, and what it does to real handguns.

python benchmarks/unfamiliar_images.py --manifest MANIFEST [--space ENCODER] [--max-real N] [--json OUT]

Fits the references and thresholds as the service does on first start (the generated calibration
shipments), then scores held-out generated shipments (seed 7) and the real evaluation set
(research-licensed: evaluation only). Prints the score distributions, ROC-AUC of generated vs
real per modality, the share of each under the threshold, and how many real handgun bag scans
would be decided `match` under a real photo of another category, before and after the rule.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from models.encoders.encoder import Encoder
from models.encoders.registry import load_encoder
from models.evaluate.real import RealImage, embed, read_real_manifest
from service.matching import calibration, familiarity, labelled
from service.settings import Matching

HELD_OUT_SEED = 7  # the generated evaluation seed: neither calibration (11) nor training


def _summary(scores: np.ndarray, threshold: float) -> dict[str, Any]:
    q = np.quantile(scores, [0.01, 0.05, 0.5, 0.95]) if len(scores) else [np.nan] * 4
    return {
        "n": len(scores),
        "p01": round(float(q[0]), 3),
        "p05": round(float(q[1]), 3),
        "median": round(float(q[2]), 3),
        "p95": round(float(q[3]), 3),
        "unfamiliar": int((scores < threshold).sum()),
    }


def _subset(rows: list[RealImage], most: int | None, seed: int = 0) -> list[RealImage]:
    """At most `most` real images per modality, at random, always with every handgun bag scan."""
    if most is None:
        return rows
    rng = np.random.default_rng(seed)
    kept = []
    for modality in familiarity.MODALITIES:
        chosen = [r for r in rows if r.modality == modality]
        guns = [r for r in chosen if r.kind == "whole" and r.holds("handgun")]
        rest = [r for r in chosen if r not in guns]
        picked = rng.choice(len(rest), size=min(len(rest), max(0, most - len(guns))), replace=False)
        kept += guns + [rest[i] for i in sorted(picked)]
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--held-out", type=int, default=200, help="held-out generated shipments")
    parser.add_argument(
        "--space", help="encoder whose embedding space familiarity is measured in (default: the service's)"
    )
    parser.add_argument("--max-real", type=int, help="score a random subset of this many real images per modality")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = Matching()
    encoder = load_encoder(config.encoder)
    space_name = args.space or config.familiarity_encoder
    space = encoder if space_name == config.encoder else load_encoder(space_name)
    pairs = config.calibration_pairs

    def shipments(model: Encoder, n: int, seed: int) -> labelled.Generated:
        return labelled.generated(model, n=n, seed=seed, progress=True)

    reference = shipments(encoder, pairs, config.calibration_seed)
    in_space = reference if space is encoder else shipments(space, pairs, config.calibration_seed)
    known = familiarity.fit_all(
        in_space.photos,
        in_space.xrays,
        k=config.familiarity_k,
        quantile=config.familiarity_quantile,
        source="generated",
    )
    calib = calibration.fit(
        reference.cosines, reference.labels, target_false_alarm_rate=config.target_false_alarm_rate, source="generated"
    ).picture
    held = shipments(encoder, args.held_out, HELD_OUT_SEED)
    held_in_space = held if space is encoder else shipments(space, args.held_out, HELD_OUT_SEED)
    rows = _subset(read_real_manifest(args.manifest), args.max_real)
    folder = args.manifest.parent
    real = {m: embed(encoder, folder, rows, m) for m in familiarity.MODALITIES}
    real_in_space = real if space is encoder else {m: embed(space, folder, rows, m) for m in familiarity.MODALITIES}

    def scores(modality: str, vectors: np.ndarray) -> np.ndarray:
        return np.array([known[modality].score(v) for v in vectors], np.float32)

    out: dict[str, Any] = {
        "encoder": encoder.version,
        "space": space.version,
        "k": config.familiarity_k,
        "quantile": config.familiarity_quantile,
    }
    real_scores = {m: scores(m, real_in_space[m].vectors) for m in familiarity.MODALITIES}
    print("| images | n | 1% | 5% | median | 95% | under threshold | ROC-AUC generated vs these |")
    print("|---|---|---|---|---|---|---|---|")
    for modality, generated_vectors in (("photo", held_in_space.photos), ("xray", held_in_space.xrays)):
        threshold = known[modality].threshold
        generated_scores = scores(modality, generated_vectors)
        groups = {f"generated {modality}s (held out)": generated_scores}
        kinds = sorted({r.kind for r in real[modality].rows})
        groups[f"real {modality}s"] = real_scores[modality]
        if len(kinds) > 1:
            for kind in kinds:
                groups[f"real {modality}s, {kind}"] = real_scores[modality][
                    [r.kind == kind for r in real[modality].rows]
                ]
        out[modality] = {"threshold": round(threshold, 4)}
        for name, values in groups.items():
            summary = _summary(values, threshold)
            if not name.startswith("generated"):
                labels = np.r_[np.ones(len(generated_scores)), np.zeros(len(values))]
                summary["roc_auc"] = round(float(roc_auc_score(labels, np.r_[generated_scores, values])), 4)
            out[modality][name] = summary
            print(
                f"| {name} (familiar from {threshold:.3f}) | {summary['n']} | {summary['p01']} | {summary['p05']} | "
                f"{summary['median']} | {summary['p95']} | {summary['unfamiliar']} | {summary.get('roc_auc', '-')} |"
            )

    # Generated matches that the rule would turn from match into inconclusive (its cost on known data).
    held_p = np.array([calib.probability([c]) for c in held.cosines[:, 0]])
    held_match = np.array([calib.decide(p) == "match" for p in held_p])
    held_unfamiliar = (scores("photo", held_in_space.photos) < known["photo"].threshold) | (
        scores("xray", held_in_space.xrays) < known["xray"].threshold
    )
    out["generated_matches"] = {
        "decided_match": int(held_match.sum()),
        "made_inconclusive": int((held_match & held_unfamiliar).sum()),
    }
    print(
        f"\nheld-out generated shipments decided match: {held_match.sum()}, "
        f"of them made inconclusive: {(held_match & held_unfamiliar).sum()}"
    )

    # Real handgun bag scans under a real photo of another category.
    scans, photos = real["xray"], real["photo"]
    guns = [i for i, r in enumerate(scans.rows) if r.kind == "whole" and r.holds("handgun")]
    before = after = pairs = 0
    guns_before = guns_after = 0
    for i in guns:
        others = [j for j, r in enumerate(photos.rows) if not r.holds("handgun")]
        p = np.array([calib.probability([float(photos.vectors[j] @ scans.vectors[i])]) for j in others])
        match = p >= calib.match_from
        unfamiliar = (real_scores["photo"][others] < known["photo"].threshold) | (
            real_scores["xray"][i] < known["xray"].threshold
        )
        pairs += len(others)
        before += int(match.sum())
        after += int((match & ~unfamiliar).sum())
        guns_before += int(match.any())
        guns_after += int((match & ~unfamiliar).any())
    out["handguns"] = {
        "scans": len(guns),
        "pairs": pairs,
        "pairs_match_before": before,
        "pairs_match_after": after,
        "scans_with_a_match_before": guns_before,
        "scans_with_a_match_after": guns_after,
        "match_from": round(calib.match_from, 4),
    }
    print(
        f"\nreal handgun whole scans: {len(guns)}, "
        f"each paired with the {pairs // max(len(guns), 1)} real photos of other categories"
    )
    print(f"pairs decided match (P >= {calib.match_from:.3f}): before {before} of {pairs}, after {after}")
    print(f"handgun scans with at least one match: before {guns_before}, after {guns_after}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
