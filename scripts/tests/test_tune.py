"""Tests of the report scripts on what parmap::tune writes for a user's own loop
(tune_fixture.json, a hand-written tune run): the context's bench_mode is "tune", the workload
is the user's name ("resize-images"), the calls go through map, each setting was measured as
often as successive halving kept it (1 to 4 calls), and the schedule x chunk sweep at full
threads is partial (settings dropped before their first call are missing)."""

import copy
import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import parmap_results as pr  # noqa: E402

sys.path.insert(0, HERE)
from test_results import write_json  # noqa: E402

TUNE_FIXTURE = os.path.join(HERE, "tune_fixture.json")
BENCH_FIXTURE = os.path.join(HERE, "fixture.json")
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
WORKLOAD = "resize-images"
BEST = f"{WORKLOAD}/threads/n:64/api:map/threads:4/schedule:dynamic/chunk:1/placement:none"


def tune_data():
    with open(TUNE_FIXTURE, encoding="utf-8") as f:
        return json.load(f)


def renamed(data, workload):
    """The tune run with the user's workload named `workload`."""
    data = copy.deepcopy(data)
    old = data["context"]["tune_workload"]
    data["context"]["tune_workload"] = workload
    data["context"]["tune_best"] = data["context"]["tune_best"].replace(old + "/", workload + "/")
    for entry in data["benchmarks"]:
        for key in ("name", "run_name"):
            entry[key] = entry[key].replace(old + "/", workload + "/")
    return data


class TuneRun(unittest.TestCase):
    def setUp(self):
        self.run = pr.load(TUNE_FIXTURE)

    def test_the_users_workload(self):
        self.assertTrue(self.run.is_tune)
        self.assertEqual(self.run.user_workloads(), [WORKLOAD])
        self.assertEqual(pr.scaling_workloads(self.run), [WORKLOAD])
        # parmap-bench's runs have none, and keep their own lists.
        bench = pr.load(BENCH_FIXTURE)
        self.assertFalse(bench.is_tune)
        self.assertEqual(bench.user_workloads(), [])
        self.assertEqual(pr.scaling_workloads(bench), pr.SCALING_WORKLOADS)

    def test_uneven_repetitions(self):
        self.assertEqual(len(self.run.cases), 20)
        best = self.run.find(WORKLOAD, "threads", threads=4, schedule="dynamic", chunk=1)[0]
        self.assertEqual(best.repetitions, 4)
        self.assertAlmostEqual(best.time_us, 16450.0)  # median of 16.3, 16.4, 16.5, 16.6 ms
        self.assertEqual(self.run.get(WORKLOAD, "serial", threads=1).repetitions, 3)
        self.assertEqual(self.run.get(WORKLOAD, "threads", threads=2).repetitions, 1)
        self.assertEqual(best.counters["items"], 64)

    def test_the_default_case_is_the_map_call(self):
        self.assertEqual(self.run.defaults(WORKLOAD)["api"], "map")
        self.assertAlmostEqual(self.run.get(WORKLOAD, "threads", threads=4).time_us, 18200.0)
        self.assertAlmostEqual(pr.baseline_us(self.run, WORKLOAD), 64000.0)
        self.assertEqual(pr.scaling_points(self.run, WORKLOAD, "tbb"),
                         [(1, 66000.0), (2, 34000.0), (4, 17400.0)])
        table = pr.full_thread_speedups(self.run)
        self.assertAlmostEqual(table[WORKLOAD]["tbb"], 64000.0 / 17400.0)

    def test_backends_are_those_tune_ran(self):
        self.assertEqual(self.run.backends, ["serial", "threads", "tbb"])
        self.assertEqual(self.run.parallel_backends, ["threads", "tbb"])
        self.assertEqual(self.run.partners, {})

    def test_parmap_bench_settings_do_not_apply(self):
        # A tune run is not a parmap-bench run from before the settings were recorded.
        for key in pr.LEGACY_CONTEXT:
            self.assertIsNone(self.run.setting(key), key)
        self.assertEqual(self.run.setting("tune_items"), "64")

    def test_partial_sweep(self):
        rows = {r["backend"]: r for r in pr.sweep_summary(self.run, WORKLOAD)}
        self.assertEqual((rows["threads"]["cases"], rows["tbb"]["cases"]), (10, 5))
        self.assertEqual((rows["threads"]["best_schedule"], rows["threads"]["best_chunk"]),
                         ("dynamic", 1))
        self.assertAlmostEqual(rows["tbb"]["ratio"], 17400.0 / 16950.0)

    def test_tune_summary(self):
        s = pr.tune_summary(self.run, WORKLOAD)
        self.assertEqual(s["best"].name, BEST)
        self.assertEqual(s["best_from"], "tune")
        self.assertEqual((s["items"], s["input_items"], s["budget_ms"], s["rounds"]),
                         (64, 10000, 2000, 3))
        self.assertAlmostEqual(s["speedup"], 64000.0 / 16450.0)
        self.assertEqual(len(s["settings"]), 20)
        self.assertIs(s["settings"][0], s["best"])
        self.assertIsNone(pr.tune_summary(self.run, "compute"))

    def test_without_tune_best_the_fastest_is_best(self):
        data = tune_data()
        del data["context"]["tune_best"]
        s = pr.tune_summary(pr.from_json(data), WORKLOAD)
        self.assertEqual((s["best"].name, s["best_from"]), (BEST, "fastest"))

    def test_a_workload_named_like_one_of_parmap_bench(self):
        for name in ("compute", "latency", "mpi", "chunks"):
            run = pr.from_json(renamed(tune_data(), name))
            self.assertEqual(run.user_workloads(), [name])
            self.assertEqual(run.defaults(name)["api"], "map")
            self.assertTrue(pr.bounded_by_cpus(run, name))
            self.assertEqual(run.tune_best().name, BEST.replace(WORKLOAD, name))

    def test_a_users_workload_in_a_parmap_bench_run(self):
        data = tune_data()
        data["context"] = pr.load(BENCH_FIXTURE).context
        run = pr.from_json(data)
        self.assertFalse(run.is_tune)
        self.assertEqual(run.user_workloads(), [WORKLOAD])
        self.assertAlmostEqual(pr.baseline_us(run, WORKLOAD), 64000.0)


@unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed for this python")
class TuneReport(unittest.TestCase):
    def report(self, data=None):
        """report.md of the tune fixture (or of `data`), and the files beside it."""
        import report
        with tempfile.TemporaryDirectory() as out:
            path = TUNE_FIXTURE if data is None else write_json(data, out, "tune.json")
            with redirect_stdout(io.StringIO()):
                self.assertEqual(report.main([path, "--out", out]), 0)
            with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
                return f.read(), set(os.listdir(out))

    def test_report_of_a_tune_run(self):
        text, files = self.report()
        self.assertIn("# parmap::tune report: resize-images on tunehost, 2026-03-04", text)
        self.assertIn("## Tuning: resize-images", text)
        self.assertIn("`parmap::tune` measured `resize-images` on 64 items per call (the whole "
                      "input holds 10,000) within a budget of 2000 ms: 20 settings, 34 calls in "
                      "all, 3 rounds of successive halving.", text)
        self.assertIn("**Best setting:** the threads backend, 4 threads, schedule dynamic, "
                      "chunk 1: 16.4 ms per call (257 µs per item), the median of 4 calls; "
                      "3.89× the serial backend's 64 ms (efficiency 97%).", text)
        self.assertIn("`parmap::options{.backend = parmap::backend::threads, .threads = 4, "
                      ".chunk = 1, .schedule = parmap::schedule::dynamic}`", text)
        self.assertIn("With parmap's defaults on this machine (the threads backend, 4 threads, "
                      "schedule automatic, chunk automatic) a call takes 18.2 ms, 1.11× the best "
                      "setting's time.", text)
        self.assertIn("| 1 | threads ★ | 4 | dynamic | 1 | 16.4 ms | 4 | 2% | 3.89× |", text)
        self.assertIn("| 18 | serial | 1 | automatic | auto | 64 ms | 3 | 2% | 1.00× |", text)
        self.assertIn("| mode | parmap::tune, successive halving, 3 rounds within 2000 ms; thread "
                      "counts 1,2,4 |", text)
        self.assertIn("| resize-images | tbb | 3.68× | 92% |", text)  # scaling at full threads
        self.assertIn("| resize-images | 0.041 | 0.039 |", text)  # Amdahl fit
        self.assertIn("| threads | 18.2 ms | 16.4 ms | dynamic, 1 | 1.11× ⚠ | 10 |", text)
        for graph in ("speedup", "efficiency", "amdahl", "chunks-resize-images"):
            self.assertIn(graph + ".png", files)
            self.assertIn(graph + ".svg", files)
            self.assertIn(f"({graph}.png)", text)

    def test_nothing_of_parmap_bench_in_a_tune_report(self):
        text, files = self.report()
        for word in ("Overhead", "overhead ratio", "hand-written", "raw_", "latency", "idle",
                     "wake", "Memory", "triangular", "Mandelbrot", "placement", "sleeping",
                     "| flags |", "git commit", "`?`", "µs/item", "us/item", "repetitions;"):
            self.assertNotIn(word, text)
        self.assertEqual({f for f in files if f.endswith(".png")},
                         {"speedup.png", "efficiency.png", "amdahl.png",
                          "chunks-resize-images.png"})

    def test_default_folder_is_named_after_the_workload(self):
        import report
        self.assertEqual(os.path.relpath(report.default_out(pr.load(TUNE_FIXTURE)), report.REPO),
                         os.path.join("results", "resize-images-tunehost-2026-03-04"))
        bench = pr.load(BENCH_FIXTURE)
        self.assertEqual(os.path.relpath(report.default_out(bench), report.REPO),
                         os.path.join("results", "fixturehost-2026-01-02"))

    def test_a_faster_median_than_tunes_choice_is_pointed_out(self):
        data = tune_data()
        for entry in data["benchmarks"]:
            if "/threads:4/schedule:guided/chunk:0/" in entry["name"]:
                entry["real_time"] = 16.0e6
        text, _ = self.report(data)
        self.assertIn("The fastest median, 16 ms (the threads backend, 4 threads, schedule "
                      "guided, chunk automatic), is not tune's choice: it rests on 1 call "
                      "against 4", text)
        self.assertIn("| 2 | threads ★ | 4 | dynamic | 1 |", text)

    def test_a_workload_named_compute_is_the_users(self):
        import parmap_plots as plots
        data = renamed(tune_data(), "compute")
        run = pr.from_json(data)
        self.assertEqual(plots.workload_title([run], "compute"), "compute (64 items per call)")
        text, files = self.report(data)
        self.assertIn("## Tuning: compute", text)
        self.assertNotIn("compute-bound", text)
        self.assertIn("chunks-compute.png", files)

    def test_a_run_of_the_serial_backend_alone(self):
        data = tune_data()
        data["context"]["tune_best"] = data["benchmarks"][0]["name"]
        data["benchmarks"] = [e for e in data["benchmarks"] if "/serial/" in e["name"]]
        text, files = self.report(data)
        self.assertIn("**Best setting:** the serial backend: 64 ms per call", text)
        self.assertIn("`parmap::options{.backend = parmap::backend::serial}`", text)
        self.assertIn("No parallel case at the full thread count beside a serial one", text)
        self.assertNotIn("speedup.png", files)

    def test_a_users_workload_in_a_parmap_bench_run(self):
        with open(BENCH_FIXTURE, encoding="utf-8") as f:
            data = json.load(f)
        data["benchmarks"] += tune_data()["benchmarks"]
        text, files = self.report(data)
        self.assertIn("## Schedule and chunk size: resize-images", text)
        self.assertIn("chunks-resize-images.png", files)
        # That run's full thread count is 2.
        self.assertIn("| resize-images | threads | 1.94× | 97% |", text)
        self.assertIn("## Overhead against the hand-written loops", text)  # parmap-bench's own


@unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed for this python")
class TuneCompare(unittest.TestCase):
    def compare(self, second, *extra):
        """compare.md of the tune fixture against `second` (JSON data), and the files."""
        import compare
        with tempfile.TemporaryDirectory() as out:
            path = write_json(second, out, "second.json")
            with redirect_stdout(io.StringIO()):
                self.assertEqual(compare.main([TUNE_FIXTURE, path, "--labels", "a,b", "--out", out]
                                              + list(extra)), 0)
            with open(os.path.join(out, "compare.md"), encoding="utf-8") as f:
                return f.read(), set(os.listdir(out))

    def test_two_commits_of_the_users_code(self):
        data = tune_data()
        for entry in data["benchmarks"]:
            if entry["name"].split("/")[1] != "serial":
                entry["real_time"] *= 0.8  # the parallel part got faster
        text, files = self.compare(data)
        self.assertIn("compare-speedup.png", files)
        self.assertIn("![scaling compared](compare-speedup.png)", text)
        self.assertIn("## What parmap::tune chose", text)
        self.assertIn("| a | resize-images | 64 | `resize-images/threads/n:64/api:map/threads:4/"
                      "schedule:dynamic/chunk:1` | 16.4 ms | 3.89× |", text)
        self.assertIn("| b | resize-images | 64 |", text)
        self.assertIn("| parmap 0.2.0 |", text)
        # The scaling cases and tune's choice, by default; the serial baseline unchanged.
        self.assertIn("## Time ratios (8 shared cases; > 1: slower than a)", text)
        self.assertIn("| resize-images/serial/n:64/api:map/threads:1 | 64 ms | 64 ms | 1.00× |",
                      text)
        self.assertIn("| resize-images/threads/n:64/api:map/threads:4/schedule:dynamic/chunk:1 ★ "
                      "| 16.4 ms | 13.2 ms | 0.80× |", text)
        self.assertNotIn("Harness settings that differ", text)
        text, _ = self.compare(data, "--all")
        self.assertIn("## Time ratios (20 shared cases", text)

    def test_two_machines(self):
        # Another machine: 2 CPUs, so a scaling sweep to 2 threads and a chunk sweep at 2.
        data = tune_data()
        data["context"].update({"host_name": "small", "logical_cpus": "2",
                                "physical_cores": "2", "full_threads": "2",
                                "thread_counts": "1,2", "tune_best": BEST.replace(
                                    "threads:4/", "threads:2/")})
        data["benchmarks"] = [e for e in data["benchmarks"] if "/threads:4/" not in e["name"]]
        data["benchmarks"].append(dict(data["benchmarks"][-1], name=BEST.replace(
            "threads:4/", "threads:2/"), run_name=BEST.replace("threads:4/", "threads:2/"),
            real_time=32.0e6, repetitions=1, repetition_index=0))
        text, files = self.compare(data)
        self.assertIn("| `thread_counts` | 1,2,4 | 1,2 |", text)
        self.assertIn("## Time ratios (5 shared cases", text)  # serial, 1 and 2 threads
        self.assertIn("| b | resize-images | 64 | `resize-images/threads/n:64/api:map/threads:2/"
                      "schedule:dynamic/chunk:1` | 32 ms | 2.00× |", text)
        self.assertNotIn("★ |", text)  # each run's choice is its own

    def test_different_samples_are_not_like_for_like(self):
        data = tune_data()
        data["context"]["tune_items"] = "128"
        for entry in data["benchmarks"]:
            for key in ("name", "run_name"):
                entry[key] = entry[key].replace("/n:64/", "/n:128/")
        text, _ = self.compare(data)
        self.assertIn("| `tune_items` | 64 | 128 |", text)
        self.assertIn("The runs share no case: were they tuned on different workloads", text)


if __name__ == "__main__":
    unittest.main()
