#pragma once
// The machinery of parmap-bench: its own flags, the implementations a case can run on (parmap
// backends and the raw loops beside them), case names, registration through Google Benchmark
// with the user's filter applied, and a progress display on stderr.
//
// Case names are '/'-separated: the workload, the implementation, then key:value parameters in
// a fixed order (n, api, threads, schedule, chunk, placement), e.g.
//   compute/tbb/n:1000/api:map/threads:2/schedule:automatic/chunk:0
// scripts/ reads results through these names only.

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <parmap/parmap.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "raw_loops.hpp"

namespace parmap::bench {

/// A bad command line: main prints the message and the usage, and exits with status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// What --quick and --full change besides the thread counts (see default_threads). The JSON
/// context records the settings a run used, so the scripts never restate them.
struct mode_defaults {
  const char* name;
  double min_time_s;  ///< --benchmark_min_time unless given
  int repetitions;    ///< --benchmark_repetitions unless given
  /// The ratios of the chunk ladders (see chunk_ladder) unless --chunks is given: the chunks
  /// sweep's, and the triangular and Mandelbrot sweeps'.
  std::size_t chunks_ladder_step;
  std::size_t imbalanced_ladder_step;
  std::size_t max_files;  ///< --max-files unless given
};

inline constexpr mode_defaults quick_mode{.name = "quick",
                                          .min_time_s = 0.05,
                                          .repetitions = 3,
                                          .chunks_ladder_step = 16,
                                          .imbalanced_ladder_step = 8,
                                          .max_files = 1000};
inline constexpr mode_defaults full_mode{.name = "full",
                                         .min_time_s = 0.25,
                                         .repetitions = 5,
                                         .chunks_ladder_step = 4,
                                         .imbalanced_ladder_step = 2,
                                         .max_files = 20000};

/// What to run, from parmap-bench's own flags (Google Benchmark's flags are left to it).
struct config {
  bool quick = false;
  std::string min_time;     ///< --benchmark_min_time in effect, as Google Benchmark gets it
  std::string repetitions;  ///< --benchmark_repetitions in effect, likewise
  std::vector<parmap::backend> backends;       ///< --backends, default every built-in backend
  std::vector<raw_loop> raws;                  ///< the raw partners of `backends`, plus raw_serial
  std::vector<int> threads;                    ///< the scaling sweep: --threads or the default rule
  int full_threads = 1;                        ///< "the whole machine": the usable logical CPUs
  std::vector<std::size_t> chunks;             ///< chunk sweep; 0 is automatic (--chunks)
  std::vector<std::size_t> imbalanced_chunks;  ///< the schedule x chunk sweep of imbalanced
  bool chunks_given = false;
  std::filesystem::path dir = "/usr/share/doc";  ///< --dir: the files workload's tree
  std::size_t max_files = 0;
  parmap::topology topo;
  std::string filter;  ///< --benchmark_filter, applied at registration as Google Benchmark does

  [[nodiscard]] const mode_defaults& mode() const noexcept {
    return quick ? quick_mode : full_mode;
  }
  /// Parallel backends among `backends` (those whose thread count means something).
  [[nodiscard]] std::vector<parmap::backend> parallel_backends() const;
  /// The sweep's thread counts that do not oversubscribe the machine.
  [[nodiscard]] std::vector<int> threads_up_to_cpus() const;
};

/// 0 (automatic), then the powers of `step` below `limit`, then `limit`: a chunk-size ladder.
[[nodiscard]] std::vector<std::size_t> chunk_ladder(std::size_t step, std::size_t limit);

/// Parses and removes parmap-bench's own flags from argv (leaving Google Benchmark's), and adds
/// the default --benchmark_min_time / --benchmark_repetitions of the mode unless given.
/// Returns std::nullopt after printing the help for --help. Throws usage_error.
[[nodiscard]] std::optional<config> parse_command_line(int& argc, char**& argv);

/// The usage text of parmap-bench.
[[nodiscard]] std::string usage();

/// One implementation a case runs on: a parmap backend or a hand-written loop.
struct impl {
  std::string name;  ///< backend name ("tbb") or raw loop name ("raw_tbb")
  bool raw = false;
  parmap::backend backend = parmap::backend::serial;
  raw_loop loop = raw_loop::serial;

