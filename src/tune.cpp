// parmap::tune's untyped half: which settings to measure, how many items a call gets, the
// successive-halving rounds within the budget, and the JSON that parmap-bench's scripts read.
#include "parmap/tune.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "join.hpp"
#include "json.hpp"
#include "parmap/backend.hpp"
#include "parmap/detail/assert.hpp"
#include "parmap/topology.hpp"

namespace parmap {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::nanoseconds;

/// The shortest measurement: a call shorter than this is repeated until the measurement lasts
/// this long, and the mean call counts. The clock reads and a pool's wake-up jitter (tens of
/// microseconds on the 2-core test machine) stay under a few percent of it.
constexpr nanoseconds min_measurement = std::chrono::milliseconds(1);

/// The probe that estimates an item's cost grows its sample until one serial call lasts this
/// long (or the input ends): long enough to average out the first calls' cache misses.
constexpr nanoseconds probe_target = std::chrono::milliseconds(2);

/// The share of the budget the first round may take before tune measures a sample instead of
/// the whole input. Each later round measures the faster half of the settings once more, and
/// the faster ones run shorter calls, so the rounds after the first take less than it did;
/// what is left goes to the last few settings, measured in turn until the budget ends. A
/// sample is the last resort: a chunk's effect on balance depends on the share of the input it
/// spans, which a sample only approximates, so the whole input is worth a few measurements
/// fewer.
constexpr double first_round_share = 0.6;

/// The fewest items of a sample (unless the input has fewer): with fewer, chunk sizes and
/// thread counts hardly differ.
constexpr std::size_t min_sample_per_thread = 16;

/// The chunk ladder's ratio: 0 (automatic), 1, 8, 64, ... as parmap-bench's quick imbalanced
/// sweep.
constexpr std::size_t chunk_ladder_step = 8;

/// After an OpenMP call, libgomp's idle threads keep spinning (GOMP_SPINCOUNT, 300,000 rounds
/// by default) and take CPU time from whatever runs next: on the 2-core test machine a threads
/// backend call of 5.0 ms took 9.1 ms right after an OpenMP call, and still did after an
/// untimed 5 ms call in between; with OMP_WAIT_POLICY=passive it took 5.1 ms. So a measurement
/// that follows OpenMP's waits this long first (each round measures OpenMP last), and so does
/// the caller's next call when tune ends.
constexpr auto openmp_spin_settle = std::chrono::milliseconds(20);

/// How many settings the final rounds keep measuring in turn, and how many measurements of
/// each are enough: a median of 15 is steady to about a percent on a quiet machine.
constexpr std::size_t finalists = 3;
constexpr std::size_t enough_measurements = 15;

struct candidate {
  tuned_setting setting;
  /// Estimated call time from the probe (ideal speedup), for sizing the sample.
  double speedup_guess = 1;
};

[[nodiscard]] nanoseconds median_of(std::vector<nanoseconds> v) {
  if (v.empty()) return nanoseconds::max();
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

void check_name(const std::string& name) {
  const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
  if (!ok) {
    throw std::invalid_argument("parmap::tune: tune_options::name '" + name +
                                "' must be letters, digits, '-', '_' or '.', and not empty");
  }
}

/// The thread counts of the scaling sweep: 1, 2, 4, ... below `full`, then full and 2 x full
/// (latency-bound work gains beyond the CPUs, and only it).
[[nodiscard]] std::vector<int> thread_ladder(int full) {
  std::vector<int> out;
  for (int t = 1; t < full; t *= 2) out.push_back(t);
  out.push_back(full);
  out.push_back(2 * full);
  return out;
}

/// 0 (automatic), 1, 8, 64, ... below one block per thread, then one block per thread.
[[nodiscard]] std::vector<std::size_t> chunk_ladder(std::size_t items, int threads) {
  const std::size_t block = std::max<std::size_t>(items / static_cast<std::size_t>(threads), 1);
  std::vector<std::size_t> out{0};
  for (std::size_t c = 1; c < block; c *= chunk_ladder_step) out.push_back(c);
  out.push_back(block);
  return out;
}

[[nodiscard]] options setting(backend b, int threads, schedule s, std::size_t chunk) {
  return options{.backend = b, .threads = threads, .chunk = chunk, .schedule = s};
}

class search {
 public:
  search(std::size_t n, const tune_options& topt, detail::tune_call call, void* ctx)
      : n_(n),
        topt_(topt),
        call_(call),
        ctx_(ctx),
        start_(clock::now()),
        deadline_(start_ + topt.budget) {}

  tuning run(const char* compiler) {
    tuning out;
    out.name = topt_.name;
    out.input_items = n_;
    out.budget = topt_.budget;
    out.compiler = compiler;
    out.full_threads = resolve_threads(0);
    out.thread_counts = thread_ladder(out.full_threads);

    const double item_ns = probe();
    warm_up(out.full_threads);
    auto settings = candidates(out.full_threads, out.thread_counts, n_);
    const std::size_t sample = sample_size(settings, item_ns);
    if (sample != n_) settings = candidates(out.full_threads, out.thread_counts, sample);
    out.sample_items = sample;

    // Round 1 measures everything (the graphs need every point); each later round measures
    // the faster half again, while the budget lasts.
    std::vector<std::size_t> alive(settings.size());
    for (std::size_t i = 0; i < alive.size(); ++i) alive[i] = i;
    while (!alive.empty()) {
      ++out.rounds;
      // Backend by backend, OpenMP last: see openmp_spin_settle.
      std::vector<std::size_t> order = alive;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const backend x = settings[a].setting.options.backend;
        const backend y = settings[b].setting.options.backend;
        return std::pair(x == backend::openmp, x) < std::pair(y == backend::openmp, y);
      });
      for (const std::size_t k : order) {
        if (out.rounds > 1 && clock::now() >= deadline_) break;
        measure(settings[k].setting, sample);
      }
      if (clock::now() >= deadline_) break;
      std::stable_sort(alive.begin(), alive.end(), [&](std::size_t a, std::size_t b) {
        return settings[a].setting.median() < settings[b].setting.median();
      });
      if (alive.size() > finalists) {
        alive.resize(std::max(finalists, (alive.size() + 1) / 2));
      } else if (alive.size() == 1 ||
                 settings[alive.back()].setting.times.size() >= enough_measurements) {
        break;
      }
    }
    // The finalists (or the survivors, when the budget cut the rounds short) compete on
    // their medians.
    std::size_t best = 0;
    for (std::size_t i = 0; i < settings.size(); ++i) {
      const auto& s = settings[i].setting;
      const auto& b = settings[best].setting;
      if (s.times.size() > b.times.size() ||
          (s.times.size() == b.times.size() && s.median() < b.median())) {
        best = i;
      }
    }
    if (!settings.empty()) out.best = settings[best].setting.options;
    // A chunk of the sample spans the share of the input that the same chunk of the whole
    // would span times sample / input: scaled back, a chunk keeps its share (what balance
    // depends on), and holds as many more items (the scheduling cost per item only falls).
    if (sample != n_ && out.best.chunk != 0) {
      out.best.chunk = std::max<std::size_t>(
          1, static_cast<std::size_t>(
                 std::llround(static_cast<double>(out.best.chunk) * static_cast<double>(n_) /
                              static_cast<double>(sample))));
    }
    for (std::size_t i = 0; i < settings.size(); ++i) {
      if (settings[i].setting.times.empty()) continue;
      if (i == best) out.best_index = out.settings.size();
      out.settings.push_back(std::move(settings[i].setting));
    }
    settle(backend::serial);  // the caller's next call need not pay for OpenMP's spinning
    out.elapsed = clock::now() - start_;
    return out;
  }

