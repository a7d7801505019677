#!/usr/bin/env bash
# Install ceasefire-monitor from this checkout into a virtualenv.
#   VENV=path   where (default .venv; the Dockerfile uses /opt/venv)
#   EXTRAS=dev  also the test and lint tools
#   scripts/install.sh deps   only the dependencies pyproject.toml declares, not the project itself
#                             (the Dockerfile's cached layer: it needs pyproject.toml and constraints.txt only)
# Versions are held to constraints.txt, so every install resolves the same packages.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"${PIP[@]}" --upgrade pip
if [ "${1:-}" = deps ]; then
    requirements=$("$VENV/bin/python" - "${EXTRAS:-}" <<'PY'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = [e for e in sys.argv[1].split(",") if e]
print("\n".join(project["dependencies"] + [d for e in extras for d in project["optional-dependencies"][e]]))
PY
)
    "${PIP[@]}" -c constraints.txt -r /dev/stdin <<<"$requirements"
else
    "${PIP[@]}" -c constraints.txt -e ".${EXTRAS:+[$EXTRAS]}"
fi
