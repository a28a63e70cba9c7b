#!/usr/bin/env bash
# Runs ember's benchmarks and PyTorch's in one command, with the same thread count, and
# prints a table of times and ratios (PyTorch time / ember time: above 1 means ember is faster).
# usage: bench/run.sh [build-dir] [case...]
set -euo pipefail
build="${1:-build}"
shift || true
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
here="$(cd "$(dirname "$0")" && pwd)"
ours=$(mktemp) theirs=$(mktemp)
trap 'rm -f "$ours" "$theirs"' EXIT
"$build/bench/ember_bench" "$@" | tee "$ours"
/usr/bin/python3 "$here/torch_bench.py" "$@" | tee "$theirs"
/usr/bin/python3 "$here/compare.py" "$ours" "$theirs" "$OMP_NUM_THREADS"
