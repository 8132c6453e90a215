#!/usr/bin/env python3
"""Combines parmap-bench-mpi JSON files into one and prints the ranks x threads table.

    combine.py mpi-np1.json mpi-np2.json -o mpi.json

Every job of N ranks measures ranks 1..N side by side, so the job with the most ranks gives
the combined file; a smaller job adds only the benchmarks the larger one lacks (its duplicates
are still printed, as a cross-check). Each benchmark gains "mpi_job_ranks". Speedups are ratios
within one job, over the median real time of its repetitions.
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict


def load(path):
    with open(path) as f:
        data = json.load(f)
    ranks = int(data.get("context", {}).get("mpi_world_size", 1))
    return ranks, data


def medians(benchmarks):
    """run_name -> (median real time, counters of the first run), over iteration runs."""
    times = defaultdict(list)
    first = {}
    for b in benchmarks:
        if b.get("run_type", "iteration") != "iteration" or not b["name"].startswith("mpi/"):
            continue
        key = b.get("run_name", b["name"])
        times[key].append(b["real_time"])
        first.setdefault(key, b)
    return {k: (statistics.median(v), first[k]) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("-o", "--output", help="write the combined JSON here")
    args = parser.parse_args()

    jobs = sorted((load(p) for p in args.inputs), key=lambda j: -j[0])
    combined = {"context": jobs[0][1]["context"], "benchmarks": []}
    taken = set()
    for ranks, data in jobs:
        for b in data["benchmarks"]:
            if b["name"] in taken:
                continue
            taken.add(b["name"])
            combined["benchmarks"].append(dict(b, mpi_job_ranks=ranks))
    if args.output:
        with open(args.output, "w") as f:
            json.dump(combined, f, indent=2)

    for ranks, data in jobs:
        table = medians(data["benchmarks"])
        print(f"job with {ranks} rank(s): median real time, speedup over 1 rank x 1 thread")
        for workload in sorted({k.split("/")[1] for k in table}):
            rows = {k: v for k, v in table.items() if k.split("/")[1] == workload}
            base = next((v[0] for k, v in rows.items()
                         if v[1].get("ranks") == 1 and v[1].get("threads") == 1), None)
            for key, (t, b) in sorted(rows.items(), key=lambda kv: (kv[1][1]["ranks"], kv[1][1]["threads"])):
                speedup = f"{base / t:5.2f}x" if base else "  -  "
                print(f"  {workload:11s} ranks {int(b['ranks'])} x threads {int(b['threads'])}:"
                      f" {t:9.1f} {b.get('time_unit', 'ms')}  {speedup}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
