#!/usr/bin/env python3
"""Sums an `ncu --csv --metrics gpu__time_duration.sum` log by kernel name: how many launches,
total and share of the kernel time, largest first.

usage: ncu_summary.py LOG [--top N]"""
import argparse
import collections
import csv
import io


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    text = open(args.log, errors="replace").read()
    start = text.find('"ID"')
    if start < 0:
        print("no CSV table in", args.log)
        return
    total = collections.Counter()
    count = collections.Counter()
    for row in csv.DictReader(io.StringIO(text[start:])):
        if row.get("Metric Name") != "gpu__time_duration.sum":
            continue
        value = float(row["Metric Value"].replace(",", ""))
        scale = {"nsecond": 1e-6, "usecond": 1e-3, "msecond": 1.0, "second": 1e3}.get(row.get("Metric Unit", ""), 1e-6)
        name = row["Kernel Name"].split("(")[0][:110]
        total[name] += value * scale
        count[name] += 1
    whole = sum(total.values())
    print(f"{sum(count.values())} kernels, {whole:.3f} ms in all")
    for name, ms in total.most_common(args.top):
        print(f"{ms:9.3f} ms {100 * ms / whole:5.1f}% {count[name]:5d}x  {name}")


if __name__ == "__main__":
    main()
