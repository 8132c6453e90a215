#include "harness.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include "bench_git.hpp"

namespace parmap::bench {
namespace {

[[nodiscard]] std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(sep, start), text.size());
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

template <class T>
[[nodiscard]] T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    throw usage_error("parmap-bench: " + std::string(flag) +
                      " wants whole numbers separated by "
                      "commas, got '" +
                      std::string(text) + "'");
  }
  return value;
}

[[nodiscard]] std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += sep;
    out += parts[i];
  }
  return out;
}

template <class T>
[[nodiscard]] std::string join_numbers(const std::vector<T>& values) {
  std::vector<std::string> parts;
  for (const T v : values) parts.push_back(std::to_string(v));
  return join(parts, ",");
}

[[nodiscard]] std::vector<int> default_threads(bool quick, int logical, int physical) {
  std::set<int> counts;
  if (quick) {
    for (int t = 1; t <= logical; t *= 2) counts.insert(t);
    counts.insert(physical);
  } else {
    for (int t = 1; t <= logical; ++t) counts.insert(t);
  }
  counts.insert(logical);
  counts.insert(2 * logical);  // oversubscription: latency-bound work wants it, the rest not
  counts.insert(4 * logical);
  return {counts.begin(), counts.end()};
}

/// A number as a person writes it, and as Google Benchmark's flags take it: 0.05, 20, 1e+06.
[[nodiscard]] std::string format_number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

[[nodiscard]] std::string format_seconds(double s) {
  const auto total = static_cast<long>(s + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  return text;
}

}  // namespace

std::vector<std::size_t> chunk_ladder(std::size_t step, std::size_t limit) {
  std::vector<std::size_t> chunks{0};
  for (std::size_t c = 1; c < limit; c *= step) chunks.push_back(c);
  chunks.push_back(limit);
  return chunks;
}

// ---- config ------------------------------------------------------------------------------------

std::vector<parmap::backend> config::parallel_backends() const {
  std::vector<parmap::backend> out;
  for (const auto b : backends) {
    if (b != parmap::backend::serial) out.push_back(b);
  }
  return out;
}

std::vector<int> config::threads_up_to_cpus() const {
  std::vector<int> out;
  for (const int t : threads) {
    if (t <= full_threads) out.push_back(t);
  }
  return out;
}

std::string usage() {
  auto repetitions = [](const mode_defaults& m) {
    return std::to_string(m.repetitions) + " repetitions of at least " +
           format_number(m.min_time_s) + " s";
  };
  return R"(parmap-bench: parmap's benchmark harness, on Google Benchmark.

Usage: parmap-bench [--quick | --full] [--backends=LIST] [--threads=LIST] [--chunks=LIST]
                    [--dir=PATH] [--max-files=N] [Google Benchmark flags...]

  --quick            a short sweep (about 3 minutes on 2 cores): powers of two threads, few
                     chunk sizes, )" +
         repetitions(quick_mode) + R"(
  --full             the whole sweep (default): every thread count 1..CPUs plus 2x and 4x
                     oversubscription, a finer chunk ladder, )" +
         repetitions(full_mode) + R"(
  --backends=LIST    parmap backends to run, e.g. threads,openmp (default: all built in); the
                     hand-written loop beside each one runs too
  --threads=LIST     thread counts of the scaling sweeps, e.g. 1,2,4,8 (default: see above)
  --chunks=LIST      chunk sizes of the chunk and imbalanced sweeps, 0 meaning automatic
  --dir=PATH         the tree whose files the 'files' workload hashes (default /usr/share/doc)
  --max-files=N      hash at most N files of it (default )" +
         std::to_string(quick_mode.max_files) + " quick, " + std::to_string(full_mode.max_files) +
         R"( full)
  --help             this text

Google Benchmark's own flags work as usual, e.g.
  --benchmark_filter=REGEX       run only the cases whose name matches (a leading '-' negates)
  --benchmark_out=FILE --benchmark_out_format=json    the JSON that scripts/report.py reads
  --benchmark_repetitions=N --benchmark_min_time=SECONDS

