// parallel_for on every backend: every index exactly once for every size, schedule, chunk and
// thread count; signed, unsigned and mixed bounds and the index type f receives; bad bounds;
// writing in place; errors, stop and deadline; a differential check against the serial backend.
#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using parmap::schedule;
using parmap_test::all_schedules;
using parmap_test::invalid_argument_message;
using parmap_test::item_failed;

std::string describe(std::size_t n, int threads, std::size_t chunk, schedule s) {
  return "n=" + std::to_string(n) + " threads=" + std::to_string(threads) +
         " chunk=" + std::to_string(chunk) + " schedule=" + std::string(parmap::to_string(s));
}

/// Runs parallel_for(n, ...) and checks that every index in [0, n) was visited exactly once.
/// Reports the first bad index only.
void expect_each_index_once(const parmap::options& opt, std::size_t n) {
  SCOPED_TRACE(describe(n, opt.threads, opt.chunk, opt.schedule));
  std::vector<std::atomic<unsigned>> visits(n);
  parmap::parallel_for(
      n, [&](std::size_t i) { visits[i].fetch_add(1, std::memory_order_relaxed); }, opt);
  std::size_t bad = 0, first_bad = n;
  for (std::size_t i = 0; i < n; ++i) {
    if (visits[i].load(std::memory_order_relaxed) == 1) continue;
    ++bad;
    if (first_bad == n) first_bad = i;
  }
  EXPECT_EQ(bad, 0u) << "first bad index " << first_bad << " was visited "
                     << (first_bad < n ? visits[first_bad].load() : 0u) << " times";
}

/// Runs parallel_for(first, last, ...) and checks that f saw exactly the indices of
/// [first, last), each once, as values of type I.
template <class I, class First, class Last>
void expect_bounds_visited(const parmap::options& opt, First first, Last last) {
  SCOPED_TRACE("first=" + std::to_string(first) + " last=" + std::to_string(last));
  const auto n = static_cast<std::size_t>(static_cast<I>(last) - static_cast<I>(first));
  std::vector<std::atomic<unsigned>> visits(n);
  std::atomic<std::size_t> outside{0};
  parmap::parallel_for(
      first, last,
      [&](auto i) {
        static_assert(std::is_same_v<decltype(i), I>);
        if (i < static_cast<I>(first) || i >= static_cast<I>(last)) {
          outside.fetch_add(1);
          return;
        }
        visits[static_cast<std::size_t>(i - static_cast<I>(first))].fetch_add(1);
      },
      opt);
  EXPECT_EQ(outside.load(), 0u);
  std::size_t bad = 0;
  for (auto& v : visits) bad += v.load() != 1;
  EXPECT_EQ(bad, 0u);
}

class ParallelFor : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads = 2, std::size_t chunk = 0,
                                     schedule s = schedule::automatic) const {
    return parmap::options{
        .backend = GetParam(), .threads = threads, .chunk = chunk, .schedule = s};
  }

  /// Checks that the backend still loops correctly after a failed call.
  void expect_backend_still_works() const { expect_each_index_once(opts(3), 2000); }
};

// ---- sizes, schedules, chunks, threads --------------------------------------------------------

TEST_P(ParallelFor, EmptyLoopCallsNothing) {
  std::atomic<int> calls{0};
  auto count = [&](auto) { calls.fetch_add(1); };
  for (int threads : {1, 2, 8, -1}) {
    parmap::parallel_for(std::size_t{0}, count, opts(threads));
    parmap::parallel_for(0, count, opts(threads));
    parmap::parallel_for(5, 5, count, opts(threads));
    parmap::parallel_for(-7, -7, count, opts(threads));
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(ParallelFor, SingleIndex) {
  for (int threads : {1, 2, 8, -1}) {
    std::vector<int> seen;
    std::mutex m;
    parmap::parallel_for(
        41, 42,
        [&](int i) {
          std::lock_guard lock(m);
          seen.push_back(i);
        },
        opts(threads));
    EXPECT_EQ(seen, std::vector<int>{41});
  }
}

TEST_P(ParallelFor, FewerIndicesThanThreads) {
  for (const auto& c : parmap_test::fewer_items_than_threads()) {
    expect_each_index_once(opts(c.threads, c.chunk, c.schedule), c.n);
  }
}

TEST_P(ParallelFor, UnevenSplits) {
  for (const auto& c : parmap_test::uneven_splits()) {
    expect_each_index_once(opts(c.threads, c.chunk, c.schedule), c.n);
  }
}

TEST_P(ParallelFor, EveryScheduleChunkAndThreadCount) {
  for (const auto& c : parmap_test::every_schedule_chunk_and_thread_count()) {
    expect_each_index_once(opts(c.threads, c.chunk, c.schedule), c.n);
  }
}

TEST_P(ParallelFor, LargeLoop) {
  for (const auto& c : parmap_test::large_splits()) {
    expect_each_index_once(opts(c.threads, c.chunk, c.schedule), c.n);
  }
}

TEST_P(ParallelFor, DefaultOptionsUseTheDefaultBackend) {
  std::vector<int> out(100, 0);
  parmap::parallel_for(out.size(), [&](std::size_t i) { out[i] = static_cast<int>(i) * 2; });
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], 2 * static_cast<int>(i));
}

