"""Tests of the report scripts: parsing parmap-bench JSON, the fits, and the report and compare
commands end to end on a small fixture (fixture.json, a hand-written run).

The fixture records the harness's settings in its context with values other than those of the
runs made before the harness recorded them (parmap_results.LEGACY_CONTEXT): another pairing of
the threads backend, another idle gap, ... so the tests show that the scripts read them. The
same run without those keys (legacy_data) stands for the older runs."""

import copy
import importlib.util
import io
import json
import math
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import parmap_results as pr  # noqa: E402

FIXTURE = os.path.join(HERE, "fixture.json")
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# The context keys of the harness's settings: what older runs lack.
RECORDED_SETTINGS = list(pr.LEGACY_CONTEXT) + ["bench_min_time", "bench_repetitions",
                                               "chunk_ladder_steps"]


def fixture_data():
    with open(FIXTURE, encoding="utf-8") as f:
        return json.load(f)


def legacy_data():
    """The fixture as a harness that did not record its settings would have written it: no
    setting in the context, and the wake cases' idle counter at that harness's gap."""
    data = fixture_data()
    for key in RECORDED_SETTINGS:
        del data["context"][key]
    for entry in data["benchmarks"]:
        if "idle_ms" in entry:
            entry["idle_ms"] = float(pr.LEGACY_CONTEXT["wake_idle_ms"])
    return data


def write_json(data, directory, name):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)
    return path


class ParseName(unittest.TestCase):
    def test_fields(self):
        w, impl, p = pr.parse_name(
            "compute/tbb/n:1000/api:map/threads:2/schedule:dynamic/chunk:16/placement:spread")
        self.assertEqual((w, impl), ("compute", "tbb"))
        self.assertEqual(p, {"n": 1000, "api": "map", "threads": 2, "schedule": "dynamic",
                             "chunk": 16, "placement": "spread"})

    def test_google_benchmark_suffixes_are_dropped(self):
        w, impl, p = pr.parse_name("wake/threads/n:1000/threads:2/iterations:15/manual_time")
        self.assertEqual((w, impl), ("wake", "threads"))
        self.assertEqual(p, {"n": 1000, "threads": 2})

    def test_mpi_names(self):
        self.assertEqual(pr.parse_name("mpi/map/ranks:4/threads:2"),
                         ("mpi/map", "mpi", {"ranks": 4, "threads": 2}))
        self.assertEqual(pr.parse_name("mpi/map/4/2")[:2], ("mpi/map", "mpi"))

    def test_key_ignores_google_benchmark_suffixes(self):
        a = pr.from_json({"benchmarks": [{"name": "compute/tbb/n:10/threads:2/real_time",
                                          "real_time": 1.0, "time_unit": "us"}]})
        b = pr.from_json({"benchmarks": [{"name": "compute/tbb/threads:2/n:10",
                                          "real_time": 1.0, "time_unit": "us"}]})
        self.assertEqual(a.cases[0].key, "compute/tbb/n:10/threads:2")
        self.assertEqual(a.cases[0].key, b.cases[0].key)

    def test_name_without_implementation_is_an_error(self):
        with self.assertRaisesRegex(pr.ResultsError, "no implementation"):
            pr.parse_name("BM_something")


