#!/usr/bin/env python3
"""Joins ember's and PyTorch's benchmark lines by case and prints times and speed ratios."""
import json
import sys


def load(path):
    with open(path) as f:
        return {r["case"]: r for r in map(json.loads, filter(str.strip, f))}


ours, theirs, threads = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
print(f"\n{'case':28} {'ember ms':>10} {'torch ms':>10} {'speed vs torch':>15}   ({threads} threads)")
for case, record in ours.items():
    ms, peer = record["ms"], theirs.get(case, {}).get("ms")
    ratio = f"{peer / ms:14.2f}x" if peer else "      (no peer)"
    print(f"{case:28} {ms:10.3f} {peer if peer else float('nan'):10.3f} {ratio}")
    # Cases with a model report its parameter count: both sides must train the same one.
    if "params" in record and record["params"] != theirs.get(case, {}).get("params", record["params"]):
        print(f"  MISMATCH: {case} has {record['params']} parameters in ember, {theirs[case]['params']} in PyTorch")
