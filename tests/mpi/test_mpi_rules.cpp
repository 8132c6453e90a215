// The rules of a call across ranks: progress on the root, a stop or deadline seen on any rank,
// on every local backend, under mpiexec with 1 to 4 ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <numeric>
#include <parmap/mpi.hpp>
#include <parmap/parmap.hpp>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mpi_test.hpp"
#include "test_backends.hpp"

namespace {

using namespace std::chrono_literals;
using parmap_test::gather_all;
using parmap_test::world_rank;
using parmap_test::world_size;

// What a call threw on this rank.
enum class ended { returned, cancelled, timeout, remote_error, other };

template <class Call>
ended outcome_of(Call call) {
  try {
    call();
  } catch (const parmap::timeout&) {
    return ended::timeout;
  } catch (const parmap::cancelled&) {
    return ended::cancelled;
  } catch (const parmap::mpi::remote_error&) {
    return ended::remote_error;
  } catch (...) {
    return ended::other;
  }
  return ended::returned;
}

std::vector<std::int64_t> indices(std::size_t n) {
  std::vector<std::int64_t> v(n);
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

// Every report a call made, and whether two ever overlapped.
struct progress_log {
  std::mutex mu;
  std::vector<std::pair<std::size_t, std::size_t>> reports;
  std::atomic<bool> inside{false};
  std::atomic<bool> overlapped{false};

  auto callback() {
    return [this](std::size_t done, std::size_t total) {
      if (inside.exchange(true)) overlapped = true;
      {
        const std::lock_guard lock(mu);
        reports.emplace_back(done, total);
      }
      std::this_thread::sleep_for(100us);  // long enough for an overlap to be caught
      inside = false;
    };
  }
};

class MpiRules : public parmap_test::mpi_backend_test {
 protected:
  [[nodiscard]] std::vector<std::int64_t> input(std::size_t n) const {
    return root ? indices(n) : std::vector<std::int64_t>{};
  }
};

TEST_P(MpiRules, ProgressOnTheRootCountsEveryItemOnce) {
  const std::size_t n = 1500;
  for (std::size_t chunk : {0u, 7u}) {
    SCOPED_TRACE("chunk=" + std::to_string(chunk));
    progress_log log;
    parmap::options opt = local();
    opt.on_progress = log.callback();  // on every rank: only the root's is called
    const auto out = parmap::mpi::parallel_map(
        MPI_COMM_WORLD, input(n),
        [](std::int64_t x) {
          std::this_thread::sleep_for(100us);
          return x;
        },
        opt, parmap::mpi::options{.chunk = chunk});
    if (!root) {
      EXPECT_TRUE(log.reports.empty());
      continue;
    }
    EXPECT_EQ(out, indices(n));
    EXPECT_FALSE(log.overlapped.load());
    ASSERT_GE(log.reports.size(), 2u);  // the first chunk to finish is reported at once
    for (std::size_t i = 0; i < log.reports.size(); ++i) {
      EXPECT_EQ(log.reports[i].second, n);
      EXPECT_LE(log.reports[i].first, n);
      if (i > 0) {
        EXPECT_GE(log.reports[i].first, log.reports[i - 1].first);
      }
    }
    EXPECT_EQ(log.reports.back(), std::make_pair(n, n));
    EXPECT_EQ(std::ranges::count(log.reports, std::make_pair(n, n)), 1);
  }
}

TEST_P(MpiRules, ProgressCallbackThatThrowsFailsEveryRank) {
  parmap::options opt = local();
  if (root) {
    opt.on_progress = [](std::size_t done, std::size_t total) {
      if (done == total) throw std::runtime_error("progress broke");
    };
  }
  int on_rank = -1;
  std::size_t index = 0;
  try {
    (void)parmap::mpi::parallel_map(
        MPI_COMM_WORLD, input(40), [](std::int64_t x) { return x; }, opt,
        parmap::mpi::options{.chunk = 3});
  } catch (const parmap::mpi::remote_error& e) {
    on_rank = e.rank();
    index = e.index();
    EXPECT_EQ(e.original_what(), "progress broke");
  }
  EXPECT_EQ(on_rank, 0);
  EXPECT_EQ(index, 39u);
}

TEST_P(MpiRules, StopOnAnotherRankCancelsEveryRankAndNothingStartsAfter) {
  // The last rank (the root when it runs alone) stops itself inside its first item; items take
  // long enough elsewhere that the others are far from done when the root hears of it.
  const int stopper = size - 1;
  const std::size_t n = 400;
  std::stop_source stop;
  parmap::options opt = local();
  opt.stop = stop.get_token();
  std::atomic<std::int64_t> mapped{0};
  std::atomic<std::int64_t> started_after_stop{0};
  parmap::mpi::call_report report;
  const ended how = outcome_of([&] {
    (void)parmap::mpi::parallel_map(
        MPI_COMM_WORLD, input(n),
        [&](std::int64_t x) {
          if (stop.stop_requested()) ++started_after_stop;
          ++mapped;
          if (rank == stopper) {
            stop.request_stop();
          } else {
            std::this_thread::sleep_for(2ms);
          }
          return x;
        },
        opt, parmap::mpi::options{.chunk = 1, .report = &report});
  });
  EXPECT_EQ(how, ended::cancelled);
  EXPECT_EQ(started_after_stop.load(), 0);
  const auto all = gather_all(mapped.load());
  EXPECT_EQ(all[static_cast<std::size_t>(stopper)], 1);
  EXPECT_LT(std::accumulate(all.begin(), all.end(), std::int64_t{0}), static_cast<std::int64_t>(n));
  if (root) {
    ASSERT_EQ(report.chunks_per_rank.size(), static_cast<std::size_t>(size));
    EXPECT_EQ(report.chunks_per_rank[static_cast<std::size_t>(stopper)], 1u);
  }
}

TEST_P(MpiRules, StopAfterTheLastChunkWasDealtIsNotAFailure) {
  // Whichever rank maps the last item stops itself there: every chunk was dealt by then.
  const std::size_t n = 60;
  std::stop_source stop;
  parmap::options opt = local();
  opt.stop = stop.get_token();
  std::vector<std::int64_t> out;
  const ended how = outcome_of([&] {
    out = parmap::mpi::parallel_map(
        MPI_COMM_WORLD, input(n),
        [&](std::int64_t x) {
          if (x == static_cast<std::int64_t>(n) - 1) stop.request_stop();
          return -x;
        },
        opt, parmap::mpi::options{.chunk = 1, .all_gather = true});
  });
  EXPECT_EQ(how, ended::returned);
  ASSERT_EQ(out.size(), n);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], -static_cast<std::int64_t>(i));
  // Exactly one rank saw its stop.
  const auto stopped = gather_all(stop.stop_requested() ? 1 : 0);
  EXPECT_EQ(std::accumulate(stopped.begin(), stopped.end(), std::int64_t{0}), 1);
}

