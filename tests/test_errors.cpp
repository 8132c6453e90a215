// Errors, cancellation and deadlines on every backend: the call throws exactly what a serial
// loop would have thrown, starts no chunk after the failure, and leaves the backend usable.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using parmap_test::item_failed;
using parmap_test::all_schedules;
using parmap::schedule;



/// A standard exception with a type of its own, to check that the type survives the trip.
class bad_item : public std::runtime_error {
 public:
  explicit bad_item(std::size_t i)
      : std::runtime_error("bad item " + std::to_string(i)), index(i) {}
  std::size_t index;
};

class Errors : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads = 2, std::size_t chunk = 0,
                                     schedule s = schedule::automatic) const {
    return parmap::options{
        .backend = GetParam(), .threads = threads, .chunk = chunk, .schedule = s};
  }

  /// Checks that the backend still maps correctly after a failed call.
  void expect_backend_still_works() const {
    const auto out = parmap::parallel_map(
        std::views::iota(0, 2000), [](int x) { return x + 1; }, opts(3));
    ASSERT_EQ(out.size(), 2000u);
    for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], static_cast<int>(i) + 1);
  }
};

TEST_P(Errors, OneItemThrows) {
  for (schedule s : all_schedules) {
    for (int threads : {1, 2, 3}) {
      for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{16}}) {
        SCOPED_TRACE(std::string(parmap::to_string(s)) + " threads=" + std::to_string(threads) +
                     " chunk=" + std::to_string(chunk));
        try {
          (void)parmap::parallel_map(
              std::views::iota(std::size_t{0}, std::size_t{500}),
              [](std::size_t i) {
                if (i == 321) throw bad_item(i);
                return i;
              },
              opts(threads, chunk, s));
          ADD_FAILURE() << "no exception";
        } catch (const bad_item& e) {
          EXPECT_EQ(e.index, 321u);
          EXPECT_STREQ(e.what(), "bad item 321");
        }
      }
    }
  }
  expect_backend_still_works();
}

