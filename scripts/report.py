#!/usr/bin/env python3
"""Turns one parmap-bench JSON into a report folder: results/<host>-<date>/ holding the JSON,
PNG and SVG graphs, and report.md, which embeds them with a short reading of each.

The JSON parmap::tune writes for a user's loop gets a report of that loop:
results/<workload>-<host>-<date>/ with what tune found, the scaling and Amdahl graphs and the
schedule x chunk sweep.

Usage: scripts/report.py RESULTS.json [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import find_python  # noqa: E402

find_python.ensure_matplotlib()

import parmap_plots as plots  # noqa: E402
import parmap_results as pr  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fmt_us(us) -> str:
    if us is None:
        return "-"
    if us >= 1e6:
        return f"{us / 1e6:.3g} s"
    if us >= 1e3:
        return f"{us / 1e3:.3g} ms"
    return f"{us:.3g} µs"


def fmt_ratio(r) -> str:
    if r is None:
        return "-"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def default_out(run: pr.Run) -> str:
    host = str(run.context.get("host_name", "host")).replace("/", "_") or "host"
    date = str(run.context.get("date", "undated"))[:10]
    workload = str(run.context.get("tune_workload", "")).replace("/", "_")
    if run.is_tune and workload:
        return os.path.join(REPO, "results", f"{workload}-{host}-{date}")
    return os.path.join(REPO, "results", f"{host}-{date}")


# ---- the sections ---------------------------------------------------------------------------

def default_threads_text(c: dict) -> str:
    """Where threads = 0 got its number in the run: PARMAP_NUM_THREADS, a cgroup CPU quota
    (a container's or a batch job's) or the affinity mask."""
    if "default_threads" not in c:
        return "not recorded"
    source = c.get("default_threads_source", "?")
    text = f"{c['default_threads']}, from " + (
        source if source == "PARMAP_NUM_THREADS" else f"the {source}")
    quota = c.get("cpu_quota", "none")
    if quota in ("", "none"):
        return text + "; no cgroup CPU quota"
    return text + f"; cgroup CPU quota {quota} CPUs (`{c.get('cpu_quota_file', '?')}`)"


def quota_cpus(c: dict):
    """The run's cgroup CPU quota in CPUs, or None."""
    try:
        quota = float(c.get("cpu_quota", "none"))
    except (TypeError, ValueError):
        return None
    return quota if quota > 0 else None


def mode_text(run: pr.Run) -> str:
    """The mode and what it set: thread counts, repetitions and minimum time, chunk sizes
    (those the run recorded)."""
    if run.is_tune:
        budget, rounds = run.setting("tune_budget_ms"), run.setting("tune_rounds")
        return ("parmap::tune, successive halving" +
                (f", {rounds} rounds" if rounds else "") +
                (f" within {budget} ms" if budget else "") +
                f"; thread counts {run.setting('thread_counts') or '?'}")
    parts = [f"{run.setting('bench_mode') or '?'}; thread counts "
             f"{run.setting('thread_counts') or '?'}"]
    reps, min_time = run.setting("bench_repetitions"), run.setting("bench_min_time")
    if reps and min_time:
        parts.append(f"{reps} repetitions of at least {min_time} s")
    ladders, sizes = run.setting("chunk_ladder_steps"), run.setting("chunk_sizes")
    if sizes:
        parts.append(f"chunk sizes {sizes} (--chunks)")
    elif ladders:
        steps = pr.parse_pairs(ladders)
        parts.append("chunk ladders " + ", ".join(f"×{v} ({k})" for k, v in steps.items()))
    return "; ".join(parts)