TEST_P(MpiRules, DeadlineOnTheRootTimesOutEveryRank) {
  // Passed before the call: nothing is dealt. Passing during it: the rest is not dealt.
  for (const auto after : {-1ms, 40ms}) {
    SCOPED_TRACE("deadline in " + std::to_string(after.count()) + " ms");
    const std::size_t n = 2000;
    parmap::options opt = local();
    if (root) opt.deadline = std::chrono::steady_clock::now() + after;
    std::atomic<std::int64_t> mapped{0};
    const ended how = outcome_of([&] {
      (void)parmap::mpi::parallel_map(
          MPI_COMM_WORLD, input(n),
          [&](std::int64_t x) {
            ++mapped;
            std::this_thread::sleep_for(1ms);
            return x;
          },
          opt, parmap::mpi::options{.chunk = 3});
    });
    EXPECT_EQ(how, ended::timeout);
    const auto all = gather_all(mapped.load());
    const auto total = std::accumulate(all.begin(), all.end(), std::int64_t{0});
    if (after < 0ms) {
      EXPECT_EQ(total, 0);
    } else {
      EXPECT_LT(total, static_cast<std::int64_t>(n));
    }
  }
}

TEST_P(MpiRules, DeadlineOnAnotherRankTimesOutEveryRank) {
  // The last rank's deadline has passed (the root's when it runs alone); the others have none.
  const std::size_t n = 400;
  parmap::options opt = local();
  if (rank == size - 1) opt.deadline = std::chrono::steady_clock::now() - 1ms;
  std::atomic<std::int64_t> mapped{0};
  const ended how = outcome_of([&] {
    (void)parmap::mpi::parallel_map(
        MPI_COMM_WORLD, input(n),
        [&](std::int64_t x) {
          ++mapped;
          std::this_thread::sleep_for(1ms);
          return x;
        },
        opt, parmap::mpi::options{.chunk = 2, .all_gather = true});
  });
  EXPECT_EQ(how, ended::timeout);
  EXPECT_EQ(rank == size - 1 ? mapped.load() : 0, 0);
  const auto all = gather_all(mapped.load());
  EXPECT_LT(std::accumulate(all.begin(), all.end(), std::int64_t{0}), static_cast<std::int64_t>(n));
}

TEST_P(MpiRules, NextCallAfterAStopWorks) {
  std::stop_source stop;
  stop.request_stop();
  parmap::options stopped = local();
  if (rank == size - 1) stopped.stop = stop.get_token();
  EXPECT_EQ(outcome_of([&] {
              (void)parmap::mpi::parallel_map(
                  MPI_COMM_WORLD, input(30), [](std::int64_t x) { return x; }, stopped);
            }),
            ended::cancelled);
  const auto out = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, input(30), [](std::int64_t x) { return x + 1; }, local(),
      parmap::mpi::options{.all_gather = true});
  ASSERT_EQ(out.size(), 30u);
  EXPECT_EQ(out.back(), 30);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(MpiRules);

}  // namespace
