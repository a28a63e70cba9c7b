#!/usr/bin/env bash
# Runs one experiment program in N shard processes side by side (one OpenMP thread each), then
# merges their results into one report: on a machine with several cores the small models of
# these programs train faster as separate processes than as threads of one.
#   experiments/run.sh BUILD NAME MODE SHARDS [ARGS...]
#   e.g. experiments/run.sh build hyena quick 1          # one process, every core
#        experiments/run.sh build emc standard 16        # 16 processes, then --merge
# Results go to results/NAME unless ARGS hold another --out; data comes from data/ unless ARGS
# say --data. Each shard's log is kept in results/NAME.shards/K-of-N.log.
set -euo pipefail
if (($# < 4)); then
  echo "usage: $0 BUILD NAME quick|standard|full SHARDS [ARGS...]" >&2
  exit 2
fi
build=$1 name=$2 mode=$3 shards=$4
shift 4
program="$build/experiments/$name/$name"
[ -x "$program" ] || { echo "run.sh: $program not found (build it first: cmake --build $build --target $name)" >&2; exit 2; }
case "$mode" in quick|standard|full) ;; *) echo "run.sh: mode '$mode' is not quick, standard or full" >&2; exit 2 ;; esac
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: SHARDS '$shards' is not a positive number" >&2; exit 2; }

# Idle OpenMP threads sleep instead of spinning: shards run side by side, and the small models
# of these programs leave threads idle often.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
args=(--"$mode" "$@")
[[ " $* " == *" --out "* ]] || args+=(--out "results/$name")
[[ " $* " == *" --data "* ]] || args+=(--data data)
if ((shards == 1)); then
  exec "$program" "${args[@]}"
fi

out=results/$name
prev=""
for a in "${args[@]}"; do
  [ "$prev" = "--out" ] && out=$a
  prev=$a
done
rm -rf "$out.shards"   # shards of an earlier run would not merge with these
mkdir -p "$out.shards"
pids=()
for ((k = 0; k < shards; k++)); do
  OMP_NUM_THREADS=1 "$program" "${args[@]}" --shard "$k/$shards" >"$out.shards/$k-of-$shards.log" 2>&1 &
  pids+=($!)
done
status=0
for k in "${!pids[@]}"; do
  if ! wait "${pids[$k]}"; then
    echo "run.sh: shard $k/$shards failed; its log: $out.shards/$k-of-$shards.log" >&2
    tail -5 "$out.shards/$k-of-$shards.log" >&2
    status=1
  fi
done
((status == 0)) || exit 1
# The last progress line of each shard, then the merged report.
for ((k = 0; k < shards; k++)); do tail -1 "$out.shards/$k-of-$shards.log"; done
"$program" "${args[@]}" --merge
