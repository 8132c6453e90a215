"""Reading parmap-bench results (Google Benchmark JSON) and the arithmetic of the reports.

No plotting here, and nothing beyond the standard library, so that the tests run anywhere.

Case names are '/'-separated: the workload, the implementation, then key:value parameters, e.g.
``compute/tbb/n:1000/api:into/threads:2/schedule:automatic/chunk:0/placement:none``.
Google Benchmark's own suffixes (``iterations:15``, ``manual_time``, ``repeats:3``, ...) are
dropped. Entries whose name starts with ``mpi/`` (the MPI companion benchmark) keep the
non-parameter segments as their workload and take ``ranks`` and ``threads`` from their counters.

``parmap::tune`` writes the same names for a user's own loop (context ``bench_mode`` = ``tune``):
the workload is the name the user gave, measured like parmap-bench's scaling workloads and swept
over schedules x chunks like its imbalanced ones (see Run.user_workloads).
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import dataclass, field

# The harness's settings as every run made before parmap-bench wrote them into the JSON context
# had them: the backend -> hand-written loop pairs of the overhead ratios, the wake workload's
# idle gap, the memory-bound map's bytes per item, and the compute- and latency-bound items'
# costs. A run that records a key is read from its own context (Run.setting); nothing else in
# scripts/ restates these facts. The mode's settings (bench_min_time, bench_repetitions,
# chunk_ladder_steps, chunk_sizes) have no entry: older runs were not always made with their
# mode's defaults, so for them these read as not recorded.
LEGACY_CONTEXT = {
    "overhead_reference": ("serial=raw_serial,threads=raw_openmp,openmp=raw_openmp,tbb=raw_tbb,"
                           "stdpar=raw_stdpar"),
    "wake_idle_ms": "20",
    "memory_bytes_per_item": "16",
    "compute_target_us_per_item": "10",
    "latency_wait_us": "1000",
}
# The settings of the harness a reader compares between runs: the facts above and the mode's.
SETTINGS = list(LEGACY_CONTEXT) + ["bench_mode", "thread_counts", "bench_min_time",
                                   "bench_repetitions", "chunk_ladder_steps", "chunk_sizes"]
_NUMERIC_SETTINGS = ["wake_idle_ms", "memory_bytes_per_item", "compute_target_us_per_item",
                     "latency_wait_us"]
# What parmap::tune records beside the machine: they shape its cases, so two tune runs that
# differ in them are not like for like.
TUNE_SETTINGS = ["tune_workload", "tune_items", "tune_input_items", "tune_budget_ms"]
SETTINGS += TUNE_SETTINGS
SCHEDULES = ["automatic", "static", "dynamic", "guided"]
SCALING_WORKLOADS = ["compute", "memory", "triangular", "mandelbrot", "latency", "files"]
# parmap-bench's own workloads (the MPI benchmark's are named mpi/...); any other workload of a
# run is a user's (see Run.user_workloads).
BENCH_WORKLOADS = ["overhead", "wake", "memory", "compute", "triangular", "mandelbrot", "latency",
                   "chunks", "files", "placement-compute", "placement-memory", "tune"]
BACKENDS = ["serial", "threads", "openmp", "tbb", "stdpar"]
DEFAULTS = {"api": "into", "schedule": "automatic", "chunk": 0, "placement": "none"}

_GBENCH_KEYS = {"iterations", "repeats", "min_time", "min_warmup_time", "threads_gbench"}
_GBENCH_WORDS = {"manual_time", "real_time", "process_time"}
_INT_KEYS = {"n", "threads", "chunk", "ranks"}
_UNIT_TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


class ResultsError(Exception):
    """A results file that cannot be read: the message names the file and the problem."""


@dataclass
class Case:
    """One benchmark case: the median over its repetitions."""

    name: str
    workload: str
    impl: str
    params: dict
    time_us: float  # median real time of one iteration (one call), in microseconds
    counters: dict = field(default_factory=dict)  # medians of the user counters
    repetitions: int = 1
    spread: float = 0.0  # (max - min) / median of the repetitions' times
    label: str = ""  # Google Benchmark's label (parmap-bench's tune cases: the chosen setting)

    def param(self, key):
        return self.params.get(key, DEFAULTS.get(key))

    @property
    def key(self) -> str:
        """The case's name without Google Benchmark's suffixes (real_time, iterations:N, ...):
        the same case has the same key in runs made with different harness settings."""
        order = ["n", "api", "threads", "schedule", "chunk", "placement", "ranks"]
        keys = [k for k in order if k in self.params]
        keys += sorted(k for k in self.params if k not in order)
        return "/".join([self.workload, self.impl] + [f"{k}:{self.params[k]}" for k in keys])

    @property
    def typical_us(self) -> float:
        """The time of a typical call: the median call where the case recorded one
        (median_us, the wake cases), else the median over repetitions of the mean call."""
        return self.counters.get("median_us", self.time_us)


def parse_name(name: str, mpi: bool = True):
    """Splits a case name into (workload, impl, params). With mpi (parmap-bench's runs), a name
    whose first segment is ``mpi`` is the MPI benchmark's; a tune run passes False, since there
    ``mpi`` can only be the user's name. Raises ResultsError if it has fewer than two segments
    (not a parmap-bench or MPI name)."""
    segments = [s for s in name.split("/") if s]
    plain, params = [], {}
    for seg in segments:
        key, sep, value = seg.partition(":")
        if sep:
            if key in _GBENCH_KEYS:
                continue
            params[key] = int(value) if key in _INT_KEYS and _is_int(value) else value
        elif seg in _GBENCH_WORDS:
            continue
        else:
            plain.append(seg)
    if mpi and plain and plain[0] == "mpi":
        words = [s for s in plain if not _is_int(s)]
        return "/".join(words), "mpi", params
    if len(plain) < 2:
        raise ResultsError(f"case name '{name}' has no implementation segment "
                           "(expected WORKLOAD/IMPL/key:value...)")
    return plain[0], plain[1], params


def _is_int(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def _median(values):
    return statistics.median(values) if values else math.nan


class Run:
    """One results file: its context and its cases (medians)."""

    def __init__(self, path: str, context: dict, cases: list, skipped: list):
        self.path = path
        self.context = context
        self.cases = cases
        self.skipped = skipped  # names of entries that reported an error
        self._user_workloads = None
        self._defaults = {}

    @property
    def is_tune(self) -> bool:
        """Whether parmap::tune wrote this run (a user's loop) rather than parmap-bench."""
        return is_tune_context(self.context)

    # ---- the machine ----------------------------------------------------------------------
    def _ctx_int(self, key, fallback):
        try:
            return int(self.context.get(key, fallback))
        except (TypeError, ValueError):
            return fallback

    @property
    def logical(self) -> int:
        return self._ctx_int("logical_cpus", self._ctx_int("num_cpus", 1))

    @property
    def physical(self) -> int:
        return self._ctx_int("physical_cores", self.logical)

    @property
    def full_threads(self) -> int:
        return self._ctx_int("full_threads", self._ctx_int("usable_cpus", self.logical))

    @property
    def smt(self) -> bool:
        value = str(self.context.get("smt", "")).lower()
        if value in ("yes", "no"):
            return value == "yes"
        return self.logical > self.physical

    # ---- the harness's settings (see LEGACY_CONTEXT) --------------------------------------
    def setting(self, key):
        """A setting of the harness that made this run, as a string: from the run's context,
        else the value every run made before the harness recorded it had, else None. A tune
        run is not such an older run: parmap-bench's workloads, and so their settings, are not
        in it, and it reads None for them."""
        value = self.context.get(key)
        if (value is None or value == "") and not self.is_tune:
            value = LEGACY_CONTEXT.get(key)
        return None if value is None or value == "" else str(value)

    def setting_number(self, key) -> float:
        """A numeric setting (see setting); load() has checked that it parses."""
        return float(self.setting(key))

    @property
    def partners(self) -> dict:
        """{backend: the hand-written loop its overhead is measured against}, backends in the
        harness's order; empty for a tune run, which measures no hand-written loop."""
        pairs = self.setting("overhead_reference")
        return parse_pairs(pairs) if pairs is not None else {}

    @property
    def backends(self) -> list:
        """The parmap backends the harness knows, in its order; the rest are raw loops and the
        copy reference. A tune run names no loops: its backends are those it ran (context
        backends_run, else backends) and any other backend its cases hold."""
        if self.partners:
            return list(self.partners)
        named = []
        for key in ("backends_run", "backends"):
            if self.context.get(key):
                named = [b.strip() for b in str(self.context[key]).split(",") if b.strip()]
                break
        measured = [c.impl for c in self.cases if c.impl in BACKENDS]
        return list(dict.fromkeys(named + sorted(measured, key=BACKENDS.index)))

    @property
    def parallel_backends(self) -> list:
        return [b for b in self.backends if b != "serial"]

    @property
    def wake_idle_ms(self) -> float:
        """The idle gap before each timed call of the wake workload."""
        return self.setting_number("wake_idle_ms")

    def impl_order(self, name: str):
        """A sort key: backends first in the harness's order, then their loops, then anything
        else."""
        order = self.backends + list(dict.fromkeys(self.partners.values())) + ["copy"]
        return (order.index(name), name) if name in order else (len(order), name)

    def check_settings(self):
        """Raises ResultsError naming the file and the key if a setting does not parse."""
        key = "overhead_reference"
        try:
            if self.setting(key) is not None:
                parse_pairs(self.setting(key))
            for key in _NUMERIC_SETTINGS + ["tune_items", "tune_input_items", "tune_budget_ms",
                                            "tune_rounds"]:
                if self.setting(key) is not None:
                    float(self.setting(key))
        except (TypeError, ValueError) as e:
            raise ResultsError(f"{self.path}: context key '{key}' cannot be read ({e})") from None

    @property
    def label(self) -> str:
        """Host, commit and date; a run without a commit (a tune run: the user's code has
        none parmap knows) gets the time of day instead, so two runs of a day differ."""
        host = self.context.get("host_name", "?")
        date = str(self.context.get("date", "?"))
        if "git_commit" not in self.context:
            return f"{host} {date[:16].replace('T', ' ')}"
        return f"{host} {str(self.context['git_commit'])[:8]} {date[:10]}"

    # ---- the user's workloads (parmap::tune) ----------------------------------------------
    def user_workloads(self) -> list:
        """The workloads of the run that are a user's own loop rather than parmap-bench's: every
        workload of a tune run (whatever its name), else those parmap-bench does not know (the
        MPI benchmark's aside). Reports treat them as scaling workloads and as schedule x chunk
        sweeps."""
        if self._user_workloads is None:
            self._user_workloads = [
                w for w in self.workloads()
                if self.is_tune or (w not in BENCH_WORKLOADS and not self._is_mpi(w))]
        return self._user_workloads

    def _is_mpi(self, workload) -> bool:
        return any(c.impl == "mpi" for c in self.find(workload))

    def is_user_workload(self, workload) -> bool:
        return workload in self.user_workloads()

    def defaults(self, workload) -> dict:
        """The parameters of a workload's default case (DEFAULTS): parmap-bench measures its
        scaling workloads through parallel_map_into, a user's loop is measured through the one
        api it was called with (tune's: map)."""
        if workload not in self._defaults:
            params = dict(DEFAULTS)
            if self.is_user_workload(workload):
                apis = {c.param("api") for c in self.find(workload)}
                if len(apis) == 1:
                    params["api"] = apis.pop()
            self._defaults[workload] = params
        return self._defaults[workload]

    def tune_best(self):
        """The case parmap::tune chose (context tune_best), or None when the context names no
        case of this run."""
        name = self.context.get("tune_best")
        if not name:
            return None
        try:
            workload, impl, params = parse_name(str(name), mpi=False)
        except ResultsError:
            return None
        found = self.find(workload, impl, **{k: params.get(k) for k in
                                             ("n", "api", "threads", "schedule", "chunk",
                                              "placement")})
        return found[0] if len(found) == 1 else None

    # ---- looking cases up -----------------------------------------------------------------
    def find(self, workload=None, impl=None, **params):
        """Cases matching every given field; a field not given, or given as None, matches
        anything."""
        out = []
        for c in self.cases:
            if workload is not None and c.workload != workload:
                continue
            if impl is not None and c.impl != impl:
                continue
            if all(c.param(k) == v for k, v in params.items() if v is not None):
                out.append(c)
        return out

    def get(self, workload, impl, **params):
        """The one case matching (see find) with the workload's default api, schedule, chunk
        and placement (see defaults) unless given; None if there is none."""
        for key, value in self.defaults(workload).items():
            params.setdefault(key, value)
        found = self.find(workload, impl, **params)
        return found[0] if found else None

    def workloads(self):
        seen = []
        for c in self.cases:
            if c.workload not in seen:
                seen.append(c.workload)
        return seen

    def impls(self, workload):
        seen = []
        for c in self.find(workload):
            if c.impl not in seen:
                seen.append(c.impl)
        return sorted(seen, key=self.impl_order)


def parse_pairs(text: str) -> dict:
    """'a=b,c=d' (how the harness writes a mapping into the context) as {'a': 'b', 'c': 'd'}.
    Raises ValueError if an item has no '='."""
    pairs = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"'{item}' in '{text}' is not key=value")
        pairs[key.strip()] = value.strip()
    return pairs


def is_tune_context(context: dict) -> bool:
    """Whether a run's context is parmap::tune's (bench_mode tune)."""
    return context.get("bench_mode") == "tune"


def load(path: str) -> Run:
    """Reads one parmap-bench (or any Google Benchmark) JSON file. Raises ResultsError with a
    clear message when it is missing, not JSON, or not a Google Benchmark result."""
    if not os.path.exists(path):
        raise ResultsError(f"{path}: no such file")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: "
                           f"{e.msg}); is the run complete?") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: cannot be read ({e})") from None
    return from_json(data, path)


