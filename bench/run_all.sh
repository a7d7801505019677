#!/usr/bin/env bash
# Run the benchmarks (poll cycle, matcher, memory; `anchors`: the poll cycle beside urlwatch and reader,
# installed into a venv of their own on first use) and print their figures.
#   bench/run_all.sh                 poll, matcher and memory, default sizes
#   bench/run_all.sh poll matcher    only those
# Extra sizes: run a benchmark directly, e.g. `python bench/poll_cycle.py --feeds 200 --sample 20`.
# Output is also written to $BENCH_OUT (default: /tmp/ceasefire-bench-last-run.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null 2>&1 && [ -x /usr/sbin/nginx ]; then
  export PATH="$PATH:/usr/sbin"
fi
if ! command -v nginx >/dev/null 2>&1; then
  echo "installing nginx (Debian package) for the feed farm..." >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx >/dev/null
  export PATH="$PATH:/usr/sbin"
fi

if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi

out="${BENCH_OUT:-${TMPDIR:-/tmp}/ceasefire-bench-last-run.txt}"
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(poll matcher memory)

{
  for name in "${which[@]}"; do
    case "$name" in
      poll) script=bench/poll_cycle.py ;;
      matcher) script=bench/matcher.py ;;
      memory) script=bench/memory.py ;;
      anchors) script=bench/anchors.py ;;
      *) echo "unknown benchmark: $name (poll, matcher, memory, anchors)" >&2; exit 2 ;;
    esac
    echo "== $script"
    start=$(date +%s)
    python "$script"
    echo "($(( $(date +%s) - start )) s)"
    echo
  done
} 2>&1 | tee "$out"
echo "(output saved in $out)"
