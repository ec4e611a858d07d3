"""The real-image evaluation, run here on a set laid out like the real one but drawn by the generator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.encoders.registry import DEFAULT_ENCODER
from models.evaluate.__main__ import main as evaluate_main
from models.evaluate.real import read_real_manifest
from models.generator.synthetic import generate_shipment

CATEGORIES = ("handgun", "kitchen_knife", "wrench")


def _write_set(folder: Path, per_category: int = 8) -> Path:
    lines = []
    for c, category in enumerate(CATEGORIES):
        for i in range(per_category):
            shipment = generate_shipment(seed=41, index=100 * c + i, size=160, category=category, scenario="match")
            for kind, image, modality in (("photo", shipment.photo, "photo"), ("whole", shipment.xray, "xray")):
                path = f"{modality}/{category}/{i}.png"
                (folder / path).parent.mkdir(parents=True, exist_ok=True)
                image.save(folder / path)
                lines.append({"path": path, "modality": modality, "category": category, "kind": kind, "source": "gen"})
            crop = shipment.xray.crop((20, 20, 140, 140))
            path = f"xray_crops/{category}/{i}.png"
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            crop.save(folder / path)
            lines.append({"path": path, "modality": "xray", "category": category, "kind": "crop", "source": "gen"})
    # Scans holding none of the categories (a parcel of books), and listings of goods no scan holds.
    for i in range(per_category):
        book = generate_shipment(seed=43, index=i, size=160, category="book", scenario="match")
        laptop = generate_shipment(seed=43, index=100 + i, size=160, category="laptop", scenario="match")
        for path, image, modality, category, kind in (
            (f"xray/benign/{i}.png", book.xray, "xray", "benign", "whole"),
            (f"photo/laptop/{i}.png", laptop.photo, "photo", "laptop", "photo"),
        ):
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            image.save(folder / path)
            lines.append({"path": path, "modality": modality, "category": category, "kind": kind, "source": "gen"})
    manifest = folder / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return manifest


def test_reports_every_measure_for_each_encoder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _write_set(tmp_path)
    out = tmp_path / "real.json"
    argv = ["--real", str(manifest), "--encoders", DEFAULT_ENCODER, "--repeats", "2", "--json", str(out)]
    assert evaluate_main([*argv, "--gallery-encoders", "imagenet-effl0", "--gallery-per-category", "5"]) == 0
    table = capsys.readouterr().out
    assert "x-ray crop category, gallery of 5 per category" in table
    assert "`handgun` gallery finding: ROC-AUC (at threshold)" in table
    result, classifier, gallery = json.loads(out.read_text())
    # On images like its training data the shipped encoder is far above chance on both.
    assert result["listing_category_from_photo"]["accuracy"] >= 0.5  # 26 labels: chance is 0.04
    # The classifier is rarely sure of a generated photo, so the service's rule keeps the encoder's reading.
    assert (
        result["listing_category_service_rule"]["accuracy"] >= result["listing_category_from_photo"]["accuracy"] - 0.1
    )
    assert result["gallery"]["whole"]["5"]["accuracy"] >= 0.5  # 4 categories with the benign parcels: chance 0.25
    assert result["gallery"]["whole"]["100"] is None  # 8 scans a category cannot hold a gallery of 100
    assert set(result["findings_on_whole_scans"]) >= {"handgun", "kitchen_knife"}
    assert result["assembled_shipments"]["pairs"] == 2 * 8 * len(CATEGORIES)
    # Through the labelled gallery (ImageNet tower, the vote of models.encoders.gallery).
    assert gallery["encoder"].startswith("imagenet-effl0")
    assert gallery["gallery_vote"]["5"]["accuracy"] >= 0.45  # 4 generated categories (0.58 measured): chance 0.25
    assert gallery["gallery_vote"]["5"]["categories"] == ["benign", *sorted(CATEGORIES)]
    assert gallery["gallery_vote"]["20"] is None
    assert gallery["gallery_findings"]["handgun"]["roc_auc"] > 0.8
    shipments = gallery["gallery_shipments"]["listing category given"]
    assert shipments["pairs_per_draw"]["benign scan, plain listing"] == 3  # 8 benign scans, 5 in the gallery
    assert shipments["roc_auc"]["all pairs, listing true"] > 0.7
    # The ImageNet classifier's reading of the same photos is reported beside the encoders.
    assert classifier["encoder"] == "imagenet classifier, mapped"
    assert classifier["listing_category_from_photo"]["n"] == 8 * (len(CATEGORIES) + 1)  # and the laptops


def test_unknown_categories_and_bad_lines_are_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(json.dumps({"path": "a.png", "modality": "xray", "category": "gun", "kind": "whole"}) + "\n")
    with pytest.raises(ValueError, match=r"categories \['gun'\] are not in the taxonomy"):
        read_real_manifest(manifest)
    manifest.write_text(
        json.dumps({"path": "a.png", "modality": "radar", "category": "wrench", "kind": "whole"}) + "\n"
    )
    with pytest.raises(ValueError, match="manifest.jsonl:1: invalid real-image line"):
        read_real_manifest(manifest)
