"""Importing a labelled archive: every format gives the same crops and whole scans, and every bad entry
is reported with its reason, never dropped silently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.engine import make_engine, make_session_factory
from service.db.tables import GalleryPhoto, GalleryScan, StoredImage
from service.domain.images import ImageStore
from service.matching import gallery_store
from service.matching.gallery_formats import ArchiveError
from service.matching.gallery_import import Importer, Report, parse_mapping
from service.settings import ImageLimits
from tests.support import image_bytes

SIZE = 96
MAPPING = ["Gun=handgun", "Knife=kitchen_knife"]
# (file, boxes as (label, x0, y0, x1, y1) in pixels); None: the file is not annotated at all.
SCANS: dict[str, list[tuple[str, int, int, int, int]]] = {
    "a.png": [("Gun", 8, 8, 48, 48), ("Knife", 50, 10, 90, 80)],
    # a box off the image, one too small to show anything, a label no category has
    "b.png": [("Gun", 100, 100, 150, 150), ("Knife", 2, 2, 8, 8), ("Spanner", 10, 10, 60, 60)],
    "c.png": [],  # nothing of concern: benign
    "d.png": [],  # the same bytes as c.png: a duplicate
    "broken.png": [("Gun", 8, 8, 48, 48)],  # not an image
    "missing.png": [("Gun", 8, 8, 48, 48)],  # annotated, but not in the archive
}
EXPECTED_ADDED = {
    ("handgun", "crop"): 1,
    ("kitchen_knife", "crop"): 1,
    ("handgun", "scan"): 1,
    ("kitchen_knife", "scan"): 2,
    ("benign", "scan"): 1,
}
EXPECTED_SKIPPED = {
    "box outside the image": 1,
    "too small": 1,
    "unknown category": 1,
    "unreadable image": 1,
    "no annotation": 1,
    "missing image file": 1,
    "duplicate": 1,
}


def _image_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, name in enumerate(["a.png", "b.png", "c.png", "orphan.png"]):
        (folder / name).write_bytes(image_bytes(size=(SIZE, SIZE), seed=100 + n))
    (folder / "d.png").write_bytes((folder / "c.png").read_bytes())
    (folder / "broken.png").write_bytes(b"this is not an image")


def write_coco(root: Path) -> None:
    _image_files(root / "images")
    names = ["Gun", "Knife", "Spanner"]
    images, annotations = [], []
    for image_id, (name, boxes) in enumerate(SCANS.items(), start=1):
        images.append({"id": image_id, "file_name": name, "width": SIZE, "height": SIZE})
        for label, x0, y0, x1, y1 in boxes:
            box = [x0, y0, x1 - x0, y1 - y0]
            annotations.append(
                {"id": len(annotations) + 1, "image_id": image_id, "category_id": 1 + names.index(label), "bbox": box}
            )
    categories = [{"id": 1 + i, "name": n} for i, n in enumerate(names)]
    document = {"images": images, "annotations": annotations, "categories": categories}
    (root / "annotations").mkdir()
    (root / "annotations" / "instances.json").write_text(json.dumps(document))


def write_voc(root: Path) -> None:
    _image_files(root / "JPEGImages")
    (root / "Annotations").mkdir()
    for name, boxes in SCANS.items():
        objects = "".join(
            f"<object><name>{label}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
            f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
            for label, x0, y0, x1, y1 in boxes
        )
        xml = f"<annotation><filename>{name}</filename>{objects}</annotation>"
        (root / "Annotations" / f"{Path(name).stem}.xml").write_text(xml)


def write_yolo(root: Path) -> None:
    _image_files(root / "images")
    (root / "labels").mkdir()
    names = ["Gun", "Knife", "Spanner"]
    (root / "data.yaml").write_text(yaml.safe_dump({"names": names}))
    for name, boxes in SCANS.items():
        rows = [
            f"{names.index(label)} {(x0 + x1) / 2 / SIZE} {(y0 + y1) / 2 / SIZE} {(x1 - x0) / SIZE} {(y1 - y0) / SIZE}"
            for label, x0, y0, x1, y1 in boxes
        ]
        (root / "labels" / f"{Path(name).stem}.txt").write_text("\n".join(rows))


WRITERS = {"coco": write_coco, "voc": write_voc, "yolo": write_yolo}


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def run(session: Session, root: Path, fmt: str = "auto", *, dry_run: bool = False) -> Report:
    importer = Importer(
        session=session,
        store=ImageStore(root.parent / "store"),
        limits=ImageLimits(),
        add=gallery_store.add_scan,
        mapping=parse_mapping(MAPPING),
        dry_run=dry_run,
    )
    return importer.run(root, fmt)


@pytest.mark.parametrize("fmt", ["coco", "voc", "yolo"])
def test_boxes_give_crops_and_whole_scans_and_every_bad_entry_is_reported(
    db: Session, tmp_path: Path, fmt: str
) -> None:
    root = tmp_path / "archive"
    WRITERS[fmt](root)
    dry = run(db, root, dry_run=True)  # the format is recognised, and nothing is written
    assert dry.format == fmt and dict(dry.added) == EXPECTED_ADDED
    assert db.scalar(select(func.count()).select_from(GalleryScan)) == 0
    report = run(db, root)
    assert dict(report.added) == EXPECTED_ADDED, report.lines()
    assert dict(report.skipped) == EXPECTED_SKIPPED, report.lines()
    text = "\n".join(report.lines())
    assert "'Spanner' is no category; map it with --map spanner=CATEGORY" in text
    rows = db.scalars(select(GalleryScan)).all()
    assert {r.source for r in rows} == {"import"} and len(rows) == 6
    crops = [r for r in rows if r.kind == "crop"]
    store = ImageStore(tmp_path / "store")
    for crop in crops:  # crops are images of their own, kept like filed ones
        stored = db.get(StoredImage, crop.image_sha256)
        assert stored is not None and stored.format == "PNG" and store.path_for(crop.image_sha256).is_file()
    assert {(c.category, db.get(StoredImage, c.image_sha256).width) for c in crops} == {  # type: ignore[union-attr]
        ("handgun", 40),
        ("kitchen_knife", 40),
    }
    again = run(db, root)  # importing the same archive again adds nothing
    assert not again.added and again.skipped["duplicate"] == 6 + 1
    assert db.scalar(select(func.count()).select_from(GalleryScan)) == 6


def test_a_folder_per_category(db: Session, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    for folder, name, seed in [("Gun", "a.png", 1), ("kitchen_knife", "b.png", 2), ("benign", "c.png", 3)]:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / name).write_bytes(image_bytes(size=(SIZE, SIZE), seed=seed))
    (root / "benign" / "copy.png").write_bytes((root / "benign" / "c.png").read_bytes())
    (root / "Spanner").mkdir()
    (root / "Spanner" / "e.png").write_bytes(image_bytes(size=(SIZE, SIZE), seed=4))
    (root / "Gun" / "notes.txt").write_text("not an image")
    (root / "stray.png").write_bytes(image_bytes(size=(SIZE, SIZE), seed=5))
    report = run(db, root)
    assert report.format == "folders"
    assert dict(report.added) == {("handgun", "scan"): 1, ("kitchen_knife", "scan"): 1, ("benign", "scan"): 1}
    assert dict(report.skipped) == {
        "duplicate": 1,
        "unknown category": 1,
        "unreadable image": 1,
        "not in a category folder": 1,
    }


def test_listing_photos_a_folder_per_category_with_every_bad_entry_reported(db: Session, tmp_path: Path) -> None:
    root = tmp_path / "photos"
    for folder, name, seed in [("headphones", "a.jpg", 11), ("Headphones", "b.png", 12), ("Wrench", "c.png", 13)]:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / name).write_bytes(image_bytes(Path(name).suffix[1:].upper().replace("JPG", "JPEG"), seed=seed))
    (root / "wrench" / "again.png").parent.mkdir(exist_ok=True)
    (root / "wrench" / "again.png").write_bytes((root / "Wrench" / "c.png").read_bytes())
    (root / "benign").mkdir()  # no listing sells "nothing of concern"
    (root / "benign" / "d.png").write_bytes(image_bytes(seed=14))
    (root / "headphones" / "broken.jpg").write_bytes(b"not a photo")
    (root / "stray.png").write_bytes(image_bytes(seed=15))
    (root / "notes.json").write_text("{}")  # a COCO-looking file: photos are read as folders whatever lies beside them

    def photos(dry_run: bool = False, fmt: str = "auto") -> Report:
        importer = Importer(
            session=db,
            store=ImageStore(tmp_path / "store"),
            limits=ImageLimits(),
            add=gallery_store.add_photo,
            mapping={},
            dry_run=dry_run,
            kind=gallery_store.PHOTOS,
        )
        return importer.run(root, fmt)

    assert dict(photos(dry_run=True).added) == {("headphones", "photo"): 2, ("wrench", "photo"): 1}
    assert db.scalar(select(func.count()).select_from(GalleryPhoto)) == 0
    report = photos()
    assert report.format == "folders" and report.lines()[0] == "added 3 gallery photo(s) from a folders archive"
    assert dict(report.added) == {("headphones", "photo"): 2, ("wrench", "photo"): 1}, report.lines()
    assert dict(report.skipped) == {
        "duplicate": 1,
        "unknown category": 1,
        "unreadable image": 1,
        "not in a category folder": 2,  # stray.png and notes.json
    }, report.lines()
    assert "'benign' is no category; map it with --map benign=CATEGORY" in "\n".join(report.lines())
    rows = db.scalars(select(GalleryPhoto)).all()
    assert sorted(r.category for r in rows) == ["headphones", "headphones", "wrench"]
    assert {r.source for r in rows} == {"import"} and db.scalar(select(func.count()).select_from(GalleryScan)) == 0
    assert not photos().added
    assert [(c, k, s, n) for c, k, s, n in gallery_store.summary(db)] == [
        ("headphones", "photo", "import", 2),
        ("wrench", "photo", "import", 1),
    ]
    with pytest.raises(ArchiveError, match="labelled photos come as a folder per category"):
        photos(fmt="coco")


def test_a_mapping_onto_no_category_is_refused() -> None:
    with pytest.raises(ValueError, match="'pistol' is not a category"):
        parse_mapping(["Gun=pistol"])
    with pytest.raises(ValueError, match="write SRC=CATEGORY"):
        parse_mapping(["handgun"])
    assert parse_mapping(["Kitchen Knife=kitchen_knife", "bag=benign"]) == {
        "kitchen_knife": "kitchen_knife",
        "bag": "benign",
    }