def from_json(data, path: str = "<json>") -> Run:
    """Builds a Run from parsed Google Benchmark JSON (see load)."""
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultsError(f"{path}: not a Google Benchmark result (no 'benchmarks' list); "
                           "write it with --benchmark_out=FILE --benchmark_out_format=json")
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    tune = is_tune_context(context)
    iterations, medians, skipped = {}, {}, []
    for entry in data["benchmarks"]:
        if not isinstance(entry, dict) or "name" not in entry:
            raise ResultsError(f"{path}: a 'benchmarks' entry has no name: {entry!r:.80}")
        name = entry.get("run_name", entry["name"])
        if entry.get("error_occurred"):
            skipped.append(name)
            continue
        kind = entry.get("run_type", "iteration")
        if kind == "iteration":
            iterations.setdefault(name, []).append(entry)
        elif kind == "aggregate" and entry.get("aggregate_name") == "median":
            medians[name] = entry
    cases = []
    for name in list(iterations) + [n for n in medians if n not in iterations]:
        try:
            workload, impl, params = parse_name(name, mpi=not tune)
        except ResultsError as e:
            raise ResultsError(f"{path}: {e}") from None
        entries = iterations.get(name) or [medians[name]]
        try:
            times = [_real_time_us(e) for e in entries]
        except (KeyError, TypeError, ValueError) as e:
            raise ResultsError(f"{path}: case '{name}' has no usable real_time ({e})") from None
        counters = {}
        for key in _counter_keys(entries[0]):
            values = [e[key] for e in entries if isinstance(e.get(key), (int, float))]
            counters[key] = _median(values)
        if impl == "mpi":
            # The MPI benchmark's counters 'ranks' and 'threads' (the latter shares its JSON key
            # with Google Benchmark's own thread count; the counter comes last and wins).
            threads = [e["threads"] for e in entries if isinstance(e.get("threads"), (int, float))]
            if "ranks" in counters and not math.isnan(counters["ranks"]):
                params["ranks"] = int(round(counters["ranks"]))
            if threads and "threads" not in params:
                params["threads"] = int(round(_median(threads)))
        med = _median(times)
        spread = (max(times) - min(times)) / med if med > 0 else 0.0
        label = entries[0].get("label", "")
        cases.append(Case(name=name, workload=workload, impl=impl, params=params, time_us=med,
                          counters=counters, repetitions=len(times), spread=spread,
                          label=label if isinstance(label, str) else ""))
    if not cases and not skipped:
        raise ResultsError(f"{path}: the 'benchmarks' list holds no results")
    run = Run(path, context, cases, skipped)
    run.check_settings()
    return run


