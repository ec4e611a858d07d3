"""PyTorch Dataset over a manifest.jsonl of paired shipments (synthetic or real, same format)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import Dataset

from models.generator.manifest import ManifestRecord, read_manifest

Transform = Callable[[Image.Image], Any]


class PairedShipmentDataset(Dataset[dict[str, Any]]):
    """Items are dicts holding every manifest field (``id``, ``category``, ``label``, ``contents``, ...)
    with ``photo`` and ``xray`` replaced by the images (PIL RGB, or whatever the transforms return;
    give tensor transforms to use the default collate), their paths under ``photo_path`` and
    ``xray_path``, and ``target``: 1 for a match, 0 for a mismatch."""

    def __init__(self, manifest_path: str | Path, transform_photo: Transform | None = None,
                 transform_xray: Transform | None = None) -> None:
        self.manifest_path = Path(manifest_path)
        self.root = self.manifest_path.parent
        self.records: list[ManifestRecord] = list(read_manifest(self.manifest_path))
        self.transform_photo = transform_photo
        self.transform_xray = transform_xray

    def __len__(self) -> int:
        return len(self.records)

    def _load(self, rel: str, transform: Transform | None) -> Any:
        with Image.open(self.root / rel) as im:
            img = im.convert("RGB")
        return transform(img) if transform else img

    def __getitem__(self, i: int) -> dict[str, Any]:
        rec = self.records[i]
        item: dict[str, Any] = rec.model_dump()
        item["photo_path"], item["xray_path"] = item["photo"], item["xray"]
        item["photo"] = self._load(rec.photo, self.transform_photo)
        item["xray"] = self._load(rec.xray, self.transform_xray)
        item["target"] = int(rec.label == "match")
        return item