Case names: WORKLOAD/IMPL/n:N/api:map|into/threads:T/schedule:S/chunk:C/placement:P where IMPL
is a backend (serial threads openmp tbb stdpar) or the loop beside it (raw_serial raw_openmp
raw_tbb raw_stdpar; 'copy' is the copy-bandwidth reference); overhead also has api
map_catching and into_catching (the map through parmap::catching) and map_wide and into_wide
(a plain map with 16-byte results, their control). Workloads: overhead wake memory
compute triangular mandelbrot latency chunks files placement-compute placement-memory.
Progress (case, cases left, elapsed, ETA) goes to stderr.
)";
}

std::optional<config> parse_command_line(int& argc, char**& argv) {
  config cfg;
  cfg.topo = parmap::detect_topology();
  cfg.full_threads = static_cast<int>(std::max(parmap::usable_cpus(), 1u));
  std::optional<std::vector<parmap::backend>> backends;
  std::optional<std::vector<int>> threads;
  std::optional<std::vector<std::size_t>> chunks;
  std::optional<std::size_t> max_files;
  bool has_display = false;

  static std::vector<std::string> kept;  // argv for Google Benchmark must outlive main's use
  kept.assign(argv, argv + 1);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value_of = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (arg.substr(0, flag.size()) != flag) return std::nullopt;
      if (arg.size() == flag.size() || arg[flag.size()] != '=') {
        throw usage_error("parmap-bench: " + std::string(flag) +
                          " needs a value: " + std::string(flag) + "=...");
      }
      return arg.substr(flag.size() + 1);
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << usage();
      return std::nullopt;
    } else if (arg == "--quick") {
      cfg.quick = true;
    } else if (arg == "--full") {
      cfg.quick = false;
    } else if (auto list_text = value_of("--backends")) {
      std::vector<parmap::backend> list;
      for (const auto& name : split(*list_text, ',')) {
        parmap::backend b{};
        try {
          b = parmap::backend_from_string(name);
        } catch (const std::invalid_argument& e) {
          throw usage_error(std::string("parmap-bench: --backends: ") + e.what());
        }
        if (!parmap::is_available(b)) {
          std::vector<std::string> names;
          for (const auto a : parmap::available_backends()) names.emplace_back(to_string(a));
          throw usage_error("parmap-bench: backend '" + name +
                            "' is not built in (available: " + join(names, ", ") + ")");
        }
        if (std::find(list.begin(), list.end(), b) == list.end()) list.push_back(b);
      }
      backends = list;
    } else if (auto counts_text = value_of("--threads")) {
      std::vector<int> list;
      for (const auto& t : split(*counts_text, ',')) {
        const int n = parse_number<int>("--threads", t);
        if (n < 1 || n > parmap::max_threads) {
          throw usage_error("parmap-bench: --threads wants counts from 1 to " +
                            std::to_string(parmap::max_threads) + ", got " + t);
        }
        list.push_back(n);
      }
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      threads = list;
    } else if (auto chunks_text = value_of("--chunks")) {
      std::vector<std::size_t> list;
      for (const auto& c : split(*chunks_text, ','))
        list.push_back(parse_number<std::size_t>("--chunks", c));
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      chunks = list;
    } else if (auto dir_text = value_of("--dir")) {
      if (dir_text->empty()) throw usage_error("parmap-bench: --dir needs a directory");
      cfg.dir = std::string(*dir_text);
    } else if (auto files_text = value_of("--max-files")) {
      max_files = parse_number<std::size_t>("--max-files", *files_text);
      if (*max_files == 0) throw usage_error("parmap-bench: --max-files must be at least 1");
    } else {
      // Google Benchmark takes its flags as --name=value only.
      constexpr std::string_view min_time_flag = "--benchmark_min_time=";
      constexpr std::string_view repetitions_flag = "--benchmark_repetitions=";
      if (arg.starts_with(min_time_flag)) cfg.min_time = arg.substr(min_time_flag.size());
      if (arg.starts_with(repetitions_flag)) cfg.repetitions = arg.substr(repetitions_flag.size());
      if (arg.starts_with("--benchmark_display_aggregates_only")) has_display = true;
      if (arg.starts_with("--benchmark_filter=")) cfg.filter = arg.substr(19);
      if (arg.starts_with("--") && !arg.starts_with("--benchmark_") && !arg.starts_with("--v")) {
        throw usage_error("parmap-bench: unknown flag " + std::string(arg));
      }
      kept.emplace_back(arg);
    }
  }
  if (cfg.min_time.empty()) {
    cfg.min_time = format_number(cfg.mode().min_time_s);
    kept.emplace_back("--benchmark_min_time=" + cfg.min_time);
  }
  if (cfg.repetitions.empty()) {
    cfg.repetitions = std::to_string(cfg.mode().repetitions);
    kept.emplace_back("--benchmark_repetitions=" + cfg.repetitions);
  }
  if (!has_display) kept.emplace_back("--benchmark_display_aggregates_only=true");

  static std::vector<char*> pointers;
  pointers.clear();
  for (auto& s : kept) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  argc = static_cast<int>(kept.size());
  argv = pointers.data();

  cfg.backends = backends ? *backends : parmap::available_backends();
  cfg.raws = {raw_loop::serial};
  for (const auto b : cfg.backends) {
    const raw_loop r = partner_of(b);
    if (std::find(cfg.raws.begin(), cfg.raws.end(), r) == cfg.raws.end()) cfg.raws.push_back(r);
  }
  const auto available = available_raw_loops();
  std::erase_if(cfg.raws, [&](raw_loop r) {
    return std::find(available.begin(), available.end(), r) == available.end();
  });
  const int physical = static_cast<int>(std::max(cfg.topo.physical_cores, 1u));
  cfg.threads =
      threads ? *threads
              : default_threads(cfg.quick, cfg.full_threads, std::min(physical, cfg.full_threads));
  cfg.chunks_given = chunks.has_value();
  if (chunks) {
    cfg.chunks = *chunks;
    cfg.imbalanced_chunks = *chunks;
  }
  cfg.max_files = max_files ? *max_files : cfg.mode().max_files;
  return cfg;
}

