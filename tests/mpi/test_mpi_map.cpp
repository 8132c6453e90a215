// parmap::mpi::parallel_map: order, types, errors, balance and all_gather, on every local
// backend, under mpiexec with 1 to 4 ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <numeric>
#include <parmap/mpi.hpp>
#include <parmap/parmap.hpp>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mpi_test.hpp"
#include "test_backends.hpp"

// A type with no built-in serializer and no default constructor.
struct particle {
  particle(std::string n, std::vector<double> p, int k)
      : name(std::move(n)), pos(std::move(p)), id(k) {}
  std::string name;
  std::vector<double> pos;
  int id;
  bool operator==(const particle&) const = default;
};

template <>
struct parmap::mpi::serializer<particle> {
  static void write(writer& w, const particle& p) {
    w.write(p.name);
    w.write(p.pos);
    w.write(p.id);
  }
  static particle read(reader& r) {
    auto name = r.read<std::string>();
    auto pos = r.read<std::vector<double>>();
    const int id = r.read<int>();
    return particle(std::move(name), std::move(pos), id);
  }
};

namespace {

using parmap_test::gather_all;
using parmap_test::world_rank;
using parmap_test::world_size;

class MpiMap : public parmap_test::mpi_backend_test {};

std::vector<std::int64_t> numbers(std::size_t n) {
  std::vector<std::int64_t> v(n);
  std::iota(v.begin(), v.end(), std::int64_t{-3});
  return v;
}

std::int64_t square_plus_one(std::int64_t x) {
  return x * x + 1;
}

std::string particle_name(int i, const char* suffix = "") {
  std::string s = "p";
  s += std::to_string(i);
  s += suffix;
  return s;
}

TEST_P(MpiMap, ResultsInInputOrderForEverySizeAndChunk) {
  for (std::size_t n : {0u, 1u, 2u, 3u, 7u, 100u, 1001u}) {
    for (std::size_t chunk : {0u, 1u, 3u, 64u}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " chunk=" + std::to_string(chunk));
      const auto in = root ? numbers(n) : std::vector<std::int64_t>{};
      parmap::mpi::call_report report;
      const auto out =
          parmap::mpi::parallel_map(MPI_COMM_WORLD, in, square_plus_one, local(),
                                    parmap::mpi::options{.chunk = chunk, .report = &report});
      if (!root) {
        EXPECT_TRUE(out.empty());
        continue;
      }
      std::vector<std::int64_t> expected;
      for (auto x : in) expected.push_back(square_plus_one(x));
      EXPECT_EQ(out, expected);
      // Every item mapped exactly once, in chunks of the requested size.
      ASSERT_EQ(report.items_per_rank.size(), static_cast<std::size_t>(size));
      EXPECT_EQ(std::accumulate(report.items_per_rank.begin(), report.items_per_rank.end(),
                                std::size_t{0}),
                n);
      if (chunk == 0) {
        // Automatic: one local call when alone, guided sizes otherwise.
        EXPECT_EQ(report.chunk, size == 1 ? std::max<std::size_t>(n, 1) : 0u);
      } else {
        EXPECT_EQ(report.chunk, chunk);
        EXPECT_EQ(std::accumulate(report.chunks_per_rank.begin(), report.chunks_per_rank.end(),
                                  std::size_t{0}),
                  (n + chunk - 1) / chunk);
      }
    }
  }
}

TEST_P(MpiMap, EveryItemIsMappedOnceAcrossRanks) {
  const std::size_t n = 500;
  std::vector<std::atomic<int>> calls(n);
  const auto in = root ? numbers(n) : std::vector<std::int64_t>{};
  const auto out = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, in,
      [&](std::int64_t x) {
        calls[static_cast<std::size_t>(x + 3)].fetch_add(1);
        return x;
      },
      local(), parmap::mpi::options{.chunk = 7});
  std::vector<int> mine(n);
  for (std::size_t i = 0; i < n; ++i) mine[i] = calls[i].load();
  std::vector<int> total(n);
  MPI_Allreduce(mine.data(), total.data(), static_cast<int>(n), MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_TRUE(std::ranges::all_of(total, [](int c) { return c == 1; }));
  if (root) {
    EXPECT_EQ(out, in);
  }
}

