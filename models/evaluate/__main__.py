"""`python -m models.evaluate --n 1000 --seed 7 --json OUT.json`: three methods, one held-out split.

`python -m models.evaluate --real MANIFEST [--json OUT.json] [...]`: the real-image evaluation
(`models.evaluate.real`, issue 18), every other option passed on to it.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from models.encoders.artifact import CARD, read_config, write_checksums
from models.encoders.registry import DEFAULT_ENCODER, ArtifactSpec, default_registry
from models.evaluate import real as real_images
from models.evaluate.methods import encoder_embeddings, opencv_embeddings
from models.evaluate.report import plot_roc, render_report
from models.evaluate.scoring import false_alarmed_xrays, score_findings, score_method
from models.generator.manifest import ManifestRecord, read_manifest
from models.generator.synthetic import CATEGORIES, write_dataset


def _split(folder: Path, *, n: int, seed: int, mix: dict[str, float] | None) -> list[ManifestRecord]:
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        write_dataset(folder, n=n, seed=seed, mix=mix)
    return list(read_manifest(manifest))


def _images(folder: Path, rows: list[ManifestRecord], key: str) -> list[Image.Image]:
    images = []
    for row in rows:
        with Image.open(folder / getattr(row, key)) as img:
            images.append(img.convert("RGB"))
    return images


def _refuse_training_seeds(encoder_name: str, seeds: list[int]) -> None:
    spec = default_registry().spec(encoder_name)
    if not isinstance(spec, ArtifactSpec) or not (spec.folder / "config.json").is_file():
        return
    prov = read_config(spec.folder).get("provenance", {})
    used = {prov.get("train_seed"), prov.get("val_seed")} & set(seeds)
    if used:
        raise SystemExit(f"seed(s) {sorted(used)} were used to train {encoder_name}; pick held-out seeds")


def _update_card(folder: Path, report: str) -> None:
    card = folder / CARD
    text = re.sub(r"\n## Evaluation \(models\.evaluate\).*?(?=\n## Files and sha256)", "", card.read_text(), flags=re.S)
    section = "\n## Evaluation (models.evaluate)\n\n" + report.split("\n", 1)[1].replace("![ROC]", "ROC plot: ")
    text = text.replace("\n## Files and sha256", section + "\n## Files and sha256", 1)
    card.write_text(text)
    write_checksums(folder)


def _real(argv: list[str]) -> int | None:
    """`--real MANIFEST ...`: run `models.evaluate.real` on that manifest; None when not asked."""
    if not any(a == "--real" or a.startswith("--real=") for a in argv):
        return None
    rest, manifest = [], None
    it = iter(argv)
    for a in it:
        if a == "--real":
            manifest = next(it, None)
        elif a.startswith("--real="):
            manifest = a.split("=", 1)[1]
        else:
            rest.append(a)
    if not manifest:
        raise SystemExit("--real needs the real-image manifest: python -m models.evaluate --real MANIFEST")
    return real_images.main(["--manifest", manifest, *rest])


def main(argv: list[str] | None = None) -> int:
    delegated = _real(list(sys.argv[1:] if argv is None else argv))
    if delegated is not None:
        return delegated
    parser = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, required=True, help="OUT.json; the report and ROC plot go beside it")
    parser.add_argument("--gallery-n", type=int, default=500)
    parser.add_argument("--data", type=Path, default=Path("runs/eval-data"), help="generated splits are kept here")
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--baseline-encoder", default="imagenet-effl0")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--update-card", action="store_true", help="write the figures into the model card")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.time()
    gallery_seed = args.seed + 1
    _refuse_training_seeds(args.encoder, [args.seed, gallery_seed])

    eval_dir = args.data / f"eval-s{args.seed}-n{args.n}"
    gallery_dir = args.data / f"gallery-s{gallery_seed}-n{args.gallery_n}"
    rows = _split(eval_dir, n=args.n, seed=args.seed, mix=None)
    gallery_rows = _split(gallery_dir, n=args.gallery_n, seed=gallery_seed, mix={"match": 1.0})
    photos, xrays = _images(eval_dir, rows, "photo"), _images(eval_dir, rows, "xray")
    gallery = _images(gallery_dir, gallery_rows, "xray")
    gallery_labels = [r.category for r in gallery_rows]
    known = set(gallery_labels) & set(CATEGORIES)
    query_labels = [r.contents[0] if r.contents and r.contents[0] in known else None for r in rows]
    labels = np.array([1 if r.label == "match" else 0 for r in rows])
    common: dict[str, Any] = {
        "labels": labels,
        "scenarios": [r.scenario for r in rows],
        "categories": [r.category for r in rows],
        "gallery_labels": gallery_labels,
        "query_labels": query_labels,
    }

    registry = default_registry()
    trained = registry.load(args.encoder, batch_size=args.batch_size)
    baseline = registry.load(args.baseline_encoder, batch_size=args.batch_size)
    embeddings = {
        "trained": encoder_embeddings(trained, photos, xrays, gallery),
        "imagenet_cosine": encoder_embeddings(baseline, photos, xrays, gallery),
        "opencv_baseline": opencv_embeddings(photos, xrays, gallery),
    }
    scored = {name: score_method(emb, **common) for name, emb in embeddings.items()}
    if trained.findings is not None:
        scored["trained"]["xray_findings_false_alarmed"] = false_alarmed_xrays(
            trained.findings, embeddings["trained"].xray, [r.contents for r in rows]
        )
        scored["trained"]["xray_findings"] = score_findings(
            trained.findings, embeddings["trained"].xray, [r.contents for r in rows]
        )
    curves = {name: m.pop("_roc_inputs") for name, m in scored.items()}

    command = "python -m models.evaluate " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    result = {
        "methods": scored,
        "n": args.n,
        "seed": args.seed,
        "gallery_n": args.gallery_n,
        "gallery_seed": gallery_seed,
        "encoder": trained.version,
        "baseline_encoder": baseline.version,
        "command": command,
        "seconds": round(time.time() - started, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    roc_png = args.json.with_suffix(".roc.png")
    plot_roc(curves, roc_png)
    report = render_report(result, roc_png=roc_png.name, command=command)
    args.json.with_suffix(".md").write_text(report)
    print(report)
    if args.update_card:
        spec = registry.spec(args.encoder)
        if isinstance(spec, ArtifactSpec):
            _update_card(spec.folder, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