_STANDARD_KEYS = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads",
                  "iterations", "real_time", "cpu_time", "time_unit", "family_index",
                  "per_family_instance_index", "aggregate_name", "aggregate_unit", "label",
                  "error_occurred", "error_message"}


def _counter_keys(entry):
    return [k for k, v in entry.items()
            if k not in _STANDARD_KEYS and isinstance(v, (int, float))]


def _real_time_us(entry) -> float:
    unit = entry.get("time_unit", "ns")
    if unit not in _UNIT_TO_US:
        raise ValueError(f"unknown time_unit '{unit}'")
    return float(entry["real_time"]) * _UNIT_TO_US[unit]


# ---- scaling arithmetic -----------------------------------------------------------------------

def baseline_us(run: Run, workload: str):
    """The one-thread time speedups are measured against: the raw serial loop, else the serial
    backend, else None."""
    for impl in ("raw_serial", "serial"):
        c = run.get(workload, impl, threads=1)
        if c is not None:
            return c.time_us
    return None


def scaling_workloads(run: Run) -> list:
    """The run's workloads measured for speedup: parmap-bench's (SCALING_WORKLOADS), then the
    user's (Run.user_workloads)."""
    return [w for w in SCALING_WORKLOADS if not run.is_tune] + run.user_workloads()


