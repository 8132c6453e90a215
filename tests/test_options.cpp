// The option rules: names of backends and schedules, thread-count resolution, options checked
// before any work on every backend, and progress reports.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap_test::invalid_argument_message;

using parmap::backend;
using parmap::schedule;

constexpr std::array every_backend = {backend::serial, backend::threads, backend::openmp,
                                      backend::tbb, backend::stdpar};


void expect_lists_available_backends(const std::string& message) {
  for (backend b : parmap::available_backends()) {
    EXPECT_NE(message.find(parmap::to_string(b)), std::string::npos)
        << "'" << message << "' does not name " << parmap::to_string(b);
  }
}

// ---- names ----------------------------------------------------------------------------------

TEST(BackendNames, RoundTrip) {
  for (backend b : every_backend) EXPECT_EQ(parmap::backend_from_string(parmap::to_string(b)), b);
  EXPECT_EQ(parmap::to_string(backend::serial), "serial");
  EXPECT_EQ(parmap::to_string(backend::threads), "threads");
  EXPECT_EQ(parmap::to_string(backend::openmp), "openmp");
  EXPECT_EQ(parmap::to_string(backend::tbb), "tbb");
  EXPECT_EQ(parmap::to_string(backend::stdpar), "stdpar");
  EXPECT_EQ(parmap::to_string(static_cast<backend>(42)), "unknown");
}

TEST(BackendNames, OmpIsAnAliasOfOpenmp) {
  EXPECT_EQ(parmap::backend_from_string("omp"), backend::openmp);
}

TEST(BackendNames, UnknownNameThrowsListingTheValidNames) {
  for (const char* bad : {"cuda", "", "Threads", "openmp ", "sequential"}) {
    const std::string message =
        invalid_argument_message([&] { (void)parmap::backend_from_string(bad); });
    for (backend b : every_backend) {
      EXPECT_NE(message.find(parmap::to_string(b)), std::string::npos)
          << "'" << message << "' does not name " << parmap::to_string(b);
    }
  }
}

TEST(ScheduleAndPlacementNames, AreTheDocumentedOnes) {
  EXPECT_EQ(parmap::to_string(schedule::automatic), "automatic");
  EXPECT_EQ(parmap::to_string(schedule::static_), "static");
  EXPECT_EQ(parmap::to_string(schedule::dynamic), "dynamic");
  EXPECT_EQ(parmap::to_string(schedule::guided), "guided");
  EXPECT_EQ(parmap::to_string(parmap::placement::none), "none");
  EXPECT_EQ(parmap::to_string(parmap::placement::spread), "spread");
  EXPECT_EQ(parmap::to_string(parmap::placement::close), "close");
}

// ---- availability and defaults --------------------------------------------------------------

TEST(Availability, SerialAndThreadsAlwaysInEnumOrder) {
  const auto available = parmap::available_backends();
  ASSERT_GE(available.size(), 2u);
  EXPECT_EQ(available[0], backend::serial);
  EXPECT_EQ(available[1], backend::threads);
  EXPECT_TRUE(std::is_sorted(available.begin(), available.end()));
  EXPECT_EQ(std::adjacent_find(available.begin(), available.end()), available.end());
  for (backend b : every_backend) {
    const bool listed = std::find(available.begin(), available.end(), b) != available.end();
    EXPECT_EQ(parmap::is_available(b), listed) << parmap::to_string(b);
  }
  EXPECT_FALSE(parmap::is_available(static_cast<backend>(42)));
}

TEST(Availability, ConfigMacrosAgree) {
  EXPECT_EQ(parmap::is_available(backend::openmp), PARMAP_HAS_OPENMP != 0);
  EXPECT_EQ(parmap::is_available(backend::tbb), PARMAP_HAS_TBB != 0);
  EXPECT_EQ(parmap::is_available(backend::stdpar), PARMAP_HAS_STDPAR != 0);
}

