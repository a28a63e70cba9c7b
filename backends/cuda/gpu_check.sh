#!/usr/bin/env bash
# Builds and runs the CUDA test suite on a GPU machine, then runs it again under
# compute-sanitizer's memcheck. A machine without libgtest-dev or nlohmann-json3-dev builds them
# from copies in <repo>/.devdeps, which backends/cuda/prepare_devdeps.sh makes on a Debian machine. Logs go to $OUT (or ./gpu-logs); the last
# lines printed are a summary.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$root/gpu-logs}
build=${BUILD:-/tmp/ember-cuda-build}
deps=$root/.devdeps
# TESTS="a b" picks test programs; MEMCHECK=0 skips the memcheck pass; MEMCHECK_TIMEOUT (s, 300).
read -ra tests <<<"${TESTS:-runtime elementwise reduce matmul fused index optim training conv fft_conv shampoo attention}"
mkdir -p "$out"

{ nvidia-smi; nvcc --version; cmake --version; c++ --version; } >"$out/env.txt" 2>&1
flags=(-DEMBER_CUDA=ON "-DCMAKE_CUDA_COMPILER=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")
[ -d "$deps/googletest" ] && flags+=("-DEMBER_GTEST_SOURCE=$deps/googletest")
[ -d "$deps/nlohmann" ] && flags+=("-Dnlohmann_json_DIR=$deps/nlohmann/usr/share/cmake/nlohmann_json")
[ -d "$deps/cli11" ] && flags+=("-DCLI11_DIR=$deps/cli11/usr/share/cmake/CLI11")
# More CMake flags, e.g. -DEMBER_WERROR=OFF where a newer compiler warns in code elsewhere.
read -ra extra <<<"${EXTRA_CMAKE_FLAGS:-}"
flags+=("${extra[@]}")
start=$SECONDS
if ! { cmake -S "$root" -B "$build" "${flags[@]}" && cmake --build "$build" -j "$(nproc)" --target "${tests[@]/#/test_cuda_}"; } >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log"
  echo "BUILD FAILED"
  exit 1
fi
echo "build: $((SECONDS - start)) s"

status=0
for t in "${tests[@]}"; do
  start=$SECONDS
  timeout "${TEST_TIMEOUT:-180}" "$build/tests/test_cuda_$t" >"$out/test_$t.log" 2>&1 || status=1
  echo "test_cuda_$t: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/test_$t.log" | sort -u | tr '\n' ' ') ($((SECONDS - start)) s)"
done >"$out/summary.txt"
# The attention kernels that are not the default, picked by EMBER_ATTN_FWD / EMBER_ATTN_BWD: the
# mma.sync forward with the two-warpgroup wgmma backward, and the one-warpgroup wgmma backward.
if [[ " ${tests[*]} " == *" attention "* ]]; then
  for alt in "EMBER_ATTN_FWD=128x64w4 EMBER_ATTN_BWD=wg" "EMBER_ATTN_BWD=wg1"; do
    start=$SECONDS
    log="$out/test_attention_${alt//[ =]/_}.log"
    env $alt timeout "${TEST_TIMEOUT:-180}" "$build/tests/test_cuda_attention" >"$log" 2>&1 || status=1
    echo "test_cuda_attention ($alt): $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$log" | sort -u | tr '\n' ' ') ($((SECONDS - start)) s)"
  done
fi >>"$out/summary.txt"
cat "$out"/test_*.log >"$out/tests.log" && rm "$out"/test_*.log

sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
[ "${MEMCHECK:-1}" = 0 ] && tests_memcheck=() || tests_memcheck=("${tests[@]}")
for t in "${tests_memcheck[@]}"; do
  start=$SECONDS
  timeout "${MEMCHECK_TIMEOUT:-300}" "$sanitizer" --tool memcheck --error-exitcode 99 "$build/tests/test_cuda_$t" >"$out/memcheck_$t.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] || status=1
  echo "memcheck test_cuda_$t: rc $rc, $(grep -E 'ERROR SUMMARY' "$out/memcheck_$t.log" | tail -1) ($((SECONDS - start)) s)"
done >>"$out/summary.txt"
if ((${#tests_memcheck[@]})); then cat "$out"/memcheck_*.log >"$out/memcheck.log" && rm "$out"/memcheck_*.log; fi

grep -E '^\[  FAILED  \]|Failure|differ beyond' "$out/tests.log" | head -40
cat "$out/summary.txt"
exit $status
