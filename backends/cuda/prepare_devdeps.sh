#!/usr/bin/env bash
# Prepares <repo>/.devdeps on this (Debian) machine for a GPU machine that lacks the test and
# experiment dependencies and has no network: GoogleTest's source tree, and the headers and CMake
# packages of nlohmann-json and CLI11, copied out of the installed Debian packages. gpu_check.sh
# and bench/gpu/run_gpu.sh build with them when .devdeps exists; carry the folder along with the
# working tree (it is git-ignored).
#   backends/cuda/prepare_devdeps.sh          (installs the packages first where missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
deps=$root/.devdeps
"$root/.ci/setup"   # libgtest-dev, nlohmann-json3-dev, libcli11-dev among the core packages
rm -rf "$deps"
mkdir -p "$deps"
cp -r /usr/src/googletest "$deps/googletest"
for spec in nlohmann:nlohmann-json3-dev cli11:libcli11-dev; do
  dir=$deps/${spec%%:*}
  dpkg -L "${spec#*:}" | while read -r f; do
    [ -f "$f" ] || continue
    mkdir -p "$dir$(dirname "$f")"
    cp "$f" "$dir$f"
  done
done
echo "prepare_devdeps: $(du -sh "$deps" | cut -f1) in $deps (googletest, nlohmann, cli11)"
