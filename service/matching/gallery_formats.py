"""Labelled x-ray archives as operators keep them: a folder per category, or item boxes in COCO JSON,
Pascal VOC XML or YOLO text (with classes.txt or a data.yaml naming the classes).

Reading an archive gives one `Labelled` per image file, with its folder's label or its boxes, and a
`Problem` for everything that could not be read: an annotation that does not parse, one naming an
image that is not there, an image no annotation covers. Nothing found is left unaccounted for.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FORMATS = ("auto", "folders", "coco", "voc", "yolo")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}


@dataclass(frozen=True)
class Box:
    label: str
    x0: float
    y0: float
    x1: float
    y1: float
    normalised: bool = False  # YOLO: fractions of the image's width and height
    note: str = ""  # which annotation, for the report


@dataclass
class Labelled:
    path: Path
    origin: str  # the folder or annotation file it came from
    folder_label: str | None = None  # folders: the whole image is of this category
    boxes: list[Box] = field(default_factory=list)  # annotation formats: the items it holds (none: benign)


@dataclass(frozen=True)
class Problem:
    where: str
    reason: str
    detail: str


class ArchiveError(ValueError):
    """The archive as a whole cannot be read (no such folder, no class names for YOLO)."""


def read(root: Path, fmt: str = "auto") -> tuple[str, list[Labelled], list[Problem]]:
    """The format read, the labelled images and the problems found."""
    if not root.is_dir():
        raise ArchiveError(f"{root} is not a folder")
    if fmt not in FORMATS:
        raise ArchiveError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    fmt = detect(root) if fmt == "auto" else fmt
    reader = {"folders": _folders, "coco": _coco, "voc": _voc, "yolo": _yolo}[fmt]
    found, problems = reader(root)
    covered = {entry.path.resolve() for entry in found}
    problems += [
        Problem(_rel(path, root), "no annotation", "no annotation names this image")
        for path in _images(root)
        if path.resolve() not in covered and fmt != "folders"
    ]
    return fmt, found, problems


def detect(root: Path) -> str:
    if any(_coco_document(path) is not None for path in root.rglob("*.json")):
        return "coco"
    if any(_voc_root(path) is not None for path in root.rglob("*.xml")):
        return "voc"
    if any(root.rglob("classes.txt")) or any(_yaml_names(path) for path in _yamls(root)):
        return "yolo"
    return "folders"


def _images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _folders(root: Path) -> tuple[list[Labelled], list[Problem]]:
    found, problems = [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        parts = path.relative_to(root).parts
        if len(parts) < 2:
            problems.append(Problem(parts[0], "not in a category folder", "files at the top level have no category"))
            continue
        found.append(Labelled(path=path, origin=f"folder {parts[0]}", folder_label=parts[0]))
    return found, problems


class _Resolver:
    """Finds the image an annotation names: beside it, in the usual sibling folders, or by unique name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_name: dict[str, list[Path]] = {}
        self.by_stem: dict[str, list[Path]] = {}
        for path in _images(root):
            self.by_name.setdefault(path.name, []).append(path)
            self.by_stem.setdefault(path.stem, []).append(path)

    def named(self, name: str, near: Path, folders: Iterable[str] = ("images", "JPEGImages")) -> Path | None:
        candidates = [near / name, self.root / name]
        candidates += [base / folder / name for base in (near, near.parent, self.root) for folder in folders]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        same = self.by_name.get(Path(name).name, [])
        return same[0] if len(same) == 1 else None

    def stem(self, label_file: Path) -> Path | None:
        same = self.by_stem.get(label_file.stem, [])
        if len(same) <= 1:
            return same[0] if same else None
        # images/ beside labels/ (the YOLO layout), else the same folder
        wanted = [Path(*("images" if p == "labels" else p for p in label_file.parent.parts)), label_file.parent]
        return next((p for w in wanted for p in same if p.parent == w), None)


