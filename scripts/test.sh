#!/usr/bin/env bash
# The test command: install with the test tools, lint and type-check, then run the suite
# (arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev scripts/install.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
