#!/usr/bin/env python3
"""Joins ember's and PyTorch's benchmark lines by case and prints times and speed ratios."""
import json
import sys


def load(path):
    with open(path) as f:
        return {r["case"]: r["ms"] for r in map(json.loads, filter(str.strip, f))}


ours, theirs, threads = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
print(f"\n{'case':28} {'ember ms':>10} {'torch ms':>10} {'speed vs torch':>15}   ({threads} threads)")
for case, ms in ours.items():
    peer = theirs.get(case)
    ratio = f"{peer / ms:14.2f}x" if peer else "      (no peer)"
    print(f"{case:28} {ms:10.3f} {peer if peer else float('nan'):10.3f} {ratio}")