def machine_section(run: pr.Run) -> list:
    c = run.context
    rows = [
        ("host", c.get("host_name", "?")),
        ("date", c.get("date", "?")),
        ("topology", c.get("topology", f"{run.logical} logical CPUs, {run.physical} cores")),
        ("CPUs usable by the run", c.get("usable_cpus", "?") + (
            f" (OS indices by core: {c['cpus_by_core']})" if c.get("cpus_by_core") else "")),
        ("threads = 0 means", default_threads_text(c)),
        ("SMT (hyperthreads)", "yes" if run.smt else "no"),
        ("compiler", c.get("compiler", "?")),
        ("flags", f"`{c.get('cxx_flags', '?')}`"),
        ("build type", c.get("build_type", "?")),
        ("backends built in", c.get("backends", "?")),
        ("git commit", f"`{c.get('git_commit', '?')}`" +
         (" with uncommitted changes" if c.get("git_dirty") == "yes" else "")),
        ("mode", mode_text(run)),
        ("load average at start", ", ".join(f"{v:.2f}" for v in c.get("load_avg", [])) or "?"),
    ]
    if run.is_tune:
        if c.get("parmap_version"):
            rows.insert(rows.index(("build type", c.get("build_type", "?"))) + 1,
                        ("parmap version", c["parmap_version"]))
        # parmap-bench's build flags and commit describe parmap-bench; a user's program has its
        # own, which tune cannot know.
        rows = [(k, v) for k, v in rows
                if not ((k == "flags" and "cxx_flags" not in c)
                        or (k == "git commit" and "git_commit" not in c))]
        if c.get("backends_run"):
            rows.insert([k for k, _ in rows].index("backends built in") + 1,
                        ("backends tuned", c["backends_run"]))
        if c.get("executable"):
            rows.insert(2, ("program", f"`{c['executable']}`"))
    out = ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    errors = (f", {len(run.skipped)} reported errors ({', '.join(run.skipped[:5])})"
              if run.skipped else "")
    if run.is_tune:
        reps = sorted({case.repetitions for case in run.cases})
        out += ["", "Every figure is the median of the calls measured of its setting: successive "
                "halving measures the promising settings again and drops the others, so a "
                f"setting has {reps[0]} to {reps[-1]} calls here. Every comparison is a ratio of "
                f"two cases measured in this same run. {len(run.cases)} settings{errors}."]
    else:
        reps = max((case.repetitions for case in run.cases), default=1)
        out += ["", f"Every figure is the median of {reps} repetitions; every comparison is a "
                f"ratio of two cases measured in this same run. {len(run.cases)} cases{errors}."]
    quota = quota_cpus(c)
    if quota is not None and quota < run.full_threads:
        out += ["", f"**Note:** the run had a cgroup CPU quota of {quota:g} CPUs: every thread "
                f"count above {math.ceil(quota)} shares that much CPU time, so speedups stop "
                "growing there whatever the CPU count says."]
    load = c.get("load_avg", [])
    if load and load[0] > 0.5 * run.logical:
        out += ["", f"**Note:** the load average was {load[0]:.1f} on {run.logical} CPUs when the "
                "run started: other work shared the machine, so absolute times and speedups "
                "are pessimistic and noisy; side-by-side ratios suffer less."]
    return out


def overhead_section(run: pr.Run, graph) -> list:
    rows = pr.overhead_rows(run)
    if not rows:
        return ["No overhead cases in this run."]
    out = []
    if graph:
        out += [f"![overhead ratios]({graph}.png)", ""]
    out += ["| workload | items | api | threads | backend | schedule | time | raw loop | raw time "
            "| ratio |",
            "|---|---:|---|---:|---|---|---:|---|---:|---:|"]
    for r in rows:
        mark = " ⚠" if r["ratio"] > 1.2 else ""
        out.append(f"| {r['workload']} | {r['n']:,} | {r['api']} | {r['threads']} | "
                   f"{r['backend']} | {r['schedule']} | {fmt_us(r['time_us'])} | {r['partner']} | "
                   f"{fmt_us(r['partner_us'])} | {fmt_ratio(r['ratio'])}{mark} |")
    full = [r for r in rows if r["threads"] == run.full_threads or r["backend"] == "serial"]
    over = [r for r in full if r["ratio"] > 1.2]
    out += ["", "*Reading.* `map` allocates its result, and so does the raw loop it is compared "
            "with; `into` writes a preallocated vector on both sides. " + pairing_text(run, rows)]
    if over:
        worst = sorted(over, key=lambda r: -r["ratio"])[:6]
        # The largest allocating map, when there is a smaller one: its page faults are noise.
        maps = sorted({r["n"] for r in rows if r["workload"] == "overhead" and r["api"] == "map"})
        big = maps[-1] if len(maps) > 1 else None
        out[-1] += ("Above the 1.2× target at full threads: " + "; ".join(
            f"{r['backend']} ({r['schedule']}) on {r['workload']} {r['n']:,} {r['api']} "
            f"({r['ratio']:.2f}×)"
            for r in worst) + ". Ratios of calls that last a microsecond" + (
            f" or of the allocating {big:,}-item map (page faults)" if big else "") +
            " are the noisiest on a shared machine.")
    else:
        out[-1] += "Every backend is within 1.2× of its loop at full threads."
    return out


