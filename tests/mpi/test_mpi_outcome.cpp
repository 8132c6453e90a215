// parmap::mpi::parallel_map with a catching function: every item's outcome comes back to the
// root (and to every rank with all_gather), failures as remote_errors that name the rank that
// ran the item, its index, and the original exception's type and text, whichever rank ran it;
// a stop still ends the call. Under mpiexec with 1 to 4 ranks, on every local backend.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <numeric>
#include <parmap/mpi.hpp>
#include <parmap/parmap.hpp>
#include <random>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "mpi_test.hpp"
#include "test_backends.hpp"

/// An exception type that derives from nothing.
struct bad_header {
  int code;
};

namespace {

using parmap::outcome;
using parmap::mpi::remote_error;
using parmap_test::gather_all;
using parmap_test::world_rank;
using parmap_test::world_size;

/// The same fixed-seed random set of failing items on every rank.
std::set<std::int64_t> failing_items(std::size_t n, unsigned percent, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<unsigned> pick(0, 99);
  std::set<std::int64_t> out;
  for (std::size_t i = 0; i < n; ++i) {
    if (pick(gen) < percent) out.insert(static_cast<std::int64_t>(i));
  }
  return out;
}

/// What item i throws when it fails: a std::exception whose text names the rank that ran it,
/// a type derived from nothing, or an int.
[[noreturn]] void throw_for(std::int64_t i) {
  switch (i % 3) {
    case 0:
      throw std::runtime_error("item " + std::to_string(i) + " on " + std::to_string(world_rank()));
    case 1:
      throw bad_header{static_cast<int>(i)};
    default:
      throw static_cast<int>(i);
  }
}

/// The original_what() item i's remote_error must carry when rank `ran_on` ran it.
std::string expected_text(std::int64_t i, int ran_on) {
  switch (i % 3) {
    case 0:
      return "std::runtime_error: item " + std::to_string(i) + " on " + std::to_string(ran_on);
    case 1:
      return "exception of type bad_header";
    default:
      return "exception of type int";
  }
}

class MpiOutcome : public parmap_test::mpi_backend_test {
 protected:
  /// Checks every result against the input: item i (input value i) holds i * 10, or fails as
  /// `failing` says, with a remote_error naming its index, a real rank, and the right text.
  void expect_results(const std::vector<outcome<std::int64_t>>& results, std::size_t n,
                      const std::set<std::int64_t>& failing) const {
    ASSERT_EQ(results.size(), n);
    std::vector<std::int64_t> ran_on(static_cast<std::size_t>(size), 0);
    for (std::size_t k = 0; k < n; ++k) {
      const auto i = static_cast<std::int64_t>(k);
      if (!failing.contains(i)) {
        ASSERT_TRUE(results[k].has_value()) << "item " << i << ": " << results[k].what();
        EXPECT_EQ(*results[k], i * 10);
        continue;
      }
      ASSERT_FALSE(results[k].has_value()) << "item " << i << " should have failed";
      try {
        std::rethrow_exception(results[k].error());
      } catch (const remote_error& e) {
        EXPECT_EQ(e.index(), k);
        ASSERT_GE(e.rank(), 0);
        ASSERT_LT(e.rank(), size);
        ++ran_on[static_cast<std::size_t>(e.rank())];
        EXPECT_EQ(e.original_what(), expected_text(i, e.rank()));
        EXPECT_EQ(results[k].what(), std::string(e.what()));
        EXPECT_EQ(results[k].error_type_name(), "parmap::mpi::remote_error");
      } catch (...) {
        ADD_FAILURE() << "item " << i << ": not a remote_error but " << results[k].what();
      }
    }
    const auto f = parmap::failures(results);
    ASSERT_EQ(f.size(), failing.size());
    auto it = failing.begin();
    for (const auto& one : f) {
      EXPECT_EQ(static_cast<std::int64_t>(one.index), *it);
      EXPECT_NE(one.what.find("item " + std::to_string(*it) + " failed on rank "),
                std::string::npos)
          << one.what;
      ++it;
    }
  }
};

TEST_P(MpiOutcome, EveryItemsOutcomeReachesTheRoot) {
  unsigned seed = 100;
  for (std::size_t n : {1u, 7u, 300u}) {
    for (std::size_t chunk : {0u, 1u, 16u}) {
      for (unsigned percent : {0u, 10u, 100u}) {
        SCOPED_TRACE("n=" + std::to_string(n) + " chunk=" + std::to_string(chunk) +
                     " percent=" + std::to_string(percent));
        const auto failing = failing_items(n, percent, seed++);
        std::vector<std::int64_t> in;
        if (root) {
          in.resize(n);
          std::iota(in.begin(), in.end(), std::int64_t{0});
        }
        const auto out =
            parmap::mpi::parallel_map(MPI_COMM_WORLD, in, parmap::catching([&](std::int64_t i) {
                                        if (failing.contains(i)) throw_for(i);
                                        return i * 10;
                                      }),
                                      local(), parmap::mpi::options{.chunk = chunk});
        if (root) {
          expect_results(out, n, failing);
        } else {
          EXPECT_TRUE(out.empty());
        }
      }
    }
  }
}

TEST_P(MpiOutcome, AllGatherGivesEveryRankTheSameOutcomes) {
  const std::size_t n = 200;
  const auto failing = failing_items(n, 15, 7);
  std::vector<std::int64_t> in;
  if (root) {
    in.resize(n);
    std::iota(in.begin(), in.end(), std::int64_t{0});
  }
  const auto out =
      parmap::mpi::parallel_map(MPI_COMM_WORLD, in, parmap::catching([&](std::int64_t i) {
                                  if (failing.contains(i)) throw_for(i);
                                  return i * 10;
                                }),
                                local(), parmap::mpi::options{.chunk = 5, .all_gather = true});
  expect_results(out, n, failing);
  // Every rank sees the same rank for every failure.
  std::int64_t rank_sum = 0;
  for (const auto& o : out) {
    if (o.has_value()) continue;
    try {
      std::rethrow_exception(o.error());
    } catch (const remote_error& e) {
      rank_sum = rank_sum * 7 % 1000003 + e.rank();
    }
  }
  const auto sums = gather_all(rank_sum);
  for (auto s : sums) EXPECT_EQ(s, sums[0]);
}

TEST_P(MpiOutcome, FailuresOnEveryRankNameTheirRank) {
  // Items fail only on the last rank: each failure names it, whatever the deal.
  const int thrower = size - 1;
  const std::size_t n = 120;
  std::vector<std::int64_t> in;
  if (root) {
    in.resize(n);
    std::iota(in.begin(), in.end(), std::int64_t{0});
  }
  std::atomic<int> thrown{0};
  const auto out = parmap::mpi::parallel_map(MPI_COMM_WORLD, in,
                                             parmap::catching([&](std::int64_t i) -> std::int64_t {
                                               if (rank == thrower) {
                                                 thrown.fetch_add(1);
                                                 throw std::out_of_range("no " + std::to_string(i));
                                               }
                                               return i;
                                             }),
                                             local(), parmap::mpi::options{.chunk = 3});
  const auto counts = gather_all(thrown.load());
  if (!root) return;
  std::int64_t failed = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (out[k].has_value()) continue;
    ++failed;
    try {
      std::rethrow_exception(out[k].error());
    } catch (const remote_error& e) {
      EXPECT_EQ(e.rank(), thrower);
      EXPECT_EQ(e.index(), k);
      EXPECT_EQ(e.original_what(), "std::out_of_range: no " + std::to_string(k));
    }
  }
  EXPECT_EQ(failed, counts[static_cast<std::size_t>(thrower)]);
}