  [[nodiscard]] static impl of(parmap::backend b);
  [[nodiscard]] static impl of(raw_loop r);
  [[nodiscard]] bool serial() const noexcept {
    return raw ? loop == raw_loop::serial : backend == parmap::backend::serial;
  }
};

/// The parameters of one case besides its workload and implementation.
struct params {
  std::size_t n = 0;
  std::string api = "into";  ///< "map" (allocates its result) or "into" (preallocated output)
  int threads = 1;
  parmap::schedule schedule = parmap::schedule::automatic;
  std::size_t chunk = 0;
  parmap::placement placement = parmap::placement::none;

  [[nodiscard]] parmap::options options(const impl& m) const {
    return parmap::options{.backend = m.backend,
                           .threads = threads,
                           .chunk = chunk,
                           .schedule = schedule,
                           .placement = placement};
  }
};

/// The case name of a workload on an implementation with these parameters (see above).
[[nodiscard]] std::string case_name(std::string_view workload, const impl& m, const params& p);

/// out[i] = fn(in[i]) by `m` with the parameters `p`: parallel_map_into or the raw loop.
/// `report`, if not null, is the parmap call's options::report.
template <class In, class Out, class F>
void run_into(const impl& m, const params& p, const In& in, Out& out, F& fn,
              parmap::call_report* report = nullptr) {
  if (m.raw) {
    raw_transform(m.loop, p.threads, in, out, fn);
  } else {
    parmap::options o = p.options(m);
    o.report = report;
    parmap::parallel_map_into(in, out, fn, o);
  }
}

/// Returns {fn(x) for x in in} by `m`: parallel_map, or a raw loop into a vector it allocates
/// the same way parallel_map does, so both pay for the same allocation.
template <class In, class F>
auto run_map(const impl& m, const params& p, const In& in, F& fn) {
  using T = std::decay_t<decltype(fn(in[0]))>;
  if (m.raw) {
    std::vector<T> out(in.size());
    raw_transform(m.loop, p.threads, in, out, fn);
    return out;
  }
  return parmap::parallel_map(in, fn, p.options(m));
}

/// Data built on first use, so that workloads the filter leaves out allocate nothing.
template <class T>
class lazy {
 public:
  explicit lazy(std::function<T()> make) : make_(std::move(make)) {}
  T& get() {
    if (!value_) value_ = std::make_unique<T>(make_());
    return *value_;
  }

 private:
  std::function<T()> make_;
  std::unique_ptr<T> value_;
};

template <class T>
using shared_lazy = std::shared_ptr<lazy<T>>;

template <class T, class Make>
shared_lazy<T> make_lazy(Make make) {
  return std::make_shared<lazy<T>>(std::function<T()>(std::move(make)));
}

/// The cases of one run: registers those the filter keeps, remembers their order and an
/// estimate of their cost for the progress display.
class registry {
 public:
  explicit registry(const config& cfg);

  /// Registers `fn` as a case named `name` if the filter keeps it. `seconds` estimates how long
  /// the case takes (all repetitions). Returns nullptr when the filter drops it.
  benchmark::internal::Benchmark* add(const std::string& name, double seconds,
                                      std::function<void(benchmark::State&)> fn);
  /// The same for a case timed by hand: `iterations` fixed iterations, manual time.
  benchmark::internal::Benchmark* add_manual(const std::string& name, double seconds,
                                             int iterations,
                                             std::function<void(benchmark::State&)> fn);

  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }
  [[nodiscard]] const std::vector<double>& estimates() const noexcept { return estimates_; }
  [[nodiscard]] const config& cfg() const noexcept { return cfg_; }
  /// Estimated seconds of one timed repetition of a case whose calls take `call_seconds`.
  [[nodiscard]] double estimate(double call_seconds) const;

