#pragma once
// Tuning the user's own map: parmap::tune runs fn over (a sample of) the input on every
// backend, at several thread counts, schedules and chunk sizes, within a time budget, and
// returns the best options and every measurement, as parmap-bench's JSON:
//
//   parmap::tuning t = parmap::tune(images, resize, {.name = "resize-images"});
//   auto out = parmap::parallel_map(images, resize, t.best);
//   t.write_json("resize.json");   // scripts/report.py resize.json draws the graphs
//
// fn is called many times over the same items: it must be repeatable (no side effects that a
// second call would repeat harmfully). To tune on part of the input, pass that part.

#include <chrono>
#include <cstddef>
#include <functional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parmap/detail/indexed_input.hpp"
#include "parmap/options.hpp"
#include "parmap/parallel_map.hpp"
#include "parmap/wisdom.hpp"

namespace parmap {

/// What parmap::tune may spend and how it names the results.
struct tune_options {
  /// The time tune may take, measurements and all (it ends within a few calls of it). The
  /// more items a call has and the costlier they are, the fewer settings the budget measures
  /// more than once; see tune.
  std::chrono::milliseconds budget{2000};
  /// The workload's name in the JSON (case names WORKLOAD/BACKEND/...): letters, digits and
  /// "-_." only, not empty.
  std::string name = "user";
};

/// One setting tune measured, and its measurements.
struct tuned_setting {
  parmap::options options;  ///< backend, threads, chunk and schedule of the calls
  /// The time of one call in each measurement. A measurement repeats a short call until it
  /// lasts about a millisecond, and records the mean.
  std::vector<std::chrono::nanoseconds> times;
  std::vector<std::size_t> calls;  ///< the calls each measurement made
  /// The median of times (the setting's figure), or nanoseconds::max() when unmeasured.
  [[nodiscard]] std::chrono::nanoseconds median() const;
};

/// What parmap::tune found.
struct tuning {
  /// The fastest setting, ready to pass to parallel_map over the whole input (placement none,
  /// no stop, deadline, progress or report). When a sample was measured, its chunk is scaled
  /// from the sample to the input (times input_items / sample_items), so that a chunk covers
  /// the same share of the input; best_setting() holds the chunk as measured.
  parmap::options best;
  /// Every setting measured, in the order first measured; the serial backend at one thread
  /// (the speedup baseline) comes first.
  std::vector<tuned_setting> settings;
  std::size_t best_index = 0;   ///< settings[best_index] is the best setting as measured
  std::string name;             ///< tune_options::name
  std::size_t input_items = 0;  ///< the input's size
  /// Items of each measured call: the whole input, or an evenly spread sample of it (every
  /// (input_items / sample_items)-th item) when the whole would not fit the budget.
  std::size_t sample_items = 0;
  int full_threads = 0;                 ///< threads = 0 on this machine (detect_cpu_allowance)
  std::vector<int> thread_counts;       ///< the scaling sweep's thread counts
  int rounds = 0;                       ///< successive-halving rounds run
  std::chrono::milliseconds budget{0};  ///< tune_options::budget
  std::chrono::nanoseconds elapsed{0};  ///< what tune took
  std::string compiler;                 ///< the compiler of the caller's code

