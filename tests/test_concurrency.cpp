// Calls inside calls and calls from many threads at once, the thread limit, real parallelism,
// and idle workers that sleep, on every backend.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using parmap_test::all_schedules;
using parmap::schedule;
using namespace std::chrono_literals;


/// The largest number of threads seen inside fn at the same time.
class concurrency_meter {
 public:
  void enter() noexcept {
    const int now = active_.fetch_add(1) + 1;
    int seen = peak_.load();
    while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
    }
  }
  void leave() noexcept { active_.fetch_sub(1); }
  [[nodiscard]] int peak() const noexcept { return peak_.load(); }

 private:
  std::atomic<int> active_{0};
  std::atomic<int> peak_{0};
};

class Concurrency : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads, std::size_t chunk = 0,
                                     schedule s = schedule::automatic) const {
    return parmap::options{
        .backend = GetParam(), .threads = threads, .chunk = chunk, .schedule = s};
  }

  /// The backend `steps` places after this one in available_backends(), wrapping around.
  [[nodiscard]] backend other_backend(std::size_t steps) const {
    const auto available = parmap::available_backends();
    const auto here = std::find(available.begin(), available.end(), GetParam());
    const auto index = static_cast<std::size_t>(here - available.begin());
    return available[(index + steps) % available.size()];
  }
};

/// sum over c < 16 of (a * 10000 + b * 100 + c), the value the nested maps compute per (a, b).
std::int64_t expected_inner_sum(std::int64_t a, std::int64_t b) {
  return 16 * (a * 10000 + b * 100) + 120;
}

/// Three levels of parallel_map, each level with its own options, summing the innermost results.
std::vector<std::vector<std::int64_t>> nested_map(const parmap::options& outer,
                                                  const parmap::options& middle,
                                                  const parmap::options& inner) {
  return parmap::parallel_map(
      std::views::iota(std::int64_t{0}, std::int64_t{8}),
      [&](std::int64_t a) {
        return parmap::parallel_map(
            std::views::iota(std::int64_t{0}, std::int64_t{6}),
            [&, a](std::int64_t b) {
              const auto values = parmap::parallel_map(
                  std::views::iota(std::int64_t{0}, std::int64_t{16}),
                  [a, b](std::int64_t c) { return a * 10000 + b * 100 + c; }, inner);
              return std::accumulate(values.begin(), values.end(), std::int64_t{0});
            },
            middle);
      },
      outer);
}

void expect_nested_result(const std::vector<std::vector<std::int64_t>>& got) {
  ASSERT_EQ(got.size(), 8u);
  for (std::size_t a = 0; a < got.size(); ++a) {
    ASSERT_EQ(got[a].size(), 6u);
    for (std::size_t b = 0; b < got[a].size(); ++b) {
      EXPECT_EQ(got[a][b],
                expected_inner_sum(static_cast<std::int64_t>(a), static_cast<std::int64_t>(b)))
          << a << "," << b;
    }
  }
}

TEST_P(Concurrency, NestedCallsOnTheSameBackend) {
  for (schedule s : all_schedules) {
    SCOPED_TRACE(std::string(parmap::to_string(s)));
    expect_nested_result(nested_map(opts(3, 0, s), opts(2, 1, s), opts(3, 0, s)));
    expect_nested_result(nested_map(opts(8, 1, s), opts(8, 1, s), opts(8, 2, s)));
  }
}

TEST_P(Concurrency, NestedCallsOnMixedBackends) {
  const auto available = parmap::available_backends();
  for (std::size_t step = 1; step < available.size() + 1; ++step) {
    auto middle = opts(2, 1, schedule::dynamic);
    middle.backend = other_backend(step);
    auto inner = opts(3);
    inner.backend = other_backend(step + 1);
    SCOPED_TRACE(std::string(parmap::to_string(GetParam())) + " > " +
                 std::string(parmap::to_string(middle.backend)) + " > " +
                 std::string(parmap::to_string(inner.backend)));
    expect_nested_result(nested_map(opts(3), middle, inner));
  }
}

TEST_P(Concurrency, NestedErrorsReachTheOutermostCaller) {
  auto inner = opts(2, 1);
  inner.backend = other_backend(1);
  try {
    (void)parmap::parallel_map(
        std::views::iota(0, 10),
        [&](int a) {
          return parmap::parallel_map(
              std::views::iota(0, 10),
              [a](int b) {
                if (a >= 4 && b == 7) throw std::runtime_error(std::to_string(a));
                return a + b;
              },
              inner);
        },
        opts(3, 1));
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "4");
  }
}