// Random sizes, bounds, chunks, thread counts and schedules; each writes its index's value in
// place, and the serial backend is the reference.
TEST_P(ParallelFor, MatchesSerialOnRandomCases) {
  std::mt19937_64 rng(20261121);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 200; ++trial) {
    const std::int64_t first = pick(-2000, 2000);
    const std::int64_t last = first + (pick(0, 3) == 0 ? pick(0, 16) : pick(0, 3000));
    const auto n = static_cast<std::size_t>(last - first);
    const std::size_t chunk = pick(0, 2) == 0 ? 0 : static_cast<std::size_t>(pick(1, 3010));
    const int threads = static_cast<int>(pick(-2, 8));
    const schedule s = all_schedules[static_cast<std::size_t>(pick(0, 3))];
    SCOPED_TRACE("trial " + std::to_string(trial) + ": first=" + std::to_string(first) + " " +
                 describe(n, threads, chunk, s));
    auto run = [&](backend b) {
      std::vector<std::int64_t> out(n, -1);
      parmap::parallel_for(
          first, last,
          [&](std::int64_t i) { out[static_cast<std::size_t>(i - first)] = i * i - 3 * i; },
          parmap::options{.backend = b, .threads = threads, .chunk = chunk, .schedule = s});
      return out;
    };
    const auto serial = run(backend::serial);
    for (std::size_t k = 0; k < n; ++k) {
      const auto i = first + static_cast<std::int64_t>(k);
      ASSERT_EQ(serial[k], i * i - 3 * i);
    }
    ASSERT_EQ(run(GetParam()), serial);
  }
}

// ---- bounds and the index type ----------------------------------------------------------------

TEST_P(ParallelFor, SignedBoundsAcrossZero) {
  expect_bounds_visited<int>(opts(3, 0, schedule::guided), -500, 501);
  expect_bounds_visited<long>(opts(3, 7, schedule::dynamic), -500L, 501L);
  expect_bounds_visited<short>(opts(2), short{-300}, short{300});
  expect_bounds_visited<signed char>(opts(3, 1), static_cast<signed char>(-128),
                                     static_cast<signed char>(127));
}

TEST_P(ParallelFor, BoundsAtTheEndsOfTheirTypes) {
  constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t top = std::numeric_limits<std::int64_t>::max();
  expect_bounds_visited<std::int64_t>(opts(3, 33), lowest, lowest + 1000);
  expect_bounds_visited<std::int64_t>(opts(3), top - 300, top);
  expect_bounds_visited<int>(opts(3), INT_MIN, INT_MIN + 777);
  constexpr std::uint64_t utop = std::numeric_limits<std::uint64_t>::max();
  expect_bounds_visited<std::uint64_t>(opts(3), utop - 77, utop);
}

// The count of a loop from far below zero to far above it does not fit the index type.
TEST_P(ParallelFor, LoopLongerThanTheIndexTypesMaximum) {
  constexpr signed char lo = -100, hi = 100;  // 200 indices, more than signed char's 127
  expect_bounds_visited<signed char>(opts(3, 9), lo, hi);
  expect_bounds_visited<short>(opts(2), short{-30000}, short{30000});
}

