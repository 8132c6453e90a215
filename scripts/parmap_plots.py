"""The graphs of parmap's reports (matplotlib, Agg). Each function draws one figure from a
Run (or several, for comparisons), saves it as PNG and SVG in `out_dir`, and returns its base
name, or None when the run holds nothing to draw."""

from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

import parmap_results as pr  # noqa: E402

COLORS = {
    "serial": "#7f7f7f", "threads": "#1f77b4", "openmp": "#ff7f0e", "tbb": "#2ca02c",
    "stdpar": "#d62728", "copy": "#000000", "mpi": "#9467bd",
}
SCHEDULE_COLORS = {"automatic": "#1f77b4", "static": "#ff7f0e", "dynamic": "#2ca02c",
                   "guided": "#d62728"}
RUN_STYLES = ["-", "--", ":", "-."]
RUN_MARKERS = ["o", "s", "^", "D", "v", "P"]
WORKLOAD_TITLES = {
    "compute": "compute-bound",
    "memory": "memory-bound (axpy)",
    "triangular": "imbalanced: triangular",
    "mandelbrot": "imbalanced: Mandelbrot rows",
    "latency": "latency-bound",
    "files": "real task: hashing files",
}

plt.rcParams.update({"figure.dpi": 100, "font.size": 10, "axes.grid": True,
                     "grid.alpha": 0.3, "legend.fontsize": 8, "axes.titlesize": 11})


def _item_cost(run: pr.Run, workload: str):
    """What one item of a workload is in this run, as its context and case names say; for a
    user's loop, how many items each measured call took."""
    if run.is_user_workload(workload):
        n = run.find(workload)[0].param("n")
        return f"{n:,} items per call" if isinstance(n, int) else None
    if workload == "compute":
        return f"~{run.setting_number('compute_target_us_per_item'):g} us/item"
    if workload == "memory" and run.find("memory"):
        return f"{run.find('memory')[0].param('n'):,} doubles"
    if workload == "latency":
        return f"{run.setting_number('latency_wait_us') / 1e3:g} ms sleep/item"
    return None


def workload_title(runs, workload: str) -> str:
    """A workload's panel title, with its item cost where every run holding it agrees."""
    costs = {_item_cost(r, workload) for r in runs if r.find(workload)}
    user = any(r.is_user_workload(workload) for r in runs)
    title = workload if user else WORKLOAD_TITLES.get(workload, workload)
    cost = costs.pop() if len(costs) == 1 else None
    if not cost:
        return title
    return title[:-1] + f", {cost})" if title.endswith(")") else f"{title} ({cost})"


def color_of(impl: str) -> str:
    base = impl[4:] if impl.startswith("raw_") else impl
    return COLORS.get(base, "#8c564b")


def style_of(impl: str) -> str:
    return "--" if impl.startswith("raw_") or impl == "copy" else "-"


def save(fig, out_dir: str, name: str) -> str:
    fig.savefig(os.path.join(out_dir, name + ".png"), dpi=110, bbox_inches="tight")
    fig.savefig(os.path.join(out_dir, name + ".svg"), bbox_inches="tight")
    plt.close(fig)
    return name


