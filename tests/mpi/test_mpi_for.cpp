// parmap::mpi::parallel_for: every index exactly once across the ranks, side effects on the
// rank that ran the index, bounds, errors, stop, deadline and progress, on every local backend,
// under mpiexec with 1 to 4 ranks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <numeric>
#include <parmap/mpi.hpp>
#include <parmap/parmap.hpp>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpi_test.hpp"
#include "test_backends.hpp"

namespace {

using namespace std::chrono_literals;
using parmap_test::gather_all;

class MpiFor : public parmap_test::mpi_backend_test {
 protected:
  /// Every rank's `counts`, summed element by element, on every rank.
  [[nodiscard]] static std::vector<std::int64_t> sum_over_ranks(
      const std::vector<std::atomic<std::int64_t>>& counts) {
    std::vector<std::int64_t> v(counts.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = counts[i].load();
    MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_INT64_T, MPI_SUM,
                  MPI_COMM_WORLD);
    return v;
  }
};

TEST_P(MpiFor, EveryIndexRunsOnceOnOneRank) {
  for (std::size_t n : {0u, 1u, 2u, 3u, 7u, 100u, 1001u}) {
    for (std::size_t chunk : {0u, 1u, 3u, 64u}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " chunk=" + std::to_string(chunk));
      std::vector<std::atomic<std::int64_t>> here(n);
      parmap::mpi::call_report report;
      parmap::mpi::parallel_for(
          MPI_COMM_WORLD, n, [&](std::size_t i) { here[i].fetch_add(1); }, local(),
          parmap::mpi::options{.chunk = chunk, .report = &report});
      const auto everywhere = sum_over_ranks(here);
      std::size_t bad = 0;
      for (std::int64_t c : everywhere) bad += c != 1;
      EXPECT_EQ(bad, 0u);

      // Side effects stay where the index ran: what each rank wrote is what the root dealt it.
      std::int64_t mine = 0;
      for (auto& c : here) mine += c.load();
      const auto ran = gather_all(mine);
      if (root) {
        ASSERT_EQ(report.items_per_rank.size(), static_cast<std::size_t>(size));
        for (std::size_t r = 0; r < ran.size(); ++r) {
          EXPECT_EQ(static_cast<std::size_t>(ran[r]), report.items_per_rank[r]) << "rank " << r;
        }
      }
    }
  }
}

TEST_P(MpiFor, LocalReportCountsThisRanksIndices) {
  // Each rank's local.report sums the chunks it ran: its items are the indices its own f saw,
  // and the items of all ranks add up to the loop.
  std::atomic<std::int64_t> seen_here{0};
  parmap::call_report report;
  report.items = 123'456;
  parmap::options o = local();
  o.report = &report;
  parmap::mpi::parallel_for(
      MPI_COMM_WORLD, 600, [&](int) { seen_here.fetch_add(1); }, o,
      parmap::mpi::options{.chunk = 25});
  EXPECT_EQ(static_cast<std::int64_t>(report.items), seen_here.load());
  EXPECT_EQ(report.backend, GetParam());
  const auto all = gather_all(static_cast<std::int64_t>(report.items));
  EXPECT_EQ(std::accumulate(all.begin(), all.end(), std::int64_t{0}), 600);
}

TEST_P(MpiFor, WorkIsSpreadOverTheRanks) {
  if (size == 1) GTEST_SKIP() << "one rank";
  std::atomic<std::int64_t> mine{0};
  parmap::mpi::parallel_for(
      MPI_COMM_WORLD, 400,
      [&](int) {
        mine.fetch_add(1);
        std::this_thread::sleep_for(200us);
      },
      local(), parmap::mpi::options{.chunk = 4});
  const auto ran = gather_all(mine.load());
  EXPECT_EQ(std::accumulate(ran.begin(), ran.end(), std::int64_t{0}), 400);
  for (std::size_t r = 0; r < ran.size(); ++r) EXPECT_GT(ran[r], 0) << "rank " << r;
}

TEST_P(MpiFor, SignedBoundsAndTheIndexType) {
  // f is called with the bounds' common type; the indices are the root's, also across zero.
  std::vector<std::atomic<std::int64_t>> here(1000);
  parmap::mpi::parallel_for(
      MPI_COMM_WORLD, -500, 500,
      [&](auto i) {
        static_assert(std::is_same_v<decltype(i), int>);
        here[static_cast<std::size_t>(i + 500)].fetch_add(1);
      },
      local(), parmap::mpi::options{.chunk = 7});
  for (std::int64_t c : sum_over_ranks(here)) ASSERT_EQ(c, 1);

  // Bounds at the bottom of a 64-bit type: the first index travels in each chunk's message.
  constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  std::vector<std::atomic<std::int64_t>> low(300);
  parmap::mpi::parallel_for(
      MPI_COMM_WORLD, lowest, lowest + 300,
      [&](std::int64_t i) { low[static_cast<std::size_t>(i - lowest)].fetch_add(1); }, local(),
      parmap::mpi::options{.chunk = 5});
  for (std::int64_t c : sum_over_ranks(low)) ASSERT_EQ(c, 1);
}