TEST_P(ParallelFor, IndexTypeIsTheBoundsCommonType) {
  std::vector<std::atomic<int>> seen(10);
  const std::size_t n = seen.size();
  // A literal 0 beside a std::size_t: the loop runs over std::size_t.
  parmap::parallel_for(
      0, n,
      [&](auto i) {
        static_assert(std::is_same_v<decltype(i), std::size_t>);
        seen[i].fetch_add(1);
      },
      opts(3));
  parmap::parallel_for(
      n,
      [&](auto i) {
        static_assert(std::is_same_v<decltype(i), std::size_t>);
        seen[i].fetch_add(1);
      },
      opts(3));
  parmap::parallel_for(
      10,
      [&](auto i) {
        static_assert(std::is_same_v<decltype(i), int>);
        seen[static_cast<std::size_t>(i)].fetch_add(1);
      },
      opts(3));
  parmap::parallel_for(
      0, 10L,
      [&](auto i) {
        static_assert(std::is_same_v<decltype(i), long>);
        seen[static_cast<std::size_t>(i)].fetch_add(1);
      },
      opts(3));
  for (auto& s : seen) EXPECT_EQ(s.load(), 4);
}

// A signed bound beside a narrower unsigned one: their common type is signed, and negative
// indices work.
TEST_P(ParallelFor, MixedSignednessWithASignedCommonType) {
  expect_bounds_visited<std::int64_t>(opts(3), std::int64_t{-40}, 60u);
  expect_bounds_visited<int>(opts(2), -5, static_cast<unsigned short>(5));
}

TEST_P(ParallelFor, NegativeBoundBesideAnUnsignedOneIsRejected) {
  std::atomic<int> calls{0};
  const std::string message = invalid_argument_message([&] {
    parmap::parallel_for(
        -1, std::size_t{5}, [&](std::size_t) { calls.fetch_add(1); }, opts());
  });
  EXPECT_NE(message.find("parmap::parallel_for"), std::string::npos) << message;
  EXPECT_NE(message.find("-1 and 5"), std::string::npos) << message;
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(ParallelFor, LastBelowFirstIsRejectedBeforeAnyCall) {
  std::atomic<int> calls{0};
  auto count = [&](auto) { calls.fetch_add(1); };
  const std::string message =
      invalid_argument_message([&] { parmap::parallel_for(10, 3, count, opts()); });
  EXPECT_NE(message.find("last (3) is less than first (10)"), std::string::npos) << message;
  const std::string unsigned_message = invalid_argument_message(
      [&] { parmap::parallel_for(std::size_t{7}, std::size_t{6}, count, opts()); });
  EXPECT_NE(unsigned_message.find("last (6) is less than first (7)"), std::string::npos)
      << unsigned_message;
  const std::string count_message =
      invalid_argument_message([&] { parmap::parallel_for(-3, count, opts()); });
  EXPECT_NE(count_message.find("n is -3"), std::string::npos) << count_message;
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(ParallelFor, BadOptionsAreRejectedBeforeAnyCall) {
  std::atomic<int> calls{0};
  auto opt = opts();
  opt.schedule = static_cast<schedule>(42);
  EXPECT_THROW(parmap::parallel_for(
                   100, [&](int) { calls.fetch_add(1); }, opt),
               std::invalid_argument);
  opt = opts();
  opt.threads = parmap::max_threads + 1;
  EXPECT_THROW(parmap::parallel_for(
                   100, [&](int) { calls.fetch_add(1); }, opt),
               std::invalid_argument);
  EXPECT_EQ(calls.load(), 0);
}

// ---- the body ---------------------------------------------------------------------------------

// The Mandelbrot shape: each call writes a whole row in place, nothing is returned.
TEST_P(ParallelFor, RowsWrittenInPlace) {
  constexpr std::size_t width = 301, height = 97;
  auto pixel = [](std::size_t x, std::size_t y) {
    return static_cast<unsigned char>((x * 31 + y * 17) % 251);
  };
  for (schedule s : all_schedules) {
    std::vector<unsigned char> image(width * height, 255);
    parmap::parallel_for(
        height,
        [&](std::size_t y) {
          unsigned char* row = &image[y * width];
          for (std::size_t x = 0; x < width; ++x) row[x] = pixel(x, y);
        },
        opts(3, 0, s));
    std::size_t wrong = 0;
    for (std::size_t y = 0; y < height; ++y) {
      for (std::size_t x = 0; x < width; ++x) wrong += image[y * width + x] != pixel(x, y);
    }
    EXPECT_EQ(wrong, 0u) << parmap::to_string(s);
  }
}

/// A functor that can be neither copied nor moved: parallel_for must use it where it is.
struct counter {
  counter() = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;
  void operator()(std::size_t i) { sum.fetch_add(i); }
  std::atomic<std::size_t> sum{0};
};

void add_to_total(std::size_t i);
std::atomic<std::size_t> total{0};
void add_to_total(std::size_t i) {
  total.fetch_add(i);
}

TEST_P(ParallelFor, AnyCallable) {
  counter c;
  parmap::parallel_for(std::size_t{1000}, c, opts(3, 7));
  EXPECT_EQ(c.sum.load(), 999u * 1000 / 2);

  total = 0;
  parmap::parallel_for(std::size_t{100}, &add_to_total, opts(2));
  EXPECT_EQ(total.load(), 99u * 100 / 2);
  total = 0;
  parmap::parallel_for(std::size_t{100}, parmap::fn<add_to_total>, opts(2));
  EXPECT_EQ(total.load(), 99u * 100 / 2);

  // What f returns is ignored.
  std::atomic<int> calls{0};
  parmap::parallel_for(
      50, [&](int i) { return calls.fetch_add(1) + i; }, opts(3));
  EXPECT_EQ(calls.load(), 50);
}

TEST_P(ParallelFor, NestedLoops) {
  constexpr std::size_t rows = 40, cols = 50;
  std::vector<std::atomic<int>> cells(rows * cols);
  parmap::parallel_for(
      rows,
      [&](std::size_t r) {
        parmap::parallel_for(
            cols, [&](std::size_t c) { cells[r * cols + c].fetch_add(1); }, opts(2));
      },
      opts(3));
  std::size_t bad = 0;
  for (auto& cell : cells) bad += cell.load() != 1;
  EXPECT_EQ(bad, 0u);
}

// ---- errors -----------------------------------------------------------------------------------

TEST_P(ParallelFor, OneIndexThrows) {
  for (schedule s : all_schedules) {
    for (int threads : {1, 2, 3}) {
      for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{16}}) {
        SCOPED_TRACE(describe(500, threads, chunk, s));
        try {
          parmap::parallel_for(
              500,
              [](int i) {
                if (i == 321) throw std::runtime_error("bad index " + std::to_string(i));
              },
              opts(threads, chunk, s));
          ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "bad index 321");
        }
      }
    }
  }
  expect_backend_still_works();
}