def pairing_text(run: pr.Run, rows) -> str:
    """Which loop holds a backend of the rows that is not held to its own raw form."""
    partners = run.partners
    shown = list(dict.fromkeys(r["backend"] for r in rows))
    return "".join(f"The {b} backend has no raw form of its own: it is held to "
                   f"{partners[b]}. " for b in shown if partners[b] != "raw_" + b)


def catching_section(run: pr.Run) -> list:
    rows = pr.catching_rows(run)
    if not rows:
        return []
    out = ["### Keeping going past failures: `parmap::catching`", "",
           "| items | api | threads | backend | plain | 16-byte plain | through catching "
           "| ratio to plain | ratio to 16-byte |",
           "|---:|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        wide = fmt_us(r["wide_us"]) if r["wide_us"] is not None else "–"
        wide_ratio = fmt_ratio(r["wide_ratio"]) if r["wide_ratio"] is not None else "–"
        out.append(f"| {r['n']:,} | {r['api']} | {r['threads']} | {r['backend']} | "
                   f"{fmt_us(r['plain_us'])} | {wide} | {fmt_us(r['catching_us'])} | "
                   f"{fmt_ratio(r['ratio'])} | {wide_ratio} |")
    out += ["", "*Reading.* The same map with `fn` wrapped in `parmap::catching`, nothing "
            "failing. Each result is then a `parmap::outcome<double>` of 16 bytes instead of an "
            "8-byte double, so a memory-bound map moves twice the bytes for its results; the "
            "16-byte plain map (results of the same size, no catching) tells that cost from the "
            "cost of catching itself, which is the last column."]
    return out


def latency_section(run: pr.Run, graph) -> list:
    rows = pr.latency_rows(run)
    if not rows:
        return ["No latency cases in this run."]
    out = [f"![call latency]({graph}.png)", ""] if graph else []
    idle = f"{run.wake_idle_ms:g} ms"
    out += [f"| implementation | warm call | call after {idle} idle |", "|---|---:|---:|"]
    for r in rows:
        out.append(f"| {r['impl']} | {fmt_us(r['warm_us'])} | {fmt_us(r['idle_us'])} |")
    by = {r["impl"]: r for r in rows}
    text = (f"*Reading.* A warm call is one of many back-to-back calls on "
            f"{pr.latency_items(run):,} cheap items (the fork-join cost); the idle case sleeps "
            f"{idle} before each call, outside the timed span, so workers that went to sleep "
            "must be woken. ")
    partner = run.partners.get("threads")
    t, raw = by.get("threads"), by.get(partner)
    if t and raw and t["warm_us"] and raw["warm_us"]:
        text += (f"The threads backend costs {fmt_us(t['warm_us'])} warm against {partner}'s "
                 f"{fmt_us(raw['warm_us'])} ({fmt_ratio(t['warm_us'] / raw['warm_us'])})")
        if t["idle_us"] and raw["idle_us"]:
            text += (f", and {fmt_us(t['idle_us'])} after idling against "
                     f"{fmt_us(raw['idle_us'])} ({fmt_ratio(t['idle_us'] / raw['idle_us'])})")
        text += "."
    return out + ["", text]


def _threads(n) -> str:
    return f"{n} thread" + ("" if n == 1 else "s")


def _why_stops(run: pr.Run, w: str, stop, best_pts) -> str:
    top_p, top_s = best_pts[-1]
    if len(best_pts) < 2:
        return f"one thread count measured ({top_p})"
    if not pr.bounded_by_cpus(run, w):
        if top_s > run.logical * 1.2:
            return (f"it keeps gaining past the {run.logical} CPUs ({top_s:.1f}× at {top_p} "
                    "threads): sleeping items leave the cores free, the one case where more "
                    "workers than cores help")
        return "sleeping items should keep gaining past the CPUs; here they did not"
    if stop is None:
        return "it still gains at the largest count measured"
    if stop >= run.logical:
        return (f"it stops at {_threads(stop)}, the CPU count: beyond it threads only take "
                "turns on the same cores")
    if w == "memory" and not run.is_user_workload(w):
        return (f"it stops at {_threads(stop)}: memory bandwidth, not CPUs, bounds a map this "
                "cheap")
    return (f"it stops early, at {_threads(stop)}, below the {run.logical} CPUs: overheads or "
            "other work on the machine")


def scaling_section(run: pr.Run, graphs) -> list:
    out = []
    if graphs.get("speedup"):
        out += [f"![speedup vs threads]({graphs['speedup']}.png)", ""]
    if graphs.get("efficiency"):
        out += [f"![efficiency vs threads]({graphs['efficiency']}.png)", ""]
    # parmap-bench's latency items sleep; a user's loop is taken to use its CPUs.
    sleeping = not run.is_tune
    out += [f"Speedup is the {'serial backend' if run.is_tune else 'serial loop'}'s time over "
            "the case's time, both measured here; "
            "the grey line is ideal (linear up to the CPUs" +
            (", and beyond them for sleeping items only" if sleeping else "") +
            "); the dotted line marks the physical cores.", ""]
    out += ["| workload | best at full threads | speedup | efficiency | where scaling stops |",
            "|---|---|---:|---:|---|"]
    table = pr.full_thread_speedups(run)
    for w in pr.scaling_workloads(run):
        if w not in table:
            continue
        backends = {k: v for k, v in table[w].items() if k in run.backends}
        if not backends:
            continue
        best = max(backends, key=backends.get)
        s = backends[best]
        pts = pr.speedups(pr.scaling_points(run, w, best), pr.baseline_us(run, w))
        stop = pr.scaling_stop(pts)
        out.append(f"| {w} | {best} | {s:.2f}× | {s / run.full_threads:.0%} | "
                   f"{_why_stops(run, w, stop, pts)} |")
    if out[-1] == "|---|---|---:|---:|---|":
        out[-2:] = ["No parallel case at the full thread count beside a serial one: no speedup "
                    "to show."]
    return out


def compute_speedup_line(run: pr.Run) -> str:
    t1 = pr.baseline_us(run, "compute")
    if t1 is None or run.full_threads < 2:
        return ""
    parts = []
    for b in run.parallel_backends:
        c = run.get("compute", b, threads=2)
        if c:
            parts.append(f"{b} {t1 / c.time_us:.2f}×")
    return "Compute-bound speedup at 2 threads: " + ", ".join(parts) + "." if parts else ""


def glance(run: pr.Run) -> list:
    """The headline figures, one line each."""
    out = []
    rows = [r for r in pr.overhead_rows(run) if r["threads"] == run.full_threads
            or r["backend"] == "serial"]
    worst = {}
    for r in rows:
        if r["backend"] not in worst or r["ratio"] > worst[r["backend"]]["ratio"]:
            worst[r["backend"]] = r
    if worst:
        out.append("Overhead against the hand-written loop (worst of the overhead and "
                   "memory-bound cases at full threads): " + ", ".join(
                       f"{b} {fmt_ratio(r['ratio'])} ({r['workload']} {r['n']:,} {r['api']})"
                       for b, r in sorted(worst.items(), key=lambda kv: run.impl_order(kv[0])))
                   + ".")
    out.append(compute_speedup_line(run))
    for w in ("triangular", "mandelbrot"):
        sw = [r for r in pr.sweep_summary(run, w) if r["ratio"] is not None]
        if sw:
            out.append(f"Imbalanced ({w}), automatic settings against the best schedule and "
                       "chunk found: " + ", ".join(f"{r['backend']} {r['ratio']:.2f}×"
                                                   for r in sw) + ".")
    lat = {r["impl"]: r for r in pr.latency_rows(run)}
    partner = run.partners.get("threads")
    t, raw = lat.get("threads"), lat.get(partner)
    if t and raw and t["warm_us"] and raw["warm_us"]:
        line = (f"Threads backend call on {pr.latency_items(run):,} items: warm "
                f"{fmt_us(t['warm_us'])} ({partner} {fmt_us(raw['warm_us'])})")
        if t["idle_us"] and raw["idle_us"]:
            line += (f"; after {run.wake_idle_ms:g} ms idle {fmt_us(t['idle_us'])} ({partner} "
                     f"{fmt_us(raw['idle_us'])})")
        out.append(line + ".")
    if not run.smt:
        out.append(f"No SMT on this machine ({run.logical} logical CPUs = {run.physical} cores): "
                   "whether hyperthreads help cannot be measured here.")
    return out


def amdahl_section(run: pr.Run, graph) -> list:
    out = [f"![Amdahl and Karp-Flatt]({graph}.png)", ""] if graph else []
    backends = run.parallel_backends
    rows = ["| workload | " + " | ".join(backends) + " |", "|---|" + "---:|" * len(backends)]
    any_fit = False
    workloads = pr.scaling_workloads(run)
    for w in workloads:
        t1 = pr.baseline_us(run, w)
        if t1 is None:
            continue
        cells = []
        for b in backends:
            pts = [(p, s) for p, s in pr.speedups(pr.scaling_points(run, w, b), t1)
                   if p <= run.logical]
            f = pr.amdahl_fit(pts)
            any_fit = any_fit or f is not None
            cells.append("-" if f is None else f"{f:.3f}")
        rows.append(f"| {w} | " + " | ".join(cells) + " |")
    if not any_fit:
        return out + ["No scaling case with more than one thread: nothing to fit."]
    counts = sorted({p for w in workloads for b in backends
                     for p, _ in pr.scaling_points(run, w, b) if 1 < p <= run.logical})
    out += ["Serial fraction f of Amdahl's law S(p) = 1/(f + (1-f)/p), fitted by least squares "
            f"over the thread counts up to the CPUs ({', '.join(map(str, counts))}):", ""] + rows
    note = ("*Reading.* f is the share of the work that behaves as if it were serial: 0 is "
            "perfect scaling, 0.1 caps the speedup at 10×. The Karp–Flatt metric e(p) is the "
            "same quantity measured at each p; if it rises with p the cost is parallel "
            "overhead that grows with the team, if it stays flat it is a true serial part. "
            "Negative values mean a speedup above linear (cache effects) or noise.")
    if len(counts) == 1:
        note += (f" With {run.logical} CPUs there is one point to fit, so f equals e"
                 f"({counts[0]}).")
    return out + ["", note]


def memory_section(run: pr.Run, graph) -> list:
    if not run.find("memory"):
        return ["No memory-bound cases in this run."]
    out = [f"![memory bandwidth]({graph}.png)", ""] if graph else []
    n = run.find("memory")[0].param("n")
    t = run.full_threads
    traffic = run.setting_number("memory_bytes_per_item") * n

    def gbs(impl):
        c = run.get("memory", impl, threads=t)
        return traffic / (c.time_us * 1e-6) / 1e9 if c else None

    copy = gbs("copy")
    parts = []
    loops = dict.fromkeys(run.partners[b] for b in run.parallel_backends)
    for b in run.parallel_backends + list(loops):
        g = gbs(b)
        if g is not None:
            parts.append(f"{b} {g:.1f} GB/s" + (f" ({g / copy:.0%} of copy)" if copy else ""))
    if parts:
        out.append(f"*Reading.* At {t} threads: " + ", ".join(parts) +
                   (f"; a plain parallel copy moves {copy:.1f} GB/s, the most any map can." if
                    copy else "."))
    return out


def sweep_section(run: pr.Run, workload: str, graph, what: str) -> list:
    rows = pr.sweep_summary(run, workload)
    if not rows:
        return [f"No {workload} sweep in this run."]
    out = [f"![{workload}: time vs chunk size]({graph}.png)", ""] if graph else []
    out += ["| backend | automatic (chunk 0) | best found | best schedule, chunk | auto / best "
            "| cases |", "|---|---:|---:|---|---:|---:|"]
    for r in rows:
        chunk = r["best_chunk"] if r["best_chunk"] else "default"
        ok = "" if r["ratio"] is None else (" ✓" if r["ratio"] <= 1.10 else " ⚠")
        out.append(f"| {r['backend']} | {fmt_us(r['auto_us'])} | {fmt_us(r['best_us'])} | "
                   f"{r['best_schedule']}, {chunk} | {fmt_ratio(r['ratio'])}{ok} | "
                   f"{r['cases']} |")
    good = [r for r in rows if r["ratio"] is not None and r["ratio"] <= 1.10]
    out += ["", f"*Reading.* {what} Automatic settings are within 10% of the best schedule "
            f"and chunk found for {len(good)} of {len(rows)} backends (✓)."]
    tuned = pr.tuned_against_sweep(run, workload)
    if tuned:
        took = tuned["tune_seconds"]
        how = ("the two settings' calls made in turn in the same case" if tuned["side_by_side"]
               else "the sweep's own measurement, made before")
        out += ["", f"`parmap::tune` with its default budget ({took:.1f} s here): "
                f"{tuned['setting'] or 'its setting'}. Its calls take {fmt_us(tuned['tuned_us'])}, "
                f"{fmt_ratio(tuned['ratio'])} the fastest setting of the sweep above "
                f"({fmt_us(tuned['best_us'])}; {how})."]
    return out


def placement_section(run: pr.Run, graph) -> list:
    if run.smt:
        head = (f"This machine has SMT ({run.logical} logical CPUs on {run.physical} physical "
                "cores). *spread* puts one thread per physical core first, *close* fills the "
                "SMT siblings of a core first: where close is as fast as spread at the same "
                "thread count, hyperthreads help that workload.")
    else:
        head = (f"**This machine has no SMT**: {run.logical} logical CPUs are {run.physical} "
                "physical cores, so there are no hyperthreads to compare: *spread* and *close* "
                "pin threads to the same CPUs, and whether hyperthreads help cannot be measured "
                "here. The graph only shows pinned threads against threads the operating "
                "system places.")
    out = [head, ""]
    if graph:
        out += [f"![placement]({graph}.png)"]
    return out


def mpi_section(run: pr.Run, graph) -> list:
    data = pr.mpi_points(run)
    if not data:
        return []
    out = ["## MPI: ranks × threads", "",
           f"![MPI]({graph}.png)" if graph else "", "",
           "| workload | threads per rank | ranks: time (speedup over 1 rank × 1 thread) |",
           "|---|---:|---|"]
    for w, per in sorted(data.items()):
        base = dict(per.get(1, [])).get(1)
        for threads, pts in sorted(per.items()):
            out.append(f"| {w} | {threads} | " + ", ".join(
                f"{r}: {fmt_us(t)}" + (f" ({base / t:.2f}×)" if base else "") for r, t in pts)
                + " |")
    return out + [""]


# ---- parmap::tune: a user's loop -------------------------------------------------------------

def setting_text(c: pr.Case) -> str:
    """A case's setting in words: backend, threads, schedule and chunk."""
    if c.impl == "serial":
        return "the serial backend"
    chunk = c.param("chunk") or "automatic"
    text = (f"the {c.impl} backend, {_threads(c.param('threads'))}, schedule "
            f"{c.param('schedule')}, chunk {chunk}")
    if c.param("placement") != "none":
        text += f", placement {c.param('placement')}"
    return text


def options_text(c: pr.Case) -> str:
    """The parmap::options that run a case's setting, as C++ (fields at their defaults left
    out, the rest in declaration order)."""
    fields = [f".backend = parmap::backend::{c.impl}"]
    if c.impl != "serial":
        fields.append(f".threads = {c.param('threads')}")
    if c.param("chunk"):
        fields.append(f".chunk = {c.param('chunk')}")
    schedule = c.param("schedule")
    if schedule != "automatic":
        # static is a C++ keyword: the enumerator is static_.
        fields.append(f".schedule = parmap::schedule::{schedule}" +
                      ("_" if schedule == "static" else ""))
    if c.param("placement") != "none":
        fields.append(f".placement = parmap::placement::{c.param('placement')}")
    return "parmap::options{" + ", ".join(fields) + "}"


def _calls(n: int) -> str:
    return f"{n} call" + ("" if n == 1 else "s")


def _parmap_default(run: pr.Run, workload: str):
    """The case of parmap's defaults on this machine (default_backend, threads = 0 as
    default_threads, automatic schedule and chunk), or None when tune did not measure it."""
    try:
        threads = int(run.context.get("default_threads", ""))
    except ValueError:
        return None
    backend = run.context.get("default_backend")
    return run.get(workload, backend, threads=threads) if backend else None


TUNE_TABLE_ROWS = 10


def tuning_section(run: pr.Run, workload: str) -> list:
    """What tune measured of a user's loop and what it chose: the best setting, its speedup
    over serial, parmap's defaults beside it, and the fastest settings."""
    s = pr.tune_summary(run, workload)
    if s is None:
        return [f"No case of `{workload}` in this run."]
    best, n, serial = s["best"], s["items"], s["serial_us"]
    settings = s["settings"]
    intro = f"`parmap::tune` measured `{workload}`"
    if n:
        intro += f" on {n:,} items per call"
        if s["input_items"]:
            intro += f" (the whole input holds {s['input_items']:,.0f})"
    if s["budget_ms"] is not None:
        intro += f" within a budget of {s['budget_ms']:g} ms"
    intro += (f": {len(settings)} settings, {sum(c.repetitions for c in settings)} calls in all"
              + (f", {s['rounds']:g} rounds of successive halving" if s["rounds"] else "") + ".")
    head = ("**Best setting:** " if s["best_from"] == "tune" else
            "**Best setting** (the fastest median: the run does not name tune's choice): ")
    head += (f"{setting_text(best)}: {fmt_us(best.time_us)} per call"
             + (f" ({fmt_us(best.time_us / n)} per item)" if n else "")
             + f", the median of {_calls(best.repetitions)}")
    if s["speedup"] is not None:
        head += f"; {s['speedup']:.2f}× the serial backend's {fmt_us(serial)}"
        if best.impl != "serial" and isinstance(best.param("threads"), int):
            head += f" (efficiency {s['speedup'] / best.param('threads'):.0%})"
    out = [intro, "", head + ".", "", f"As options: `{options_text(best)}`", ""]
    default = _parmap_default(run, workload)
    if default is not None and default is not best:
        out += [f"With parmap's defaults on this machine ({setting_text(default)}) a call takes "
                f"{fmt_us(default.time_us)}, {fmt_ratio(default.time_us / best.time_us)} the "
                "best setting's time.", ""]
    if n and s["input_items"]:
        scale = s["input_items"] / n
        out += [f"At these rates the whole input ({s['input_items']:,.0f} items) takes about "
                f"{fmt_us(best.time_us * scale)} with the best setting" +
                (f" against {fmt_us(serial * scale)} on the serial backend" if serial else "") +
                ", if its items cost what the sample's did.", ""]
    fastest = s["fastest"]
    if fastest is not best:
        out += [f"The fastest median, {fmt_us(fastest.time_us)} ({setting_text(fastest)}), is "
                f"not tune's choice: it rests on {_calls(fastest.repetitions)} against "
                f"{best.repetitions}, and a median of few calls is the noisier.", ""]
    shown = settings[:TUNE_TABLE_ROWS]
    serial_case = run.get(workload, "serial", threads=1)
    if serial_case is not None and serial_case not in shown:
        shown.append(serial_case)
    out += ["| # | backend | threads | schedule | chunk | time per call | calls | spread "
            "| speedup over serial |", "|---:|---|---:|---|---:|---:|---:|---:|---:|"]
    for c in shown:
        rank = settings.index(c) + 1
        mark = " ★" if c is best else ""
        spread = f"{c.spread:.0%}" if c.repetitions > 1 else "–"
        speedup = fmt_ratio(serial / c.time_us) if serial and c.time_us > 0 else "-"
        out.append(f"| {rank} | {c.impl}{mark} | {c.param('threads')} | {c.param('schedule')} | "
                   f"{c.param('chunk') or 'auto'} | {fmt_us(c.time_us)} | {c.repetitions} | "
                   f"{spread} | {speedup} |")
    out += ["", f"*Reading.* The {min(TUNE_TABLE_ROWS, len(settings))} fastest of the "
            f"{len(settings)} settings by median time" +
            ("" if len(shown) == min(TUNE_TABLE_ROWS, len(settings)) else
             ", and the serial baseline") +
            "; ★ marks " + ("tune's choice" if s["best_from"] == "tune" else "the fastest") +
            ". Spread is (slowest - fastest) / median of a setting's calls; the time of a "
            "setting measured once is the least sure."]
    return out


USER_SWEEP_READING = (
    "Your loop at the full thread count, every schedule and chunk size tune measured; a "
    "setting successive halving dropped before measuring it is missing, one dropped early "
    "rests on a single call.")


def build_tune_report(run: pr.Run, out_dir: str) -> str:
    """report.md of a parmap::tune run: the machine, what tune found, scaling, Amdahl and the
    schedule x chunk sweep of the user's loop; nothing of parmap-bench's own workloads."""
    workloads = run.user_workloads()
    graphs = {
        "speedup": plots.speedup(run, out_dir, "speedup"),
        "efficiency": plots.speedup(run, out_dir, "efficiency"),
        "amdahl": plots.amdahl(run, out_dir),
    }
    lines = [f"# parmap::tune report: {', '.join(workloads)} on "
             f"{run.context.get('host_name', '?')}, {str(run.context.get('date', '?'))[:10]}", ""]
    lines += machine_section(run) + [""]
    for w in workloads:
        lines += [f"## Tuning: {w}", ""] + tuning_section(run, w) + [""]
    lines += ["## Scaling", ""] + scaling_section(run, graphs) + [""]
    lines += ["## Amdahl fit and Karp–Flatt metric", ""] + amdahl_section(
        run, graphs["amdahl"]) + [""]
    lines += user_sweep_sections(run, out_dir, workloads)
    return write_report(run, out_dir, lines)


def user_sweep_sections(run: pr.Run, out_dir: str, workloads) -> list:
    """The schedule x chunk section of each user workload (a loop parmap::tune measured)."""
    lines = []
    for w in workloads:
        lines += [f"## Schedule and chunk size: {w}", ""] + sweep_section(
            run, w, plots.chunk_sweep(run, out_dir, w), USER_SWEEP_READING) + [""]
    return lines


def write_report(run: pr.Run, out_dir: str, lines: list) -> str:
    """Writes `lines` and the closing line as out_dir/report.md; returns its path."""
    lines = lines + ["---", f"Written by `scripts/report.py` from "
                     f"`{os.path.basename(run.path)}`; each graph is also in SVG beside its PNG."]
    path = os.path.join(out_dir, "report.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


# ---- the report -----------------------------------------------------------------------------

def build_report(run: pr.Run, out_dir: str) -> str:
    if run.is_tune:
        return build_tune_report(run, out_dir)
    graphs = {
        "speedup": plots.speedup(run, out_dir, "speedup"),
        "efficiency": plots.speedup(run, out_dir, "efficiency"),
        "amdahl": plots.amdahl(run, out_dir),
        "chunks": plots.chunk_sweep(run, out_dir, "chunks"),
        "triangular": plots.chunk_sweep(run, out_dir, "triangular"),
        "mandelbrot": plots.chunk_sweep(run, out_dir, "mandelbrot"),
        "placement": plots.placement(run, out_dir),
        "backends": plots.backends_bar(run, out_dir),
        "overhead": plots.overhead_bar(run, out_dir),
        "latency": plots.latency_bar(run, out_dir),
        "memory": plots.memory_bandwidth(run, out_dir),
        "mpi": plots.mpi(run, out_dir),
    }
    lines = [f"# parmap benchmark report: {run.context.get('host_name', '?')}, "
             f"{str(run.context.get('date', '?'))[:10]}", ""]
    lines += machine_section(run) + [""]
    lines += ["## At a glance", ""] + [f"- {s}" for s in glance(run) if s] + [""]
    if graphs["backends"]:
        lines += [f"![backends at full threads]({graphs['backends']}.png)", "",
                  "Each bar is a speedup over the serial loop at the full thread count; hatched "
                  "bars are the hand-written loops.", ""]
    lines += ["## Overhead against the hand-written loops", ""] + overhead_section(
        run, graphs["overhead"]) + [""]
    catching = catching_section(run)
    if catching:
        lines += catching + [""]
    lines += ["## Call latency: warm and after idle", ""] + latency_section(
        run, graphs["latency"]) + [""]
    lines += ["## Scaling", ""] + scaling_section(run, graphs) + [""]
    lines += ["## Amdahl fit and Karp–Flatt metric", ""] + amdahl_section(
        run, graphs["amdahl"]) + [""]
    lines += ["## Memory-bound: against copy bandwidth", ""] + memory_section(
        run, graphs["memory"]) + [""]
    lines += ["## Chunk size: many tiny items", ""] + sweep_section(
        run, "chunks", graphs["chunks"],
        "Tiny items make the cost of handing out chunks visible: chunk 1 pays one claim per "
        "item, one block per thread cannot rebalance.") + [""]
    lines += ["## Imbalanced: triangular", ""] + sweep_section(
        run, "triangular", graphs["triangular"],
        "Item cost rises with the index, so one static block per thread leaves the first "
        "thread idle while the last works; dynamic, guided or stealing rebalance.") + [""]
    lines += ["## Imbalanced: Mandelbrot rows", ""] + sweep_section(
        run, "mandelbrot", graphs["mandelbrot"],
        "The image is the upper half of the set: rows near the real axis cost the most, rows "
        "near the top almost nothing, so one block per thread gives the first thread most of "
        "the work.") + [""]
    lines += user_sweep_sections(run, out_dir, run.user_workloads())
    lines += ["## Physical vs logical cores (placement)", ""] + placement_section(
        run, graphs["placement"]) + [""]
    lines += mpi_section(run, graphs["mpi"])
    return write_report(run, out_dir, lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Turn one parmap-bench JSON, or the JSON parmap::tune wrote for your loop, "
                    "into a report folder (JSON, PNG and SVG graphs, report.md).")
    parser.add_argument("json", help="the results of parmap-bench --benchmark_out=FILE "
                                     "--benchmark_out_format=json, or of parmap::tune")
    parser.add_argument("--out", help="the report folder (default: results/<host>-<date>/ in "
                                      "this repository; results/<workload>-<host>-<date>/ for "
                                      "parmap::tune)")
    args = parser.parse_args(argv)
    try:
        run = pr.load(args.json)
    except pr.ResultsError as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    out_dir = args.out or default_out(run)
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, "results.json")
    if os.path.abspath(args.json) != os.path.abspath(target):
        shutil.copyfile(args.json, target)
    run.path = target
    path = build_report(run, out_dir)
    print(f"report.py: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
