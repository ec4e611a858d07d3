"""The `scanmatch` command: serve the API, manage keys, migrate the database, reindex (or prepare another
model), recalibrate, import the labelled gallery, export examined shipments for training, back up and restore,
verify the audit trail."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade
from service.domain import data_lock, participants, retention
from service.domain.actors import ROLES, Actor, Principal
from service.domain.errors import DataDirectoryBusy, KeyProblem
from service.domain.images import ImageStore
from service.settings import Settings

# The matching package (torch, the encoders) is imported inside the commands that use it, so that
# `keys` and `db` start at once.
if TYPE_CHECKING:
    from service.matching.matcher import Matcher

app = typer.Typer(
    help="scanmatch: filing intake and image matching for parcel inspection.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys = typer.Typer(help="Create, list and revoke participants' API keys.", no_args_is_help=True)
db = typer.Typer(help="Database schema.", no_args_is_help=True)
gallery = typer.Typer(
    help="The labelled galleries of x-rays and listing photos: import an archive, count what they hold.",
    no_args_is_help=True,
)
app.add_typer(keys, name="keys")
app.add_typer(db, name="db")
audit = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(gallery, name="gallery")
app.add_typer(audit, name="audit")


def _sessions(settings: Settings) -> sessionmaker[Session]:
    url = settings.resolved_database_url
    upgrade(url)
    return make_session_factory(make_engine(url))


# On SIGTERM, requests in flight get this long before their connections close; then the matcher stops
# within seconds (service.matching.matcher.Matcher.close): well inside an orchestrator's 30 s grace.
GRACE_S = 10


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int, typer.Option(help="worker processes; more than 1 needs PostgreSQL and matching off", min=1)
    ] = 1,
) -> None:
    """Serve the HTTP API (data in SCANMATCH_DATA_DIR, database at SCANMATCH_DATABASE_URL)."""
    settings = Settings()
    if workers > 1:
        if settings.resolved_database_url.startswith("sqlite"):
            raise typer.BadParameter(
                "several worker processes need PostgreSQL (set SCANMATCH_DATABASE_URL): SQLite takes one writer",
                param_hint="--workers",
            )
        if settings.matching.enabled:
            # Each process would hold its own FAISS indexes over the same files: they diverge, and a picture
            # or x-ray reused through another worker goes unflagged. Issue 21 splits the roles.
            raise typer.BadParameter(
                "several worker processes cannot share the image matching (each would keep its own indexes and "
                "miss reuse across workers): serve with --workers 1, or turn matching off "
                "(SCANMATCH_MATCHING__ENABLED=false) for intake-only workers",
                param_hint="--workers",
            )
        uvicorn.run(
            "service.api.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            timeout_graceful_shutdown=GRACE_S,
        )
    else:
        from service.api.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, timeout_graceful_shutdown=GRACE_S)


@app.command()
def demo(
    shipments: Annotated[int, typer.Option(help="generated shipments to file", min=1, max=5000)] = 60,
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option(help="the demo's data directory (its own SQLite database)")] = Path(
        "demo-data"
    ),
) -> None:
    """Fill a data directory with generated shipments filed through the API, then serve the inspector console."""
    from service.demo import DemoError, run

    try:
        run(data_dir=data_dir, n=shipments, host=host, port=port, echo=typer.echo)
    except DemoError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@keys.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
    name: Annotated[str, typer.Option(help="participant name; a second key for the same name and role shares it")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Issue an API key. The key is shown once: store it now."""
    with _sessions(Settings())() as session:
        try:
            issued = participants.create_key(session, role=role, name=name)
        except KeyProblem as error:
            typer.echo(f"error: {error.message}", err=True)
            raise typer.Exit(2) from None
    if as_json:
        typer.echo(issued.model_dump_json())
        return
    typer.echo(
        f"key:             {issued.key}\nkey id:          {issued.key_id}\nparticipant:     {issued.name} "
        f"({issued.role})\noriginator code: {issued.originator_code or '-'}"
    )


@keys.command("revoke")
def keys_revoke(key_or_id: Annotated[str, typer.Argument(help="the key id (key_...) or the key itself")]) -> None:
    """Revoke a key at once; requests with it are refused from now on."""
    with _sessions(Settings())() as session:
        try:
            info = participants.revoke_key(session, key_or_id)
        except KeyProblem as error:
            typer.echo(f"error: {error.message}", err=True)
            raise typer.Exit(2) from None
    typer.echo(f"revoked {info.key_id} of {info.name} ({info.role}) at {info.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


@keys.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False) -> None:
    """List keys (never the keys themselves: only their ids)."""
    with _sessions(Settings())() as session:
        for info in participants.list_keys(session):
            if as_json:
                typer.echo(info.model_dump_json())
            else:
                state = "revoked" if info.revoked_at else "active"
                typer.echo(f"{info.key_id}  {state:8} {info.role:12} {info.originator_code or '-':12} {info.name}")


