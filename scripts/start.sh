#!/usr/bin/env bash
# Install and start ceasefire-monitor: the steps the Dockerfile runs, and that CI exercises without Docker.
#
#   scripts/start.sh install      install from this checkout into $VENV (Docker build step; idempotent)
#   scripts/start.sh run [ARGS]   exec `monitor run` with $MONITOR_CONFIG (the container's command)
#   scripts/start.sh healthcheck  exit 0 when /healthz answers 200 (the container's HEALTHCHECK), asked at
#                                 $MONITOR_HEALTH_URL, else where health.host/port in $MONITOR_CONFIG say
#   scripts/start.sh smoke        install, start the service on a throwaway config, wait for /healthz,
#                                 stop it with SIGTERM and require a clean exit within 10 s (CI)
#
# Environment: VENV (default .venv), MONITOR_CONFIG (default config/monitor.yaml), MONITOR_HEALTH_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"

healthy() {  # exit 0 when $1 answers 200 within 5 s
    "$PY" -c 'import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1], timeout=5).status != 200)' "$1" \
        >/dev/null 2>&1
}

health_url() {  # $MONITOR_HEALTH_URL, else the address the config's health section gives
    if [ -n "${MONITOR_HEALTH_URL:-}" ]; then echo "$MONITOR_HEALTH_URL"; return; fi
    MONITOR_CONFIG=${MONITOR_CONFIG:-config/monitor.yaml} "$PY" -c 'import sys
from monitor.config import health_url
from monitor.errors import ConfigError
try:
    print(health_url())
except ConfigError as exc:
    sys.exit(f"healthcheck: {exc}")'
}

smoke() {
    scripts/install.sh
    local dir port pid code url
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' RETURN
    port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cp -r config/watchlists "$dir/watchlists"
    printf 'storage: {path: db.sqlite3}\nhealth: {port: %s}\nsources: []\n' "$port" > "$dir/monitor.yaml"
    "$VENV/bin/monitor" check-config --config "$dir/monitor.yaml"
    "$VENV/bin/monitor" run --config "$dir/monitor.yaml" &
    pid=$!
    for _ in $(seq 100); do
        healthy "http://127.0.0.1:$port/healthz" && break
        kill -0 "$pid" 2>/dev/null || { echo "smoke: the service died" >&2; return 1; }
        sleep 0.2
    done
    healthy "http://127.0.0.1:$port/healthz" || { echo "smoke: /healthz never answered 200" >&2; kill "$pid"; return 1; }
    url=$(MONITOR_HEALTH_URL='' MONITOR_CONFIG="$dir/monitor.yaml" health_url)  # what the container's check asks
    healthy "$url" || { echo "smoke: the healthcheck asks $url, where nothing answers 200" >&2; kill "$pid"; return 1; }
    kill -TERM "$pid"
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "smoke: still running 10 s after SIGTERM" >&2
        kill -KILL "$pid"
        return 1
    fi
    code=0
    wait "$pid" || code=$?
    [ "$code" -eq 0 ] || { echo "smoke: exit code $code after SIGTERM" >&2; return 1; }
    echo "smoke: started, healthy, stopped cleanly on SIGTERM"
}

case "${1:-run}" in
    install) scripts/install.sh ;;
    run) shift || true; exec "$VENV/bin/monitor" run --config "${MONITOR_CONFIG:-config/monitor.yaml}" "$@" ;;
    healthcheck) url=$(health_url) && healthy "$url" ;;
    smoke) smoke ;;
    *) echo "usage: $0 install|run|healthcheck|smoke" >&2; exit 2 ;;
esac
