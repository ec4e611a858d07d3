from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.generator.scenarios import NEAR, plan
from models.generator.synthetic import CATEGORIES, SCENARIOS, _shipment_from_plan, generate_shipment, write_dataset


def _files(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((root / "images").iterdir())}


def test_api_names() -> None:
    assert len(CATEGORIES) >= 24 and len(set(CATEGORIES)) == len(CATEGORIES)
    assert SCENARIOS == ("match", "substitution", "near_substitution", "concealment", "quantity_mismatch",
                         "empty_or_decoy")
    assert set(NEAR) == set(CATEGORIES)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = write_dataset(tmp_path / "a", n=6, seed=11, size=96, progress=False)
    b = write_dataset(tmp_path / "b", n=6, seed=11, size=96, progress=False)
    assert _files(a.parent) == _files(b.parent)
    assert a.read_bytes() == b.read_bytes()
    c = write_dataset(tmp_path / "c", n=6, seed=12, size=96, progress=False)
    assert _files(a.parent) != _files(c.parent)


def test_rendering_in_several_processes_writes_the_same_files(tmp_path: Path) -> None:
    one = write_dataset(tmp_path / "one", n=8, seed=21, size=64, progress=False)
    two = write_dataset(tmp_path / "two", n=8, seed=21, size=64, progress=False, workers=2)
    assert one.read_bytes() == two.read_bytes()
    assert _files(one.parent) == _files(two.parent)
    assert not list((tmp_path / "two").glob("*.tmp"))


def test_a_second_view_ships_the_same_goods_photographed_and_scanned_again() -> None:
    base = generate_shipment(seed=4, index=2, size=64, scenario="concealment")
    assert _png_file(generate_shipment(seed=4, index=2, size=64, scenario="concealment", view=0).xray) == _png_file(
        base.xray
    )
    again = generate_shipment(seed=4, index=2, size=64, scenario="concealment", view=1)
    assert (again.category, again.contents, again.title, again.declared_weight_kg) == (
        base.category,
        base.contents,
        base.title,
        base.declared_weight_kg,
    )
    assert _png_file(again.xray) != _png_file(base.xray)
    assert _png_file(again.photo) != _png_file(base.photo)


def test_shipment_depends_on_seed_and_index_only(tmp_path: Path) -> None:
    write_dataset(tmp_path / "big", n=5, seed=3, size=64, progress=False)
    s = generate_shipment(seed=3, index=4, size=64)
    assert (tmp_path / "big" / "images" / "s3-0000004-xray.png").read_bytes() == _png_file(s.xray)


def _png_file(img: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)  # type: ignore[attr-defined]
    return buf.getvalue()


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_renders_in_both_modalities(category: str) -> None:
    s = generate_shipment(seed=5, index=1, size=128, scenario="match", category=category)
    assert s.category == category and s.contents == [category] * len(s.contents) and s.contents
    for img in (s.photo, s.xray):
        assert img.mode == "RGB" and img.size == (128, 128)
    photo, xray = np.asarray(s.photo, np.float32), np.asarray(s.xray, np.float32)
    # Something non-background is drawn in each: the photo has an object, the x-ray absorbs.
    assert photo.std() > 8
    assert (xray.mean(axis=2) < 200).mean() > 0.01
    assert (xray.mean(axis=2) > 240).mean() > 0.05  # bright empty belt around the parcel


@pytest.mark.slow
def test_cli_scale_run(tmp_path: Path) -> None:
    from models.generator.manifest import read_manifest
    from models.generator.synthetic import main

    main(["--out", str(tmp_path / "s"), "--n", "200", "--seed", "1"])
    records = list(read_manifest(tmp_path / "s" / "manifest.jsonl"))
    assert len(records) == 200 and {r.scenario for r in records} == set(SCENARIOS)


def test_the_listing_alone_is_the_listing_of_the_rendered_shipment() -> None:
    from models.generator.synthetic import generate_listing

    mix = {"match": 0.4, "near_substitution": 0.3, "quantity_mismatch": 0.3}
    for index in range(12):
        shipment = generate_shipment(seed=5, index=index, size=64, mix=mix)
        listing = generate_listing(seed=5, index=index, mix=mix)
        assert (listing.title, listing.description, listing.hts) == (shipment.title, shipment.description, shipment.hts)
        assert (listing.declared_weight_kg, listing.declared_value) == (
            shipment.declared_weight_kg,
            shipment.declared_value,
        )


def test_a_concealment_reports_where_its_concealed_item_lies() -> None:
    """The mask is where the x-ray differs from the same parcel packed and scanned without the item (when the
    item fits inside the declared goods' footprint, the parcel is otherwise the same to the pixel)."""
    confined = 0
    for index in range(8):
        s = generate_shipment(seed=4, index=index, size=128, scenario="concealment")
        assert s.concealed is not None and s.concealed.shape == (128, 128) and s.concealed.any()
        rng = np.random.default_rng(np.random.SeedSequence([4, index, 0]))
        bare = _shipment_from_plan(dataclasses.replace(plan(rng, "concealment"), hidden=None), 4, index, 128)
        assert bare.concealed is None
        differs = np.abs(np.asarray(s.xray, np.int16) - np.asarray(bare.xray, np.int16)).max(axis=2) > 8
        near = cv2.dilate(s.concealed.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
        if (differs & ~near).sum() > 2:
            continue  # the item did not fit: the carton grew around it and everything moved
        confined += 1
        assert (s.concealed & differs).sum() >= 0.9 * s.concealed.sum()
    assert confined >= 3
    assert generate_shipment(seed=4, index=0, size=64, scenario="match").concealed is None