TEST_P(MpiFor, OnlyTheRootsBoundsAreRead) {
  // Other ranks pass an empty loop; the root's indices still run everywhere.
  std::vector<std::atomic<std::int64_t>> here(50);
  const std::size_t n = root ? 50 : 0;
  parmap::mpi::parallel_for(
      MPI_COMM_WORLD, n, [&](std::size_t i) { here[i].fetch_add(1); }, local(),
      parmap::mpi::options{.chunk = 2});
  for (std::int64_t c : sum_over_ranks(here)) ASSERT_EQ(c, 1);
}

TEST_P(MpiFor, BadBoundsOnOneRankFailEveryRankBeforeAnyCall) {
  std::atomic<int> calls{0};
  auto count = [&](int) { calls.fetch_add(1); };
  // The root's last < first: every rank hears of it, none waits forever.
  std::string message;
  try {
    parmap::mpi::parallel_for(MPI_COMM_WORLD, root ? 10 : 0, root ? 3 : 0, count, local());
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("last (3) is less than first (10)"), std::string::npos) << message;

  // Another rank's loop is neither empty nor the root's length.
  if (size > 1) {
    EXPECT_THROW(parmap::mpi::parallel_for(MPI_COMM_WORLD, root ? 10 : 11, count, local()),
                 std::invalid_argument);
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(MpiFor, LowestFailingIndexReachesEveryRank) {
  for (std::size_t chunk : {1u, 16u}) {
    std::size_t index = 0;
    std::string what;
    try {
      parmap::mpi::parallel_for(
          MPI_COMM_WORLD, 100, 400,
          [](int i) {
            if (i == 137 || i == 390) throw std::runtime_error("bad " + std::to_string(i));
          },
          local(), parmap::mpi::options{.chunk = chunk});
      ADD_FAILURE() << "no exception";
    } catch (const parmap::mpi::remote_error& e) {
      index = e.index();
      what = e.original_what();
    }
    EXPECT_EQ(index, 37u) << "chunk=" << chunk;  // the position in the loop: 137 - 100
    EXPECT_EQ(what, "bad 137");
  }
  // The next call works.
  std::vector<std::atomic<std::int64_t>> here(20);
  parmap::mpi::parallel_for(
      MPI_COMM_WORLD, std::size_t{20}, [&](std::size_t i) { here[i].fetch_add(1); }, local());
  for (std::int64_t c : sum_over_ranks(here)) ASSERT_EQ(c, 1);
}

TEST_P(MpiFor, StopOnAnyRankCancelsEveryRank) {
  // The last rank (the root when it runs alone) stops itself at its first index.
  std::stop_source stop;
  parmap::options opt = local();
  opt.stop = stop.get_token();
  std::atomic<std::int64_t> ran{0};
  bool cancelled = false;
  try {
    parmap::mpi::parallel_for(
        MPI_COMM_WORLD, 400,
        [&](int) {
          ran.fetch_add(1);
          if (rank == size - 1) {
            stop.request_stop();
          } else {
            std::this_thread::sleep_for(2ms);
          }
        },
        opt, parmap::mpi::options{.chunk = 1});
  } catch (const parmap::cancelled&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  const auto all = gather_all(ran.load());
  EXPECT_LT(std::accumulate(all.begin(), all.end(), std::int64_t{0}), 400);
}

TEST_P(MpiFor, DeadlineOnTheRootTimesOutEveryRank) {
  parmap::options opt = local();
  if (root) opt.deadline = std::chrono::steady_clock::now() - 1ms;
  std::atomic<std::int64_t> ran{0};
  EXPECT_THROW(parmap::mpi::parallel_for(
                   MPI_COMM_WORLD, 300, [&](int) { ran.fetch_add(1); }, opt,
                   parmap::mpi::options{.chunk = 3}),
               parmap::timeout);
  const auto all = gather_all(ran.load());
  EXPECT_EQ(std::accumulate(all.begin(), all.end(), std::int64_t{0}), 0);
}

TEST_P(MpiFor, ProgressOnTheRootCountsEveryIndex) {
  std::mutex m;
  std::vector<std::pair<std::size_t, std::size_t>> reports;
  parmap::options opt = local();
  opt.on_progress = [&](std::size_t done, std::size_t total) {
    const std::lock_guard lock(m);
    reports.emplace_back(done, total);
  };
  parmap::mpi::parallel_for(
      MPI_COMM_WORLD, 600, [](int) { std::this_thread::sleep_for(50us); }, opt,
      parmap::mpi::options{.chunk = 10});
  const std::lock_guard lock(m);
  if (!root) {
    EXPECT_TRUE(reports.empty());
    return;
  }
  ASSERT_FALSE(reports.empty());
  for (std::size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].first, reports[i - 1].first);
  }
  EXPECT_EQ(reports.back(), std::make_pair(std::size_t{600}, std::size_t{600}));
}

PARMAP_INSTANTIATE_FOR_BACKENDS(MpiFor);

}  // namespace
