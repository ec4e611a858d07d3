"""`scanmatch backup` and `scanmatch restore`: a round trip into a fresh data directory and database serves the
same shipments, images and verdicts; a damaged, partial or misdirected restore is refused before it writes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.api.app import create_app
from service.db.engine import make_engine
from service.db.tables import AuditEvent, Verdict
from service.domain import audit_chain
from service.matching.matcher import Networks
from service.operations import databases
from service.operations.backup import backup
from service.operations.manifest import NAME, BackupError
from service.operations.restore import restore
from service.settings import Settings
from tests.service.matching.test_verdicts import file_shipment, first, verdict
from tests.service.test_cli import scanmatch
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart


def file_intake(client: TestClient, keys: Any, n: int = 4) -> tuple[Any, list[str]]:
    shop, carrier, inspector = keys("marketplace", "Shop"), keys("carrier", "Courier"), keys("inspector", "Ines")
    shipment_ids = []
    for i in range(n):
        listing = marketplace_filing(shop.originator_code, tracking=f"B{i}")
        sent = client.post(
            "/v1/filings", files=multipart(listing, product_picture=image_bytes(seed=i)), headers=auth(shop)
        )
        assert sent.status_code == 201, sent.text
        scan = carrier_filing(carrier.originator_code, tracking=f"B{i}")
        scanned = client.post(
            "/v1/filings", files=multipart(scan, security_scan=image_bytes("JPEG", seed=50 + i)), headers=auth(carrier)
        )
        assert scanned.status_code == 201, scanned.text
        shipment_ids.append(sent.json()["shipment_id"])
    return inspector, shipment_ids


def served(client: TestClient, inspector: Any, shipment_ids: list[str]) -> dict[str, Any]:
    """What an inspector reads of each shipment, with the bytes of every image."""
    out: dict[str, Any] = {}
    for shipment_id in shipment_ids:
        response = client.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector))
        assert response.status_code == 200, response.text
        shipment = response.json()
        images = {}
        for filing in shipment["filings"]:
            for image in filing["images"]:
                got = client.get(f"/v1/images/{image['sha256']}", headers=auth(inspector))
                assert got.status_code == 200, got.text
                images[image["sha256"]] = got.content
        out[shipment_id] = (shipment, images)
    return out


def restored_settings(settings: Settings, tmp_path: Path, database: str) -> Settings:
    return settings.model_copy(update={"data_dir": tmp_path / "restored", "database_url": database})


def lines(_line: str) -> None:
    pass


def test_round_trip_serves_the_same_shipments_images_and_audit_trail(
    client: TestClient, keys: Any, settings: Settings, tmp_path: Path, empty_database: str
) -> None:
    inspector, shipment_ids = file_intake(client, keys)
    before = served(client, inspector, shipment_ids)
    manifest = backup(settings, tmp_path / "backup", echo=lines)
    assert manifest.database.counts["shipments"] == 4 and manifest.database.counts["images"] == 8
    assert sum(name.startswith("images/") for name in manifest.files) == 8 and not manifest.missing_images

    target = restored_settings(settings, tmp_path, empty_database)
    restore(target, tmp_path / "backup", echo=lines)
    with TestClient(create_app(target)) as again:
        assert served(again, inspector, shipment_ids) == before
    engine = make_engine(empty_database)
    with Session(engine) as session:
        checked = audit_chain.verify(session)  # the restored trail, and the reads since chained onto it
        assert checked.ok and checked.records > manifest.database.counts["audit_events"], checked.lines()
        head = session.scalar(select(AuditEvent).where(AuditEvent.record_hash == manifest.database.audit_head))
        assert head is not None
        older = select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= head.id)
        assert session.scalar(older) == manifest.database.counts["audit_events"]
    engine.dispose()


def test_a_damaged_or_partial_backup_is_refused_before_anything_is_written(
    client: TestClient, keys: Any, settings: Settings, tmp_path: Path, empty_database: str
) -> None:
    file_intake(client, keys, n=2)
    folder = tmp_path / "backup"
    manifest = backup(settings, folder, echo=lines)
    target = restored_settings(settings, tmp_path, empty_database)

    image = next(name for name in manifest.files if name.startswith("images/"))
    original = (folder / image).read_bytes()
    (folder / image).write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(BackupError, match=rf"damaged or incomplete \(1 of .*{image} has changed"):
        restore(target, folder, echo=lines)
    (folder / image).write_bytes(original)

    (folder / manifest.database.file).unlink()
    with pytest.raises(BackupError, match=rf"{manifest.database.file} is missing. Nothing was restored"):
        restore(target, folder, echo=lines)

    (folder / NAME).rename(folder / "manifest.old")  # as if cut short before its manifest was written
    with pytest.raises(BackupError, match="interrupted before it finished"):
        restore(target, folder, echo=lines)

    assert databases.holding(empty_database) == {}
    assert not target.image_dir.exists() or not any(target.image_dir.rglob("*"))


def test_a_target_holding_data_is_refused_unless_forced(keys: Any, settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(settings)) as client:
        inspector, shipment_ids = file_intake(client, keys, n=2)
        before = served(client, inspector, shipment_ids)
    backup(settings, tmp_path / "backup", echo=lines)
    with pytest.raises(BackupError, match=r"not empty \(the database holds .*2 shipments.*pass --force"):
        restore(settings, tmp_path / "backup", echo=lines)
    with pytest.raises(BackupError, match="not an empty folder"):
        backup(settings, tmp_path / "backup" / "images", echo=lines)
    late = keys("marketplace", "Late")
    with TestClient(create_app(settings)) as client:  # filed after the backup: gone once it is forced back
        sent = client.post(
            "/v1/filings",
            files=multipart(
                marketplace_filing(late.originator_code, tracking="LATE"), product_picture=image_bytes(seed=77)
            ),
            headers=auth(late),
        )
        assert sent.status_code == 201, sent.text
    restore(settings, tmp_path / "backup", force=True, echo=lines)
    with TestClient(create_app(settings)) as client:
        assert served(client, inspector, shipment_ids) == before
        assert client.get("/v1/shipments?tracking_number=LATE", headers=auth(inspector)).json() == []


def test_the_commands_back_up_and_restore_and_say_what_is_missing(
    client: TestClient, keys: Any, settings: Settings, tmp_path: Path, database_url: str, empty_database: str
) -> None:
    file_intake(client, keys, n=1)
    # Without the PostgreSQL client tools a PostgreSQL backup says what to install; SQLite needs none.
    bare = scanmatch(
        "backup", str(tmp_path / "bare"), data_dir=settings.data_dir, database_url=database_url, env={"PATH": ""}
    )
    if databases.backend(database_url) == "postgresql":
        assert bare.returncode == 2 and "pg_dump is not installed" in bare.stderr and "postgresql-client" in bare.stderr
    else:
        assert bare.returncode == 0, bare.stderr
    made = scanmatch("backup", str(tmp_path / "cli"), data_dir=settings.data_dir, database_url=database_url)
    assert made.returncode == 0, made.stderr
    assert "backup in" in made.stdout and "1 shipments, 2 filings, 2 images" in made.stdout
    put = scanmatch("restore", str(tmp_path / "cli"), data_dir=tmp_path / "fresh", database_url=empty_database)
    assert put.returncode == 0, put.stderr
    assert "restored 1 shipments" in put.stdout
    again = scanmatch("restore", str(tmp_path / "cli"), data_dir=tmp_path / "fresh", database_url=empty_database)
    assert again.returncode == 2 and "pass --force" in again.stderr


def recompute(client: TestClient, inspector: Any, shipment_ids: list[str], database: str) -> dict[str, Any]:
    """The shipments' verdicts computed now, not read from the stored ones."""
    engine = make_engine(database)
    with engine.begin() as connection:
        connection.execute(delete(Verdict))
    engine.dispose()
    return {s: verdict(client, inspector, s) for s in shipment_ids}


