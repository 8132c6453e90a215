#!/usr/bin/env bash
# Runs parmap-bench-mpi as a 1-rank and a 2-rank job on this machine and combines the JSON.
#   bench/mpi/run.sh [build dir] [output dir] [extra benchmark flags...]
# e.g. bench/mpi/run.sh build/release results/mpi --benchmark_repetitions=5
# The 2-rank job measures ranks:1 and ranks:2 side by side (see bench_mpi.cpp); the speedup
# quoted is the ratio within that job.
set -euo pipefail
build=${1:-build/release}
out=${2:-results/mpi}
shift $(( $# > 2 ? 2 : $# ))
mkdir -p "$out"
# No binding: a rank's local threads must be free to use every core (Open MPI binds each rank
# to one core by default when there are at most two ranks). Loopback transports only.
launch=(mpirun --oversubscribe --bind-to none --mca btl self,vader)
if [ "$(id -u)" = 0 ]; then launch+=(--allow-run-as-root); fi
for np in 1 2; do
  "${launch[@]}" -np "$np" "$build/parmap-bench-mpi" --benchmark_out="$out/mpi-np$np.json" \
    --benchmark_out_format=json "$@"
done
python3 "$(dirname "$0")/combine.py" "$out/mpi-np1.json" "$out/mpi-np2.json" -o "$out/mpi.json"