// ---- implementations and names -----------------------------------------------------------------

impl impl::of(parmap::backend b) {
  return impl{
      .name = std::string(to_string(b)), .raw = false, .backend = b, .loop = raw_loop::serial};
}

impl impl::of(raw_loop r) {
  return impl{.name = std::string(to_string(r)),
              .raw = true,
              .backend = parmap::backend::serial,
              .loop = r};
}

std::string case_name(std::string_view workload, const impl& m, const params& p) {
  std::ostringstream s;
  s << workload << '/' << m.name << "/n:" << p.n << "/api:" << p.api << "/threads:" << p.threads;
  s << "/schedule:" << to_string(p.schedule) << "/chunk:" << p.chunk;
  s << "/placement:" << to_string(p.placement);
  return s.str();
}

// ---- registry
// ------------------------------------------------------------------------------------

registry::registry(const config& cfg) : cfg_(cfg) {
  // The effective settings, as Google Benchmark parsed them, for the estimates.
  min_time_ = cfg.mode().min_time_s;
  repetitions_ = cfg.mode().repetitions;
  std::string f = cfg.filter;
  if (!f.empty() && f[0] == '-') {
    negate_ = true;
    f.erase(0, 1);
  }
  if (f == "all" || f == "." || f.empty()) f = "";
  pattern_ = f;
  try {
    (void)std::regex(pattern_, std::regex::extended);
  } catch (const std::regex_error& e) {
    throw usage_error("parmap-bench: --benchmark_filter '" + cfg.filter +
                      "' is not a regular expression: " + e.what());
  }
}

bool registry::keeps(const std::string& full_name) const {
  if (pattern_.empty()) return !negate_;
  const bool match = std::regex_search(full_name, std::regex(pattern_, std::regex::extended));
  return match != negate_;
}

double registry::estimate(double call_seconds) const {
  // Google Benchmark grows the iteration count until a repetition lasts min_time; the growth
  // steps cost about a third more.
  const double per_rep = std::max(min_time_, call_seconds) * 1.4 + call_seconds;
  return per_rep * repetitions_ + call_seconds;
}

