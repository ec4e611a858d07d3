"""sha256 checks for every weight file before it is used."""

from __future__ import annotations

import hashlib
from pathlib import Path

from models.encoders.errors import WeightsIntegrityError, WeightsMissing

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks so large checkpoints do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: str | Path, expected_sha256: str, *, what: str) -> Path:
    """Return `path` if it exists and hashes to `expected_sha256`; raise otherwise."""
    path = Path(path)
    if not path.is_file():
        raise WeightsMissing(f"{what}: weight file {path} does not exist; refusing to run on random weights")
    actual = sha256_file(path)
    if actual != expected_sha256.lower():
        raise WeightsIntegrityError(
            f"{what}: {path} has sha256 {actual}, expected {expected_sha256}; the file was changed or corrupted"
        )
    return path
