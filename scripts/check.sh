#!/usr/bin/env bash
# Lint, type-check, check the import layering and duplicated blocks, then run the tests: what CI runs (.ci/run).
# Extra arguments go to pytest (e.g. scripts/check.sh tests/service -x).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }
step "ruff"
.venv/bin/python -m ruff check .
step "mypy (service, models)"
.venv/bin/python -m mypy
step "import layering (import-linter contracts in pyproject.toml)"
.venv/bin/lint-imports
step "duplicated code (pylint duplicate-code: 10 or more lines, migrations aside)"
.venv/bin/python -m pylint --score=n service models tests benchmarks
step "tests"
.venv/bin/python -m pytest "$@"
