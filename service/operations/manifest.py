"""A backup's manifest: what it holds (database, images, indexes, models), counted and hashed, so a restore can
refuse a damaged or partial backup before it writes anything.

The manifest is written last, atomically: a backup folder without one was interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from service.domain.files import written_atomically

NAME = "manifest.json"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


class FileEntry(BaseModel):
    sha256: str
    bytes: int


class DatabaseFacts(BaseModel):
    backend: Literal["sqlite", "postgresql"]
    file: str  # the dump's path in the backup
    schema_revision: str | None  # alembic's
    counts: dict[str, int]  # rows per table
    models: dict[str, int]  # embeddings per model identity (model_sha256)
    audit_head: str | None  # the audit trail's newest hash (service.domain.audit_chain)


class Manifest(BaseModel):
    format: Literal["scanmatch-backup"] = "scanmatch-backup"
    format_version: int = FORMAT_VERSION
    created_at: datetime
    scanmatch_version: str
    encoder: str  # the model the service was configured to serve
    database: DatabaseFacts
    # Images the database records whose file was missing or damaged in the image store when backed up.
    missing_images: list[str] = []
    files: dict[str, FileEntry]  # path in the backup -> content

    def summary(self) -> str:
        c = self.database.counts
        return (
            f"{c.get('shipments', 0):,} shipments, {c.get('filings', 0):,} filings, {c.get('images', 0):,} images, "
            f"{c.get('verdicts', 0):,} verdicts, {c.get('audit_events', 0):,} audit records; "
            f"{len(self.files):,} files, {sum(f.bytes for f in self.files.values()) / 1e6:,.1f} MB"
        )


def hash_file(path: Path) -> FileEntry:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(sha256=digest.hexdigest(), bytes=size)


def copy_file(source: Path, target: Path) -> FileEntry:
    """Copy, hashing on the way (one read), into a temporary name then the real one."""
    digest, size = hashlib.sha256(), 0
    with written_atomically(target) as out, source.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return FileEntry(sha256=digest.hexdigest(), bytes=size)


def tree(root: Path) -> Iterator[Path]:
    """Every file under `root`, skipping dot files (temporary names mid-write)."""
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
                yield path


def write(folder: Path, manifest: Manifest) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{NAME}-")
    with os.fdopen(fd, "w") as handle:
        handle.write(manifest.model_dump_json(indent=1))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / NAME)


def read(folder: Path) -> Manifest:
    path = folder / NAME
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder: give the folder `scanmatch backup` wrote")
    if not path.is_file():
        raise BackupError(
            f"{folder} has no {NAME}: it is not a scanmatch backup, or the backup was interrupted before it "
            "finished (its manifest is written last); use another backup"
        )
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError(f"{path} cannot be read ({error}): the backup is damaged; use another backup") from None
    if isinstance(raw, dict) and raw.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise BackupError(
            f"the backup has format version {raw['format_version']}, newer than this scanmatch reads "
            f"({FORMAT_VERSION}): restore it with the scanmatch version that wrote it ({raw.get('scanmatch_version')})"
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as error:
        raise BackupError(
            f"{path} is not a valid backup manifest ({error.error_count()} problem(s)): {error}"
        ) from None


def check(folder: Path, manifest: Manifest, *, advance: Callable[[int], None] = lambda _n: None) -> None:
    """Every file the manifest lists is present, whole and unchanged; otherwise refuse, naming the first few."""
    problems: list[str] = []
    for name, expected in manifest.files.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        else:
            found = hash_file(path)
            if found.bytes != expected.bytes:
                problems.append(f"{name} has {found.bytes:,} bytes, not {expected.bytes:,}")
            elif found.sha256 != expected.sha256:
                problems.append(f"{name} has changed (sha256 {found.sha256[:16]}..., not {expected.sha256[:16]}...)")
        advance(expected.bytes)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise BackupError(
            f"the backup in {folder} is damaged or incomplete ({len(problems)} of {len(manifest.files)} files): "
            f"{shown}. Nothing was restored; use another backup"
        )
