#!/usr/bin/env python3
"""Writes a copy of a bench results.json whose throughput is FACTOR times
the original's (every repetition, the ones set aside too), to check that `vmastress compare`
flags a uniform slowdown at the noise of a real run:

    bench/slow-down.py results/bench/results.json 0.9 /tmp/slower.json
    vmastress compare results/bench/results.json /tmp/slower.json --threshold 5%
"""
import json
import statistics
import sys

THROUGHPUT = ("ops-per-s", "fault-ops-per-s", "mutation-ops-per-s")


def scaled(stat, factor):
    values = [v * factor for v in stat["values"]]
    s = dict(stat, values=values, median=statistics.median(values), min=min(values), max=max(values))
    s["stddev"] = statistics.stdev(values) if len(values) > 1 else 0.0
    if stat.get("setAside"):
        s["setAside"] = [v * factor for v in stat["setAside"]]
    return s


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: slow-down.py RESULTS.json FACTOR OUT.json")
    src, factor, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    with open(src) as f:
        result = json.load(f)
    for cell in result["cells"]:
        for key in THROUGHPUT:
            if key in cell["metrics"]:
                cell["metrics"][key] = scaled(cell["metrics"][key], factor)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