// The throwing indices are placed so that a thread starting in the middle of the loop meets its
// thrower long before the thread starting at 0 meets the lowest one.
TEST_P(ParallelFor, SeveralThrowLowestIndexWinsEveryTime) {
  constexpr std::array<std::size_t, 5> throwers = {330, 340, 510, 680, 990};
  std::size_t wrong = 0;
  for (int repeat = 0; repeat < 10; ++repeat) {
    for (schedule s : all_schedules) {
      for (int threads : {2, 3, 8}) {
        for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{64}}) {
          try {
            parmap::parallel_for(
                std::size_t{1000},
                [&](std::size_t i) {
                  for (std::size_t t : throwers) {
                    if (i == t) throw item_failed{i};
                  }
                },
                opts(threads, chunk, s));
            ADD_FAILURE() << "no exception";
          } catch (const item_failed& e) {
            if (e.index != 330) {
              ++wrong;
              ADD_FAILURE() << "saw index " << e.index << " instead of 330 with "
                            << describe(1000, threads, chunk, s);
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(wrong, 0u);
  expect_backend_still_works();
}

// The exception names the index of f's argument, also when the loop does not start at 0.
TEST_P(ParallelFor, LowestIndexWinsWithNegativeBounds) {
  for (int threads : {1, 3}) {
    try {
      parmap::parallel_for(
          -300, 300,
          [](int i) {
            if (i == -17 || i == 250) throw i;
          },
          opts(threads, 5, schedule::dynamic));
      ADD_FAILURE() << "no exception";
    } catch (int i) {
      EXPECT_EQ(i, -17);
    }
  }
}

TEST_P(ParallelFor, ChunksAfterTheFailureAreNotStarted) {
  for (schedule s : all_schedules) {
    std::atomic<std::size_t> calls{0};
    EXPECT_THROW(parmap::parallel_for(
                     std::size_t{1000},
                     [&](std::size_t i) {
                       calls.fetch_add(1);
                       if (i == 10) throw item_failed{i};
                     },
                     opts(1, 1, s)),
                 item_failed);
    EXPECT_EQ(calls.load(), 11u) << parmap::to_string(s);
  }
  expect_backend_still_works();
}

TEST_P(ParallelFor, EveryIndexBeforeTheFailureRuns) {
  constexpr std::size_t n = 1000, failing = 600;
  for (schedule s : all_schedules) {
    for (int threads : {2, 3, 8}) {
      std::vector<std::atomic<int>> visits(n);
      EXPECT_THROW(parmap::parallel_for(
                       n,
                       [&](std::size_t i) {
                         visits[i].fetch_add(1);
                         if (i == failing) throw item_failed{i};
                       },
                       opts(threads, 0, s)),
                   item_failed);
      std::size_t missed = 0, twice = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (i <= failing && visits[i].load() == 0) ++missed;
        if (visits[i].load() > 1) ++twice;
      }
      EXPECT_EQ(missed, 0u) << parmap::to_string(s) << " threads=" << threads;
      EXPECT_EQ(twice, 0u) << parmap::to_string(s) << " threads=" << threads;
    }
  }
}

// ---- stop and deadline ------------------------------------------------------------------------

TEST_P(ParallelFor, StopRequestedBeforeTheCallCancelsWithoutCallingF) {
  std::stop_source source;
  source.request_stop();
  std::atomic<int> calls{0};
  for (schedule s : all_schedules) {
    auto opt = opts(3, 0, s);
    opt.stop = source.get_token();
    EXPECT_THROW(parmap::parallel_for(
                     1000, [&](int) { calls.fetch_add(1); }, opt),
                 parmap::cancelled);
  }
  EXPECT_EQ(calls.load(), 0);
  expect_backend_still_works();
}

// After the request each of the other threads can finish at most the one index it had started.
TEST_P(ParallelFor, StopRequestedFromInsideFCancelsPromptly) {
  constexpr std::size_t n = 20000, stop_at = 100;
  for (schedule s : all_schedules) {
    for (int threads : {1, 2, 3}) {
      std::stop_source source;
      std::atomic<bool> requested{false};
      std::atomic<std::size_t> calls_after{0};
      auto opt = opts(threads, 1, s);
      opt.stop = source.get_token();
      EXPECT_THROW(parmap::parallel_for(
                       n,
                       [&](std::size_t i) {
                         if (requested.load()) calls_after.fetch_add(1);
                         if (i == stop_at) {
                           source.request_stop();
                           requested.store(true);
                         }
                       },
                       opt),
                   parmap::cancelled);
      EXPECT_LE(calls_after.load(), static_cast<std::size_t>(threads - 1))
          << parmap::to_string(s) << " threads=" << threads;
    }
  }
  expect_backend_still_works();
}

TEST_P(ParallelFor, ExceptionWinsOverCancellation) {
  std::stop_source source;
  auto opt = opts(2, 1);
  opt.stop = source.get_token();
  EXPECT_THROW(parmap::parallel_for(
                   1000,
                   [&](int i) {
                     if (i == 0) {
                       source.request_stop();
                       throw item_failed{0};
                     }
                   },
                   opt),
               item_failed);
}

TEST_P(ParallelFor, PassedDeadlineTimesOutWithoutCallingF) {
  std::atomic<int> calls{0};
  auto opt = opts(3);
  opt.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_THROW(parmap::parallel_for(
                   1000, [&](int) { calls.fetch_add(1); }, opt),
               parmap::timeout);
  EXPECT_EQ(calls.load(), 0);
  expect_backend_still_works();
}

// The indices sleep far longer in total than the deadline allows, so it passes during the
// call whatever the machine's speed.
TEST_P(ParallelFor, DeadlinePassingDuringTheCallTimesOut) {
  constexpr std::size_t n = 100000;
  std::atomic<std::size_t> calls{0};
  auto opt = opts(2, 1, schedule::dynamic);
  opt.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
  EXPECT_THROW(parmap::parallel_for(
                   n,
                   [&](std::size_t) {
                     calls.fetch_add(1);
                     std::this_thread::sleep_for(std::chrono::microseconds(500));
                   },
                   opt),
               parmap::timeout);
  EXPECT_LT(calls.load(), n);
  expect_backend_still_works();
}

PARMAP_INSTANTIATE_FOR_BACKENDS(ParallelFor);

// ---- compile-time contract -------------------------------------------------------------------

// Integers of every width and signedness are bounds; bool and characters are not numbers to
// loop over (and a range is parallel_map's, or a loop over its indices).
template <class B>
concept counts_with = requires(B b) { parmap::parallel_for(b, [](auto) {}); };
static_assert(counts_with<int> && counts_with<std::size_t> && counts_with<signed char> &&
              counts_with<unsigned short> && counts_with<std::int64_t>);
static_assert(!counts_with<bool> && !counts_with<char> && !counts_with<char32_t> &&
              !counts_with<double>);

}  // namespace
