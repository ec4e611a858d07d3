from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from models.encoders.registry import DEFAULT_ENCODER, default_registry, load_encoder
from models.evaluate.metrics import recall_at_k
from models.evaluate.retrieval_errors import main, retrieval_errors
from models.generator.manifest import read_manifest
from models.generator.synthetic import write_dataset


def test_retrieval_errors_count_as_the_evaluation_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_dataset(tmp_path / "split", n=40, seed=5, size=128, progress=False)
    encoder = load_encoder(DEFAULT_ENCODER, device="cpu")
    out = retrieval_errors(encoder, manifest)

    rows = list(read_manifest(manifest))
    photo = encoder.embed_images("photo", [Image.open(manifest.parent / r.photo) for r in rows])
    xray = encoder.embed_images("xray", [Image.open(manifest.parent / r.xray) for r in rows])
    labels = np.array([r.label == "match" for r in rows], dtype=int)
    assert out["queries"] == labels.sum() and out["gallery"] == 40
    assert abs(out["recall_at_1"] - recall_at_k(photo, xray, labels, 1)) < 1e-9
    # A query's own x-ray shows its category, so a smaller gallery of that category can only help.
    assert out["within_category_recall_at_1"] >= out["recall_at_1"]
    assert out["top1_other_category"] <= 1.0 - out["recall_at_1"] + 1e-9
    per = out["per_category_recall_at_1"]
    counts = {c: sum(1 for r in rows if r.label == "match" and r.category == c) for c in per}
    weighted = sum(per[c] * counts[c] for c in per) / sum(counts.values())
    assert abs(weighted - out["recall_at_1"]) < 0.01  # per-category figures are rounded to 3 places

    artifact = default_registry().spec(DEFAULT_ENCODER).folder  # type: ignore[union-attr]
    assert main(["--artifact", str(artifact), "--manifest", str(manifest)]) == 0
    assert "recall@1 within the query's category" in capsys.readouterr().out


def test_mirrored_xrays_average_the_two_embeddings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_dataset(tmp_path / "split", n=24, seed=6, size=128, progress=False)
    encoder = load_encoder(DEFAULT_ENCODER, device="cpu")
    out = retrieval_errors(encoder, manifest, mirror_xrays=True)

    rows = list(read_manifest(manifest))
    photo = encoder.embed_images("photo", [Image.open(manifest.parent / r.photo) for r in rows])
    scans = [Image.open(manifest.parent / r.xray).convert("RGB") for r in rows]
    xray = encoder.embed_images("xray", scans) + encoder.embed_images("xray", [ImageOps.mirror(s) for s in scans])
    xray /= np.linalg.norm(xray, axis=1, keepdims=True)
    labels = np.array([r.label == "match" for r in rows], dtype=int)
    assert abs(out["recall_at_1"] - recall_at_k(photo, xray, labels, 1)) < 1e-9

    artifact = default_registry().spec(DEFAULT_ENCODER).folder  # type: ignore[union-attr]
    assert main(["--artifact", str(artifact), "--manifest", str(manifest), "--mirror-xrays"]) == 0
    assert "averaged with their mirror images" in capsys.readouterr().out