def _matcher(settings: Settings) -> Matcher:
    from service.matching.matcher import Matcher, Networks

    sessions = _sessions(settings)
    typer.echo(f"loading {settings.matching.encoder} ...", err=True)
    return Matcher(
        networks=Networks.load(settings), settings=settings, sessions=sessions, store=ImageStore(settings.image_dir)
    )


@app.command()
def reindex(
    model: Annotated[
        str | None,
        typer.Option(
            help="prepare this model (by name) while the current one keeps serving; then switch with "
            "SCANMATCH_MATCHING__ENCODER"
        ),
    ] = None,
) -> None:
    """Embed every stored image the current model (or --model) has not embedded, then rebuild its indexes from the
    database; without --model also the labelled galleries'."""
    settings = Settings()
    if model is not None:
        _prepare(settings, model)
        return
    matcher = _matcher(settings)
    galleries = (matcher.gallery, matcher.photo_gallery)
    result = matcher.embedder.reconcile(progress=True)
    for kept in galleries:
        result |= kept.reconcile(progress=True)
    with matcher.sessions() as session:
        for name, (ids, vectors) in matcher.embedder.expected(session).items():
            matcher.indexes[name].rebuild(ids, vectors)
            typer.echo(f"{name}: {len(ids)} vectors ({'exact' if matcher.indexes[name].exact else 'IVF-PQ'})")
        for kept in galleries:
            kept.sync(session, force=True)
            index = kept.index
            how = "exact" if index.exact else "IVF-PQ"
            typer.echo(f"{kept.kind.name}: {index.size} vectors ({how}) in {index.path}")
    matcher.close()
    typer.echo(
        f"embedded {result['embedded']} new image(s), {result['gallery_embedded']} gallery scan(s) and "
        f"{result['photo_gallery_embedded']} gallery photo(s); indexes in {matcher.indexes.folder}"
    )


def _prepare(settings: Settings, name: str) -> None:
    from models.encoders.errors import EncoderError
    from service.matching import reindexing

    typer.echo(f"loading {name} ...", err=True)
    try:
        ready = reindexing.prepare(
            settings, name=name, sessions=_sessions(settings), store=ImageStore(settings.image_dir), progress=True
        )
    except EncoderError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    for index, (size, exact) in ready.indexes.items():
        typer.echo(f"{index}: {size} vectors ({'exact' if exact else 'IVF-PQ'})")
    typer.echo(
        f"{ready.version} ready: embedded {ready.embedded} new image(s), calibration from {ready.calibration}; "
        f"indexes in {ready.folder}. Serve it with SCANMATCH_MATCHING__ENCODER={ready.name}"
    )


@app.command()
def calibrate(
    source: Annotated[str, typer.Option(help="examinations (recorded outcomes) or generated (synthetic pairs)")] = (
        "examinations"
    ),
    n: Annotated[int, typer.Option(help="generated pairs to use")] = 400,
    seed: Annotated[
        int | None, typer.Option(help="generator seed; default SCANMATCH_MATCHING__CALIBRATION_SEED")
    ] = None,
) -> None:
    """Refit P(match) and the decision thresholds for the current model, from examinations or generated data."""
    from service.matching import calibration, labelled, verdicts

    settings = Settings()
    matcher = _matcher(settings)
    if source == "generated":
        seed = settings.matching.calibration_seed if seed is None else seed
        cosines, labels = labelled.generated_pairs(matcher.encoder, n=n, seed=seed, progress=True)
    elif source == "examinations":
        with matcher.sessions() as session:
            cosines, labels = labelled.examined_pairs(session, matcher.encoder)
    else:
        typer.echo("error: --source is examinations or generated", err=True)
        raise typer.Exit(2)
    try:
        params = calibration.fit(
            cosines, labels, target_false_alarm_rate=settings.matching.target_false_alarm_rate, source=source
        )
    except ValueError as error:
        typer.echo(f"error: {error} (found {len(labels)}, {int(sum(labels))} of them matches)", err=True)
        raise typer.Exit(2) from None
    with matcher.sessions() as session:
        calibration.save(session, model_sha256=matcher.encoder.identity, calibration=params)
        verdicts.invalidate_all(session)  # every stored verdict used the old thresholds
        session.commit()
    matcher.close()
    typer.echo(f"calibrated {matcher.encoder.version} on {params.n} {source} pairs")
    for fitted in (params.picture, params.picture_description):
        if fitted is not None:
            typer.echo(
                f"  {' + '.join(fitted.features)}: ROC-AUC {fitted.roc_auc:.3f}, mismatch below P="
                f"{fitted.mismatch_below:.3f}, match from P={fitted.match_from:.3f} "
                f"(target false-alarm rate {fitted.target_false_alarm_rate:.0%})"
            )