def _coco_document(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(document, dict) and isinstance(document.get("images"), list) and "annotations" in document:
        return document
    return None


def _coco(root: Path) -> tuple[list[Labelled], list[Problem]]:
    resolver, found, problems = _Resolver(root), [], []
    for path in sorted(root.rglob("*.json")):
        document = _coco_document(path)
        where = _rel(path, root)
        if document is None:
            problems.append(Problem(where, "unreadable annotation", "not a COCO document (images, annotations)"))
            continue
        names = {c.get("id"): str(c.get("name")) for c in document.get("categories", []) if isinstance(c, dict)}
        boxes: dict[Any, list[Box]] = {}
        for a in document.get("annotations") or []:
            try:
                x, y, w, h = (float(v) for v in a["bbox"])
                label = names.get(a["category_id"], f"category id {a['category_id']}")
                boxes.setdefault(a["image_id"], []).append(
                    Box(label, x, y, x + w, y + h, note=f"annotation {a.get('id')}")
                )
            except (KeyError, TypeError, ValueError) as error:
                problems.append(Problem(where, "unreadable annotation", f"annotation {a!r:.80}: {error!r}"))
        for image in document["images"]:
            name = str(image.get("file_name", ""))
            found_path = resolver.named(name, path.parent) if name else None
            if found_path is None:
                problems.append(Problem(f"{where}: {name or image!r:.80}", "missing image file", "no such image"))
                continue
            found.append(Labelled(path=found_path, origin=where, boxes=boxes.get(image.get("id"), [])))
    return found, problems


def _voc_root(path: Path) -> ElementTree.Element | None:
    try:
        element = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    return element if element.tag == "annotation" else None


def _voc(root: Path) -> tuple[list[Labelled], list[Problem]]:
    resolver, found, problems = _Resolver(root), [], []
    for path in sorted(root.rglob("*.xml")):
        where = _rel(path, root)
        annotation = _voc_root(path)
        if annotation is None:
            problems.append(Problem(where, "unreadable annotation", "not a Pascal VOC annotation"))
            continue
        name = (annotation.findtext("filename") or f"{path.stem}.jpg").strip()
        image = resolver.named(name, path.parent)
        if image is None:
            problems.append(Problem(f"{where}: {name}", "missing image file", "no such image"))
            continue
        boxes = []
        for n, item in enumerate(annotation.iter("object")):
            try:
                box = item.find("bndbox")
                x0, y0, x1, y1 = (float((box.findtext(k) or "").strip()) for k in ("xmin", "ymin", "xmax", "ymax"))  # type: ignore[union-attr]
                boxes.append(Box((item.findtext("name") or "").strip(), x0, y0, x1, y1, note=f"object {n}"))
            except (AttributeError, ValueError) as error:
                problems.append(Problem(f"{where}: object {n}", "unreadable annotation", f"bad bndbox ({error})"))
        found.append(Labelled(path=image, origin=where, boxes=boxes))
    return found, problems


def _yamls(root: Path) -> list[Path]:
    return sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")])


def _yaml_names(path: Path) -> list[str] | None:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    names = document.get("names") if isinstance(document, dict) else None
    if isinstance(names, dict):  # {0: gun, 1: knife}
        return [str(names[k]) for k in sorted(names, key=int)]
    return [str(n) for n in names] if isinstance(names, list) else None


def _yolo(root: Path) -> tuple[list[Labelled], list[Problem]]:
    classes = next(iter(sorted(root.rglob("classes.txt"))), None)
    names = (
        [line.strip() for line in classes.read_text(encoding="utf-8").splitlines() if line.strip()]
        if classes is not None
        else next((n for n in map(_yaml_names, _yamls(root)) if n), None)
    )
    if not names:
        raise ArchiveError(f"no class names under {root}: YOLO needs classes.txt or a data.yaml with names")
    resolver, found, problems = _Resolver(root), [], []
    for path in sorted(p for p in root.rglob("*.txt") if p.name != "classes.txt"):
        where = _rel(path, root)
        image = resolver.stem(path)
        if image is None:
            problems.append(Problem(where, "missing image file", f"no image named {path.stem}.*"))
            continue
        boxes = []
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                index, cx, cy, w, h = line.split()[:5]
                k, x, y, bw, bh = int(index), float(cx), float(cy), float(w), float(h)
            except ValueError:
                problems.append(
                    Problem(f"{where}:{n}", "unreadable annotation", f"not 'class cx cy w h': {line!r:.60}")
                )
                continue
            label = names[k] if 0 <= k < len(names) else f"class {k}"
            box = Box(label, x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2, normalised=True, note=f"line {n}")
            boxes.append(box)
        found.append(Labelled(path=image, origin=where, boxes=boxes))
    return found, problems
