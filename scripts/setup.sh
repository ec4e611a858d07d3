#!/usr/bin/env bash
# Create .venv and install scanmatch with its test tools. Safe to re-run; needs Python 3.11+.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first, pinned to the build this project is tested with (on this workplace's machines it
# installs from local disk); everything else comes from pyproject.toml.
.venv/bin/python -m pip install -q torch==2.14.1 torchvision==0.29.1
.venv/bin/python -m pip install -q -e '.[dev]'
echo "scanmatch installed in .venv"