@app.command("export-examined")
def export_examined(
    out: Annotated[Path, typer.Argument(help="folder to write manifest.jsonl and images/ into")],
) -> None:
    """Write the examined shipments as paired training data (the manifest of datasets/README.md), for
    `python -m models.train --train-manifest OUT/manifest.jsonl` to fine-tune on."""
    from service.matching.training_export import export_examined as export

    settings = Settings()
    with _sessions(settings)() as session:
        report = export(session, ImageStore(settings.image_dir), out, progress=True)
    for line in report.lines(out):
        typer.echo(line)


@gallery.command("import")
def gallery_import(
    directory: Annotated[Path, typer.Argument(help="the archive: a folder per category, or COCO / VOC / YOLO boxes")],
    fmt: Annotated[str, typer.Option("--format", help="auto, folders, coco, voc or yolo")] = "auto",
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="SRC=CATEGORY: a source label's category (or benign); repeat")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check and report; add nothing")] = False,
    min_size: Annotated[int, typer.Option(help="smallest crop side kept, in pixels")] = 16,
    modality: Annotated[
        str, typer.Option(help="xray (the x-ray gallery) or photo (labelled listing photos, a folder per category)")
    ] = "xray",
) -> None:
    """Add a labelled x-ray archive to the gallery (whole scans and item crops), or a folder per category
    of labelled listing photos to the photo gallery (--modality photo); each image checked like a filed
    image; a report of what was added and what was skipped, and why."""
    from service.matching import gallery_store, models, verdicts
    from service.matching.gallery_formats import ArchiveError
    from service.matching.gallery_import import Importer, parse_mapping

    kinds = {"xray": gallery_store.SCANS, "photo": gallery_store.PHOTOS}
    if modality not in kinds:
        typer.echo(f"error: --modality is xray or photo, not {modality!r}", err=True)
        raise typer.Exit(2)
    kind = kinds[modality]
    settings = Settings()
    try:
        labels = parse_mapping(mapping or [])
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    sessions = _sessions(settings)
    store = ImageStore(settings.image_dir)
    with sessions() as session:
        importer = Importer(
            session=session,
            store=store,
            limits=settings.images,
            add=gallery_store.add_scan if kind is gallery_store.SCANS else gallery_store.add_photo,
            mapping=labels,
            dry_run=dry_run,
            min_size=min_size,
            kind=kind,
        )
        try:
            report = importer.run(directory, fmt, progress=True)
        except ArchiveError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None
        if not dry_run and report.added:
            verdicts.invalidate_all(session)  # stored verdicts did not see these labelled images
            session.commit()
    for line in report.lines():
        typer.echo(line)
    if dry_run or not report.added:
        return
    m = settings.matching
    typer.echo(f"loading {m.gallery_encoder} ...", err=True)
    kept = gallery_store.GalleryStore(
        encoder=models.load(settings, m.gallery_encoder),
        sessions=sessions,
        store=store,
        index_dir=settings.index_dir,
        exact_max=m.exact_index_max,
        k=m.gallery_k if kind is gallery_store.SCANS else m.photo_gallery_k,
        prior=m.gallery_prior if kind is gallery_store.SCANS else m.photo_gallery_prior,
        kind=kind,
    )
    result = kept.reconcile(progress=True)
    typer.echo(
        f"embedded {result[f'{kind.name}_embedded']} gallery image(s); {kept.index.size} vectors in {kept.index.path}"
    )


@gallery.command("list")
def gallery_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False) -> None:
    """How many labelled scans and listing photos (kind "photo") the galleries hold, per category, kind and
    source."""
    from service.matching.gallery_store import summary

    with _sessions(Settings())() as session:
        rows = summary(session)
    for category, kind, source, n in rows:
        if as_json:
            typer.echo(json.dumps({"category": category, "kind": kind, "source": source, "count": n}))
        else:
            typer.echo(f"{category:16} {kind:5} {source:12} {n}")
    if not as_json:
        typer.echo(f"{sum(n for *_, n in rows)} in all")


