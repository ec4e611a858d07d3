"""`scanmatch restore SRC`: check a backup whole, then put it into an empty data directory and database.

Nothing is written until every file of the backup matches its manifest. Images go first, then indexes and
models, and the database last, so that a restore cut short never leaves a database recording images that are
not there. The restored database is counted against the manifest.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from tqdm import tqdm

from service.db.migrate import alembic_config
from service.domain.images import ImageStore
from service.operations import databases
from service.operations.manifest import BackupError, Manifest, check, copy_file, read, tree
from service.settings import Settings


def restore(
    settings: Settings, source: Path, *, force: bool = False, echo: Callable[[str], None], progress: bool = False
) -> Manifest:
    """Restore the backup in `source` into the data directory and database the settings name."""
    started = time.perf_counter()
    manifest = read(source)
    url = settings.resolved_database_url
    kind = databases.backend(url)
    if manifest.database.backend != kind:
        raise BackupError(
            f"the backup holds a {manifest.database.backend} database and SCANMATCH_DATABASE_URL names a {kind} one: "
            f"restore it into a {manifest.database.backend} database"
        )
    _known(manifest, url)
    echo(f"checking the backup of {manifest.created_at:%Y-%m-%d %H:%M:%S} UTC: {manifest.summary()}")
    total = sum(entry.bytes for entry in manifest.files.values())
    with tqdm(total=total, desc="checking", unit="B", unit_scale=True, disable=not progress) as bar:
        check(source, manifest, advance=bar.update)

    _refuse_unless_empty(settings, url, force=force)
    images = [name for name in manifest.files if name.startswith("images/")]
    store = ImageStore(settings.image_dir)
    for name in tqdm(images, desc="images", unit="img", disable=not progress):
        store.put(Path(name).name, (source / name).read_bytes())
    if force:
        shutil.rmtree(settings.index_dir, ignore_errors=True)  # indexes of the data replaced
    for label, root in (("indexes", settings.index_dir), ("models", settings.model_dir)):
        for name in (n for n in manifest.files if n.startswith(f"{label}/")):
            copy_file(source / name, root / name.removeprefix(f"{label}/"))

    echo(f"restoring the database ({kind}) ...")
    restored = databases.load(source / manifest.database.file, kind, url)
    differ = {
        table: (n, restored.counts.get(table))
        for table, n in manifest.database.counts.items()
        if restored.counts.get(table) != n
    }
    if differ or restored.audit_head != manifest.database.audit_head:
        shown = ", ".join(f"{table}: {found} rows, not {n}" for table, (n, found) in differ.items()) or "audit head"
        raise BackupError(f"the restored database does not hold what the backup's manifest counts ({shown})")
    echo(f"restored {manifest.summary()} in {time.perf_counter() - started:.1f} s")
    if manifest.missing_images:
        echo(f"warning: {len(manifest.missing_images)} image(s) were already missing when the backup was made")
    echo(
        f"serve it with SCANMATCH_MATCHING__ENCODER={manifest.encoder} (the model it was served with); "
        "indexes are checked against the restored database at start"
    )
    return manifest


def _known(manifest: Manifest, url: str) -> None:
    revision = manifest.database.schema_revision
    if revision is None:
        return
    try:
        ScriptDirectory.from_config(alembic_config(url)).get_revision(revision)
    except CommandError:
        raise BackupError(
            f"the backup's database schema is at revision {revision}, which this scanmatch does not know: it was "
            f"made by a newer version ({manifest.scanmatch_version}); restore it with that version"
        ) from None


def _refuse_unless_empty(settings: Settings, url: str, *, force: bool) -> None:
    rows = databases.holding(url)
    folders = [str(folder) for folder in (settings.image_dir, settings.index_dir) if next(tree(folder), None)]
    if (rows or folders) and not force:
        held = ", ".join(f"{n:,} {table}" for table, n in rows.items())
        what = "; ".join(
            filter(None, [f"the database holds {held}" if held else "", *(f"{f} holds files" for f in folders)])
        )
        raise BackupError(
            f"the target is not empty ({what}): restore into an empty data directory and database "
            "(SCANMATCH_DATA_DIR, SCANMATCH_DATABASE_URL), or pass --force to replace what is there"
        )
