"""`scanmatch backup DEST`: a consistent copy of the database, the image store, the indexes and the operator's
models, with a manifest that lets `scanmatch restore` check every file.

Consistency: images are content-addressed and written before the database commit that records them, so the
database is copied first, as of one moment, and then exactly the images that copy records (images stored later
belong to rows the copy does not hold). The FAISS indexes are copied too, so a restored service starts with
them; they derive from the embeddings in the database, and the service's start-up reconciliation
(service.matching.matcher `_catch_up`) rebuilds any that does not hold exactly the restored embeddings (one
written between the database copy and the index copy, say). The where-to-look overlays are a cache and are
not copied.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from tqdm import tqdm

from service.db.tables import utcnow
from service.domain.images import ImageStore
from service.operations import databases
from service.operations.manifest import NAME, BackupError, FileEntry, Manifest, copy_file, hash_file, tree, write
from service.settings import Settings


def scanmatch_version() -> str:
    try:
        return version("scanmatch")
    except PackageNotFoundError:
        return "unknown"


def image_name(sha256: str) -> str:
    """An image's path in a backup: the image store's layout."""
    return f"images/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def backup(settings: Settings, dest: Path, *, echo: Callable[[str], None], progress: bool = False) -> Manifest:
    """Write a backup of the service's data into `dest` (a new or empty folder)."""
    if (dest / NAME).exists():
        raise BackupError(f"{dest} already holds a backup: give a new folder (one per backup)")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} is not an empty folder: give a new or empty folder for the backup")
    dest.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    echo(f"copying the database ({databases.backend(settings.resolved_database_url)}) ...")
    facts, images = databases.dump(settings.resolved_database_url, dest)
    files: dict[str, FileEntry] = {facts.file: hash_file(dest / facts.file)}
    echo(f"database copied in {time.perf_counter() - started:.1f} s: {files[facts.file].bytes / 1e6:,.1f} MB")

    store, missing = ImageStore(settings.image_dir), []
    for sha256 in tqdm(images, desc="images", unit="img", disable=not progress):
        source, name = store.path_for(sha256), image_name(sha256)
        entry = copy_file(source, dest / name) if source.is_file() else None
        if entry is None or entry.sha256 != sha256:  # missing, or no longer the bytes it was stored as
            (dest / name).unlink(missing_ok=True)
            missing.append(sha256)
            continue
        files[name] = entry
    if missing:
        echo(
            f"warning: {len(missing)} image(s) the database records are missing or damaged in {settings.image_dir} "
            f"and are not in the backup (listed in its manifest), e.g. {missing[0]}"
        )

    for label, root in (("indexes", settings.index_dir), ("models", settings.model_dir)):
        for path in tree(root):
            name = f"{label}/{path.relative_to(root).as_posix()}"
            files[name] = copy_file(path, dest / name)

    manifest = Manifest(
        created_at=utcnow(),
        scanmatch_version=scanmatch_version(),
        encoder=settings.matching.encoder,
        database=facts,
        missing_images=missing,
        files=files,
    )
    write(dest, manifest)  # last: a backup folder without its manifest was interrupted
    echo(f"backup in {dest} ({time.perf_counter() - started:.1f} s): {manifest.summary()}")
    return manifest
