#!/usr/bin/env bash
# Packs built experiment programs, the shared libraries they load from the distribution
# (oneDNN, FFTW, LAPACK, OpenMP, ...) and the data folder into one archive, for a machine that
# has neither this distribution's packages nor a network (a lent GPU machine):
#   experiments/device_bundle.sh BUILD OUT.tar.xz [NAME...]      (default: every program)
# On the other machine:
#   mkdir -p /tmp/x && tar xJf OUT.tar.xz -C /tmp/x && export LD_LIBRARY_PATH=/tmp/x/lib EMBER_COMMIT="$(cat /tmp/x/commit)"
#   cd /tmp/x && ./run.sh . NAME standard 16          (experiments/run.sh, packed alongside)
# Build with -DEMBER_NATIVE=OFF: -march=native code may not run on the other machine's CPU.
set -euo pipefail
(($# >= 2)) || { echo "usage: $0 BUILD OUT.tar.xz [NAME...]" >&2; exit 2; }
build=$1 archive=$2
shift 2
names=("$@")
((${#names[@]})) || names=(emc hyena hybrid rlhf)
root=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib" "$stage/experiments"
for n in "${names[@]}"; do
  bin="$build/experiments/$n/$n"
  [ -x "$bin" ] || { echo "device_bundle: $bin not built" >&2; exit 1; }
  mkdir -p "$stage/experiments/$n"
  cp "$bin" "$stage/experiments/$n/"
  # Every library resolved from the distribution except the C library's own and CUDA's (the GPU
  # machine has its toolkit and driver).
  ldd "$bin" | awk '/=> \//{print $3}' |
    grep -vE '/(libc|libm|libdl|librt|libpthread|ld-linux|libcuda|libcublas|libcufft|libcudart|libnvJitLink|libnvrtc|libstdc\+\+|libgcc_s)[.-]' |
    while read -r lib; do cp -Ln "$lib" "$stage/lib/"; done
done
cp "$root/experiments/run.sh" "$stage/run.sh"
# The commit the programs were built from, for their reports (EMBER_COMMIT=$(cat commit)).
commit=$(git -C "$root" rev-parse --short=12 HEAD)
git -C "$root" diff --quiet HEAD -- . ':!data' || commit="$commit with uncommitted changes"
echo "$commit" >"$stage/commit"
[ -d "$root/data" ] && cp -r "$root/data" "$stage/data"
tar cJf "$archive" -C "$stage" .
echo "device_bundle: $(du -h "$archive" | cut -f1) in $archive"
