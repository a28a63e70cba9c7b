#!/usr/bin/env python3
"""Turns a bench/sampler.h stack file into a profile: the share of wall-clock samples in which
each function is the leaf (self) and anywhere on the stack (inclusive).

usage: symbolize.py STACKS [--top N] [--focus SUBSTRING]
  --focus: count only the samples with a frame whose name contains SUBSTRING (e.g. 'step').
Frames are 'module+0xoffset' (named here with addr2line) or names the program already knew."""
import argparse
import collections
import re
import subprocess

FRAME = re.compile(r"^(.*)\+0x([0-9a-f]+)$")


def names_of(frames):
    by_module = collections.defaultdict(set)
    for frame in frames:
        m = FRAME.match(frame)
        if m:
            by_module[m.group(1)].add(m.group(2))
    names = {}
    for module, offsets in by_module.items():
        offsets = sorted(offsets)
        try:
            out = subprocess.run(["addr2line", "-f", "-C", "-e", module], input="\n".join("0x" + o for o in offsets),
                                 capture_output=True, text=True, check=True).stdout.splitlines()
        except (OSError, subprocess.CalledProcessError):
            out = []
        short = module.rsplit("/", 1)[-1]
        for i, offset in enumerate(offsets):
            name = out[2 * i] if 2 * i < len(out) and out[2 * i] != "??" else short + "+0x" + offset
            names[module + "+0x" + offset] = name
    return names


def strip_parameters(name):
    """'ns::f(int, std::vector<int>) const' -> 'ns::f': cut at the '(' that opens the trailing
    balanced parameter list (names such as '(anonymous namespace)' stay)."""
    stripped = re.sub(r" const$", "", name)
    if not stripped.endswith(")"):
        return name
    depth = 0
    for i in range(len(stripped) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(stripped[i], 0)
        if depth == 0:
            return stripped[:i] if i > 0 else name
    return name


def simplify(name, width=150):
    name = strip_parameters(name)
    return name if len(name) <= width else name[: width - 3] + "..."


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--focus", default=None)
    args = parser.parse_args()
    samples = [line.rstrip("\n").split(";") for line in open(args.stacks) if line.strip()]
    names = names_of({f for s in samples for f in s})
    stacks = [[simplify(names.get(f, f)) for f in s] for s in samples]
    if args.focus:
        stacks = [s for s in stacks if any(args.focus in f for f in s)]
    total = len(stacks)
    print(f"{total} samples" + (f" with a frame containing {args.focus!r}" if args.focus else ""))
    if not total:
        return
    leaf = collections.Counter(s[0] for s in stacks)
    inclusive = collections.Counter(f for s in stacks for f in set(s))
    for title, counter in (("self", leaf), ("inclusive", inclusive)):
        print(f"\n-- {title} --")
        for name, n in counter.most_common(args.top):
            print(f"{100 * n / total:6.1f}%  {name}")


if __name__ == "__main__":
    main()