 private:
  /// The cost of one item, from serial calls on growing samples; also the first calls of fn.
  double probe() {
    std::size_t items = 1;
    for (;;) {
      const auto t0 = clock::now();
      call_(ctx_, setting(backend::serial, 1, schedule::automatic, 0), items);
      const nanoseconds took = clock::now() - t0;
      if (took >= probe_target || items == n_) {
        return static_cast<double>(took.count()) / static_cast<double>(items);
      }
      items = std::min(n_, items * 2);
    }
  }

  /// One untimed call per parallel backend: pools, arenas and OpenMP teams exist before any
  /// measurement.
  void warm_up(int full) {
    for (const backend b : available_backends()) {
      if (b == backend::serial) continue;
      settle(b);
      call_(ctx_, setting(b, full, schedule::automatic, 0), std::min<std::size_t>(n_, 64));
    }
  }

  /// The serial baseline, the scaling sweep and the schedule x chunk sweep over `items`.
  [[nodiscard]] static std::vector<candidate> candidates(int full, const std::vector<int>& counts,
                                                         std::size_t items) {
    std::vector<candidate> out;
    auto add = [&](backend b, int threads, schedule s, std::size_t chunk) {
      const auto same = [&](const candidate& c) {
        const options& o = c.setting.options;
        return o.backend == b && o.threads == threads && o.schedule == s && o.chunk == chunk;
      };
      if (std::any_of(out.begin(), out.end(), same)) return;
      candidate c;
      c.setting.options = setting(b, threads, s, chunk);
      c.speedup_guess = static_cast<double>(std::min(threads, full));
      out.push_back(std::move(c));
    };
    add(backend::serial, 1, schedule::automatic, 0);
    for (const backend b : available_backends()) {
      if (b == backend::serial) continue;
      for (const int t : counts) add(b, t, schedule::automatic, 0);
      for (const schedule s :
           {schedule::automatic, schedule::static_, schedule::dynamic, schedule::guided}) {
        for (const std::size_t chunk : chunk_ladder(items, full)) add(b, full, s, chunk);
      }
    }
    return out;
  }

