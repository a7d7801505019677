#!/usr/bin/env bash
# The test command: install with the test tools, then run the suite (arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev scripts/install.sh
.venv/bin/python -m pytest "$@"
