#!/usr/bin/env bash
# Builds ember's GPU benchmark (only that target) and runs it and PyTorch's side of the same
# cases one after the other on the same GPU, then prints a table of times and ratios (PyTorch
# time / ember time: above 1 means ember is faster). Raw JSON lines and logs go to $OUT (or
# ./gpu-bench-logs).
# usage: bench/gpu/run_gpu.sh [--case NAME]...      (NAME: a substring of case names)
#   BUILD=dir (default <repo>/build-gpu-bench), EXTRA_CMAKE_FLAGS="-D...", PYTHON=python3,
#   SKIP_BUILD=1 to reuse a build, CASE_TIMEOUT (seconds per ember case, 120), TORCH_TIMEOUT
#   (seconds for PyTorch's side, 360). A machine without GoogleTest / nlohmann-json packages
#   configures from <repo>/.devdeps as backends/cuda/gpu_check.sh does (see its README).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$root/gpu-bench-logs}
build=${BUILD:-$root/build-gpu-bench}
deps=$root/.devdeps
python=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
mkdir -p "$out"
start=$SECONDS

{ nvidia-smi; nvcc --version; cmake --version; c++ --version; "$python" -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'; } >"$out/env.txt" 2>&1
# The benchmark build does not fail on warnings (a newer GCC warns elsewhere in the tree; CI
# checks them); EXTRA_CMAKE_FLAGS come last and may say otherwise.
flags=(-DCMAKE_BUILD_TYPE=Release -DEMBER_CUDA=ON -DEMBER_WERROR=OFF
       "-DCMAKE_CUDA_COMPILER=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")
[ -d "$deps/googletest" ] && flags+=("-DEMBER_GTEST_SOURCE=$deps/googletest")
[ -d "$deps/nlohmann" ] && flags+=("-Dnlohmann_json_DIR=$deps/nlohmann/usr/share/cmake/nlohmann_json")
read -ra extra <<<"${EXTRA_CMAKE_FLAGS:-}"
flags+=("${extra[@]}")
if [ -z "${SKIP_BUILD:-}" ]; then
  if ! { cmake -S "$root" -B "$build" "${flags[@]}" && cmake --build "$build" -j "$(nproc)" --target ember_gpu_bench; } >"$out/build.log" 2>&1; then
    tail -40 "$out/build.log"
    echo "BUILD FAILED (log: $out/build.log)"
    exit 1
  fi
fi
echo "build: $((SECONDS - start)) s"

# The two sides one after the other, so neither holds GPU memory while the other runs. ember's
# cases run one process each: a kernel that faults (a sticky CUDA error) or hangs loses only its
# own case, reported as an error line.
bench=$build/bench/gpu/ember_gpu_bench
t=$SECONDS
: >"$out/ember.stderr"
for c in $("$bench" --list "$@"); do
  line=$(timeout "${CASE_TIMEOUT:-120}" "$bench" --case "$c" 2>>"$out/ember.stderr")
  rc=$?
  if grep -q '"case"' <<<"$line"; then
    echo "$line"
  else
    echo "{\"case\": \"$c\", \"error\": \"the process exited with status $rc (124: timed out) and printed no result\"}"
  fi
done | tee "$out/ember.jsonl"
echo "ember side: $((SECONDS - t)) s"
[ -s "$out/ember.stderr" ] && { echo "ember's stderr ends:"; tail -15 "$out/ember.stderr"; }
t=$SECONDS
timeout "${TORCH_TIMEOUT:-360}" "$python" "$root/bench/gpu/torch_gpu_bench.py" "$@" 2>"$out/torch.stderr" | tee "$out/torch.jsonl"
rc=${PIPESTATUS[0]}
echo "torch side: $((SECONDS - t)) s, exit $rc (124: timed out)"
[ "$rc" -ne 0 ] && { echo "torch's stderr ends:"; tail -15 "$out/torch.stderr"; }

"$python" "$root/bench/gpu/compare_gpu.py" "$out/ember.jsonl" "$out/torch.jsonl" | tee "$out/table.txt"
echo "total: $((SECONDS - start)) s"