TEST_P(MpiOutcome, AStopStillEndsTheCall) {
  std::stop_source stop;
  if (root) stop.request_stop();
  parmap::options opt = local();
  opt.stop = stop.get_token();
  std::vector<std::int64_t> in;
  if (root) in.assign(50, 1);
  int seen = 0;
  try {
    (void)parmap::mpi::parallel_map(MPI_COMM_WORLD, in,
                                    parmap::catching([](std::int64_t x) -> std::int64_t {
                                      if (x > 0) throw std::runtime_error("fails");
                                      return x;
                                    }),
                                    opt, parmap::mpi::options{.chunk = 5});
  } catch (const parmap::timeout&) {
    seen = 2;
  } catch (const parmap::cancelled&) {
    seen = 1;
  }
  EXPECT_EQ(seen, 1);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(MpiOutcome);

// ---- the serializer, without a call ------------------------------------------------------------

template <class T>
T round_trip(const T& value) {
  parmap::mpi::writer w;
  w.write(value);
  parmap::mpi::reader r(w.bytes().data(), w.bytes().size());
  T back = r.read<T>();
  EXPECT_EQ(r.remaining(), 0u);
  return back;
}

static_assert(parmap::mpi::serializable<outcome<int>>);
static_assert(parmap::mpi::serializable<outcome<std::string>>);
static_assert(parmap::mpi::serializable<outcome<void>>);
static_assert(parmap::mpi::serializable<std::vector<outcome<std::vector<double>>>>);

TEST(MpiOutcomeSerializer, ValuesTravelAsThemselves) {
  EXPECT_EQ(round_trip(outcome<std::string>("text")).value(), "text");
  EXPECT_EQ(round_trip(outcome<int>(-4)).value(), -4);
  EXPECT_TRUE(round_trip(outcome<void>()).has_value());
}

TEST(MpiOutcomeSerializer, ARemoteErrorTravelsUnchanged) {
  const outcome<int> sent(parmap::unexpect, std::make_exception_ptr(remote_error(2, 17, "T: x")));
  const auto back = round_trip(sent);
  ASSERT_FALSE(back.has_value());
  try {
    std::rethrow_exception(back.error());
  } catch (const remote_error& e) {
    EXPECT_EQ(e.rank(), 2);
    EXPECT_EQ(e.index(), 17u);
    EXPECT_EQ(e.original_what(), "T: x");
    EXPECT_EQ(std::string(e.what()), "parmap::mpi: item 17 failed on rank 2: T: x");
  }
}

TEST(MpiOutcomeSerializer, OtherErrorsTravelAsTypeAndText) {
  // An outcome written outside a call (or nested in another result): its item is not known.
  const auto back = round_trip(
      outcome<void>(parmap::unexpect, std::make_exception_ptr(std::invalid_argument("bad"))));
  ASSERT_FALSE(back.has_value());
  try {
    std::rethrow_exception(back.error());
  } catch (const remote_error& e) {
    EXPECT_EQ(e.rank(), world_rank());
    EXPECT_EQ(e.index(), remote_error::unknown_index);
    EXPECT_EQ(e.original_what(), "std::invalid_argument: bad");
    EXPECT_EQ(std::string(e.what()), "parmap::mpi: an item failed on rank " +
                                         std::to_string(world_rank()) +
                                         ": std::invalid_argument: bad");
  }
  const auto odd = round_trip(std::vector<outcome<int>>{
      1, outcome<int>(parmap::unexpect, std::make_exception_ptr(bad_header{3}))});
  ASSERT_EQ(odd.size(), 2u);
  EXPECT_EQ(odd[0].value(), 1);
  EXPECT_NE(odd[1].what().find("exception of type bad_header"), std::string::npos);
}

}  // namespace
