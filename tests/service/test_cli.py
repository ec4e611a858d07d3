"""The `scanmatch` command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def scanmatch(*args: str, data_dir: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCANMATCH_DATA_DIR": str(data_dir), "SCANMATCH_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "service", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_keys_create_list_and_revoke(tmp_path: Path, database_url: str) -> None:
    created = scanmatch(
        "keys",
        "create",
        "--role",
        "carrier",
        "--name",
        "ACME Air",
        "--json",
        data_dir=tmp_path,
        database_url=database_url,
    )
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout)
    assert issued["key"].startswith("smk_") and issued["originator_code"].startswith("OC")
    second = json.loads(
        scanmatch(
            "keys",
            "create",
            "--role",
            "carrier",
            "--name",
            "ACME Air",
            "--json",
            data_dir=tmp_path,
            database_url=database_url,
        ).stdout
    )
    assert second["originator_code"] == issued["originator_code"] and second["key"] != issued["key"]
    inspector = json.loads(
        scanmatch(
            "keys",
            "create",
            "--role",
            "inspector",
            "--name",
            "Ann",
            "--json",
            data_dir=tmp_path,
            database_url=database_url,
        ).stdout
    )
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