def bounded_by_cpus(run: Run, workload: str) -> bool:
    """Whether a workload's ideal speedup stops at the CPU count: all but parmap-bench's
    latency workload, whose items sleep."""
    return workload != "latency" or run.is_user_workload(workload)


def scaling_points(run: Run, workload: str, impl: str):
    """[(threads, time_us)] of an implementation's scaling cases (the workload's default api,
    schedule, chunk and placement), sorted by thread count."""
    points = {}
    for c in run.find(workload, impl, **run.defaults(workload)):
        t = c.param("threads")
        if isinstance(t, int):
            points[t] = c.time_us
    return sorted(points.items())


def speedups(points, t1: float):
    """[(p, S)] with S = t1 / time(p)."""
    return [(p, t1 / t) for p, t in points if t > 0]


def efficiency(p: int, s: float) -> float:
    """Parallel efficiency S/p."""
    return s / p


def karp_flatt(p: int, s: float):
    """The Karp-Flatt metric e = (1/S - 1/p) / (1 - 1/p): the experimentally determined serial
    fraction at p threads. None for p = 1, where it is undefined."""
    if p <= 1 or s <= 0:
        return None
    return (1.0 / s - 1.0 / p) / (1.0 - 1.0 / p)


def amdahl_fit(points):
    """The serial fraction f of Amdahl's law S(p) = 1 / (f + (1 - f)/p) fitted by least squares
    to [(p, S)] in the linear form 1/S - 1/p = f (1 - 1/p). Points with p = 1 carry no
    information and are ignored. Returns None when no point has p > 1. f may fall outside
    [0, 1] when the measurements do (superlinear speedup, or noise)."""
    sxx = sxy = 0.0
    for p, s in points:
        if p <= 1 or s <= 0:
            continue
        x = 1.0 - 1.0 / p
        y = 1.0 / s - 1.0 / p
        sxx += x * x
        sxy += x * y
    if sxx == 0.0:
        return None
    return sxy / sxx