// CTest also runs this test with PARMAP_BACKEND=omp and PARMAP_BACKEND=cuda (see
// tests/CMakeLists.txt): the variable is read once per process.
TEST(Defaults, DefaultBackendIsTheBuildChoiceUnlessTheEnvironmentSaysOtherwise) {
  const char* env = std::getenv("PARMAP_BACKEND");
  const std::vector<int> in = {1, 2, 3};
  auto id = [](int x) { return x; };
  bool usable = false;
  if (env != nullptr && *env != '\0') {
    try {
      usable = parmap::is_available(parmap::backend_from_string(env));
    } catch (const std::invalid_argument&) {
    }
  }
  if (env == nullptr || *env == '\0') {
    EXPECT_EQ(parmap::default_backend(), parmap::backend_from_string(PARMAP_DEFAULT_BACKEND_NAME));
    EXPECT_TRUE(parmap::is_available(parmap::default_backend()));
  } else if (usable) {
    EXPECT_EQ(parmap::default_backend(), parmap::backend_from_string(env));
    EXPECT_EQ(parmap::parallel_map(in, id), in);
  } else {
    // A variable naming no built-in backend never silently runs elsewhere: every call on the
    // default fails, before any work, and says what is wrong; explicit backends still work.
    EXPECT_FALSE(parmap::is_available(parmap::default_backend()));
    int calls = 0;
    try {
      (void)parmap::parallel_map(in, [&](int x) { ++calls; return x; });
      ADD_FAILURE() << "a call on an unusable default backend ran";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("PARMAP_BACKEND=" + std::string(env)),
                std::string::npos)
          << e.what();
    }
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(parmap::parallel_map(in, id, {.backend = backend::threads}), in);
  }
}

TEST(Defaults, OptionsAreAutomatic) {
  const parmap::options opt;
  EXPECT_EQ(opt.backend, parmap::default_backend());
  EXPECT_EQ(opt.threads, 0);
  EXPECT_EQ(opt.chunk, 0u);
  EXPECT_EQ(opt.schedule, schedule::automatic);
  EXPECT_FALSE(opt.stop.stop_possible());
  EXPECT_FALSE(static_cast<bool>(opt.on_progress));
  EXPECT_EQ(opt.deadline, std::chrono::steady_clock::time_point::max());
  EXPECT_EQ(opt.placement, parmap::placement::none);

  // The documented member order, as designated initializers.
  const parmap::options named{
      .backend = backend::serial, .threads = 2, .chunk = 64, .schedule = schedule::dynamic};
  EXPECT_EQ(named.backend, backend::serial);
  EXPECT_EQ(named.threads, 2);
  EXPECT_EQ(named.chunk, 64u);
  EXPECT_EQ(named.schedule, schedule::dynamic);
}

// ---- thread counts --------------------------------------------------------------------------

TEST(Threads, UsableCpusIsTheAffinityMask) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(parmap::usable_cpus(), static_cast<unsigned>(CPU_COUNT(&set)));
  EXPECT_GE(parmap::usable_cpus(), 1u);
}

TEST(Threads, ResolveFollowsTheDocumentedRule) {
  // Counted from the affinity mask capped by the cgroup CPU quota; test_cpu_allowance covers
  // the quota and PARMAP_NUM_THREADS themselves.
  const char* env = std::getenv("PARMAP_NUM_THREADS");
  if (env != nullptr && *env != '\0') GTEST_SKIP() << "PARMAP_NUM_THREADS sets threads = 0";
  const parmap::cpu_allowance allowance = parmap::detect_cpu_allowance();
  int cpus = static_cast<int>(allowance.affinity_cpus);
  if (allowance.quota_cpus > 0) {
    cpus = std::clamp(static_cast<int>(std::ceil(allowance.quota_cpus)), 1, cpus);
  }
  EXPECT_EQ(parmap::resolve_threads(0), cpus);
  EXPECT_EQ(parmap::resolve_threads(-1), cpus);
  EXPECT_EQ(parmap::resolve_threads(-2), std::max(cpus - 1, 1));
  EXPECT_EQ(parmap::resolve_threads(-cpus), 1);
  EXPECT_EQ(parmap::resolve_threads(-cpus - 1), 1);
  EXPECT_EQ(parmap::resolve_threads(-1000), 1);
  EXPECT_EQ(parmap::resolve_threads(-parmap::max_threads), 1);
  for (int n = -cpus - 3; n < 0; ++n)
    EXPECT_EQ(parmap::resolve_threads(n), std::max(cpus + 1 + n, 1));
  EXPECT_EQ(parmap::resolve_threads(1), 1);
  EXPECT_EQ(parmap::resolve_threads(7), 7);
  EXPECT_EQ(parmap::resolve_threads(cpus + 5), cpus + 5);
  EXPECT_EQ(parmap::resolve_threads(parmap::max_threads), parmap::max_threads);
}

