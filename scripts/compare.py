#!/usr/bin/env python3
"""Compares two or more parmap-bench runs (two machines, two commits, two compilers): their
scaling curves on the same axes, and a table of time ratios of the cases they share. Runs of
parmap::tune on a user's loop compare the same way, with what tune chose in each.

Usage: scripts/compare.py A.json B.json [C.json ...] [--labels a,b,c] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import find_python  # noqa: E402

find_python.ensure_matplotlib()

import parmap_plots as plots  # noqa: E402
import parmap_results as pr  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shared_cases(runs, workloads=None):
    """The keys (see Case.key) of the cases present in every run, optionally only of these
    workloads, in the first run's order."""
    keys = [c.key for c in runs[0].cases if workloads is None or c.workload in workloads]
    common = set(keys)
    for run in runs[1:]:
        common &= {c.key for c in run.cases}
    return [k for k in keys if k in common]


def ratio_rows(runs, workloads=None):
    """[(key, [typical time per run in us], [ratio of run k to run 0])] over the shared
    cases."""
    by_key = [{c.key: c for c in run.cases} for run in runs]
    rows = []
    for key in shared_cases(runs, workloads):
        times = [m[key].typical_us for m in by_key]
        rows.append((key, times, [t / times[0] for t in times]))
    return rows


def differing_settings(runs):
    """[(key, [value per run])] of the harness settings (parmap_results.SETTINGS) on which the
    runs differ; None where a run did not record one."""
    rows = []
    for key in pr.SETTINGS:
        values = [run.setting(key) for run in runs]
        if len(set(values)) > 1:
            rows.append((key, values))
    return rows