  /// The items of each measured call: the whole input when round 1 over it fits its share of
  /// the budget, else the most that fit, spread over it. When even the shortest measurements
  /// of every setting exceed the share, calls as long as one measurement: fewer items would
  /// make no measurement shorter.
  [[nodiscard]] std::size_t sample_size(const std::vector<candidate>& settings,
                                        double item_ns) const {
    const double left = static_cast<double>((deadline_ - clock::now()).count());
    const double share = std::max(0.0, left) * first_round_share;
    const auto floor_ns = static_cast<double>(min_measurement.count());
    // Round 1 costs the sum over settings of max(min_measurement, items * item_ns / speedup).
    auto round_cost = [&](std::size_t items) {
      double ns = 0;
      for (const auto& c : settings) {
        ns += std::max(floor_ns, static_cast<double>(items) * item_ns / c.speedup_guess);
      }
      return ns;
    };
    if (round_cost(n_) <= share) return n_;
    const std::size_t least = std::min(
        n_, min_sample_per_thread * static_cast<std::size_t>(std::max(1, resolve_threads(0))));
    if (round_cost(least) > share) {
      // The slowest setting (one thread) makes calls of one measurement's length.
      const double items = floor_ns / std::max(item_ns, 1e-3);
      return std::clamp<std::size_t>(static_cast<std::size_t>(items), least, n_);
    }
    std::size_t lo = least, hi = n_;  // round_cost(lo) <= share < round_cost(hi)
    while (hi - lo > 1) {
      const std::size_t mid = lo + (hi - lo) / 2;
      (round_cost(mid) <= share ? lo : hi) = mid;
    }
    return lo;
  }

  /// One measurement of `s`: calls over `items` items until min_measurement has passed.
  void measure(tuned_setting& s, std::size_t items) {
    settle(s.options.backend);
    std::size_t calls = 0;
    const auto t0 = clock::now();
    nanoseconds took{0};
    do {
      call_(ctx_, s.options, items);
      ++calls;
      took = clock::now() - t0;
    } while (took < min_measurement);
    s.times.push_back(took / calls);
    s.calls.push_back(calls);
  }

  /// Before a call on `next` (serial when tune ends): waits for OpenMP's threads to stop
  /// spinning when the last call was OpenMP's and this one is not (openmp_spin_settle).
  void settle(backend next) {
    if (last_backend_ == backend::openmp && next != backend::openmp) {
      std::this_thread::sleep_for(openmp_spin_settle);
    }
    last_backend_ = next;
  }

  const std::size_t n_;
  const tune_options& topt_;
  const detail::tune_call call_;
  void* const ctx_;
  const clock::time_point start_;
  const clock::time_point deadline_;
  backend last_backend_ = backend::serial;
};

}  // namespace

