"""The `scanmatch` command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from models.encoders.registry import ARTIFACTS_DIR
from tests.models.artifacts import copy_with_thresholds


def scanmatch(
    *args: str, data_dir: Path, database_url: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SCANMATCH_DATA_DIR": str(data_dir), "SCANMATCH_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_keys_create_list_and_revoke(tmp_path: Path, database_url: str) -> None:
    def create(role: str, name: str) -> subprocess.CompletedProcess[str]:
        return scanmatch(
            "keys", "create", "--role", role, "--name", name, "--json", data_dir=tmp_path, database_url=database_url
        )

    created = create("carrier", "ACME Air")
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout)
    assert issued["key"].startswith("smk_") and issued["originator_code"].startswith("OC")
    second = json.loads(create("carrier", "ACME Air").stdout)
    assert second["originator_code"] == issued["originator_code"] and second["key"] != issued["key"]
    inspector = json.loads(create("inspector", "Ann").stdout)
    assert inspector["originator_code"] is None
    revoked = scanmatch("keys", "revoke", issued["key_id"], data_dir=tmp_path, database_url=database_url)
    assert revoked.returncode == 0 and issued["key_id"] in revoked.stdout
    listed = [
        json.loads(line)
        for line in scanmatch(
            "keys", "list", "--json", data_dir=tmp_path, database_url=database_url
        ).stdout.splitlines()
    ]
    states = {k["key_id"]: k["revoked_at"] is not None for k in listed}
    assert states == {issued["key_id"]: True, second["key_id"]: False, inspector["key_id"]: False}
    assert all(issued["key"] not in line for line in map(json.dumps, listed))


def test_bad_input_gets_a_clear_error_and_exit_code(tmp_path: Path, database_url: str) -> None:
    bad_role = scanmatch(
        "keys", "create", "--role", "boss", "--name", "X", data_dir=tmp_path, database_url=database_url
    )
    assert bad_role.returncode == 2 and "choose one of carrier" in bad_role.stderr
    unknown = scanmatch("keys", "revoke", "key_nope", data_dir=tmp_path, database_url=database_url)
    assert unknown.returncode == 2 and "no such key" in unknown.stderr


def test_serve_refuses_several_workers_it_cannot_run_safely(tmp_path: Path, database_url: str) -> None:
    """Several processes each with their own FAISS indexes over the same files diverge and miss reuse across
    workers (issue 20): refused at once, with what to do, before anything starts."""
    sqlite = f"sqlite:///{tmp_path / 'one.db'}"
    refused = scanmatch("serve", "--workers", "2", data_dir=tmp_path, database_url=sqlite)
    assert refused.returncode == 2 and "need PostgreSQL" in refused.stderr, refused.stderr
    if database_url.startswith("postgresql"):
        shared = scanmatch("serve", "--workers", "2", data_dir=tmp_path, database_url=database_url)
        assert shared.returncode == 2 and "SCANMATCH_MATCHING__ENABLED=false" in shared.stderr, shared.stderr


def test_reindex_and_calibrate(matching_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from service.db.engine import make_engine, make_session_factory
    from service.domain import filings, participants
    from service.domain.actors import Actor, Principal
    from service.domain.images import ImageStore
    from service.matching import verdicts
    from tests.support import carrier_filing, image_bytes

    engine = make_engine(matching_settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        key = participants.create_key(session, role="carrier", name="C")
        actor = Actor(Principal(key.participant_id, key.name, key.role, key.originator_code))
        for i in range(3):
            filings.accept(
                session=session,
                actor=actor,
                filing_json=json.dumps(carrier_filing(key.originator_code, tracking=f"R{i}")),
                parts={"security_scan": image_bytes(seed=i)},
                store=ImageStore(matching_settings.image_dir),
                limits=matching_settings.images,
                on_change=verdicts.invalidate,
            )
    engine.dispose()
    env = {"SCANMATCH_MATCHING__ENCODER": matching_settings.matching.encoder}
    run = dict(data_dir=matching_settings.data_dir, database_url=matching_settings.resolved_database_url, env=env)
    reindexed = scanmatch("reindex", **run)
    assert reindexed.returncode == 0, reindexed.stderr
    assert "scans: 3 vectors (exact)" in reindexed.stdout and "embedded 3 new image(s)" in reindexed.stdout
    again = scanmatch("reindex", **run)
    assert "embedded 0 new image(s)" in again.stdout

    # Another model, prepared beside the current one: its own embeddings, indexes and calibration.
    models_dir = copy_with_thresholds(
        ARTIFACTS_DIR / "scanmatch-effl0-minilm", tmp_path / "models" / "operator-v2", scale=0.5
    ).parent
    other_env = {**env, "SCANMATCH_MODELS_DIR": str(models_dir), "SCANMATCH_MATCHING__CALIBRATION_PAIRS": "24"}
    other = dict(run, env=other_env)
    prepared = scanmatch("reindex", "--model", "operator-v2", **other)  # type: ignore[arg-type]
    assert prepared.returncode == 0, prepared.stderr
    assert "embedding: 100%" in prepared.stderr and "3/3" in prepared.stderr  # the progress bar
    assert "scans: 3 vectors (exact)" in prepared.stdout and "listings: 0 vectors (exact)" in prepared.stdout
    assert "ready: embedded 3 new image(s), calibration from generated" in prepared.stdout
    assert "SCANMATCH_MATCHING__ENCODER=operator-v2" in prepared.stdout
    assert "embedded 0 new image(s)" in scanmatch("reindex", **run).stdout  # the current model's rows untouched
    unknown = scanmatch("reindex", "--model", "nope", **other)  # type: ignore[arg-type]
    assert unknown.returncode == 2 and "unknown encoder 'nope'; known encoders:" in unknown.stderr
    assert "operator-v2" in unknown.stderr
    nothing = scanmatch("calibrate", **run)
    assert nothing.returncode == 2 and "at least 5 matching and 5 mismatching" in nothing.stderr
    fitted = scanmatch("calibrate", "--source", "generated", "--n", "40", **run)
    assert fitted.returncode == 0, fitted.stderr
    assert "calibrated" in fitted.stdout and "on 40 generated pairs" in fitted.stdout


def test_gallery_import_and_list(tmp_path: Path, database_url: str) -> None:
    from tests.support import image_bytes

    archive = tmp_path / "archive"
    for folder, seed in (("Gun", 1), ("benign", 2), ("Spanner", 3)):
        (archive / folder).mkdir(parents=True)
        (archive / folder / f"{seed}.png").write_bytes(image_bytes(size=(64, 64), seed=seed))
    run = dict(data_dir=tmp_path / "data", database_url=database_url)
    # The report, dry runs, re-imports and bad mappings: tests/service/matching/test_gallery_import.py.
    done = scanmatch("gallery", "import", str(archive), "--map", "Gun=handgun", **run)
    assert done.returncode == 0, done.stderr
    assert "added 2 gallery scan(s) from a folders archive" in done.stdout and "unknown category: 1" in done.stdout
    assert "embedded 2 gallery image(s); 2 vectors in" in done.stdout
    listed = scanmatch("gallery", "list", "--json", **run)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows == [
        {"category": "benign", "kind": "scan", "source": "import", "count": 1},
        {"category": "handgun", "kind": "scan", "source": "import", "count": 1},
    ]
