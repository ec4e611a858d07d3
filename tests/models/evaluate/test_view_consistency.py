from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.encoders.registry import DEFAULT_ENCODER, default_registry, load_encoder
from models.evaluate.metrics import recall_at_k
from models.evaluate.view_consistency import main, view_consistency
from models.generator.manifest import read_manifest
from models.generator.synthetic import render_view, write_dataset


def test_view_zero_is_the_written_split(tmp_path: Path) -> None:
    manifest = write_dataset(tmp_path / "split", n=3, seed=4, size=96, progress=False)
    rows = list(read_manifest(manifest))
    for i, row in enumerate(rows):
        photo, xray = render_view(4, i, 0, size=96)
        assert np.array_equal(np.asarray(photo), np.asarray(Image.open(manifest.parent / row.photo).convert("RGB")))
        assert np.array_equal(np.asarray(xray), np.asarray(Image.open(manifest.parent / row.xray)))
        again, _ = render_view(4, i, 1, size=96)
        assert not np.array_equal(np.asarray(again), np.asarray(photo))


def test_recalls_across_renderings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_dataset(tmp_path / "split", n=24, seed=6, size=128, progress=False)
    encoder = load_encoder(DEFAULT_ENCODER, device="cpu")
    out = view_consistency(encoder, manifest, view=2)

    rows = list(read_manifest(manifest))
    again = [render_view(6, i, 2, size=128) for i in range(len(rows))]
    p0 = encoder.embed_images("photo", [Image.open(manifest.parent / r.photo) for r in rows])
    x0 = encoder.embed_images("xray", [Image.open(manifest.parent / r.xray) for r in rows])
    p1 = encoder.embed_images("photo", [p for p, _ in again])
    x1 = encoder.embed_images("xray", [x for _, x in again])
    labels = np.array([r.label == "match" for r in rows], dtype=int)
    everyone = np.ones(len(rows), dtype=int)
    assert out["shipments"] == 24 and out["match_queries"] == labels.sum() and out["view"] == 2
    assert out["photo_to_photo"] == pytest.approx(recall_at_k(p0, p1, everyone, 1))
    assert out["xray_to_xray"] == pytest.approx(recall_at_k(x0, x1, everyone, 1))
    assert out["photo_to_xray"]["written"] == pytest.approx(recall_at_k(p0, x0, labels, 1))
    assert out["photo_to_xray"]["photo written, x-ray again"] == pytest.approx(recall_at_k(p0, x1, labels, 1))
    assert out["photo_to_xray"]["photo again, x-ray written"] == pytest.approx(recall_at_k(p1, x0, labels, 1))

    artifact = default_registry().spec(DEFAULT_ENCODER).folder  # type: ignore[union-attr]
    assert main(["--artifact", str(artifact), "--manifest", str(manifest), "--view", "2"]) == 0
    assert "x-ray -> other scan of the same parcel" in capsys.readouterr().out


def test_refuses_what_cannot_be_rendered_again(tmp_path: Path) -> None:
    manifest = write_dataset(tmp_path / "split", n=6, seed=3, size=64, progress=False)
    encoder = load_encoder(DEFAULT_ENCODER, device="cpu")
    with pytest.raises(ValueError, match="view must be at least 1"):
        view_consistency(encoder, manifest, view=0)
    with pytest.raises(ValueError, match="another --mix"):
        view_consistency(encoder, manifest, mix={"concealment": 1.0})
    rows = manifest.read_text().splitlines()
    imported = manifest.parent / "imported.jsonl"
    imported.write_text("\n".join(line.replace('"id": "s3-', '"id": "parcel-') for line in rows) + "\n")
    with pytest.raises(ValueError, match="not a generated one"):
        view_consistency(encoder, imported)