// Eight outside threads call at once; each call must get its own results and its own errors.
TEST_P(Concurrency, ConcurrentCallsFromManyThreads) {
  constexpr int callers = 8, rounds = 12;
  std::atomic<int> wrong_results{0}, wrong_errors{0};
  std::atomic<int> ready{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < callers; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < callers) std::this_thread::yield();
        for (int r = 0; r < rounds; ++r) {
          const auto n = static_cast<std::size_t>(100 + 37 * t + 211 * r);
          const schedule s = all_schedules[static_cast<std::size_t>(t + r) % 4];
          const auto out = parmap::parallel_map(
              std::views::iota(std::size_t{0}, n),
              [t](std::size_t i) { return i * static_cast<std::size_t>(t + 1); },
              opts(1 + (t + r) % 3, static_cast<std::size_t>(r % 3) * 5, s));
          bool ok = out.size() == n;
          for (std::size_t i = 0; ok && i < n; ++i)
            ok = out[i] == i * static_cast<std::size_t>(t + 1);
          if (!ok) wrong_results.fetch_add(1);

          const auto fail_at = static_cast<std::size_t>(t * 10 + r);
          try {
            (void)parmap::parallel_map(
                std::views::iota(std::size_t{0}, n),
                [fail_at](std::size_t i) {
                  if (i >= fail_at) throw static_cast<int>(i);
                  return i;
                },
                opts(2, 4, s));
            wrong_errors.fetch_add(1);
          } catch (int i) {
            if (static_cast<std::size_t>(i) != fail_at) wrong_errors.fetch_add(1);
          }
        }
      });
    }
  }
  EXPECT_EQ(wrong_results.load(), 0);
  EXPECT_EQ(wrong_errors.load(), 0);
}

TEST_P(Concurrency, AtMostThreadsRunFnAtOnce) {
  for (int k : {1, 2, 3}) {
    for (schedule s : all_schedules) {
      concurrency_meter meter;
      const auto out = parmap::parallel_map(
          std::views::iota(0, 24),
          [&](int x) {
            meter.enter();
            std::this_thread::sleep_for(1ms);
            meter.leave();
            return x;
          },
          opts(k, 1, s));
      EXPECT_EQ(out.size(), 24u);
      EXPECT_LE(meter.peak(), k) << "threads=" << k << " " << parmap::to_string(s);
      EXPECT_GE(meter.peak(), 1);
    }
  }
}

// With threads = 8 and items that wait for each other, all 8 must be running at once, even on a
// machine with fewer CPUs: each item waits until the peak reaches 8 (or gives up after a long
// time, so a backend that cannot do it fails instead of hanging).
TEST_P(Concurrency, EightThreadsReallyRunTogether) {
  const int expected = GetParam() == backend::serial ? 1 : 8;
  for (schedule s : all_schedules) {
    concurrency_meter meter;
    const auto out = parmap::parallel_map(
        std::views::iota(0, 8),
        [&](int x) {
          meter.enter();
          const auto give_up = std::chrono::steady_clock::now() + 20s;
          while (meter.peak() < expected && std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(100us);
          }
          meter.leave();
          return x;
        },
        opts(8, 1, s));
    EXPECT_EQ(out.size(), 8u);
    EXPECT_EQ(meter.peak(), expected) << parmap::to_string(s);
  }
}

#ifndef PARMAP_TEST_SANITIZED
/// CPU time (user + system) this process has used so far, in seconds.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}
#endif

// After a call, the workers must go to sleep: over the next second the whole process may use
// only a little CPU. This measures CPU time, not wall time. Skipped under sanitizers, whose own
// background threads and slowed spinning would make the figure meaningless.
TEST_P(Concurrency, IdleWorkersSleep) {
#ifdef PARMAP_TEST_SANITIZED
  GTEST_SKIP() << "CPU time is not meaningful under a sanitizer";
#else
  const auto out = parmap::parallel_map(
      std::views::iota(0, 200000), [](int x) { return x * 2; }, opts(8));
  ASSERT_EQ(out.size(), 200000u);
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(1s);
  const double used = process_cpu_seconds() - before;
  EXPECT_LT(used, 0.25) << "CPU seconds used during 1 s of idleness after a call";
#endif
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Concurrency);

}  // namespace