TEST_P(MpiMap, LocalReportCountsThisRanksItems) {
  // Each rank's local.report sums the chunks it mapped: the items of all ranks add up to the
  // input, each rank's items match what its own function saw, and the threads are local.
  const std::size_t n = 600;
  const auto in = root ? numbers(n) : std::vector<std::int64_t>{};
  std::atomic<std::int64_t> seen_here{0};
  parmap::call_report report;
  report.items = 123'456;
  parmap::options o = local();
  o.report = &report;
  (void)parmap::mpi::parallel_map(
      MPI_COMM_WORLD, in,
      [&](std::int64_t x) {
        seen_here.fetch_add(1);
        return x;
      },
      o, parmap::mpi::options{.chunk = 25});
  EXPECT_EQ(static_cast<std::int64_t>(report.items), seen_here.load());
  EXPECT_EQ(report.backend, GetParam());
  EXPECT_LE(report.threads, 2);
  EXPECT_EQ(report.per_thread.size(), static_cast<std::size_t>(report.threads));
  std::size_t per_thread = 0;
  for (const auto& t : report.per_thread) {
    per_thread += t.items;
    EXPECT_LE(t.busy, report.wall);
  }
  EXPECT_EQ(per_thread, report.items);
  if (report.items > 0) {
    EXPECT_GE(report.chunks, report.items / 25);
  }
  const auto all = gather_all(static_cast<std::int64_t>(report.items));
  EXPECT_EQ(std::accumulate(all.begin(), all.end(), std::int64_t{0}),
            static_cast<std::int64_t>(n));

  // Filled when the call throws too.
  report.items = 123'456;
  EXPECT_THROW((void)parmap::mpi::parallel_map(
                   MPI_COMM_WORLD, in,
                   [](std::int64_t x) -> std::int64_t {
                     if (x == 100) throw std::runtime_error("item 100");
                     return x;
                   },
                   o, parmap::mpi::options{.chunk = 25}),
               parmap::mpi::remote_error);
  EXPECT_LT(report.items, n);
}

TEST_P(MpiMap, ViewsAndListsAsInput) {
  // A view every rank may pass (it has the root's size, so the others' copy is not read).
  const auto out = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, std::views::iota(std::int64_t{-50}, std::int64_t{50}),
      [](std::int64_t x) { return 2 * x; }, local(), parmap::mpi::options{.chunk = 9});
  if (root) {
    ASSERT_EQ(out.size(), 100u);
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i], 2 * (static_cast<std::int64_t>(i) - 50));
    }
  }
  // A forward range that is not random-access, on the root only.
  std::list<double> in;
  if (root) in = {0.5, 1.5, 2.5, 3.5, 4.5};
  const auto halves = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, in, [](double x) { return x / 2; }, local(),
      parmap::mpi::options{.chunk = 2});
  if (root) {
    EXPECT_EQ(halves, (std::vector<double>{0.25, 0.75, 1.25, 1.75, 2.25}));
  }
}

TEST_P(MpiMap, StringsAndVectorsTravel) {
  std::vector<std::string> in;
  if (root) {
    for (int i = 0; i < 60; ++i)
      in.push_back(std::string(static_cast<std::size_t>(i % 7), 'a' + static_cast<char>(i % 26)));
  }
  // string -> vector<int>: the character codes, reversed.
  const auto codes = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, in,
      [](const std::string& s) {
        std::vector<int> v(s.rbegin(), s.rend());
        v.push_back(static_cast<int>(s.size()));
        return v;
      },
      local(), parmap::mpi::options{.chunk = 4});
  // vector<int> -> string, and a pair with a nested vector.
  const auto back = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, codes,
      [](const std::vector<int>& v) {
        std::string s;
        for (std::size_t i = v.size() - 1; i-- > 0;) s.push_back(static_cast<char>(v[i]));
        return std::pair<std::string, std::vector<std::string>>(s, {s, s + "!"});
      },
      local(), parmap::mpi::options{.chunk = 5});
  if (root) {
    ASSERT_EQ(back.size(), in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(codes[i].back(), static_cast<int>(in[i].size()));
      EXPECT_EQ(back[i].first, in[i]);
      EXPECT_EQ(back[i].second, (std::vector<std::string>{in[i], in[i] + "!"}));
    }
  }
}

TEST_P(MpiMap, CustomSerializerForItemsAndResults) {
  std::vector<particle> in;
  if (root) {
    for (int i = 0; i < 40; ++i) {
      in.emplace_back(particle_name(i),
                      std::vector<double>(static_cast<std::size_t>(i % 4), i * 0.5), i);
    }
  }
  const auto out = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, in,
      [](const particle& p) {
        std::vector<double> moved = p.pos;
        for (double& x : moved) x += 1;
        return particle(p.name + "'", std::move(moved), p.id * 10);
      },
      local(), parmap::mpi::options{.chunk = 3, .all_gather = true});
  // With all_gather every rank holds the results (particle has no default constructor).
  ASSERT_EQ(out.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    const auto& p = out[static_cast<std::size_t>(i)];
    EXPECT_EQ(p.name, particle_name(i, "'"));
    EXPECT_EQ(p.pos, std::vector<double>(static_cast<std::size_t>(i % 4), i * 0.5 + 1));
    EXPECT_EQ(p.id, i * 10);
  }
}

