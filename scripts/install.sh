#!/usr/bin/env bash
# Install ceasefire-monitor from this checkout into a virtualenv.
#   VENV=path   where (default .venv; the Dockerfile uses /opt/venv)
#   EXTRAS=dev  also the test and lint tools, Debian's chromium for the browser tests when it is missing
#               (apt-get, as root or with sudo; where it cannot be installed those tests are skipped), and the
#               Bot API emulator the Telegram tests also run against (npm's telegram-test-api, held to
#               tests/emulator/package-lock.json; Node.js from Debian when missing; else those tests are skipped)
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
debian() {  # debian WHY PACKAGE...: install Debian packages (as root or with sudo) where apt-get is; 1 if that fails
    command -v apt-get >/dev/null 2>&1 || return 1
    local why=$1 sudo=()
    shift
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    echo "installing $* (Debian) for $why..." >&2
    { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } \
        >/dev/null
}
if [[ ",${EXTRAS:-}," == *,dev,* ]]; then
    command -v chromium >/dev/null 2>&1 || debian "the browser tests" chromium \
        || echo "chromium could not be installed: the browser tests will be skipped" >&2
    { command -v npm >/dev/null 2>&1 || debian "the Bot API emulator" nodejs npm; } \
        && npm ci --prefix tests/emulator --no-audit --no-fund --silent >/dev/null \
        || echo "the Bot API emulator could not be installed: the tests against it will be skipped" >&2
fi