def test_round_trip_with_matching_serves_the_same_verdicts(
    matching_settings: Settings, networks: Networks, keys: Any, tmp_path: Path, empty_database: str
) -> None:
    inspector = keys("inspector")
    with TestClient(create_app(matching_settings, networks=networks)) as client:
        shipment_ids = [
            file_shipment(client, keys, first("match"), "R-MATCH"),
            file_shipment(client, keys, first("substitution"), "R-SUBST"),
        ]
        for shipment_id in shipment_ids:
            verdict(client, inspector, shipment_id)
        before = served(client, inspector, shipment_ids)

    env = {"SCANMATCH_MATCHING__ENCODER": matching_settings.matching.encoder}
    started = time.perf_counter()
    made = scanmatch(
        "backup",
        str(tmp_path / "backup"),
        data_dir=matching_settings.data_dir,
        database_url=matching_settings.resolved_database_url,
        env=env,
    )
    backed_up = time.perf_counter() - started
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "backup" / NAME).read_text())
    assert any(name.startswith("indexes/") for name in manifest["files"])
    assert manifest["encoder"] == matching_settings.matching.encoder and manifest["database"]["models"]

    # The verdicts the original serves from its database as backed up (a refresh after the last filing may have
    # stored them again since they were first read).
    with TestClient(create_app(matching_settings, networks=networks)) as client:
        stored = {s: verdict(client, inspector, s) for s in shipment_ids}
        fresh = recompute(client, inspector, shipment_ids, matching_settings.resolved_database_url)

    target = restored_settings(matching_settings, tmp_path, empty_database)
    started = time.perf_counter()
    put = scanmatch("restore", str(tmp_path / "backup"), data_dir=target.data_dir, database_url=empty_database, env=env)
    restored_in = time.perf_counter() - started
    assert put.returncode == 0, put.stderr
    print(f"backup {backed_up:.1f} s, restore {restored_in:.1f} s (subprocesses, {len(manifest['files'])} files)")

    with TestClient(create_app(target, networks=networks)) as again:
        assert served(again, inspector, shipment_ids) == before
        assert {s: verdict(again, inspector, s) for s in shipment_ids} == stored
        # Computed afresh from the restored embeddings and indexes, as the original computes them afresh.
        recomputed = recompute(again, inspector, shipment_ids, empty_database)
    for shipment_id, was in fresh.items():
        now = recomputed[shipment_id]
        assert now["decision"] == was["decision"] and now["risk"] == pytest.approx(was["risk"], abs=1e-6)
        assert now["reasons"] == was["reasons"]
        for nearest in ("nearest_listings", "nearest_scans"):
            assert now["image_match"][nearest] == was["image_match"][nearest]


def test_a_sqlite_backup_is_one_self_contained_file(
    client: TestClient, keys: Any, settings: Settings, tmp_path: Path
) -> None:
    if databases.backend(settings.resolved_database_url) != "sqlite":
        pytest.skip("SQLite's own online backup")
    file_intake(client, keys, n=1)
    manifest = backup(settings, tmp_path / "backup", echo=lines)
    names = sorted(os.listdir(tmp_path / "backup"))
    assert names == sorted(["database.sqlite", NAME, "images"])  # no -wal or -shm beside the copy
    assert manifest.database.schema_revision is not None
