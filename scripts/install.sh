#!/usr/bin/env bash
# Install ceasefire-monitor from this checkout into a virtualenv.
#   VENV=path   where (default .venv; the Dockerfile uses /opt/venv)
#   EXTRAS=dev  also the test and lint tools
# Versions are held to constraints.txt, so every install resolves the same packages.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".${EXTRAS:+[$EXTRAS]}"
