"""Consistent copies of the database, and their restore: SQLite through its online backup API, PostgreSQL
through `pg_dump` (custom format) and `pg_restore`.

What the backup needs from the database besides the copy (row counts, the images it records, the audit head)
is read from the same snapshot as the copy: the SQLite copy itself, or on PostgreSQL the transaction whose
snapshot `pg_dump --snapshot` dumps.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import Connection, NullPool, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from service.db.engine import make_engine
from service.db.tables import AuditChainHead, Base, Embedding, StoredImage
from service.operations.manifest import BackupError, DatabaseFacts

SQLITE_FILE = "database.sqlite"
POSTGRES_FILE = "database.pgdump"
# Tables whose rows mean the database is in use: a restore will not overwrite them without --force.
HOLDING = ("participants", "shipments", "filings", "images", "audit_events", "examinations", "gallery_scans")


def backend(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups cover SQLite and PostgreSQL databases, not {name}")
    return name


def facts(connection: Connection, *, kind: str, file: str) -> DatabaseFacts:
    """Counts, schema revision, models and audit head, read on `connection` (inside the snapshot copied)."""
    present = set(inspect(connection).get_table_names())
    counts = {
        table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
        for table in Base.metadata.sorted_tables
        if table.name in present
    }
    models: dict[str, int] = {}
    if "embeddings" in present:
        rows = connection.execute(select(Embedding.model_sha256, func.count()).group_by(Embedding.model_sha256))
        models = {sha: int(n) for sha, n in rows}
    return DatabaseFacts(
        backend="sqlite" if kind == "sqlite" else "postgresql",
        file=file,
        schema_revision=connection.scalar(text("SELECT version_num FROM alembic_version"))
        if "alembic_version" in present
        else None,
        counts=counts,
        models=models,
        audit_head=connection.scalar(select(AuditChainHead.head_hash)) if "audit_chain" in present else None,
    )


def image_hashes(connection: Connection) -> list[str]:
    return list(connection.scalars(select(StoredImage.sha256).order_by(StoredImage.sha256)))


def dump(url: str, folder: Path) -> tuple[DatabaseFacts, list[str]]:
    """Copy the database into `folder`; return its facts and the images it records, from the same snapshot."""
    if backend(url) == "sqlite":
        return _dump_sqlite(url, folder)
    return _dump_postgresql(url, folder)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _dump_sqlite(url: str, folder: Path) -> tuple[DatabaseFacts, list[str]]:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"there is no database at {source_path}: check SCANMATCH_DATA_DIR / SCANMATCH_DATABASE_URL")
    target_path = folder / SQLITE_FILE
    # One step (pages=-1): a copy made in steps restarts whenever the service writes meanwhile; in one step it
    # is the database as of one moment, taken under a read lock while writers go on into the WAL.
    with closing(sqlite3.connect(source_path, timeout=30)) as source, closing(sqlite3.connect(target_path)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    engine = create_engine(f"sqlite:///{target_path}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return facts(connection, kind="sqlite", file=SQLITE_FILE), image_hashes(connection)
    finally:
        engine.dispose()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed (or not on PATH): PostgreSQL backups need the PostgreSQL client tools of the "
            "server's major version or later (Debian: apt-get install postgresql-client-15)"
        )
    return path


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, with the password in the environment rather than on a command line."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _check_version(tool: str, connection: Connection) -> None:
    """pg_dump and pg_restore read servers of their own major version and older only."""
    output = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", output)
    server = int(connection.scalar(text("SHOW server_version_num")) or 0) // 10000
    if found is None or int(found.group(1)) < server:
        raise BackupError(
            f"{Path(tool).name} is version {found.group(1) if found else 'unknown'} but the server is PostgreSQL "
            f"{server}: install the PostgreSQL {server} client tools (postgresql-client-{server})"
        )


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({Path(command[0]).name} exit {done.returncode}): {done.stderr.strip()}")


def _dump_postgresql(url: str, folder: Path) -> tuple[DatabaseFacts, list[str]]:
    pg_dump = _tool("pg_dump")
    target = folder / POSTGRES_FILE
    dsn, env = _libpq(url)
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                # The transaction's snapshot, shared with pg_dump: the dump, the counts and the list of images
                # all see the same committed state.
                snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
                _check_version(pg_dump, connection)
                command = [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", "--dbname", dsn]
                _run(command, env, "pg_dump")
                return facts(connection, kind="postgresql", file=POSTGRES_FILE), image_hashes(connection)
    except OperationalError as error:
        raise BackupError(f"cannot reach the database: {error.orig}") from None
    finally:
        engine.dispose()


def holding(url: str) -> dict[str, int]:
    """Rows in the tables that mean the database is in use ({} for a database with no schema, or none yet)."""
    if backend(url) == "sqlite" and not _sqlite_path(url).is_file():
        return {}
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            rows = {
                name: connection.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0
                for name in HOLDING
                if name in present
            }
            return {name: n for name, n in rows.items() if n}
    except OperationalError as error:
        raise BackupError(
            f"cannot reach the database to restore into ({error.orig}): create it first (PostgreSQL: createdb) "
            "and check SCANMATCH_DATABASE_URL"
        ) from None
    finally:
        engine.dispose()


def load(dump_file: Path, kind: str, url: str) -> DatabaseFacts:
    """Replace the database at `url` with the dump; return the facts of what is now there."""
    if kind == "sqlite":
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        # The database there (empty, or replaced with --force) goes whole: its write-ahead log must not replay
        # over the restored copy.
        for old in (target_path, Path(f"{target_path}-wal"), Path(f"{target_path}-shm")):
            old.unlink(missing_ok=True)
        with (
            closing(sqlite3.connect(f"file:{dump_file}?mode=ro", uri=True)) as source,
            closing(sqlite3.connect(target_path, timeout=30)) as target,
        ):
            source.backup(target)
    else:
        _load_postgresql(dump_file, url)
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return facts(connection, kind=kind, file=dump_file.name)
    finally:
        engine.dispose()


def _load_postgresql(dump_file: Path, url: str) -> None:
    pg_restore = _tool("pg_restore")
    dsn, env = _libpq(url)
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            _check_version(pg_restore, connection)
            # Whatever schema is there goes (the caller made sure it holds no data, or was told to --force).
            for table in inspect(connection).get_table_names():
                connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    finally:
        engine.dispose()
    command = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run([*command, "--dbname", dsn, str(dump_file)], env, "pg_restore")