def amdahl_speedup(f: float, p: float) -> float:
    """Amdahl's law: the speedup at p threads of a program with serial fraction f."""
    return 1.0 / (f + (1.0 - f) / p)


def scaling_stop(points, gain: float = 0.05):
    """The thread count beyond which adding threads stops paying: the first p whose next
    measured count raises the speedup by less than `gain` (5%). None if every step gains."""
    for (p, s), (_, s_next) in zip(points, points[1:]):
        if s_next < s * (1.0 + gain):
            return p
    return None


# ---- comparisons measured side by side --------------------------------------------------------

def overhead_rows(run: Run):
    """The overhead ratios: every backend's time over its raw loop's, at the same thread count,
    for the overhead workload (each n and api) and the memory-bound one. Rows are dicts with
    workload, n, api, threads, backend, partner, time_us, partner_us, ratio."""
    rows = []
    partners = run.partners
    for workload in ("overhead", "memory"):
        for c in run.find(workload, None, threads=None, n=None, api=None, schedule=None):
            if c.impl not in partners:
                continue
            # The catching cases and their wide controls have no raw partner: catching_rows
            # compares them.
            partner = partners[c.impl]
            r = run.get(workload, partner, n=c.param("n"), api=c.param("api"),
                        threads=c.param("threads"))
            if r is None:
                continue
            rows.append({"workload": workload, "n": c.param("n"), "api": c.param("api"),
                         "threads": c.param("threads"), "backend": c.impl,
                         "schedule": c.param("schedule") or "automatic", "partner": partner,
                         "time_us": c.time_us, "partner_us": r.time_us,
                         "ratio": c.time_us / r.time_us})
    rows.sort(key=lambda r: (r["workload"] != "overhead", r["n"] or 0, r["api"], r["threads"],
                             run.impl_order(r["backend"]), r["schedule"] != "automatic"))
    return rows