benchmark::internal::Benchmark* registry::add(const std::string& name, double seconds,
                                              std::function<void(benchmark::State&)> fn) {
  // Wall-clock time decides how long a case runs: the default, the calling thread's CPU time,
  // barely grows while it waits for workers or sleeping items, and such cases would run for
  // five times --benchmark_min_time. Google Benchmark appends "/real_time" to the name.
  const std::string full = name + "/real_time";
  if (!keeps(full)) return nullptr;
  names_.push_back(full);
  estimates_.push_back(seconds);
  return benchmark::RegisterBenchmark(name.c_str(), std::move(fn))
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}

benchmark::internal::Benchmark* registry::add_manual(const std::string& name, double seconds,
                                                     int iterations,
                                                     std::function<void(benchmark::State&)> fn) {
  // Google Benchmark appends these to the names of such cases; the filter sees them too.
  const std::string full = name + "/iterations:" + std::to_string(iterations) + "/manual_time";
  if (!keeps(full)) return nullptr;
  names_.push_back(full);
  estimates_.push_back(seconds);
  return benchmark::RegisterBenchmark(name.c_str(), std::move(fn))
      ->Unit(benchmark::kMicrosecond)
      ->UseManualTime()
      ->Iterations(iterations);
}

void add_counters(benchmark::State& st, const params& p) {
  st.counters["workers"] = p.threads;  // "threads" is Google Benchmark's own field
  st.counters["n"] = static_cast<double>(p.n);
  st.counters["chunk"] = static_cast<double>(p.chunk);
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * static_cast<std::int64_t>(p.n));
}

std::vector<std::pair<impl, int>> sweep(const config& cfg, const std::vector<int>& threads) {
  // The serial implementations run once, at one thread, whatever the list: they are the
  // baseline of every speedup.
  std::vector<std::pair<impl, int>> out;
  for (const auto b : cfg.backends) {
    if (b == parmap::backend::serial) out.emplace_back(impl::of(b), 1);
  }
  out.emplace_back(impl::of(raw_loop::serial), 1);
  for (const int t : threads) {
    for (const auto b : cfg.parallel_backends()) out.emplace_back(impl::of(b), t);
    for (const auto r : cfg.raws) {
      if (r == raw_loop::serial) continue;
      if (r == raw_loop::openmp || t <= cfg.full_threads) out.emplace_back(impl::of(r), t);
    }
  }
  return out;
}

// ---- context
// -------------------------------------------------------------------------------------

void add_context(const config& cfg) {
  // The machine (topology, CPUs, quota, backends) as the library describes it, the same keys
  // as parmap::tune's JSON. A bad PARMAP_NUM_THREADS throws here, ending the run with its
  // message before any case.
  for (const auto& [key, value] : parmap::describe_machine()) {
    benchmark::AddCustomContext(key, value);
  }
  benchmark::AddCustomContext("compiler", PARMAP_BENCH_COMPILER);
  benchmark::AddCustomContext("cxx_flags", PARMAP_BENCH_CXX_FLAGS);
  benchmark::AddCustomContext("build_type", PARMAP_BENCH_BUILD_TYPE);
  std::vector<std::string> run;
  for (const auto b : cfg.backends) run.emplace_back(to_string(b));
  benchmark::AddCustomContext("backends_run", join(run, ","));
  // The pairs the overhead ratios are taken over, as backend=raw_loop,...: the scripts read
  // them here rather than keep a copy of partner_of.
  std::vector<std::string> pairs;
  for (const auto b : parmap::available_backends()) {
    pairs.push_back(std::string(to_string(b)) + "=" + std::string(to_string(partner_of(b))));
  }
  benchmark::AddCustomContext("overhead_reference", join(pairs, ","));
  benchmark::AddCustomContext("git_commit", PARMAP_BENCH_GIT_COMMIT);
  benchmark::AddCustomContext("git_dirty", PARMAP_BENCH_GIT_DIRTY ? "yes" : "no");
  benchmark::AddCustomContext("bench_mode", cfg.mode().name);
  benchmark::AddCustomContext("bench_min_time", cfg.min_time);
  benchmark::AddCustomContext("bench_repetitions", cfg.repetitions);
  if (cfg.chunks_given) {
    benchmark::AddCustomContext("chunk_sizes", join_numbers(cfg.chunks));
  } else {
    benchmark::AddCustomContext(
        "chunk_ladder_steps",
        "chunks=" + std::to_string(cfg.mode().chunks_ladder_step) +
            ",imbalanced=" + std::to_string(cfg.mode().imbalanced_ladder_step));
  }
  benchmark::AddCustomContext("thread_counts", join_numbers(cfg.threads));
  benchmark::AddCustomContext("full_threads", std::to_string(cfg.full_threads));
}

