#!/usr/bin/env python3
"""Joins ember's and PyTorch's GPU benchmark lines by case and prints a table: times, the speed
ratio (PyTorch time / ember time: above 1 means ember is faster), TFLOP/s and peak memory where
the case reports them, and each side's error where a case failed.
usage: compare_gpu.py EMBER_JSONL TORCH_JSONL"""
import json
import sys


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                rows[row.get("case", "?")] = row
    return rows


def cell(row, key, fmt):
    value = row.get(key) if row else None
    return format(value, fmt) if isinstance(value, (int, float)) else "-"


def main(ours_path, theirs_path):
    ours, theirs = load(ours_path), load(theirs_path)
    order = list(theirs) + [c for c in ours if c not in theirs]
    print(f"\n{'case':22} {'ember ms':>10} {'torch ms':>10} {'torch/ember':>12} {'ember TF/s':>11} {'torch TF/s':>11}"
          f" {'ember MiB':>10} {'torch MiB':>10}")
    errors = []
    for case in order:
        if case == "setup":
            continue
        peer = theirs.get(case)
        mine = ours.get(peer.get("peer", case)) if peer else ours.get(case)
        label = f"{case}*" if peer and "peer" in peer else case
        ratio = "-"
        if mine and peer and isinstance(mine.get("ms"), (int, float)) and isinstance(peer.get("ms"), (int, float)):
            ratio = f"{peer['ms'] / mine['ms']:.2f}x"
        print(f"{label:22} {cell(mine, 'ms', '10.3f'):>10} {cell(peer, 'ms', '10.3f'):>10} {ratio:>12}"
              f" {cell(mine, 'tflops', '.1f'):>11} {cell(peer, 'tflops', '.1f'):>11}"
              f" {cell(mine, 'peak_mib', '.0f'):>10} {cell(peer, 'peak_mib', '.0f'):>10}")
        for side, row in (("ember", mine), ("torch", peer)):
            if row and "error" in row and not (side == "ember" and label.endswith("*")):
                errors.append(f"  {case} [{side}]: {str(row['error']).splitlines()[0][:200]}")
    for side, rows in (("ember", ours), ("torch", theirs)):
        if "setup" in rows:
            errors.append(f"  setup [{side}]: {rows['setup'].get('error')}")
    peers = [f"  {c}*: PyTorch's {c} against ember's {r['peer']}" for c, r in theirs.items() if "peer" in r]
    if peers:
        print("\n".join(peers))
    params = []
    for case in order:  # one line per model: the counts must agree for the comparison to hold
        counts = [f"{side} {rows[case]['params']:,}" for side, rows in (("ember", ours), ("torch", theirs))
                  if case in rows and "params" in rows[case]]
        if counts and not case.endswith("_compile"):
            params.append(f"  {case} parameters: " + ", ".join(counts))
    if params:
        print("\n" + "\n".join(params))
    if errors:
        print("\nerrors:\n" + "\n".join(errors))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
