"""The manifest.jsonl record: one line per shipment, shared by synthetic and real paired data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Label = Literal["match", "mismatch"]


class ManifestRecord(BaseModel):
    """One paired shipment. `photo` and `xray` are paths relative to the manifest's folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    category: str = Field(min_length=1)  # declared category
    scenario: str = Field(min_length=1)  # synthetic scenario, or "real" for imported data
    label: Label
    photo: str = Field(min_length=1)
    xray: str = Field(min_length=1)
    title: str
    description: str
    hts: str
    declared_weight_kg: float = Field(ge=0)
    declared_value: float = Field(ge=0)
    contents: list[str]


def read_manifest(path: Path) -> Iterator[ManifestRecord]:
    with Path(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield ManifestRecord.model_validate_json(line)
                except ValueError as e:
                    raise ValueError(f"{path}:{n}: invalid manifest line: {e}") from e


def dumps(record: ManifestRecord) -> str:
    return json.dumps(record.model_dump(), ensure_ascii=False, sort_keys=False)
