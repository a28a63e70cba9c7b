#!/usr/bin/env bash
# Where a GPU benchmark case spends its time, on machines without nsys or perf: the host side
# from wall-clock call-stack samples of the timed repeats (bench/sampler.h, summarised by
# bench/symbolize.py), the device side from an ncu kernel-duration profile of one step
# (summarised by ncu_summary.py). Needs a built ember_gpu_bench (run_gpu.sh builds one).
# usage: BUILD=dir bench/gpu/profile_gpu.sh CASE...     (exact case names; OUT=dir for the logs)
#   NCU=0 skips the kernel profile, SAMPLE=0 the host one.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$root/gpu-profile-logs}
bench=${BUILD:-$root/build-gpu-bench}/bench/gpu/ember_gpu_bench
python=${PYTHON:-python3}
mkdir -p "$out"
for c in "$@"; do
  if [ "${SAMPLE:-1}" != 0 ]; then
    EMBER_BENCH_PROFILE="$out/" "$bench" --case "$c" | tee "$out/$c.json"
    "$python" "$root/bench/symbolize.py" "$out/$c.stacks" --top "${TOP:-40}" >"$out/$c.host.txt"
    rm -f "$out/$c.stacks"
  fi
  if [ "${NCU:-1}" != 0 ]; then
    ncu=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
    EMBER_BENCH_NCU=1 timeout "${NCU_TIMEOUT:-300}" "$ncu" --clock-control none --profile-from-start off \
      --metrics gpu__time_duration.sum --csv "$bench" --case "$c" >"$out/$c.ncu.csv" 2>"$out/$c.ncu.err"
    "$python" "$root/bench/gpu/ncu_summary.py" "$out/$c.ncu.csv" --top "${TOP:-40}" >"$out/$c.kernels.txt"
    rm -f "$out/$c.ncu.csv"
  fi
done
