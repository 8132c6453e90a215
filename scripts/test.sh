#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, then builds and runs the
# tests in three builds: Release, ThreadSanitizer, and AddressSanitizer + UBSan.
# Usage: bash scripts/test.sh [preset...]    (default: release tsan asan)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(release tsan asan)
for preset in "${presets[@]}"; do
  echo "=== parmap tests: $preset build ==="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset" -j2
done
echo "=== parmap tests: all passed (${presets[*]}) ==="
