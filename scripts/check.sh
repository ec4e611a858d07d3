#!/usr/bin/env bash
# Lint, type-check and check the import layering, then run the tests: what CI runs (.ci/run).
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
step "tests"
.venv/bin/python -m pytest "$@"