  /// The best setting's entry in `settings` (its chunk as measured, on the sample).
  [[nodiscard]] const tuned_setting& best_setting() const;
  /// The case name of a setting, as parmap-bench names cases:
  /// NAME/BACKEND/n:ITEMS/api:map/threads:T/schedule:S/chunk:C/placement:none.
  [[nodiscard]] std::string case_name(const tuned_setting& s) const;
  /// Writes every measurement as Google Benchmark JSON with parmap-bench's context keys and
  /// case names (see bench/README.md), so that scripts/report.py draws this workload's
  /// speedup, chunk and Amdahl graphs and scripts/compare.py compares two machines or two
  /// commits. Throws std::runtime_error naming `path` when it cannot be written.
  void write_json(const std::string& path) const;
};

namespace detail {

/// One call of the user's map on `items` items of the input (spread over it) with `opt`.
using tune_call = void (*)(void* ctx, const options& opt, std::size_t items);

/// The search, compiled once: tune's untyped half.
[[nodiscard]] tuning tune_search(std::size_t input_items, const tune_options& topt,
                                 const char* compiler, tune_call call, void* ctx);

/// wisdom::store, with a failure to write the file told on stderr rather than thrown: the
/// options just tuned are still the caller's.
void remember(wisdom& stored, std::string_view name, const options& best) noexcept;

#if defined(__clang__)
inline constexpr const char* caller_compiler = "Clang " __clang_version__;
#elif defined(__GNUC__)
inline constexpr const char* caller_compiler = "GNU " __VERSION__;
#else
inline constexpr const char* caller_compiler = "unknown";
#endif

}  // namespace detail

/// Measures fn over `input` (the whole of it, or an evenly spread sample when the whole would
/// not fit the budget) on every backend built in: the serial backend; each parallel backend
/// at 1, 2, 4, ... threads up to the machine's (threads = 0) and twice that, automatic
/// schedule; and at the machine's thread count, every schedule over chunks 0 (automatic), 1,
/// 8, 64, ... up to one block per thread. Every setting is measured once, then the faster half
/// again, and so on (successive halving), until one is left or the budget is spent; the
/// fastest by median is `best`.
/// fn's results are computed and discarded; fn must be repeatable and safe to call
/// concurrently, as for parallel_map. Throws: std::invalid_argument for an empty input, a bad
/// name or a budget under 1 ms; whatever fn throws (tuning stops at the first failure).
template <std::ranges::input_range R, class F>
requires std::invocable<F&, std::ranges::range_reference_t<R>>
[[nodiscard]] tuning tune(R&& input, F&& fn, tune_options topt = {}) {
  detail::indexed_input<std::remove_reference_t<R>> in(input);
  const std::size_t n = in.size();
  struct context {
    decltype(in.items()) item;
    F& fn;
    std::size_t n;
  } ctx{in.items(), fn, n};
  constexpr detail::tune_call call = [](void* c, const options& opt, std::size_t items) {
    auto& x = *static_cast<context*>(c);
    // Items spread evenly over the input, so that a sample sees cheap and costly parts alike.
    // Item i of the sample is floor(i * n / items), written so that it cannot overflow.
    const std::size_t step = x.n / items, rest = x.n % items;
    auto pick = [&x, items, step, rest](std::size_t i) {
      const std::size_t at = items == x.n
                                 ? i
                                 : i * step + static_cast<std::size_t>(static_cast<double>(i) *
                                                                       static_cast<double>(rest) /
                                                                       static_cast<double>(items));
      return std::invoke(x.fn, x.item(at));
    };
    auto results = parallel_map(std::views::iota(std::size_t{0}, items), pick, opt);
    // Kept until here, so that the results are made as the user's own call makes them.
    static_cast<void>(results);
  };
  return detail::tune_search(n, topt, detail::caller_compiler, call, &ctx);
}

/// The options for the map called `name` on this machine, as FFTW's wisdom: those stored in
/// parmap::wisdom (PARMAP_WISDOM, else the user's cache; see wisdom::default_path) for `name`
/// and this machine_identity(); when there are none, tune(input, fn, topt) runs now and its
/// best options are stored for the next run. A corrupt or foreign wisdom file gives a warning
/// on stderr and a new tuning, never a crash; a file that cannot be written gives a warning and
/// the tuned options all the same. The same rules for fn as tune's.
/// Throws std::invalid_argument for a bad name (see wisdom) before anything runs; whatever tune
/// throws.
template <std::ranges::input_range R, class F>
requires std::invocable<F&, std::ranges::range_reference_t<R>>
[[nodiscard]] options tuned_options(std::string_view name, R&& input, F&& fn,
                                    tune_options topt = {}) {
  wisdom stored;
  if (auto known = stored.lookup(name)) return *known;
  const options best = tune(std::forward<R>(input), fn, std::move(topt)).best;
  detail::remember(stored, name, best);
  return best;
}

}  // namespace parmap
