"""`scanmatch gallery import`: an operator's labelled x-ray archive into the gallery, or a folder per
category of labelled listing photos into the photo gallery (`--modality photo`), with a report.

Every image goes through the intake checks filed images go through (recognised by content, fully
decoded, within the byte and pixel limits); boxes give item crops (kind "crop") and the whole scan
labelled by what it holds (kind "scan"; a scan whose annotation has no boxes is `benign`). Every
image and box found is either added or skipped with its reason: nothing is dropped silently.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from sqlalchemy.orm import Session
from tqdm import tqdm

from models.encoders.taxonomy import TAXONOMY
from service.db.tables import GalleryPhoto, GalleryScan, StoredImage
from service.domain import images
from service.domain.errors import DomainError
from service.domain.images import ImageStore
from service.matching import gallery_formats
from service.matching.gallery import BENIGN
from service.matching.gallery_formats import ArchiveError, Box, Labelled
from service.matching.gallery_store import SCANS, Kind, exists
from service.settings import ImageLimits

CATEGORIES = (*TAXONOMY, BENIGN)
MIN_SIZE = 16  # pixels: a crop narrower or lower than this shows no item worth comparing
INSIDE = 0.5  # a box with less than this share of its area inside the image is misplaced
EXAMPLES = 5

# Add one gallery row (None: already there); the import does not care how it is kept.
AddScan = Callable[..., GalleryScan | GalleryPhoto | None]


@dataclass
class Report:
    format: str = ""
    dry_run: bool = False
    noun: str = "scan"
    added: Counter[tuple[str, str]] = field(default_factory=Counter)  # (category, kind) -> rows
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason -> first few "where: detail"

    def skip(self, reason: str, where: str, detail: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, [])
        if len(self.examples[reason]) < EXAMPLES:
            self.examples[reason].append(f"{where}: {detail}")

    def lines(self) -> list[str]:
        verb = "would add" if self.dry_run else "added"
        out = [f"{verb} {sum(self.added.values())} gallery {self.noun}(s) from a {self.format} archive"]
        out += [f"  {category:16} {kind:5} {n}" for (category, kind), n in sorted(self.added.items())]
        out.append(f"skipped {sum(self.skipped.values())}")
        for reason, n in sorted(self.skipped.items()):
            out.append(f"  {reason}: {n}")
            out += [f"    {example}" for example in self.examples[reason]]
        return out


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`SRC=CATEGORY` pairs; each target a taxonomy category or benign."""
    mapping = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip():
            raise ValueError(f"--map {pair!r}: write SRC=CATEGORY")
        if target.strip() not in CATEGORIES:
            raise ValueError(f"--map {pair!r}: {target.strip()!r} is not a category; one of {', '.join(CATEGORIES)}")
        mapping[_norm(source)] = target.strip()
    return mapping


def category(label: str, mapping: dict[str, str], known: tuple[str, ...] = CATEGORIES) -> str | None:
    """The category a source label names: mapped, or itself written as a category name."""
    name = _norm(label)
    if name in mapping:
        return mapping[name] if mapping[name] in known else None
    return name if name in known else None


def _norm(label: str) -> str:
    """Labels compare as category names are written: "Kitchen Knife" is kitchen_knife."""
    return label.strip().casefold().replace(" ", "_").replace("-", "_")