class Load(unittest.TestCase):
    def setUp(self):
        self.run = pr.load(FIXTURE)

    def test_median_over_repetitions_in_any_unit(self):
        c = self.run.get("compute", "raw_serial", threads=1)
        self.assertEqual(c.repetitions, 3)  # the median aggregate is not a fourth sample
        self.assertAlmostEqual(c.time_us, 1000.0)
        self.assertAlmostEqual(c.spread, 0.02)

    def test_context(self):
        self.assertEqual((self.run.logical, self.run.physical, self.run.full_threads), (2, 2, 2))
        self.assertFalse(self.run.smt)
        self.assertIn("fixturehost", self.run.label)

    def test_errors_are_skipped_and_listed(self):
        self.assertEqual(len(self.run.skipped), 1)
        self.assertEqual(self.run.find("files"), [])

    def test_counters_and_manual_time_names(self):
        c = self.run.get("wake", "threads", n=1000, threads=2)
        self.assertIsNotNone(c)
        self.assertEqual(c.counters["median_us"], 30.0)

    def test_missing_file(self):
        with self.assertRaisesRegex(pr.ResultsError, "no such file"):
            pr.load(os.path.join(HERE, "does-not-exist.json"))

    def test_malformed_json(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"benchmarks": [ {"name": "x"')
        try:
            with self.assertRaisesRegex(pr.ResultsError, "not valid JSON.*line 1"):
                pr.load(f.name)
        finally:
            os.unlink(f.name)

    def test_not_google_benchmark(self):
        with self.assertRaisesRegex(pr.ResultsError, "no 'benchmarks' list"):
            pr.from_json({"results": []}, "x.json")
        with self.assertRaisesRegex(pr.ResultsError, "holds no results"):
            pr.from_json({"benchmarks": []}, "x.json")

    def test_bad_time_unit(self):
        data = {"benchmarks": [{"name": "a/b/threads:1", "real_time": 1.0, "time_unit": "fortnight"}]}
        with self.assertRaisesRegex(pr.ResultsError, "real_time"):
            pr.from_json(data)


class Settings(unittest.TestCase):
    def setUp(self):
        self.run = pr.load(FIXTURE)
        self.legacy = pr.from_json(legacy_data(), "legacy.json")

    def test_the_fixture_differs_from_the_legacy_values(self):
        for key, value in pr.LEGACY_CONTEXT.items():
            self.assertNotEqual(self.run.context[key], value, key)

    def test_read_from_the_context(self):
        self.assertEqual(self.run.partners, {"serial": "raw_serial", "threads": "raw_tbb",
                                             "openmp": "raw_openmp", "tbb": "raw_tbb"})
        self.assertEqual(self.run.backends, ["serial", "threads", "openmp", "tbb"])
        self.assertEqual(self.run.parallel_backends, ["threads", "openmp", "tbb"])
        self.assertEqual(self.run.wake_idle_ms, 50.0)
        self.assertEqual(self.run.setting_number("memory_bytes_per_item"), 24.0)
        self.assertEqual(self.run.setting("bench_min_time"), "0.05")
        # The harness's order: backends, then their loops in the order of the pairs.
        self.assertEqual(self.run.impls("overhead"), ["threads", "tbb", "raw_tbb", "raw_openmp"])
        self.assertEqual(self.legacy.impls("overhead"),
                         ["threads", "tbb", "raw_openmp", "raw_tbb"])

    def test_runs_that_did_not_record_them_get_the_values_of_their_time(self):
        self.assertEqual(self.legacy.partners["threads"], "raw_openmp")
        self.assertEqual(self.legacy.backends, ["serial", "threads", "openmp", "tbb", "stdpar"])
        self.assertEqual(self.legacy.wake_idle_ms, 20.0)
        self.assertEqual(self.legacy.setting_number("memory_bytes_per_item"), 16.0)
        # The mode's settings were not the same in every older run: not recorded.
        self.assertIsNone(self.legacy.setting("bench_min_time"))
        self.assertIsNone(self.legacy.setting("chunk_ladder_steps"))

    def test_an_unreadable_setting_names_the_file_and_the_key(self):
        for key, value in (("overhead_reference", "threads"), ("wake_idle_ms", "soon")):
            data = fixture_data()
            data["context"][key] = value
            with self.assertRaisesRegex(pr.ResultsError, f"bad.json: context key '{key}'"):
                pr.from_json(data, "bad.json")

    def test_parse_pairs(self):
        self.assertEqual(pr.parse_pairs("a=b, c=d"), {"a": "b", "c": "d"})
        with self.assertRaises(ValueError):
            pr.parse_pairs("a=b,c")


class Fits(unittest.TestCase):
    def test_amdahl_recovers_the_serial_fraction(self):
        for f in (0.0, 0.05, 0.3):
            pts = [(p, pr.amdahl_speedup(f, p)) for p in (1, 2, 4, 8, 16)]
            self.assertAlmostEqual(pr.amdahl_fit(pts), f, places=9)

    def test_amdahl_needs_more_than_one_thread(self):
        self.assertIsNone(pr.amdahl_fit([(1, 1.0)]))
        self.assertIsNone(pr.amdahl_fit([]))

    def test_amdahl_superlinear_gives_negative_fraction(self):
        self.assertLess(pr.amdahl_fit([(2, 2.2)]), 0.0)

    def test_karp_flatt(self):
        self.assertAlmostEqual(pr.karp_flatt(2, pr.amdahl_speedup(0.1, 2)), 0.1)
        self.assertAlmostEqual(pr.karp_flatt(4, 4.0), 0.0)
        self.assertIsNone(pr.karp_flatt(1, 1.0))

    def test_karp_flatt_matches_amdahl_at_one_point(self):
        self.assertAlmostEqual(pr.karp_flatt(2, 1.7), pr.amdahl_fit([(1, 1.0), (2, 1.7)]))

    def test_scaling_stop(self):
        self.assertEqual(pr.scaling_stop([(1, 1.0), (2, 1.9), (4, 1.92), (8, 1.9)]), 2)
        self.assertIsNone(pr.scaling_stop([(1, 1.0), (2, 2.0), (4, 3.9)]))


class Analyses(unittest.TestCase):
    def setUp(self):
        self.run = pr.load(FIXTURE)

    def test_speedup_against_the_serial_loop(self):
        t1 = pr.baseline_us(self.run, "compute")
        self.assertAlmostEqual(t1, 1000.0)
        pts = dict(pr.speedups(pr.scaling_points(self.run, "compute", "openmp"), t1))
        self.assertAlmostEqual(pts[2], 2.0)
        self.assertAlmostEqual(pr.efficiency(2, pts[2]), 1.0)

    def test_tuned_case_against_the_fastest_of_its_sweep(self):
        data = json.load(open(FIXTURE, encoding="utf-8"))
        self.assertIsNone(pr.tuned_against_sweep(pr.from_json(data), "chunks"))
        data["benchmarks"].append({
            "name": "tune/chunks/n:4096/api:into/threads:2", "run_type": "iteration",
            "real_time": 150.0, "cpu_time": 150.0, "time_unit": "us", "iterations": 10,
            "label": "tbb threads:2 schedule:guided chunk:64", "tune_seconds": 2.1})
        run = pr.from_json(data, "with-tune.json")
        fastest = min((c for c in run.find("chunks", None, threads=2, schedule=None, chunk=None)
                       if c.impl in run.parallel_backends), key=lambda c: c.time_us)
        t = pr.tuned_against_sweep(run, "chunks")
        self.assertAlmostEqual(t["tuned_us"], 150.0)
        self.assertEqual(t["setting"], "tbb threads:2 schedule:guided chunk:64")
        self.assertAlmostEqual(t["tune_seconds"], 2.1)
        self.assertIs(t["best"], fastest)
        self.assertAlmostEqual(t["ratio"], 150.0 / fastest.time_us)
        self.assertFalse(t["side_by_side"])
        self.assertNotIn("tune", run.user_workloads())
        # Measured side by side within the case: the counters win over the sweep's figure.
        data["benchmarks"][-1].update({"sweep_best_us": 140.0, "tuned_over_sweep_best": 1.04})
        t = pr.tuned_against_sweep(pr.from_json(data, "side.json"), "chunks")
        self.assertTrue(t["side_by_side"])
        self.assertAlmostEqual(t["ratio"], 1.04)
        self.assertAlmostEqual(t["best_us"], 140.0)

    def test_overhead_ratios_pair_each_backend_with_its_loop(self):
        rows = {(r["backend"], r["api"]): r for r in pr.overhead_rows(self.run)}
        self.assertEqual(rows[("threads", "into")]["partner"], "raw_tbb")
        self.assertAlmostEqual(rows[("threads", "into")]["ratio"], 2.0)
        self.assertAlmostEqual(rows[("tbb", "map")]["ratio"], 1.15)
        self.assertEqual(len(rows), 2)

    def test_overhead_ratios_of_a_legacy_run_use_the_pairs_of_its_time(self):
        legacy = pr.from_json(legacy_data(), "legacy.json")
        rows = {(r["backend"], r["api"]): r for r in pr.overhead_rows(legacy)}
        self.assertEqual(rows[("threads", "into")]["partner"], "raw_openmp")
        self.assertAlmostEqual(rows[("threads", "into")]["ratio"], 1.25)
        self.assertEqual(len(rows), 2)

    def test_catching_cases_pair_with_the_plain_api(self):
        def case(api, impl, us):
            return {"name": f"overhead/{impl}/n:1000/api:{api}/threads:2/schedule:automatic/"
                            "chunk:0/placement:none/real_time",
                    "real_time": us, "time_unit": "us"}
        run = pr.from_json({"benchmarks": [case("map", "tbb", 2.0),
                                           case("map_catching", "tbb", 2.5),
                                           case("map_wide", "tbb", 2.4),
                                           case("into_catching", "tbb", 9.0),
                                           case("map", "threads", 1.0),
                                           case("map_catching", "threads", 1.5),
                                           case("map", "raw_tbb", 1.0)]})
        rows = {r["backend"]: r for r in pr.catching_rows(run)}
        self.assertEqual(len(rows), 2, "into_catching has no plain case to compare with")
        self.assertEqual(rows["tbb"]["api"], "map")
        self.assertAlmostEqual(rows["tbb"]["ratio"], 1.25)
        self.assertAlmostEqual(rows["tbb"]["wide_ratio"], 2.5 / 2.4)
        self.assertIsNone(rows["threads"]["wide_ratio"])
        # The catching and wide cases have no raw partner and stay out of the overhead table.
        self.assertEqual([(r["backend"], r["api"]) for r in pr.overhead_rows(run)],
                         [("tbb", "map")])

    def test_latency_uses_the_median_call(self):
        self.assertEqual(pr.latency_items(self.run), 1000)  # the wake cases' item count
        rows = {r["impl"]: r for r in pr.latency_rows(self.run)}
        self.assertAlmostEqual(rows["threads"]["idle_us"], 30.0)
        self.assertAlmostEqual(rows["threads"]["warm_us"], 1.0)
        self.assertAlmostEqual(rows["raw_openmp"]["idle_us"], 2000.0)

    def test_sweep_summary_finds_best_and_auto(self):
        (row,) = pr.sweep_summary(self.run, "chunks")
        self.assertEqual((row["best_schedule"], row["best_chunk"]), ("dynamic", 64))
        self.assertAlmostEqual(row["ratio"], 1.05)
        self.assertEqual(row["cases"], 4)

    def test_mpi_points(self):
        pts = pr.mpi_points(self.run)
        self.assertEqual(pts["mpi/map"], {1: [(2, 40000.0)], 2: [(4, 12000.0)]})


@unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed for this python")
class Commands(unittest.TestCase):
    def test_report_writes_graphs_and_reading(self):
        import report
        with tempfile.TemporaryDirectory() as out:
            with redirect_stdout(io.StringIO()):
                self.assertEqual(report.main([FIXTURE, "--out", out]), 0)
            with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
                text = f.read()
            self.assertIn("no SMT", text)
            self.assertIn("MPI", text)
            # The settings the run recorded, not those of older runs.
            self.assertIn("| mode | quick; thread counts 1,2,4; 3 repetitions of at least 0.05 s; "
                          "chunk ladders ×16 (chunks), ×8 (imbalanced) |", text)
            self.assertIn("| threads | automatic | 1 µs | raw_tbb | 0.5 µs | 2.00× ⚠ |", text)
            self.assertIn("it is held to raw_tbb.", text)
            self.assertIn("| implementation | warm call | call after 50 ms idle |", text)
            self.assertIn("the idle case sleeps 50 ms", text)
            self.assertIn("threads 24.0 GB/s (80% of copy)", text)
            self.assertNotIn("20 ms", text)
            for graph in ("speedup", "efficiency", "overhead", "latency", "chunks", "mpi",
                          "placement", "amdahl", "memory"):
                self.assertTrue(os.path.exists(os.path.join(out, graph + ".png")), graph)
                self.assertTrue(os.path.exists(os.path.join(out, graph + ".svg")), graph)
                self.assertIn(f"({graph}.png)", text)
            self.assertTrue(os.path.exists(os.path.join(out, "results.json")))

    def test_report_of_a_run_that_did_not_record_the_settings(self):
        import report
        with tempfile.TemporaryDirectory() as out:
            path = write_json(legacy_data(), out, "legacy.json")
            with redirect_stdout(io.StringIO()):
                self.assertEqual(report.main([path, "--out", out]), 0)
            with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
                text = f.read()
        self.assertIn("| mode | quick; thread counts 1,2,4 |", text)
        self.assertIn("| threads | automatic | 1 µs | raw_openmp | 0.8 µs | 1.25× ⚠ |", text)
        self.assertIn("it is held to raw_openmp.", text)
        self.assertIn("| implementation | warm call | call after 20 ms idle |", text)
        self.assertIn("threads 16.0 GB/s (80% of copy)", text)

    def test_graph_titles_carry_the_item_costs_the_runs_recorded(self):
        import parmap_plots as plots
        run, legacy = pr.load(FIXTURE), pr.from_json(legacy_data(), "legacy.json")
        self.assertEqual(plots.workload_title([run], "compute"), "compute-bound (~5 us/item)")
        self.assertEqual(plots.workload_title([legacy], "compute"),
                         "compute-bound (~10 us/item)")
        self.assertEqual(plots.workload_title([run, legacy], "compute"), "compute-bound")
        self.assertEqual(plots.workload_title([run], "memory"),
                         "memory-bound (axpy, 1,000,000 doubles)")
        self.assertEqual(plots.workload_title([run], "latency"), "latency-bound")  # no cases

    def test_machine_section_says_where_the_default_thread_count_came_from(self):
        import report
        with open(FIXTURE, encoding="utf-8") as f:
            data = json.load(f)
        with tempfile.TemporaryDirectory() as out:
            path = os.path.join(out, "run.json")

            def machine(context_changes):
                changed = copy.deepcopy(data)
                changed["context"].update(context_changes)
                for key in [k for k, v in context_changes.items() if v is None]:
                    del changed["context"][key]
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(changed, f)
                return "\n".join(report.machine_section(pr.load(path)))

            text = machine({})
            self.assertIn("| threads = 0 means | 2, from the affinity mask; no cgroup CPU quota |",
                          text)
            self.assertNotIn("CPU quota of", text)
            text = machine({"cpu_quota": "1.5", "cpu_quota_file": "/sys/fs/cgroup/job/cpu.max",
                            "default_threads_source": "cgroup CPU quota"})
            self.assertIn("| threads = 0 means | 2, from the cgroup CPU quota; cgroup CPU quota "
                          "1.5 CPUs (`/sys/fs/cgroup/job/cpu.max`) |", text)
            self.assertIn("**Note:** the run had a cgroup CPU quota of 1.5 CPUs", text)
            text = machine({"default_threads": "3", "default_threads_source": "PARMAP_NUM_THREADS"})
            self.assertIn("| threads = 0 means | 3, from PARMAP_NUM_THREADS; no cgroup", text)
            # Runs recorded before the harness wrote these keys.
            text = machine({"cpu_quota": None, "cpu_quota_file": None, "default_threads": None,
                            "default_threads_source": None})
            self.assertIn("| threads = 0 means | not recorded |", text)

    def test_report_rejects_a_missing_file(self):
        import report
        err = io.StringIO()
        with redirect_stderr(err):
            self.assertEqual(report.main([os.path.join(HERE, "missing.json")]), 2)
        self.assertIn("no such file", err.getvalue())

    def test_compare_ratios(self):
        import compare
        with open(FIXTURE, encoding="utf-8") as f:
            slower = json.load(f)
        slower = copy.deepcopy(slower)
        for entry in slower["benchmarks"]:
            entry["real_time"] = entry["real_time"] * 2
            if "median_us" in entry:
                entry["median_us"] = entry["median_us"] * 2
            # Newer harness settings add Google Benchmark suffixes: the cases still match.
            if not entry["name"].startswith("mpi/") and "manual_time" not in entry["name"]:
                entry["name"] += "/real_time"
                entry.pop("run_name", None)
        with tempfile.TemporaryDirectory() as out:
            second = os.path.join(out, "slower.json")
            with open(second, "w", encoding="utf-8") as f:
                json.dump(slower, f)
            with redirect_stdout(io.StringIO()):
                self.assertEqual(compare.main([FIXTURE, second, "--labels", "a,b", "--out", out]), 0)
            with open(os.path.join(out, "compare.md"), encoding="utf-8") as f:
                text = f.read()
            self.assertIn("2.00×", text)
            self.assertNotIn("1.00×", text)
            self.assertNotIn("Harness settings that differ", text)
            self.assertTrue(os.path.exists(os.path.join(out, "compare-speedup.png")))
            runs = [pr.load(FIXTURE), pr.load(second)]
            rows = compare.ratio_rows(runs)
            self.assertTrue(rows)
            self.assertTrue(all(math.isclose(r[2][1], 2.0) for r in rows))

    def test_compare_an_older_run_with_a_newer_one(self):
        import compare
        with tempfile.TemporaryDirectory() as out:
            old = write_json(legacy_data(), out, "old.json")
            with redirect_stdout(io.StringIO()):
                self.assertEqual(compare.main([old, FIXTURE, "--labels", "old,new", "--out", out]),
                                 0)
            with open(os.path.join(out, "compare.md"), encoding="utf-8") as f:
                text = f.read()
        self.assertIn("## Harness settings that differ", text)
        self.assertIn("| `wake_idle_ms` | 20 | 50 |", text)
        self.assertIn("| `overhead_reference` | serial=raw_serial,threads=raw_openmp,openmp="
                      "raw_openmp,tbb=raw_tbb,stdpar=raw_stdpar | serial=raw_serial,threads="
                      "raw_tbb,openmp=raw_openmp,tbb=raw_tbb |", text)
        self.assertIn("| `bench_min_time` | not recorded | 0.05 |", text)
        self.assertNotIn("`bench_mode`", text)  # the same in both
        self.assertIn("| wake/threads/n:1000/api:into/threads:2 | 30 µs | 30 µs | 1.00× |", text)

    def test_compare_needs_two_files(self):
        import compare
        with redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            compare.main([FIXTURE])


if __name__ == "__main__":
    unittest.main()