TEST(Threads, ResolveRejectsCountsBeyondTheMaximum) {
  for (int bad : {parmap::max_threads + 1, -parmap::max_threads - 1, 1 << 30, -(1 << 30)}) {
    const std::string message =
        invalid_argument_message([&] { (void)parmap::resolve_threads(bad); });
    EXPECT_NE(message.find(std::to_string(bad)), std::string::npos) << message;
  }
}

// ---- bad options, checked on every backend before any work --------------------------------

class Options : public testing::TestWithParam<backend> {
 protected:
  /// Runs a small map with `opt` and returns the std::invalid_argument message, checking that fn
  /// was never called, for both a non-empty and an empty input.
  static std::string rejected(const parmap::options& opt) {
    std::atomic<int> calls{0};
    auto fn = [&](int x) {
      calls.fetch_add(1);
      return x;
    };
    const std::string message = invalid_argument_message(
        [&] { (void)parmap::parallel_map(std::views::iota(0, 100), fn, opt); });
    std::vector<int> out(100);
    (void)invalid_argument_message(
        [&] { parmap::parallel_map_into(std::views::iota(0, 100), out, fn, opt); });
    (void)invalid_argument_message(
        [&] { (void)parmap::parallel_map(std::vector<int>{}, fn, opt); });
    EXPECT_EQ(calls.load(), 0);
    return message;
  }

  [[nodiscard]] parmap::options opts() const {
    return parmap::options{.backend = GetParam(), .threads = 2};
  }
};

TEST_P(Options, UnavailableBackendIsRejectedNamingTheAvailableOnes) {
  auto opt = opts();
  const auto available = parmap::available_backends();
  const auto missing = std::find_if(every_backend.begin(), every_backend.end(),
                                    [](backend b) { return !parmap::is_available(b); });
  opt.backend = missing != every_backend.end() ? *missing : static_cast<backend>(17);
  expect_lists_available_backends(rejected(opt));

  // A value outside the enum is rejected the same way, whatever is built in.
  opt.backend = static_cast<backend>(-1);
  expect_lists_available_backends(rejected(opt));
  opt.backend = static_cast<backend>(5);
  expect_lists_available_backends(rejected(opt));
}

TEST_P(Options, ThreadsBeyondTheMaximumAreRejected) {
  auto opt = opts();
  opt.threads = parmap::max_threads + 1;
  EXPECT_NE(rejected(opt).find("threads"), std::string::npos);
  opt.threads = -parmap::max_threads - 1;
  EXPECT_NE(rejected(opt).find("threads"), std::string::npos);
}

TEST_P(Options, ScheduleOutsideTheEnumIsRejected) {
  auto opt = opts();
  opt.schedule = static_cast<schedule>(9);
  EXPECT_NE(rejected(opt).find("schedule"), std::string::npos);
  opt.schedule = static_cast<schedule>(-3);
  EXPECT_NE(rejected(opt).find("schedule"), std::string::npos);
}

TEST_P(Options, PlacementOutsideTheEnumIsRejected) {
  auto opt = opts();
  opt.placement = static_cast<parmap::placement>(7);
  EXPECT_NE(rejected(opt).find("placement"), std::string::npos);
}