nanoseconds tuned_setting::median() const {
  return median_of(times);
}

const tuned_setting& tuning::best_setting() const {
  if (best_index >= settings.size()) {
    throw std::logic_error("parmap::tuning::best_setting: no setting was measured");
  }
  return settings[best_index];
}

std::string tuning::case_name(const tuned_setting& s) const {
  const options& o = s.options;
  return name + "/" + std::string(to_string(o.backend)) + "/n:" + std::to_string(sample_items) +
         "/api:map/threads:" + std::to_string(o.threads) +
         "/schedule:" + std::string(to_string(o.schedule)) + "/chunk:" + std::to_string(o.chunk) +
         "/placement:none";
}

namespace {

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", &local);
  std::string s = text;
  if (s.size() > 2) s.insert(s.size() - 2, ":");  // +0000 -> +00:00, as Google Benchmark
  return s;
}

}  // namespace

void tuning::write_json(const std::string& path) const {
  namespace json = detail::json;
  json::value context = json::object{{"date", now_iso8601()}};
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  context["host_name"] = host;
  context["executable"] = "parmap::tune";
  context["num_cpus"] = usable_cpus();
  for (auto& [key, fact] : describe_machine()) context[key] = std::move(fact);
  std::vector<backend> tuned;
  for (const auto& s : settings) {
    if (std::find(tuned.begin(), tuned.end(), s.options.backend) == tuned.end()) {
      tuned.push_back(s.options.backend);
    }
  }
  context["compiler"] = compiler;
  context["backends_run"] =
      detail::join(tuned, [](backend b) { return std::string(to_string(b)); });
  context["bench_mode"] = "tune";
  context["thread_counts"] = detail::join(thread_counts, [](int t) { return std::to_string(t); });
  context["full_threads"] = std::to_string(full_threads);
  context["tune_workload"] = name;
  context["tune_budget_ms"] = std::to_string(budget.count());
  context["tune_elapsed_ms"] =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  context["tune_items"] = std::to_string(sample_items);
  context["tune_input_items"] = std::to_string(input_items);
  context["tune_rounds"] = std::to_string(rounds);
  context["tune_best"] = settings.empty() ? std::string() : case_name(best_setting());

  // One Google Benchmark "iteration" entry per measurement, as parmap-bench's repetitions.
  json::array entries;
  for (const auto& s : settings) {
    const std::string case_ = case_name(s);
    for (std::size_t r = 0; r < s.times.size(); ++r) {
      const auto ns = static_cast<double>(s.times[r].count());
      entries.push_back(json::object{{"name", case_},
                                     {"run_name", case_},
                                     {"run_type", "iteration"},
                                     {"repetitions", s.times.size()},
                                     {"repetition_index", r},
                                     {"threads", 1},
                                     {"iterations", s.calls[r]},
                                     {"real_time", ns},
                                     {"cpu_time", ns},
                                     {"time_unit", "ns"},
                                     {"items", sample_items}});
    }
  }
  const json::value run =
      json::object{{"context", std::move(context)}, {"benchmarks", std::move(entries)}};

  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << json::write(run);
  file.close();
  if (!file) {
    throw std::runtime_error("parmap::tuning::write_json: cannot write '" + path + "'");
  }
}

namespace detail {

void remember(wisdom& stored, std::string_view name, const options& best) noexcept {
  try {
    stored.store(name, best);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parmap: warning: the tuned options for '%.*s' were not stored: %s\n",
                 static_cast<int>(name.size()), name.data(), e.what());
  }
}

tuning tune_search(std::size_t input_items, const tune_options& topt, const char* compiler,
                   tune_call call, void* ctx) {
  check_name(topt.name);
  if (input_items == 0) {
    throw std::invalid_argument("parmap::tune: the input is empty: there is nothing to measure");
  }
  if (topt.budget < std::chrono::milliseconds(1)) {
    throw std::invalid_argument(
        "parmap::tune: tune_options::budget = " + std::to_string(topt.budget.count()) +
        " ms is too short (at least 1 ms)");
  }
  return search(input_items, topt, call, ctx).run(compiler);
}

}  // namespace detail
}  // namespace parmap