TEST_P(MpiMap, AllGatherGivesEveryRankTheResults) {
  for (std::size_t n : {0u, 1u, 5u, 333u}) {
    const auto in = root ? numbers(n) : std::vector<std::int64_t>{};
    const auto out = parmap::mpi::parallel_map(
        MPI_COMM_WORLD, in, [](std::int64_t x) { return std::to_string(x); }, local(),
        parmap::mpi::options{.all_gather = true});
    ASSERT_EQ(out.size(), n);
    const auto expected = numbers(n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], std::to_string(expected[i]));
  }
}

TEST_P(MpiMap, EmptyInputNeverCallsTheFunction) {
  std::atomic<int> calls{0};
  const std::vector<int> none;
  for (bool gather : {false, true}) {
    const auto out = parmap::mpi::parallel_map(
        MPI_COMM_WORLD, none,
        [&](int x) {
          ++calls;
          return x;
        },
        local(), parmap::mpi::options{.all_gather = gather});
    EXPECT_TRUE(out.empty());
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(MpiMap, MoreRanksThanItems) {
  for (std::size_t n : {1u, 2u, 3u}) {
    const auto in = root ? numbers(n) : std::vector<std::int64_t>{};
    parmap::mpi::call_report report;
    const auto out = parmap::mpi::parallel_map(
        MPI_COMM_WORLD, in, square_plus_one, local(),
        parmap::mpi::options{.chunk = 1, .all_gather = true, .report = &report});
    std::vector<std::int64_t> expected;
    for (auto x : numbers(n)) expected.push_back(square_plus_one(x));
    EXPECT_EQ(out, expected);
    if (root) {
      EXPECT_EQ(std::accumulate(report.chunks_per_rank.begin(), report.chunks_per_rank.end(),
                                std::size_t{0}),
                n);
    }
  }
}

TEST_P(MpiMap, ErrorOnAnotherRankReachesEveryRank) {
  // Only the last rank throws (the root itself when it runs alone): the error names that rank,
  // the lowest index it was given, and the original text, on every rank.
  const int thrower = size - 1;
  const auto in = root ? numbers(200) : std::vector<std::int64_t>{};
  std::atomic<std::int64_t> lowest_here{INT64_MAX};
  int error_rank = -1;
  std::int64_t error_index = -1;
  try {
    (void)parmap::mpi::parallel_map(
        MPI_COMM_WORLD, in,
        [&](std::int64_t x) -> std::int64_t {
          if (rank == thrower) {
            const std::int64_t i = x + 3;
            std::int64_t seen = lowest_here.load();
            while (i < seen && !lowest_here.compare_exchange_weak(seen, i)) {
            }
            throw std::runtime_error("bad item " + std::to_string(i));
          }
          return x;
        },
        local(), parmap::mpi::options{.chunk = 5});
  } catch (const parmap::mpi::remote_error& e) {
    error_rank = e.rank();
    error_index = static_cast<std::int64_t>(e.index());
    EXPECT_EQ(e.original_what(), "bad item " + std::to_string(e.index()));
    EXPECT_NE(std::string(e.what()).find("bad item " + std::to_string(e.index())),
              std::string::npos);
  }
  EXPECT_EQ(error_rank, thrower);
  // The thrower's lowest failing item is the one reported, and every rank agrees on it.
  const auto lowest = gather_all(lowest_here.load());
  EXPECT_EQ(error_index, lowest[static_cast<std::size_t>(thrower)]);
  const auto indices = gather_all(error_index);
  EXPECT_TRUE(std::ranges::all_of(indices, [&](auto i) { return i == indices[0]; }));
  // The next call works normally.
  const auto again = parmap::mpi::parallel_map(MPI_COMM_WORLD, in, square_plus_one, local());
  if (root) {
    EXPECT_EQ(again.size(), 200u);
  }
}

TEST_P(MpiMap, LowestFailingIndexWinsWhereverItRan) {
  const auto in = root ? numbers(300) : std::vector<std::int64_t>{};
  std::atomic<bool> ran_37{false};
  for (bool gather : {false, true}) {
    std::int64_t index = -1;
    int on_rank = -1;
    try {
      (void)parmap::mpi::parallel_map(
          MPI_COMM_WORLD, in,
          [&](std::int64_t x) -> std::int64_t {
            const std::int64_t i = x + 3;
            if (i == 37) ran_37 = true;
            if (i == 37 || i == 120 || i == 250)
              throw std::out_of_range("item " + std::to_string(i));
            return x;
          },
          local(), parmap::mpi::options{.chunk = 4, .all_gather = gather});
    } catch (const parmap::mpi::remote_error& e) {
      index = static_cast<std::int64_t>(e.index());
      on_rank = e.rank();
      EXPECT_EQ(e.original_what(), "item 37");
    }
    EXPECT_EQ(index, 37);
    // The rank named is the one that ran item 37.
    const auto ran = gather_all(ran_37.load() ? 1 : 0);
    ASSERT_GE(on_rank, 0);
    EXPECT_EQ(ran[static_cast<std::size_t>(on_rank)], 1);
    ran_37 = false;
  }
}

TEST_P(MpiMap, NonStandardExceptionsAreReported) {
  const auto in = root ? numbers(20) : std::vector<std::int64_t>{};
  bool threw = false;
  try {
    (void)parmap::mpi::parallel_map(
        MPI_COMM_WORLD, in,
        [](std::int64_t x) -> std::int64_t {
          if (x + 3 == 11) throw 42;
          return x;
        },
        local(), parmap::mpi::options{.chunk = 2});
  } catch (const parmap::mpi::remote_error& e) {
    threw = true;
    EXPECT_EQ(e.index(), 11u);
    EXPECT_EQ(e.original_what(), "an exception not derived from std::exception");
  }
  EXPECT_TRUE(threw);
}

TEST_P(MpiMap, StopOnTheRootCancelsEveryRank) {
  std::stop_source stop;
  if (root) stop.request_stop();
  parmap::options opt = local();
  opt.stop = stop.get_token();
  const auto in = root ? numbers(50) : std::vector<std::int64_t>{};
  int outcome = 0;
  try {
    (void)parmap::mpi::parallel_map(MPI_COMM_WORLD, in, square_plus_one, opt,
                                    parmap::mpi::options{.chunk = 5});
  } catch (const parmap::timeout&) {
    outcome = 2;
  } catch (const parmap::cancelled&) {
    outcome = 1;
  }
  EXPECT_EQ(outcome, 1);
}

TEST_P(MpiMap, SlowedRankGetsFewerChunks) {
  if (size < 2) GTEST_SKIP() << "needs two ranks";
  // First a worker is slowed, then the root: the slowed one must end up with fewer chunks than
  // every other rank, because ranks ask for work when they finish.
  for (int slow : {size - 1, 0}) {
    const auto in = root ? numbers(160) : std::vector<std::int64_t>{};
    parmap::mpi::call_report report;
    const auto out = parmap::mpi::parallel_map(
        MPI_COMM_WORLD, in,
        [&](std::int64_t x) {
          // Sleeping, not computing: the ranks share two cores with other processes.
          std::this_thread::sleep_for(std::chrono::microseconds(rank == slow ? 10000 : 500));
          return x;
        },
        parmap::options{.backend = GetParam(), .threads = 1},
        parmap::mpi::options{.chunk = 1, .report = &report});
    if (root) {
      EXPECT_EQ(out, in);
      const auto& chunks = report.chunks_per_rank;
      ASSERT_EQ(chunks.size(), static_cast<std::size_t>(size));
      for (int r = 0; r < size; ++r) {
        if (r != slow) {
          EXPECT_LT(chunks[static_cast<std::size_t>(slow)], chunks[static_cast<std::size_t>(r)])
              << "slow rank " << slow << " vs rank " << r;
        }
      }
    }
  }
}

TEST_P(MpiMap, RootOtherThanZeroAndSubCommunicators) {
  // Split the world into two halves; each half maps with its last rank as the root.
  MPI_Comm half = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
  int half_rank = 0;
  int half_size = 0;
  MPI_Comm_rank(half, &half_rank);
  MPI_Comm_size(half, &half_size);
  const int half_root = half_size - 1;
  const auto in = half_rank == half_root ? numbers(77) : std::vector<std::int64_t>{};
  const auto out = parmap::mpi::parallel_map(
      half, in, [&](std::int64_t x) { return x + rank % 2; }, local(),
      parmap::mpi::options{.root = half_root, .chunk = 6});
  if (half_rank == half_root) {
    const auto expected = numbers(77);
    ASSERT_EQ(out.size(), 77u);
    for (std::size_t i = 0; i < 77; ++i) EXPECT_EQ(out[i], expected[i] + rank % 2);
  } else {
    EXPECT_TRUE(out.empty());
  }
  MPI_Comm_free(&half);
}

TEST_P(MpiMap, AgreesWithTheLocalParallelMap) {
  // Differential check against parmap::parallel_map on the serial backend, with uneven work.
  const auto in = root ? numbers(2000) : std::vector<std::int64_t>{};
  auto f = [](std::int64_t x) {
    double s = 0;
    for (std::int64_t k = 0; k < (x % 50 + 50) % 50; ++k) s += static_cast<double>(k * x) * 1e-3;
    return s;
  };
  const auto out = parmap::mpi::parallel_map(MPI_COMM_WORLD, in, f, local(),
                                             parmap::mpi::options{.all_gather = true});
  const auto all = numbers(2000);
  const auto expected =
      parmap::parallel_map(all, f, parmap::options{.backend = parmap::backend::serial});
  EXPECT_EQ(out, expected);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(MpiMap);

}  // namespace
