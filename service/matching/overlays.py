"""The where-to-look overlays (service.matching.where_to_look) as served, and the files that keep them:
one JSON file per key in the data directory, written atomically, per model folder as the indexes are."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

FOLDER = "where-to-look"  # in the data directory


class OverlayMap(BaseModel):
    key: str  # "mismatch", "match" or "finding:<item>"
    label: str
    # Grid rows of heat (>= 0), in the map's units: similarity for mismatch and match, probability for findings.
    cells: list[list[float]]
    peak: float
    present: bool = False  # an item of concern the verdict reports


class Overlay(BaseModel):
    shipment_id: str = ""
    xray_sha256: str
    photo_sha256: str | None
    cells: int  # the grid is cells x cells over the whole scan
    window: int  # cells on a side of each greyed-out window
    shown: str  # the key of the map to show first
    maps: list[OverlayMap]
    model: str
    gallery_labelled: int
    seconds: float  # how long computing it took
    computed_at: datetime


class OverlayStore:
    """Overlays kept as JSON files in the data directory, one per key, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()  # one overlay computed at a time: each is a large batch on the CPU

    def path(self, **key: str | int) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        return self.folder / str(key["model"])[:16] / f"{key['xray']}-{digest[:16]}.json"

    def read(self, path: Path) -> Overlay | None:
        try:
            return Overlay.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError:  # a file cut short by a crash on a filesystem without atomic rename: compute again
            return None

    def forget(self, shas: set[str]) -> int:
        """Remove the overlays of these images (as the x-ray or as the product picture); how many went."""
        removed = 0
        for path in self.folder.glob("*/*.json") if self.folder.is_dir() else ():
            if path.name[:64] in shas or ((kept := self.read(path)) is not None and kept.photo_sha256 in shas):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def write(self, path: Path, overlay: Overlay) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".tmp", delete=False) as f:
            f.write(overlay.model_dump_json(exclude={"shipment_id"}).encode())
        os.replace(f.name, path)