TEST_P(Options, ValidExtremesAreAccepted) {
  // More threads than items and than CPUs, chunks larger than the input, all-but-one threads.
  for (int threads : {-2, -parmap::max_threads, 64}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{1} << 40}) {
      auto opt = opts();
      opt.threads = threads;
      opt.chunk = chunk;
      const auto out = parmap::parallel_map(
          std::views::iota(0, 50), [](int x) { return x; }, opt);
      ASSERT_EQ(out.size(), 50u);
      for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], static_cast<int>(i));
    }
  }
}

// ---- progress ---------------------------------------------------------------------------------

struct progress_log {
  std::mutex mutex;
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  std::atomic<bool> inside{false};
  std::atomic<int> overlaps{0};
};

TEST_P(Options, ProgressIsMonotoneNeverConcurrentAndEndsAtTotal) {
  constexpr std::size_t n = 3000;
  for (schedule s : {schedule::automatic, schedule::dynamic, schedule::static_, schedule::guided}) {
    progress_log log;
    auto opt = opts();
    opt.threads = 3;
    opt.chunk = 10;
    opt.schedule = s;
    opt.on_progress = [&log](std::size_t done, std::size_t total) {
      if (log.inside.exchange(true)) log.overlaps.fetch_add(1);
      {
        std::lock_guard lock(log.mutex);
        log.calls.emplace_back(done, total);
      }
      // Stay inside long enough for an overlapping report to be caught.
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      log.inside.store(false);
    };
    const auto out = parmap::parallel_map(
        std::views::iota(std::size_t{0}, n),
        [](std::size_t i) {
          if (i % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
          return i;
        },
        opt);
    ASSERT_EQ(out.size(), n);
    SCOPED_TRACE(std::string(parmap::to_string(s)));
    EXPECT_EQ(log.overlaps.load(), 0);
    ASSERT_FALSE(log.calls.empty());
    for (std::size_t k = 0; k < log.calls.size(); ++k) {
      EXPECT_EQ(log.calls[k].second, n);
      EXPECT_LE(log.calls[k].first, n);
      if (k > 0) {
        EXPECT_GE(log.calls[k].first, log.calls[k - 1].first) << "report " << k;
      }
    }
    EXPECT_EQ(log.calls.back().first, n);
  }
}

TEST_P(Options, NoProgressReportForEmptyInputOrFailedCalls) {
  std::atomic<int> reports{0};
  auto opt = opts();
  opt.on_progress = [&](std::size_t, std::size_t) { reports.fetch_add(1); };
  (void)parmap::parallel_map(
      std::vector<int>{}, [](int x) { return x; }, opt);
  EXPECT_EQ(reports.load(), 0);

  // One thread, one item per chunk: the first item fails, so no later chunk starts and the
  // count can never reach the total.
  std::atomic<std::size_t> final_reports{0};
  opt.threads = 1;
  opt.chunk = 1;
  opt.on_progress = [&](std::size_t done, std::size_t total) {
    if (done == total) final_reports.fetch_add(1);
  };
  EXPECT_THROW((void)parmap::parallel_map(
                   std::views::iota(0, 100),
                   [](int x) {
                     if (x == 0) throw std::runtime_error("first");
                     return x;
                   },
                   opt),
               std::runtime_error);
  EXPECT_EQ(final_reports.load(), 0u);
}

TEST_P(Options, ThrowingProgressCallbackFailsTheCall) {
  auto opt = opts();
  opt.on_progress = [](std::size_t, std::size_t) { throw std::logic_error("progress broke"); };
  try {
    (void)parmap::parallel_map(
        std::views::iota(0, 1000), [](int x) { return x; }, opt);
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "progress broke");
  }
  const auto out = parmap::parallel_map(
      std::views::iota(0, 10), [](int x) { return x; }, opts());
  EXPECT_EQ(out.size(), 10u);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Options);

}  // namespace