 private:
  [[nodiscard]] bool keeps(const std::string& full_name) const;

  const config& cfg_;
  std::vector<std::string> names_;
  std::vector<double> estimates_;
  double min_time_ = 0.5;
  int repetitions_ = 1;
  bool negate_ = false;
  std::string pattern_;
};

/// Records a case's parameters as counters (numbers beside the name, for any reader).
void add_counters(benchmark::State& st, const params& p);

/// Runs `call` in the benchmark loop after one untimed warm-up call (thread pools, arenas and
/// pages are set up before timing), and records the case's parameters as counters.
template <class Call>
void timed_loop(benchmark::State& st, const params& p, Call&& call) {
  call();
  for (auto _ : st) {
    call();
    benchmark::ClobberMemory();
  }
  add_counters(st, p);
}

/// The input and output vectors of a map.
template <class In, class Out>
struct io {
  std::vector<In> in;
  std::vector<Out> out;
};

/// The memory-bound workload's item count, and its data (shared with the placement cases).
inline constexpr std::size_t memory_items = 20'000'000;
/// The traffic of one item of the memory-bound map: read x, write y (the write-allocate read
/// is not counted). The JSON context records it for the scripts' GB/s.
inline constexpr std::size_t memory_bytes_per_item = 2 * sizeof(double);
/// A guess of one memory-bound call over n items, for the progress display: ~4 GB/s.
[[nodiscard]] inline double memory_seconds(std::size_t n) noexcept {
  return static_cast<double>(n * memory_bytes_per_item) / 4e9;
}
[[nodiscard]] shared_lazy<io<double, double>> memory_data();

/// The (implementation, threads) pairs of a scaling sweep over `threads`: the serial ones at one
/// thread only, every selected parallel backend at each count, and the raw loops at each count
/// that does not oversubscribe the CPUs (raw OpenMP at every count: it oversubscribes plainly,
/// where a TBB arena would need a process-wide limit that parmap's own TBB arenas share).
[[nodiscard]] std::vector<std::pair<impl, int>> sweep(const config& cfg,
                                                      const std::vector<int>& threads);

// The workloads; each registers its cases (see workloads.hpp for what they compute).
void register_overhead(registry& reg);
void register_wake(registry& reg);
void register_memory(registry& reg);
void register_compute(registry& reg);
void register_imbalanced(registry& reg);
void register_latency(registry& reg);
void register_chunks(registry& reg);
void register_files(registry& reg);
void register_placement(registry& reg);
void register_stream(registry& reg);
void register_reduce(registry& reg);
void register_function_passing(registry& reg);

/// Adds the run's context to Google Benchmark's JSON: topology, CPUs, compiler, flags, build
/// type, backends and the raw loop each is measured against, git commit, and the mode's
/// settings. The workloads add their own parameters when they register.
void add_context(const config& cfg);

/// The cases that have finished in this process: Google Benchmark's run name (e.g.
/// "triangular/tbb/n:1000/.../real_time") and the median over its repetitions of the real time
/// of one iteration, in seconds. Filled by progress_reporter as each case ends, so a case can
/// compare itself with the cases run before it (the tune case with its workload's sweep).
[[nodiscard]] const std::map<std::string, double>& finished_cases();

/// A console reporter that also shows on stderr which case ran, how many are left, the elapsed
/// time and an estimate of the time left.
class progress_reporter : public benchmark::ConsoleReporter {
 public:
  explicit progress_reporter(const registry& reg);
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  void show(const std::string& last);

  std::vector<std::string> names_;
  std::vector<double> estimates_;
  double total_estimate_ = 0;
  double done_estimate_ = 0;
  std::size_t done_ = 0;
  bool tty_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace parmap::bench