def _grid(count: int, width=5.2, height=3.8):
    cols = 2 if count == 4 else min(3, count)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def _plain_numbers(axis):
    """Tick labels as plain numbers (5, 20, 0.5) rather than powers of ten."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    # Label the minor ticks at 2 and 5 times a power of ten, where a log axis has room.
    axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25"
                                           else ""))


def _thread_axis(ax, counts):
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(sorted(counts)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("threads")


def _cpu_marks(ax, run: pr.Run):
    ax.axvline(run.physical, color="#444444", linestyle=":", linewidth=1.2)
    ax.annotate(f"{run.physical} physical cores", xy=(run.physical, 0.98),
                xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                fontsize=7, color="#444444")
    if run.logical != run.physical:
        ax.axvline(run.logical, color="#999999", linestyle=":", linewidth=1.0)
        ax.annotate(f"{run.logical} logical CPUs", xy=(run.logical, 0.98),
                    xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                    fontsize=7, color="#999999")


def _scaling_workloads(run: pr.Run):
    return [w for w in pr.scaling_workloads(run)
            if pr.baseline_us(run, w) is not None and run.find(w)]


def _has_loops(run: pr.Run) -> bool:
    """Whether the run measured hand-written loops (parmap-bench does, parmap::tune does not)."""
    return any(c.impl.startswith("raw_") for c in run.cases)


def speedup(run: pr.Run, out_dir: str, metric: str = "speedup"):
    """Speedup (or efficiency, metric='efficiency') vs threads, one panel per workload, every
    implementation, with the ideal line and the physical-core mark."""
    workloads = _scaling_workloads(run)
    if not workloads:
        return None
    fig, axes = _grid(len(workloads))
    for ax, w in zip(axes, workloads):
        t1 = pr.baseline_us(run, w)
        counts = set()
        for impl in run.impls(w):
            if impl in ("serial", "raw_serial"):
                continue
            pts = pr.speedups(pr.scaling_points(run, w, impl), t1)
            if not pts:
                continue
            xs = [p for p, _ in pts]
            ys = [s if metric == "speedup" else pr.efficiency(p, s) for p, s in pts]
            counts.update(xs)
            ax.plot(xs, ys, style_of(impl), marker="o", markersize=4, color=color_of(impl),
                    label=impl, linewidth=1.6 if style_of(impl) == "-" else 1.1)
        if not counts:
            continue
        top = max(counts)
        if metric == "speedup":
            ideal_x = sorted(counts | {1})
            # Ideal: linear up to the CPUs; beyond them only sleeping work can keep gaining.
            ideal = [min(p, run.logical) if pr.bounded_by_cpus(run, w) else p for p in ideal_x]
            ax.plot(ideal_x, ideal, color="#bbbbbb", linewidth=3, alpha=0.6, zorder=0,
                    label="ideal")
            ax.set_ylabel("speedup over the serial loop")
            ax.set_ylim(bottom=0)
        else:
            ax.axhline(1.0, color="#bbbbbb", linewidth=3, alpha=0.6, zorder=0, label="ideal")
            ax.set_ylabel("efficiency (speedup / threads)")
            top_eff = max([float(max(l.get_ydata())) for l in ax.get_lines()
                           if len(l.get_ydata())] + [1.0])
            ax.set_ylim(0, max(1.3, top_eff * 1.08))
        _thread_axis(ax, counts | {1})
        ax.set_xlim(0.9, top * 1.1)
        _cpu_marks(ax, run)
        ax.set_title(workload_title([run], w))
    handles, labels = _legend_entries(run, axes)
    if not handles:  # only the serial backend ran (a one-CPU machine, --backends=serial)
        plt.close(fig)
        return None
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 9),
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(("Speedup" if metric == "speedup" else "Parallel efficiency") +
                 f" vs threads ({run.label})" +
                 ("; dashed: hand-written loops" if _has_loops(run) else ""), y=1.0)
    fig.tight_layout(rect=(0, 0.04, 1, 0.98))
    return save(fig, out_dir, metric)


def _legend_entries(run: pr.Run, axes):
    seen = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, h)
    labels = sorted(seen, key=lambda l: (l == "ideal", run.impl_order(l)))
    return [seen[l] for l in labels], labels


def amdahl(run: pr.Run, out_dir: str):
    """Left: the Amdahl serial fraction fitted per workload and backend (threads up to the
    CPUs). Right: the Karp-Flatt metric vs threads."""
    workloads = _scaling_workloads(run)
    backends = run.parallel_backends
    fits = {}
    kf = {}
    for w in workloads:
        t1 = pr.baseline_us(run, w)
        for b in backends:
            pts = [(p, s) for p, s in pr.speedups(pr.scaling_points(run, w, b), t1)
                   if p <= run.logical]
            f = pr.amdahl_fit(pts)
            if f is not None:
                fits[(w, b)] = f
                kf[(w, b)] = [(p, pr.karp_flatt(p, s)) for p, s in pts if p > 1]
    if not fits:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.6))
    present = [b for b in backends if any((w, b) in fits for w in workloads)]
    width = 0.8 / max(len(present), 1)
    for i, b in enumerate(present):
        xs = [j + i * width for j, w in enumerate(workloads)]
        ys = [fits.get((w, b), math.nan) for w in workloads]
        left.bar(xs, ys, width=width, color=color_of(b), label=b)
    left.set_xticks([j + width * (len(present) - 1) / 2 for j in range(len(workloads))])
    left.set_xticklabels(workloads, rotation=20)
    left.axhline(0, color="black", linewidth=0.8)
    left.set_ylabel("serial fraction f (Amdahl fit)")
    left.set_title(f"Amdahl fit over 1..{run.logical} threads (lower is better)")
    left.legend()
    # One line per workload, for its best backend (lowest f), so the panel stays readable.
    cmap = plt.get_cmap("tab10")
    for k, w in enumerate(workloads):
        options = [(fits[(w, b)], b) for b in backends if (w, b) in fits]
        if not options:
            continue
        b = min(options)[1]
        pts = kf[(w, b)]
        right.plot([p for p, _ in pts], [e for _, e in pts], "-", marker=RUN_MARKERS[k % 6],
                   markersize=7, color=cmap(k), label=f"{w} ({b})")
    right.axhline(0, color="black", linewidth=0.8)
    right.set_xlabel("threads")
    right.set_ylabel("Karp-Flatt serial fraction e(p)")
    counts = sorted({p for pts in kf.values() for p, _ in pts})
    right.set_title("Karp-Flatt metric, best backend per workload" +
                    (f"\n(one thread count > 1 here: e({counts[0]}) equals the Amdahl f)"
                     if len(counts) == 1 else " (rising with p: overhead grows)"))
    if counts:
        right.set_xticks(counts)
        right.set_xlim(min(counts) - 0.5, max(counts) + 0.5)
    right.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, out_dir, "amdahl")


def chunk_sweep(run: pr.Run, out_dir: str, workload: str = "chunks"):
    """Time vs chunk size, one panel per backend, one line per schedule (log x), the automatic
    choice (schedule automatic, chunk 0) drawn as a horizontal line and the best case starred."""
    t = run.full_threads
    backends = [b for b in run.impls(workload)
                if b in run.parallel_backends
                and run.find(workload, b, threads=t, schedule=None, chunk=None)]
    if not backends:
        return None
    fig, axes = _grid(len(backends), width=4.6, height=3.6)
    for ax, b in zip(axes, backends):
        cases = run.find(workload, b, threads=t, schedule=None, chunk=None)
        chunks = sorted({c.param("chunk") for c in cases if c.param("chunk") > 0})
        for s in pr.SCHEDULES:
            pts = sorted((c.param("chunk"), c.time_us / 1e3) for c in cases
                         if c.param("schedule") == s and c.param("chunk") > 0)
            if pts:
                ax.plot([x for x, _ in pts], [y for _, y in pts], "-", marker="o", markersize=3,
                        color=SCHEDULE_COLORS[s], label=s)
            zero = [c for c in cases if c.param("schedule") == s and c.param("chunk") == 0]
            if zero and s != "automatic":
                ax.plot([chunks[0] / 2 if chunks else 0.5], [zero[0].time_us / 1e3], marker="<",
                        color=SCHEDULE_COLORS[s], linestyle="none", markersize=6)
        auto = run.get(workload, b, threads=t)
        if auto is not None:
            ax.axhline(auto.time_us / 1e3, color="black", linestyle="--", linewidth=1.2,
                       label=f"auto: {auto.time_us / 1e3:.3g} ms")
        best = min(cases, key=lambda c: c.time_us)
        ax.plot([max(best.param("chunk"), chunks[0] / 2 if chunks else 0.5)],
                [best.time_us / 1e3], marker="*", color="gold", markeredgecolor="black",
                markersize=14, linestyle="none", zorder=5,
                label=f"best: {best.param('schedule')}, chunk {best.param('chunk') or 'default'}")
        ax.set_xscale("log")
        times = [c.time_us for c in cases]
        if max(times) > 20 * min(times):
            ax.set_yscale("log")
        _plain_numbers(ax.yaxis)
        ax.set_xlabel("chunk size (items)")
        ax.set_ylabel("time per call (ms)")
        ax.set_title(f"{b}, {t} threads")
        ax.legend(fontsize=7)
    n = run.find(workload)[0].param("n")
    fig.suptitle(f"{workload}: time vs chunk size per schedule ({n:,} items; {run.label})\n"
                 "dashed: automatic (schedule automatic, chunk 0); triangles at left: chunk 0 of "
                 "the other schedules; star: the best case", fontsize=10)
    fig.tight_layout()
    return save(fig, out_dir, f"chunks-{workload}" if workload != "chunks" else "chunks")


def placement(run: pr.Run, out_dir: str):
    """Time per placement (none, spread, close) per backend and thread count, for the
    placement-compute and placement-memory workloads. On a machine without SMT spread and close
    are the same placement, so the figure shows pinned against not pinned."""
    workloads = [w for w in ("placement-compute", "placement-memory") if run.find(w)]
    if not workloads:
        return None
    fig, axes = plt.subplots(1, len(workloads), figsize=(6.2 * len(workloads), 4.2),
                             squeeze=False)
    places = ["none", "spread", "close"] if run.smt else ["none", "spread"]
    labels = {"none": "not pinned", "spread": "spread (1 per core)" if run.smt else "pinned",
              "close": "close (fill SMT siblings)"}
    hatches = {"none": "", "spread": "//", "close": ".."}
    for ax, w in zip(axes[0], workloads):
        groups = []
        for b in run.impls(w):
            for t in sorted({c.param("threads") for c in run.find(w, b, placement=None)}):
                groups.append((b, t))
        width = 0.8 / len(places)
        for i, place in enumerate(places):
            ys = []
            for b, t in groups:
                c = run.get(w, b, threads=t, placement=place)
                ys.append(c.time_us / 1e3 if c else math.nan)
            ax.bar([j + i * width for j in range(len(groups))], ys, width=width,
                   color=[color_of(b) for b, _ in groups], hatch=hatches[place],
                   edgecolor="black", linewidth=0.5, label=labels[place])
        ax.set_xticks([j + width * (len(places) - 1) / 2 for j in range(len(groups))])
        ax.set_xticklabels([f"{b}\n{t} thr" for b, t in groups], fontsize=8)
        ax.set_ylabel("time per call (ms)")
        ax.set_title(w.replace("placement-", "") + ("" if run.smt else
                                                    " (no SMT: spread = close)"))
        ax.legend(fontsize=7)
    fig.suptitle("Thread placement" + ("" if run.smt else
                 ": this machine has no SMT, so only pinned vs not pinned can differ"))
    fig.tight_layout()
    return save(fig, out_dir, "placement")


def backends_bar(run: pr.Run, out_dir: str):
    """Speedup over the serial loop at full threads, per workload and implementation."""
    table = pr.full_thread_speedups(run)
    if not table:
        return None
    workloads = list(table)
    impls = sorted({i for row in table.values() for i in row}, key=run.impl_order)
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(workloads) + 2), 4.4))
    width = 0.85 / len(impls)
    for i, impl in enumerate(impls):
        ys = [table[w].get(impl, math.nan) for w in workloads]
        ax.bar([j + i * width for j in range(len(workloads))], ys, width=width,
               color=color_of(impl), hatch="//" if impl.startswith("raw_") else "",
               edgecolor="white" if impl.startswith("raw_") else None, label=impl)
    ax.axhline(run.full_threads, color="#999999", linestyle=":",
               label=f"ideal ({run.full_threads})")
    ax.set_xticks([j + width * (len(impls) - 1) / 2 for j in range(len(workloads))])
    ax.set_xticklabels(workloads)
    ax.set_ylabel("speedup over the serial loop")
    ax.set_title(f"Backends at full thread count ({run.full_threads} threads; hatched: "
                 "hand-written loops)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    return save(fig, out_dir, "backends")


def overhead_bar(run: pr.Run, out_dir: str):
    """The overhead ratios (backend with its automatic schedule / its raw loop) at full threads
    as bars, with 1.0 and the 1.2 target marked."""
    rows = [r for r in pr.overhead_rows(run) if r["schedule"] == "automatic"
            and (r["threads"] == run.full_threads or r["backend"] == "serial")]
    if not rows:
        return None
    groups = []
    for r in rows:
        key = (r["workload"], r["n"], r["api"])
        if key not in groups:
            groups.append(key)
    backends = sorted({r["backend"] for r in rows}, key=run.impl_order)
    fig, ax = plt.subplots(figsize=(max(8, 1.7 * len(groups) + 2), 4.2))
    width = 0.85 / len(backends)
    for i, b in enumerate(backends):
        ys = []
        for g in groups:
            match = [r["ratio"] for r in rows if (r["workload"], r["n"], r["api"]) == g
                     and r["backend"] == b]
            ys.append(match[0] if match else math.nan)
        xs = [j + i * width for j in range(len(groups))]
        ax.bar(xs, [min(y, 3.0) for y in ys], width=width, color=color_of(b),
               label=f"{b} / {run.partners[b]}")
        for x, y in zip(xs, ys):
            if not math.isnan(y):
                ax.annotate(f"{y:.2f}", (x, min(y, 3.0)), ha="center", va="bottom", fontsize=7,
                            rotation=90)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(1.2, color="#d62728", linestyle="--", linewidth=1, label="1.2x target")
    ax.set_xticks([j + width * (len(backends) - 1) / 2 for j in range(len(groups))])
    ax.set_xticklabels([f"{w}\n{n:,} items, {api}" for w, n, api in groups], fontsize=8)
    ax.set_ylabel("time / hand-written loop's time (bars capped at 3)")
    ax.set_ylim(0, min(3.4, max([r["ratio"] for r in rows] + [1.3]) * 1.15))
    ax.set_title("Overhead against the hand-written loop, measured side by side (lower is "
                 "better)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    return save(fig, out_dir, "overhead")


def latency_bar(run: pr.Run, out_dir: str):
    """Warm back-to-back call vs a call after the wake workload's idle gap, per implementation
    (log scale)."""
    rows = [r for r in pr.latency_rows(run) if r["warm_us"] or r["idle_us"]]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(rows) + 2), 4.2))
    xs = range(len(rows))
    warm = [r["warm_us"] or math.nan for r in rows]
    idle = [r["idle_us"] or math.nan for r in rows]
    ax.bar([x - 0.2 for x in xs], warm, width=0.4, color=[color_of(r["impl"]) for r in rows],
           label="warm (back-to-back calls)")
    ax.bar([x + 0.2 for x in xs], idle, width=0.4, color=[color_of(r["impl"]) for r in rows],
           hatch="//", edgecolor="white", label=f"after {run.wake_idle_ms:g} ms idle")
    for x, w, i in zip(xs, warm, idle):
        for dx, v in ((-0.2, w), (0.2, i)):
            if not math.isnan(v):
                ax.annotate(f"{v:.3g}", (x + dx, v), ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r["impl"] for r in rows])
    ax.set_ylabel(f"time per call, {pr.latency_items(run):,} cheap items (us)")
    ax.set_title(f"Call latency at {run.full_threads} threads (median; lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, out_dir, "latency")


def memory_bandwidth(run: pr.Run, out_dir: str):
    """Memory-bound axpy in GB/s vs threads beside the copy-bandwidth reference."""
    if not run.find("memory"):
        return None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    counts = set()
    n = run.find("memory")[0].param("n")
    per_item = run.setting_number("memory_bytes_per_item")
    for impl in run.impls("memory"):
        pts = pr.scaling_points(run, "memory", impl)
        if not pts:
            continue
        gbs = [(p, per_item * n / (t * 1e-6) / 1e9) for p, t in pts]
        counts.update(p for p, _ in gbs)
        ax.plot([p for p, _ in gbs], [g for _, g in gbs],
                style_of(impl), marker="o" if impl != "copy" else "s", markersize=4,
                color=color_of(impl), label=impl + (" (copy bandwidth)" if impl == "copy" else ""),
                linewidth=2.2 if impl == "copy" else 1.4)
    _thread_axis(ax, counts | {1})
    _cpu_marks(ax, run)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"GB/s ({per_item:g} bytes per item)")
    ax.set_title("Memory-bound map y = a*x + b against copy bandwidth")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return save(fig, out_dir, "memory")


def mpi(run: pr.Run, out_dir: str):
    """The MPI companion benchmark: speedup over 1 rank x 1 thread against the total worker
    count (ranks x threads), one line per threads-per-rank value; time where there is no
    1 x 1 case."""
    data = pr.mpi_points(run)
    if not data:
        return None
    fig, axes = _grid(len(data), width=5, height=3.8)
    for ax, (w, per_threads) in zip(axes, sorted(data.items())):
        base = dict(per_threads.get(1, [])).get(1)
        top = 1
        for k, (threads, pts) in enumerate(sorted(per_threads.items())):
            xs = [r * threads for r, _ in pts]
            top = max([top] + xs)
            ys = [base / t for _, t in pts] if base else [t / 1e3 for _, t in pts]
            ax.plot(xs, ys, "-", marker=RUN_MARKERS[k % len(RUN_MARKERS)],
                    label=f"{threads} thread{'s' if threads != 1 else ''} per rank")
        if base:
            ax.plot([1, top], [1, top], color="#bbbbbb", linewidth=3, alpha=0.5, zorder=0,
                    label="ideal")
            ax.set_ylabel("speedup over 1 rank x 1 thread")
        else:
            ax.set_ylabel("time per call (ms)")
        ax.set_xlabel("workers (ranks x threads per rank)")
        ax.set_title(w)
        ax.legend(fontsize=7)
    fig.suptitle("MPI: ranks x threads")
    fig.tight_layout()
    return save(fig, out_dir, "mpi")


def compare_speedup(runs, labels, out_dir: str, backends=None):
    """Scaling curves of several runs on the same axes: one panel per workload, color by
    implementation, line style and marker by run."""
    names = dict.fromkeys(pr.SCALING_WORKLOADS + [w for r in runs for w in r.user_workloads()])
    workloads = [w for w in names if any(w in pr.scaling_workloads(r) and
                                         pr.baseline_us(r, w) is not None for r in runs)]
    if not workloads:
        return None
    fig, axes = _grid(len(workloads))
    for ax, w in zip(axes, workloads):
        counts = {1}
        for k, (run, label) in enumerate(zip(runs, labels)):
            t1 = pr.baseline_us(run, w)
            if t1 is None:
                continue
            for impl in run.impls(w):
                if impl not in run.parallel_backends:
                    continue
                if backends and impl not in backends:
                    continue
                pts = pr.speedups(pr.scaling_points(run, w, impl), t1)
                if not pts:
                    continue
                counts.update(p for p, _ in pts)
                ax.plot([p for p, _ in pts], [s for _, s in pts],
                        RUN_STYLES[k % len(RUN_STYLES)], marker=RUN_MARKERS[k % len(RUN_MARKERS)],
                        markersize=4, color=color_of(impl), label=f"{impl} [{label}]")
        cpus = max(r.logical for r in runs)
        xs = sorted(counts)
        bounded = all(pr.bounded_by_cpus(r, w) for r in runs if r.find(w))
        ax.plot(xs, [min(p, cpus) if bounded else p for p in xs], color="#bbbbbb",
                linewidth=3, alpha=0.5, zorder=0, label=f"ideal (up to {cpus} CPUs)")
        _thread_axis(ax, counts)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("speedup over the serial loop")
        ax.set_title(workload_title(runs, w))
    seen = {}
    for ax in axes:
        for h, l in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(l, h)
    fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=4, fontsize=7,
               bbox_to_anchor=(0.5, -0.06))
    fig.suptitle("Scaling compared (color: backend; line style: run)")
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return save(fig, out_dir, "compare-speedup")