def settings_section(runs, labels) -> list:
    """A table of the harness settings that differ between the runs: cases they shape (the
    wake cases' idle gap, the pairs of the overhead ratios, ...) are not like for like."""
    rows = differing_settings(runs)
    if not rows:
        return []
    out = ["## Harness settings that differ", "",
           "| setting | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for key, values in rows:
        out.append(f"| `{key}` | " + " | ".join(v if v is not None else "not recorded"
                                                for v in values) + " |")
    return out + [""]


def tune_section(runs, labels) -> list:
    """What parmap::tune chose in each tune run: its workload, the items per call, the best
    setting and its time and speedup over serial."""
    rows = []
    for label, run in zip(labels, runs):
        for w in run.user_workloads() if run.is_tune else []:
            s = pr.tune_summary(run, w)
            if s is None:
                continue
            speedup = f"{s['speedup']:.2f}×" if s["speedup"] is not None else "-"
            rows.append(f"| {label} | {w} | {s['items'] if s['items'] else '?'} | "
                        f"`{_short(s['best'].key)}` | {_fmt(s['best'].time_us)} | {speedup} |")
    if not rows:
        return []
    return (["## What parmap::tune chose", "",
             "| run | workload | items per call | best setting | time per call "
             "| speedup over serial |", "|---|---|---:|---|---:|---:|"] + rows +
            ["", "Each run's best is against its own serial backend; ★ in the table below marks "
             "a run's best where the runs share it.", ""])


def _short(name: str) -> str:
    """A case name without the parameters at their defaults."""
    keep = []
    for seg in name.split("/"):
        if seg in ("schedule:automatic", "chunk:0", "placement:none"):
            continue
        keep.append(seg)
    return "/".join(keep)


def write_compare(runs, labels, out_dir, backends=None, all_cases=False) -> str:
    graph = plots.compare_speedup(runs, labels, out_dir, backends)
    lines = ["# parmap: runs compared", ""]
    lines += ["| run | file | host | topology | compiler | commit | date |",
              "|---|---|---|---|---|---|---|"]
    for label, run in zip(labels, runs):
        c = run.context
        # A tune run's commit is the user's, which it does not know: parmap's version instead.
        commit = (f"`{str(c['git_commit'])[:10]}`" if "git_commit" in c else
                  f"parmap {c['parmap_version']}" if "parmap_version" in c else "`?`")
        lines.append(f"| {label} | `{os.path.basename(run.path)}` | {c.get('host_name', '?')} | "
                     f"{c.get('topology', '?')} | {c.get('compiler', '?')} | "
                     f"{commit} | {c.get('date', '?')} |")
    lines += ["", "Each run's speedups are against its own serial loop, measured in that run; "
              "times across runs are only comparable as far as the machines were equally "
              "quiet.", ""]
    lines += settings_section(runs, labels)
    lines += tune_section(runs, labels)
    if graph:
        lines += [f"![scaling compared]({graph}.png)", ""]
    users = {w for run in runs for w in run.user_workloads()}
    workloads = None if all_cases else set(pr.SCALING_WORKLOADS) | {"overhead", "wake"} | users
    rows = ratio_rows(runs, workloads)
    chosen = {best.key for best in (run.tune_best() for run in runs) if best is not None}
    if not all_cases:
        # The cases a reader compares first: every implementation at each run's thread counts,
        # default schedule and chunk; and the settings tune chose.
        rows = [r for r in rows if ("schedule:automatic" in r[0] and "chunk:0" in r[0]
                                    and "placement:none" in r[0]) or r[0] in chosen]
    lines += [f"## Time ratios ({len(rows)} shared cases; > 1: slower than {labels[0]})", ""]
    if not rows and any(run.is_tune for run in runs):
        lines.append("The runs share no case: were they tuned on different workloads (names) or "
                     "with different items per call or thread counts?")
    elif not rows:
        lines.append("The runs share no case: were they run with different --threads, "
                     "--backends or filters?")
    else:
        head = "| case | " + " | ".join(f"{l} time" for l in labels) + " | " + " | ".join(
            f"{l} / {labels[0]}" for l in labels[1:]) + " |"
        lines += [head, "|---|" + "---:|" * (2 * len(labels) - 1)]
        for name, times, ratios in rows:
            mark = " ★" if name in chosen else ""
            lines.append(f"| {_short(name)}{mark} | " + " | ".join(_fmt(t) for t in times) + " | " +
                         " | ".join(f"{r:.2f}×" for r in ratios[1:]) + " |")
    path = os.path.join(out_dir, "compare.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _fmt(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3g} s"
    if us >= 1e3:
        return f"{us / 1e3:.3g} ms"
    return f"{us:.3g} µs"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Compare two or more parmap-bench JSON results, or parmap::tune's JSON of "
                    "the same loop: scaling curves on the same axes and a table of time ratios.")
    parser.add_argument("json", nargs="+", help="parmap-bench or parmap::tune results (JSON), "
                                                "the first is the reference of the ratios")
    parser.add_argument("--labels", help="comma-separated names of the runs (default: host, "
                                         "commit and date of each)")
    parser.add_argument("--backends", help="comma-separated backends to draw (default: all)")
    parser.add_argument("--all", action="store_true",
                        help="list every shared case in the table, not only the default "
                             "schedule and chunk")
    parser.add_argument("--out", help="output folder (default: results/compare-<time>/)")
    args = parser.parse_args(argv)
    if len(args.json) < 2:
        parser.error("give at least two result files to compare")
    runs = []
    for path in args.json:
        try:
            runs.append(pr.load(path))
        except pr.ResultsError as e:
            print(f"compare.py: {e}", file=sys.stderr)
            return 2
    labels = args.labels.split(",") if args.labels else [r.label for r in runs]
    if len(labels) != len(runs):
        parser.error(f"--labels names {len(labels)} runs but {len(runs)} files were given")
    if len(set(labels)) != len(labels):
        labels = [f"{l} #{i + 1}" for i, l in enumerate(labels)]
    out_dir = args.out or os.path.join(
        REPO, "results", "compare-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out_dir, exist_ok=True)
    backends = set(args.backends.split(",")) if args.backends else None
    path = write_compare(runs, labels, out_dir, backends, args.all)
    print(f"compare.py: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
