#!/usr/bin/env bash
# Install ceasefire-monitor from this checkout into a virtualenv.
#   VENV=path   where (default .venv; the Dockerfile uses /opt/venv)
#   EXTRAS=dev  also the test and lint tools, and Debian's chromium for the browser tests when it is missing
#               (apt-get, as root or with sudo; where it cannot be installed those tests are skipped)
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
    # The package's bytecode, written now: an editable install leaves it to the first import, which cannot
    # write it under PYTHONDONTWRITEBYTECODE (the image sets it) or as a user without write access, and then
    # every start compiles all of monitor/ again (about 0.1 CPU-s). Stale files are recompiled as usual.
    "$VENV/bin/python" -m compileall -q -j 0 monitor >/dev/null
fi
if [[ ",${EXTRAS:-}," == *,dev,* ]] && ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    echo "installing chromium (Debian package) for the browser tests..." >&2
    { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
        >/dev/null || echo "chromium could not be installed: the browser tests will be skipped" >&2
fi