// ---- progress
// ------------------------------------------------------------------------------------

progress_reporter::progress_reporter(const registry& reg)
    : names_(reg.names()), estimates_(reg.estimates()), tty_(isatty(STDERR_FILENO) != 0) {
  for (const double e : estimates_) total_estimate_ += e;
}

bool progress_reporter::ReportContext(const Context& context) {
  start_ = std::chrono::steady_clock::now();
  std::fprintf(stderr, "parmap-bench: %zu cases, about %s by estimate\n", names_.size(),
               format_seconds(total_estimate_).c_str());
  const bool ok = ConsoleReporter::ReportContext(context);
  show("");
  return ok;
}

namespace {

std::map<std::string, double>& finished_case_times() {
  static std::map<std::string, double> times;
  return times;
}

}  // namespace

const std::map<std::string, double>& finished_cases() { return finished_case_times(); }

void progress_reporter::ReportRuns(const std::vector<Run>& runs) {
  if (tty_) std::fputs("\r\033[K", stderr);
  ConsoleReporter::ReportRuns(runs);
  std::fflush(stdout);
  if (runs.empty()) return;
  // The display gets either every repetition or only the aggregates
  // (--benchmark_display_aggregates_only): the median of the former, or the latter's median.
  std::vector<double> seconds;
  for (const Run& r : runs) {
    if (r.error_occurred || r.iterations <= 0) continue;
    if (r.run_type == Run::RT_Iteration ||
        (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median")) {
      seconds.push_back(r.real_accumulated_time / static_cast<double>(r.iterations));
    }
  }
  if (!seconds.empty()) {
    std::sort(seconds.begin(), seconds.end());
    const std::size_t mid = seconds.size() / 2;
    finished_case_times()[runs.front().run_name.str()] =
        seconds.size() % 2 == 1 ? seconds[mid] : (seconds[mid - 1] + seconds[mid]) / 2;
  }
  // One call per case, once all its repetitions have run.
  const std::string name = runs.front().run_name.str();
  const auto it = std::find(names_.begin(), names_.end(), name);
  done_estimate_ += it != names_.end() ? estimates_[static_cast<std::size_t>(it - names_.begin())]
                                       : total_estimate_ / static_cast<double>(names_.size());
  ++done_;
  show(name);
}

void progress_reporter::show(const std::string& last) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::size_t total = std::max(names_.size(), done_);
  // The estimates are scaled by how far off they have been so far.
  const double pace = done_estimate_ > 0 ? elapsed / done_estimate_ : 1.0;
  const double left = std::max(total_estimate_ - done_estimate_, 0.0) * pace;
  const std::string next = done_ < names_.size() ? names_[done_] : std::string("-");
  std::fprintf(stderr, "%s[%zu/%zu, %zu left] elapsed %s, ETA %s | done: %s | now: %s%s",
               tty_ ? "\r\033[K" : "", done_, total, total - done_, format_seconds(elapsed).c_str(),
               format_seconds(left).c_str(), last.empty() ? "-" : last.c_str(), next.c_str(),
               tty_ ? "" : "\n");
  std::fflush(stderr);
}

void progress_reporter::Finalize() {
  if (tty_) std::fputs("\n", stderr);
  ConsoleReporter::Finalize();
}

}  // namespace parmap::bench
