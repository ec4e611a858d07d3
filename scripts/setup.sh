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
# The browser tests (tests/service/test_console_browser.py) drive Debian's chromium through Playwright;
# Playwright's own browser download (`playwright install`) is never used.
if ! command -v chromium >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null && { [ -z "$sudo" ] || command -v sudo >/dev/null; }; then
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: install chromium (Debian: apt-get install chromium) for the browser tests" >&2
  fi
fi
echo "scanmatch installed in .venv"