// Several items throw; the caller must always see the lowest one, however the threads raced.
// The throwing items are placed so that a thread starting in the middle of the range meets its
// thrower long before the thread starting at 0 meets the lowest one.
TEST_P(Errors, SeveralThrowLowestIndexWinsEveryTime) {
  constexpr std::array<std::size_t, 5> throwers = {330, 340, 510, 680, 990};
  std::size_t wrong = 0, runs = 0;
  for (int repeat = 0; repeat < 15; ++repeat) {
    for (schedule s : all_schedules) {
      for (int threads : {2, 3, 8}) {
        for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{64}}) {
          ++runs;
          try {
            (void)parmap::parallel_map(
                std::views::iota(std::size_t{0}, std::size_t{1000}),
                [&](std::size_t i) {
                  for (std::size_t t : throwers) {
                    if (i == t) throw item_failed{i};
                  }
                  return i;
                },
                opts(threads, chunk, s));
            ADD_FAILURE() << "no exception";
          } catch (const item_failed& e) {
            if (e.index != 330) {
              ++wrong;
              ADD_FAILURE() << "saw item " << e.index << " instead of 330 with schedule "
                            << parmap::to_string(s) << " threads=" << threads << " chunk=" << chunk;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(wrong, 0u) << "of " << runs << " calls";
  expect_backend_still_works();
}

TEST_P(Errors, AllItemsThrowTheFirstWins) {
  for (schedule s : all_schedules) {
    for (int threads : {1, 2, 3, 8}) {
      for (int repeat = 0; repeat < 5; ++repeat) {
        try {
          (void)parmap::parallel_map(
              std::views::iota(std::size_t{0}, std::size_t{777}),
              [](std::size_t i) -> int { throw item_failed{i}; }, opts(threads, 0, s));
          ADD_FAILURE() << "no exception";
        } catch (const item_failed& e) {
          EXPECT_EQ(e.index, 0u) << parmap::to_string(s) << " threads=" << threads;
        }
      }
    }
  }
  expect_backend_still_works();
}

TEST_P(Errors, NonStandardExceptionTypesKeepTheirType) {
  try {
    (void)parmap::parallel_map(
        std::views::iota(0, 100),
        [](int x) {
          if (x == 57) throw 42;
          return x;
        },
        opts(3, 4));
    ADD_FAILURE() << "no exception";
  } catch (int v) {
    EXPECT_EQ(v, 42);
  }

  try {
    (void)parmap::parallel_map(
        std::views::iota(std::size_t{0}, std::size_t{100}),
        [](std::size_t i) {
          if (i == 73) throw item_failed{i};
          return i;
        },
        opts(2, 0, schedule::dynamic));
    ADD_FAILURE() << "no exception";
  } catch (const item_failed& e) {
    EXPECT_EQ(e.index, 73u);
  }

  try {
    std::vector<int> out(10);
    parmap::parallel_map_into(
        std::views::iota(0, 10), out,
        [](int x) {
          if (x == 3) throw std::string("three");
          return x;
        },
        opts(3, 1));
    ADD_FAILURE() << "no exception";
  } catch (const std::string& s) {
    EXPECT_EQ(s, "three");
  }
  expect_backend_still_works();
}

// With one thread and one item per chunk, every backend must stop at the failing item: the
// chunks after it are never started.
TEST_P(Errors, ChunksAfterTheFailureAreNotStarted) {
  for (schedule s : all_schedules) {
    std::atomic<std::size_t> calls{0};
    EXPECT_THROW((void)parmap::parallel_map(
                     std::views::iota(std::size_t{0}, std::size_t{1000}),
                     [&](std::size_t i) {
                       calls.fetch_add(1);
                       if (i == 10) throw item_failed{i};
                       return i;
                     },
                     opts(1, 1, s)),
                 item_failed);
    EXPECT_EQ(calls.load(), 11u) << parmap::to_string(s);
  }
  expect_backend_still_works();
}

// Whatever the threads and schedule, every item below the failing one runs exactly once (a serial
// loop would have run them, and any of them could have thrown first), and no item runs twice.
TEST_P(Errors, EveryItemBeforeTheFailureRuns) {
  constexpr std::size_t n = 1000, failing = 600;
  for (schedule s : all_schedules) {
    for (int threads : {2, 3, 8}) {
      for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{50}}) {
        std::vector<std::atomic<int>> visits(n);
        EXPECT_THROW((void)parmap::parallel_map(
                         std::views::iota(std::size_t{0}, n),
                         [&](std::size_t i) {
                           visits[i].fetch_add(1);
                           if (i == failing) throw item_failed{i};
                           return i;
                         },
                         opts(threads, chunk, s)),
                     item_failed);
        std::size_t missed = 0, twice = 0;
        for (std::size_t i = 0; i < n; ++i) {
          if (i <= failing && visits[i].load() == 0) ++missed;
          if (visits[i].load() > 1) ++twice;
        }
        EXPECT_EQ(missed, 0u) << parmap::to_string(s) << " threads=" << threads
                              << " chunk=" << chunk;
        EXPECT_EQ(twice, 0u) << parmap::to_string(s) << " threads=" << threads
                             << " chunk=" << chunk;
      }
    }
  }
}

TEST_P(Errors, FailingCallsBackToBackDoNotDisturbTheNext) {
  for (int round = 0; round < 50; ++round) {
    const auto fail_at = static_cast<std::size_t>(round * 7 % 300);
    EXPECT_THROW((void)parmap::parallel_map(
                     std::views::iota(std::size_t{0}, std::size_t{300}),
                     [&](std::size_t i) {
                       if (i == fail_at) throw bad_item(i);
                       return i;
                     },
                     opts(3, 5, all_schedules[static_cast<std::size_t>(round) % 4])),
                 bad_item);
    const auto ok = parmap::parallel_map(
        std::views::iota(std::size_t{0}, std::size_t{300}), [](std::size_t i) { return i * 2; },
        opts(3, 5));
    for (std::size_t i = 0; i < ok.size(); ++i) ASSERT_EQ(ok[i], 2 * i);
  }
}

// ---- cancellation and deadlines -------------------------------------------------------------

TEST_P(Errors, StopRequestedBeforeTheCallCancelsWithoutCallingFn) {
  std::stop_source source;
  source.request_stop();
  std::atomic<int> calls{0};
  for (schedule s : all_schedules) {
    auto opt = opts(3, 0, s);
    opt.stop = source.get_token();
    EXPECT_THROW((void)parmap::parallel_map(
                     std::views::iota(0, 1000),
                     [&](int x) {
                       calls.fetch_add(1);
                       return x;
                     },
                     opt),
                 parmap::cancelled);
    std::vector<int> out(10);
    EXPECT_THROW(parmap::parallel_map_into(
                     std::views::iota(0, 10), out,
                     [&](int x) {
                       calls.fetch_add(1);
                       return x;
                     },
                     opt),
                 parmap::cancelled);
  }
  EXPECT_EQ(calls.load(), 0);
  expect_backend_still_works();
}

// A stop requested from inside fn: the call throws cancelled, and after the request each of the
// other threads can finish at most the one item it had already started.
TEST_P(Errors, StopRequestedFromInsideFnCancelsPromptly) {
  constexpr std::size_t n = 20000, stop_at = 100;
  for (schedule s : all_schedules) {
    for (int threads : {1, 2, 3}) {
      std::stop_source source;
      std::atomic<bool> requested{false};
      std::atomic<std::size_t> calls_after{0};
      std::atomic<bool> saw_stop_item{false};
      auto opt = opts(threads, 1, s);
      opt.stop = source.get_token();
      EXPECT_THROW((void)parmap::parallel_map(
                       std::views::iota(std::size_t{0}, n),
                       [&](std::size_t i) {
                         if (requested.load()) calls_after.fetch_add(1);
                         if (i == stop_at) {
                           saw_stop_item.store(true);
                           // Set after the request, so an item that sees the flag started
                           // after its thread's last stop check could have seen the request.
                           source.request_stop();
                           requested.store(true);
                         }
                         return i;
                       },
                       opt),
                   parmap::cancelled);
      EXPECT_TRUE(saw_stop_item.load());
      EXPECT_LE(calls_after.load(), static_cast<std::size_t>(threads - 1))
          << parmap::to_string(s) << " threads=" << threads;
    }
  }
  expect_backend_still_works();
}

TEST_P(Errors, CancelledIsNotThrownWhenTheStopComesAfterTheCall) {
  std::stop_source source;
  auto opt = opts(3);
  opt.stop = source.get_token();
  const auto out = parmap::parallel_map(
      std::views::iota(0, 500), [](int x) { return x; }, opt);
  EXPECT_EQ(out.size(), 500u);
  source.request_stop();
}

TEST_P(Errors, PassedDeadlineTimesOutWithoutCallingFn) {
  std::atomic<int> calls{0};
  auto opt = opts(3);
  opt.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_THROW((void)parmap::parallel_map(
                   std::views::iota(0, 1000),
                   [&](int x) {
                     calls.fetch_add(1);
                     return x;
                   },
                   opt),
               parmap::timeout);
  // timeout is a kind of cancellation, so a caller catching cancelled sees it too.
  EXPECT_THROW((void)parmap::parallel_map(
                   std::views::iota(0, 10), [](int x) { return x; }, opt),
               parmap::cancelled);
  EXPECT_EQ(calls.load(), 0);
  expect_backend_still_works();
}

TEST_P(Errors, GenerousDeadlineDoesNotThrow) {
  auto opt = opts(3, 7, schedule::dynamic);
  opt.deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
  const auto out = parmap::parallel_map(
      std::views::iota(0, 5000), [](int x) { return -x; }, opt);
  ASSERT_EQ(out.size(), 5000u);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], -static_cast<int>(i));
}

// The items sleep for far longer in total than the deadline allows, so the deadline passes
// during the call whatever the machine's speed: the call must stop early with timeout.
TEST_P(Errors, DeadlinePassingDuringTheCallTimesOut) {
  constexpr std::size_t n = 100000;
  std::atomic<std::size_t> calls{0};
  auto opt = opts(2, 1, schedule::dynamic);
  opt.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
  EXPECT_THROW((void)parmap::parallel_map(
                   std::views::iota(std::size_t{0}, n),
                   [&](std::size_t i) {
                     calls.fetch_add(1);
                     std::this_thread::sleep_for(std::chrono::microseconds(500));
                     return i;
                   },
                   opt),
               parmap::timeout);
  EXPECT_LT(calls.load(), n);
  expect_backend_still_works();
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Errors);

}  // namespace
