#!/usr/bin/env bash
# parmap's main job: installs what is missing, builds Release, runs the benchmark sweep and writes
# the report folder results/<host>-<date>/ (results.json, PNG and SVG graphs, report.md).
#
# Usage: bash scripts/bench.sh [--full] [--out=DIR] [--no-setup] [parmap-bench flags...]
#   (default)     the quick sweep, under 5 minutes on a 2-core machine
#   --full        the whole sweep (every thread count, finer chunk ladder, more repetitions)
#   --out=DIR     write the report there instead of results/<host>-<date>/
#   --no-setup    do not run scripts/setup.sh (no package installation)
#   anything else goes to parmap-bench: --backends=threads,tbb --threads=1,2,4 --chunks=1,64
#                 --dir=PATH --benchmark_filter=REGEX ... (see bench/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=--quick
out=""
setup=1
pass=()
for arg in "$@"; do
  case "$arg" in
    --full) mode=--full ;;
    --quick) mode=--quick ;;
    --out=*) out="${arg#--out=}" ;;
    --no-setup) setup=0 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) pass+=("$arg") ;;
  esac
done

[ "$setup" -eq 0 ] || bash scripts/setup.sh

# Debian's python3 has matplotlib; the first python3 on PATH may be another one.
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3)"

echo "=== parmap bench: building Release ==="
cmake --preset release >/dev/null
cmake --build --preset release --target parmap-bench

# Timings need a quiet machine; say so when it is not (the report notes the load too).
if [ -r /proc/loadavg ]; then
  read -r load _ < /proc/loadavg
  cpus="$(nproc)"
  if awk -v l="$load" -v c="$cpus" 'BEGIN { exit !(l > c / 2) }'; then
    echo "parmap bench: note: load average $load on $cpus CPUs; other work will make the timings noisy"
  fi
fi

stamp="$(date -u +%Y%m%d-%H%M%S)"
json="build/release/bench-$stamp.json"
log="build/release/bench-$stamp.log"
echo "=== parmap bench: running ($mode); tables in $log, progress below ==="
build/release/bench/parmap-bench "$mode" --benchmark_out="$json" --benchmark_out_format=json \
  ${pass[@]+"${pass[@]}"} >"$log"

echo "=== parmap bench: writing the report ==="
if [ -n "$out" ]; then
  "$python" scripts/report.py "$json" --out "$out"
else
  "$python" scripts/report.py "$json"
fi