class Importer:
    def __init__(
        self,
        *,
        session: Session,
        store: ImageStore,
        limits: ImageLimits,
        add: AddScan,
        mapping: dict[str, str],
        dry_run: bool,
        min_size: int = MIN_SIZE,
        kind: Kind = SCANS,
    ) -> None:
        self.session, self.store, self.limits, self.add = session, store, limits, add
        self.mapping, self.dry_run, self.min_size, self.kind = mapping, dry_run, min_size, kind
        # Listing photos show goods: no photo is "benign".
        self.known = CATEGORIES if kind is SCANS else tuple(TAXONOMY)
        self.report = Report(dry_run=dry_run, noun=kind.noun)
        self._seen: set[tuple[str, str, str]] = set()

    def run(self, root: Path, fmt: str, *, progress: bool = False, commit_every: int = 50) -> Report:
        if self.kind is not SCANS:
            if fmt not in ("auto", "folders"):
                raise ArchiveError(f"labelled {self.kind.noun}s come as a folder per category, not {fmt}")
            fmt = "folders"
        self.report.format, entries, problems = gallery_formats.read(root, fmt)
        for problem in problems:
            self.report.skip(problem.reason, problem.where, problem.detail)
        for n, entry in enumerate(tqdm(entries, desc="gallery import", unit="img", disable=not progress), start=1):
            self._one(entry, where=_rel(entry.path, root))
            if not self.dry_run and n % commit_every == 0:
                self.session.commit()
        if not self.dry_run:
            self.session.commit()
        return self.report

    def _one(self, entry: Labelled, *, where: str) -> None:
        data = entry.path.read_bytes()
        try:
            info = images.inspect("gallery image", data, self.limits)
        except DomainError as error:
            self.report.skip("unreadable image", where, error.message)
            return
        if entry.folder_label is not None:
            found = category(entry.folder_label, self.mapping, self.known)
            if found is None:
                self.report.skip("unknown category", where, _unknown(entry.folder_label, self.kind))
            else:
                self._keep(info, data, found, self.kind.noun, f"{entry.origin}: {where}", where)
            return
        held: set[str] = set()
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            for box in entry.boxes:
                found = category(box.label, self.mapping, self.known)
                if found is None:
                    self.report.skip("unknown category", f"{where} {box.note}", _unknown(box.label, self.kind))
                    continue
                if self._crop(picture, box, found, entry, where):
                    held.add(found)
        if not entry.boxes:
            held = {BENIGN}
        if not held:
            self.report.skip("no known item", where, "none of its boxes gave a category, so the whole scan is not kept")
        for found in sorted(held):
            self._keep(info, data, found, "scan", f"{entry.origin}: {where}", where)

    def _crop(self, picture: Image.Image, box: Box, found: str, entry: Labelled, where: str) -> bool:
        """Keep one box's crop; True when the box is a real item of the scan (kept, duplicate or too small)."""
        width, height = picture.size
        sx, sy = (width, height) if box.normalised else (1, 1)
        x0, y0, x1, y1 = box.x0 * sx, box.y0 * sy, box.x1 * sx, box.y1 * sy
        at = f"{where} {box.note}"
        if x1 - x0 < self.min_size or y1 - y0 < self.min_size:
            self.report.skip("too small", at, f"{x1 - x0:.0f}x{y1 - y0:.0f} px, under {self.min_size} px")
            return x1 > x0 and y1 > y0
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        inside = max(cx1 - cx0, 0) * max(cy1 - cy0, 0) / ((x1 - x0) * (y1 - y0))
        if inside < INSIDE:
            self.report.skip(
                "box outside the image", at, f"[{x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}] in {width}x{height}"
            )
            return False
        bounds = (round(cx0), round(cy0), round(cx1), round(cy1))
        if bounds[2] - bounds[0] < self.min_size or bounds[3] - bounds[1] < self.min_size:
            self.report.skip("too small", at, f"{bounds} inside the image is under {self.min_size} px")
            return True
        out = io.BytesIO()
        picture.crop(bounds).save(out, format="PNG")
        data = out.getvalue()
        try:
            info = images.inspect("gallery crop", data, self.limits)
        except DomainError as error:
            self.report.skip("unreadable image", at, error.message)
            return False
        self._keep(info, data, found, "crop", f"{entry.origin}: {where} {box.note} {list(bounds)}", at)
        return True

    def _keep(self, info: images.ImageInfo, data: bytes, found: str, kind: str, origin: str, where: str) -> None:
        key = (info.sha256, found, kind)
        row = dict(image_sha256=info.sha256, category=found, source="import", origin=origin)
        if self.kind is SCANS:
            row["kind"] = kind
        if key in self._seen or exists(self.session, self.kind.table, **row):
            self.report.skip("duplicate", where, f"already in the gallery as {found} ({kind})")
            return
        self._seen.add(key)
        if not self.dry_run:
            self.store.put(info.sha256, data)
            if self.session.get(StoredImage, info.sha256) is None:
                self.session.add(StoredImage(**vars(info)))
                self.session.flush()
            if self.add(self.session, **row) is None:
                self.report.skip("duplicate", where, f"already in the gallery as {found} ({kind})")
                return
        self.report.added[(found, kind)] += 1


def _unknown(label: str, kind: Kind) -> str:
    benign = " (or =benign)" if kind is SCANS else ""
    return f"{label!r} is no category; map it with --map {_norm(label)}=CATEGORY{benign}"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