def latency_items(run: Run):
    """The item count of the latency comparison: the wake cases' (the warm calls are the
    overhead cases of that count), else the smallest overhead count, else None."""
    for workload in ("wake", "overhead"):
        counts = [c.param("n") for c in run.find(workload, None, n=None)
                  if isinstance(c.param("n"), int)]
        if counts:
            return min(counts)
    return None


CATCHING_SUFFIX = "_catching"
WIDE_SUFFIX = "_wide"


def catching_rows(run: Run):
    """What parmap::catching costs when nothing fails: each overhead case whose api ends in
    ``_catching`` (the map through catching) over the same backend, n, threads and schedule
    with the plain api, and over its control with api ``..._wide`` (a plain map with 16-byte
    results, as large as outcome<double>) when the run has it. Rows are dicts with n, api (the
    plain one), threads, backend, schedule, plain_us, catching_us, ratio (catching over
    plain), wide_us and wide_ratio (catching over the control; None without it)."""
    rows = []
    for c in run.find("overhead", None, threads=None, n=None, api=None, schedule=None):
        api = str(c.param("api"))
        if not api.endswith(CATCHING_SUFFIX):
            continue
        plain_api = api[:-len(CATCHING_SUFFIX)]
        same = {"n": c.param("n"), "threads": c.param("threads"), "schedule": c.param("schedule")}
        plain = run.get("overhead", c.impl, api=plain_api, **same)
        if plain is None:
            continue
        wide = run.get("overhead", c.impl, api=plain_api + WIDE_SUFFIX, **same)
        rows.append({"n": c.param("n"), "api": plain_api, "threads": c.param("threads"),
                     "backend": c.impl, "schedule": c.param("schedule") or "automatic",
                     "plain_us": plain.time_us, "catching_us": c.time_us,
                     "ratio": c.time_us / plain.time_us,
                     "wide_us": wide.time_us if wide else None,
                     "wide_ratio": c.time_us / wide.time_us if wide else None})
    rows.sort(key=lambda r: (r["n"] or 0, r["api"], r["threads"], run.impl_order(r["backend"])))
    return rows


def latency_rows(run: Run):
    """Warm and after-idle call latency per implementation at full threads: dicts with impl,
    warm_us (overhead, latency_items items, into) and idle_us (wake: the median call after
    run.wake_idle_ms of idle)."""
    rows = []
    t = run.full_threads
    n = latency_items(run)
    impls = set(run.impls("wake")) | {c.impl for c in run.find("overhead", None, n=n,
                                                                 threads=t)}
    for impl in sorted(impls, key=run.impl_order):
        if impl in ("serial", "raw_serial"):
            continue
        warm = run.get("overhead", impl, n=n, api="into", threads=t)
        idle = run.get("wake", impl, n=n, api="into", threads=t)
        idle_us = None
        if idle is not None:
            idle_us = idle.counters.get("median_us", idle.time_us)
        rows.append({"impl": impl, "warm_us": warm.time_us if warm else None,
                     "idle_us": idle_us})
    return rows


def sweep_summary(run: Run, workload: str, threads=None):
    """For each backend of a schedule x chunk sweep at `threads` (default: full threads):
    the automatic time (schedule automatic, chunk 0), the best case found and its parameters.
    Rows: dicts with backend, auto_us, best_us, best_schedule, best_chunk, ratio (auto/best)."""
    t = threads or run.full_threads
    rows = []
    for impl in run.impls(workload):
        if impl not in run.parallel_backends:
            continue
        cases = run.find(workload, impl, threads=t, schedule=None, chunk=None)
        if not cases:
            continue
        auto = run.get(workload, impl, threads=t)
        best = min(cases, key=lambda c: c.time_us)
        rows.append({"backend": impl, "auto_us": auto.time_us if auto else None,
                     "best_us": best.time_us, "best_schedule": best.param("schedule"),
                     "best_chunk": best.param("chunk"),
                     "ratio": (auto.time_us / best.time_us) if auto else None,
                     "cases": len(cases)})
    return rows