@app.command()
def purge(
    yes: Annotated[bool, typer.Option("--yes", help="remove it; without this, only say what would go")] = False,
    operator: Annotated[
        str, typer.Option(help="who purges, for the audit trail (default: the user running the command)")
    ] = "",
    now: Annotated[
        datetime | None, typer.Option(help="apply the policy as at this UTC time instead of now (ISO 8601)")
    ] = None,
) -> None:
    """Apply the retention policy (SCANMATCH_RETENTION__*): say what would go, and with --yes remove it from the
    database, the image store and every index. Held shipments stay. Stop the server first."""
    settings = Settings()
    policy = settings.retention
    if policy.keeps_everything:
        typer.echo(
            "the retention policy keeps everything (PIA 5.1: permanent records until a NARA-approved schedule "
            "exists); set SCANMATCH_RETENTION__FILINGS_DAYS, __IMAGES_DAYS or __AUDIT_DAYS to purge"
        )
        return
    at = datetime.now(UTC) if now is None else now.replace(tzinfo=UTC) if now.tzinfo is None else now
    sessions = _sessions(settings)
    if not yes:
        with sessions() as session:
            found = retention.plan(session, policy, now=at)
        _counts(found, f"would go (retention as at {at:%Y-%m-%d %H:%M} UTC)")
        typer.echo("dry run: nothing removed; run again with --yes to remove it")
        return
    from service.matching import purging  # FAISS and the stored vectors: only when removing

    who = operator or _user()
    actor = Actor(Principal("cli", who, "operator", None))  # who purged, for the audit trail
    try:
        with data_lock.alone(settings.data_dir), sessions() as session:
            found = retention.plan(session, policy, now=at)
            done = retention.purge(session, found, actor=actor, store=ImageStore(settings.image_dir), progress=True)
            rebuilt, overlays = purging.bring_in_line(session, settings, done)
    except DataDirectoryBusy as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None
    _counts(found, f"removed (retention as at {at:%Y-%m-%d %H:%M} UTC)")
    for index in rebuilt:
        typer.echo(f"index {index.path}: {index.removed} vector(s) removed, {index.vectors} kept")
    typer.echo(f"{done.files} image file(s) and {overlays} where-to-look overlay(s) deleted; audited as {who}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's numeric uid): say so rather than guess
        return "unknown operator"


def _counts(found: retention.Plan, heading: str) -> None:
    typer.echo(f"{heading}:")
    for kind, n in found.counts().items():
        typer.echo(f"  {kind.replace('_', ' '):24} {n}")
    if found.held:
        typer.echo(f"  kept under a hold: {', '.join(found.held)}")


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the latest revision."""
    settings = Settings()
    upgrade(settings.resolved_database_url)
    typer.echo(f"database at head: {make_engine(settings.resolved_database_url).url.render_as_string()}")


@audit.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain from its oldest remaining record to its head: OK with the count, or
    the first broken link (exit status 1)."""
    from tqdm import tqdm

    from service.domain import audit_chain

    with _sessions(Settings())() as session:
        total = audit_chain.count(session)
        with tqdm(total=total, desc="verifying", unit="record", disable=total < 10_000, file=sys.stderr) as bar:
            result = audit_chain.verify(session, progress=bar.update)
    for line in result.lines():
        typer.echo(line, err=not result.ok)
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def backup(dest: Annotated[Path, typer.Argument(help="a new (or empty) folder to write the backup into")]) -> None:
    """Back up the database (a consistent copy), the images it records, the indexes and the operator's models, with
    a manifest of counts and sha256s; the service may keep running."""
    from service.operations.backup import backup as run
    from service.operations.manifest import BackupError

    try:
        run(Settings(), dest, echo=typer.echo, progress=True)
    except BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


@app.command()
def restore(
    src: Annotated[Path, typer.Argument(help="a folder `scanmatch backup` wrote")],
    force: Annotated[
        bool, typer.Option("--force", help="replace the data already in the database and data directory")
    ] = False,
) -> None:
    """Check a backup file by file against its manifest, then restore it into an empty data directory and database
    (SCANMATCH_DATA_DIR, SCANMATCH_DATABASE_URL); stop the service first."""
    from service.operations.manifest import BackupError
    from service.operations.restore import restore as run

    try:
        run(Settings(), src, force=force, echo=typer.echo, progress=True)
    except BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