def tuned_against_sweep(run: Run, workload: str):
    """parmap-bench's case tune/WORKLOAD: the setting parmap::tune chose for a sweep workload,
    against the fastest case of that workload's sweep. None when the run has no such case.
    Keys: tuned_us, setting (the case's label), tune_seconds, best_us, best (the fastest sweep
    case, or None), side_by_side, ratio (tuned / best). With side_by_side, best_us and ratio come
    from calls of both settings made in turn within the tune case (counters sweep_best_us and
    tuned_over_sweep_best); otherwise from the sweep's own measurement, made earlier."""
    tuned = next((c for c in run.cases if c.workload == "tune" and c.impl == workload), None)
    if tuned is None:
        return None
    threads = tuned.param("threads")
    sweep = [c for c in run.find(workload, None, threads=threads, schedule=None, chunk=None)
             if c.impl in run.parallel_backends]
    best = min(sweep, key=lambda c: c.time_us) if sweep else None
    side = tuned.counters.get("tuned_over_sweep_best")
    if side is not None and not math.isnan(side):
        return {"tuned_us": tuned.time_us, "setting": tuned.label,
                "tune_seconds": tuned.counters.get("tune_seconds"),
                "best_us": tuned.counters.get("sweep_best_us"), "best": best,
                "side_by_side": True, "ratio": side}
    if best is None:
        return None
    return {"tuned_us": tuned.time_us, "setting": tuned.label,
            "tune_seconds": tuned.counters.get("tune_seconds"), "best_us": best.time_us,
            "best": best, "side_by_side": False, "ratio": tuned.time_us / best.time_us}


def full_thread_speedups(run: Run):
    """{workload: {impl: speedup at full threads}} over the scaling workloads."""
    out = {}
    t = run.full_threads
    for w in scaling_workloads(run):
        t1 = baseline_us(run, w)
        if t1 is None:
            continue
        row = {}
        for impl in run.impls(w):
            c = run.get(w, impl, threads=t)
            if c is not None and impl not in ("serial", "raw_serial"):
                row[impl] = t1 / c.time_us
        if row:
            out[w] = row
    return out


def mpi_points(run: Run):
    """{workload: {threads: [(ranks, time_us)]}} of the MPI companion benchmark's entries."""
    out = {}
    for c in run.cases:
        if c.impl != "mpi":
            continue
        ranks, threads = c.params.get("ranks"), c.params.get("threads", 1)
        if not isinstance(ranks, int):
            continue
        out.setdefault(c.workload, {}).setdefault(threads, []).append((ranks, c.time_us))
    for per_threads in out.values():
        for pts in per_threads.values():
            pts.sort()
    return out


# ---- parmap::tune -----------------------------------------------------------------------------

def tune_summary(run: Run, workload: str):
    """What parmap::tune measured of a user workload, as a dict: workload; items (per measured
    call, the sample), input_items, budget_ms and rounds (from the context, None where it does
    not say); settings (every case of the workload, the serial baseline among them, fastest
    median first); best (the case tune chose, context tune_best, else the fastest) and
    best_from ('tune' or 'fastest'); fastest; serial_us (the baseline, see baseline_us) and
    speedup (serial over best). None when the run holds no case of the workload."""
    settings = sorted(run.find(workload), key=lambda c: (c.time_us, c.name))
    if not settings:
        return None
    best, best_from = run.tune_best(), "tune"
    if best is None or best.workload != workload:
        best, best_from = settings[0], "fastest"
    items = run.setting("tune_items")
    if items is None:
        items = settings[0].param("n")
    serial = baseline_us(run, workload)

    def number(key):
        value = run.setting(key)
        return None if value is None else float(value)

    return {"workload": workload, "items": int(float(items)) if items is not None else None,
            "input_items": number("tune_input_items"), "budget_ms": number("tune_budget_ms"),
            "rounds": number("tune_rounds"), "settings": settings, "best": best,
            "best_from": best_from, "fastest": settings[0], "serial_us": serial,
            "speedup": serial / best.time_us if serial and best.time_us > 0 else None}
