// map_reduce on every backend: exact against a serial fold for integers and for an associative
// but non-commutative reduction (string concatenation), within rounding for doubles, and
// bit-identical across runs and across backends for a given thread count and chunk.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <list>
#include <ranges>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using parmap_test::item_failed;


std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

/// Doubles of very different magnitudes, so that the order of the additions shows in the bits.
std::vector<double> uneven_doubles(std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = std::sin(static_cast<double>(i)) * std::pow(10.0, static_cast<double>(i % 17) - 8.0);
  }
  return v;
}

class MapReduce : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads, std::size_t chunk = 0) const {
    return parmap::options{.backend = GetParam(), .threads = threads, .chunk = chunk};
  }
};

TEST_P(MapReduce, IntegersEqualTheSerialFold) {
  for (std::size_t n : {1u, 2u, 7u, 1000u, 100003u}) {
    for (int threads : {1, 2, 3, 8}) {
      for (std::size_t chunk : {0u, 1u, 7u, 4096u}) {
        SCOPED_TRACE("n=" + std::to_string(n) + " threads=" + std::to_string(threads) +
                     " chunk=" + std::to_string(chunk));
        auto map = [](std::int64_t x) { return x * x % 1009 - 500; };
        std::int64_t serial = 17;
        for (std::size_t i = 0; i < n; ++i) serial += map(static_cast<std::int64_t>(i));
        const std::int64_t got =
            parmap::map_reduce(std::views::iota(std::int64_t{0}, static_cast<std::int64_t>(n)), map,
                               std::int64_t{17}, std::plus<>{}, opts(threads, chunk));
        ASSERT_EQ(got, serial);
      }
    }
  }
}

// Concatenation is associative but not commutative: any block folded out of order shows.
TEST_P(MapReduce, KeepsTheOrderOfANonCommutativeReduction) {
  std::list<int> digits;
  std::string serial = ">";
  for (int i = 0; i < 3001; ++i) {
    digits.push_back(i % 10);
    serial += static_cast<char>('0' + i % 10);
  }
  for (int threads : {1, 2, 5}) {
    for (std::size_t chunk : {0u, 1u, 100u}) {
      const std::string got = parmap::map_reduce(
          digits, [](int d) { return std::string(1, static_cast<char>('0' + d)); },
          std::string(">"), [](std::string a, const std::string& b) { return a + b; },
          opts(threads, chunk));
      ASSERT_EQ(got, serial) << "threads=" << threads << " chunk=" << chunk;
    }
  }
}

TEST_P(MapReduce, DoublesAreCloseToTheSerialFoldAndBitIdenticalAcrossRuns) {
  const std::vector<double> xs = uneven_doubles(200001);
  double serial = 0.0, magnitude = 0.0;
  for (double x : xs) {
    serial += x * 3.0;
    magnitude += std::abs(x * 3.0);
  }
  for (int threads : {1, 2, 3}) {
    for (std::size_t chunk : {0u, 1000u}) {
      SCOPED_TRACE("threads=" + std::to_string(threads) + " chunk=" + std::to_string(chunk));
      auto run = [&](backend b) {
        parmap::options o = opts(threads, chunk);
        o.backend = b;
        return parmap::map_reduce(
            xs, [](double x) { return x * 3.0; }, 0.0, std::plus<>{}, o);
      };
      const double first = run(GetParam());
      EXPECT_NEAR(first, serial, magnitude * 1e-12);
      for (int again = 0; again < 5; ++again) ASSERT_EQ(bits(run(GetParam())), bits(first));
      // the blocks depend on the input's size and the chunk, never on the backend
      EXPECT_EQ(bits(run(backend::serial)), bits(first));
    }
  }
}

// The same digits on a laptop and a cluster node: the blocks depend only on the input's size
// and the chunk, so every thread count and every backend gives the same bits.
TEST_P(MapReduce, DoublesAreBitIdenticalOnAnyThreadCountAndBackend) {
  const std::vector<double> xs = uneven_doubles(300007);
  for (std::size_t chunk : {0u, 777u}) {
    auto run = [&](backend b, int threads) {
      parmap::options o = opts(threads, chunk);
      o.backend = b;
      return parmap::map_reduce(
          xs, [](double x) { return x * 3.0; }, 0.5, std::plus<>{}, o);
    };
    const double reference = run(backend::serial, 1);
    for (int threads : {1, 2, 3, 4, 7, 16}) {
      ASSERT_EQ(bits(run(GetParam(), threads)), bits(reference))
          << "threads=" << threads << " chunk=" << chunk;
    }
    for (backend other : parmap::available_backends()) {
      ASSERT_EQ(bits(run(other, 3)), bits(reference))
          << parmap::to_string(other) << " chunk=" << chunk;
    }
  }
}

// An ill-conditioned sum: a huge term, a million small ones, and the huge term taken away
// again. A left fold adds every small term to the huge one, rounding each time, so its error
// grows with the number of terms; the blocks' pairwise combine rounds each small term against
// a block's partial sum only. The exact sum is the small terms' alone (the huge ones cancel).
TEST_P(MapReduce, PairwiseCombineIsNoLessAccurateThanTheSerialFold) {
  std::vector<double> xs{1e8};
  long double exact = 0.0L;
  for (std::size_t i = 0; i < 1'000'000; ++i) {
    const double small = 0.1 + 1e-3 * std::sin(static_cast<double>(i));
    xs.push_back(small);
    exact += static_cast<long double>(small);
  }
  xs.push_back(-1e8);
  double serial = 0.0;
  for (double x : xs) serial += x;
  const auto error = [&](double got) {
    return std::abs(static_cast<long double>(got) - exact);
  };
  for (int threads : {1, 2, 3}) {
    const double parallel = parmap::map_reduce(
        xs, [](double x) { return x; }, 0.0, std::plus<>{}, opts(threads));
    EXPECT_LE(error(parallel), error(serial))
        << "threads=" << threads << ": pairwise " << parallel << ", serial " << serial
        << ", exact " << static_cast<double>(exact);
  }
}

TEST_P(MapReduce, MapResultConvertsToTheAccumulator) {
  // int items, a 64-bit accumulator: the sum overflows int but not std::int64_t
  const std::int64_t got = parmap::map_reduce(
      std::views::iota(0, 100000), [](int x) { return x; }, std::int64_t{0}, std::plus<>{},
      opts(2));
  EXPECT_EQ(got, std::int64_t{99999} * 100000 / 2);
  // a single-pass input is read once, first
  std::istringstream text("1 2 3 4 5");
  EXPECT_EQ(
      parmap::map_reduce(
          std::views::istream<int>(text), [](int x) { return x * 10; }, 0, std::plus<>{}, opts(2)),
      150);
}

TEST_P(MapReduce, EmptyInputReturnsInit) {
  std::atomic<int> calls{0};
  const int got = parmap::map_reduce(
      std::vector<int>{},
      [&](int x) {
        calls.fetch_add(1);
        return x;
      },
      42,
      [&](int a, int b) {
        calls.fetch_add(1);
        return a + b;
      },
      opts(2));
  EXPECT_EQ(got, 42);
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(MapReduce, LowestFailingItemWins) {
  for (int threads : {1, 2, 4}) {
    for (std::size_t chunk : {0u, 1u, 50u}) {
      try {
        (void)parmap::map_reduce(
            std::views::iota(std::size_t{0}, std::size_t{5000}),
            [](std::size_t i) {
              if (i == 4321 || i == 1234 || i == 1235) throw item_failed{i};
              return i;
            },
            std::size_t{0}, std::plus<>{}, opts(threads, chunk));
        ADD_FAILURE() << "no exception";
      } catch (const item_failed& e) {
        EXPECT_EQ(e.index, 1234u) << "threads=" << threads << " chunk=" << chunk;
      }
    }
  }
  // the reduction failing counts too (whichever combine first passes 4000: the sum is 4950)
  EXPECT_THROW((void)parmap::map_reduce(
                   std::views::iota(0, 100), [](int x) { return x; }, 0,
                   [](int a, int b) -> int {
                     if (a + b > 4000) throw std::overflow_error("past 4000");
                     return a + b;
                   },
                   opts(2)),
               std::overflow_error);
}

// Several reductions in one pass: a tuple reduced with one operation per element, and an array
// reduced with one operation for all; each equals its own serial fold.
TEST_P(MapReduce, ReduceEachRunsSeveralReductionsAtOnce) {
  const std::vector<double> xs = uneven_doubles(100003);
  for (int threads : {1, 3}) {
    for (std::size_t chunk : {0u, 1u, 999u}) {
      SCOPED_TRACE("threads=" + std::to_string(threads) + " chunk=" + std::to_string(chunk));
      const auto [sum, largest, count] = parmap::map_reduce(
          xs, [](double x) { return std::tuple{x, x, std::size_t{1}}; },
          std::tuple{0.0, -std::numeric_limits<double>::infinity(), std::size_t{0}},
          parmap::reduce_each(std::plus<>{}, [](double a, double b) { return std::max(a, b); },
                              std::plus<>{}),
          opts(threads, chunk));
      // the sum is the plain map_reduce's, to the bit: the same blocks, the same tree
      EXPECT_EQ(bits(sum), bits(parmap::map_reduce(
                               xs, [](double x) { return x; }, 0.0, std::plus<>{},
                               opts(threads, chunk))));
      EXPECT_EQ(largest, *std::max_element(xs.begin(), xs.end()));
      EXPECT_EQ(count, xs.size());
    }
  }

  // two sums and ten counts: the digits of 0 .. n-1, their sum and the sum of their squares
  constexpr std::int64_t n = 54321;
  using tally = std::array<std::int64_t, 12>;
  const tally got = parmap::map_reduce(
      std::views::iota(std::int64_t{0}, n),
      [](std::int64_t i) {
        tally t{};
        t[0] = i;
        t[1] = i * i;
        t[static_cast<std::size_t>(2 + i % 10)] = 1;
        return t;
      },
      tally{}, parmap::reduce_each(std::plus<>{}), opts(3, 100));
  tally expected{};
  for (std::int64_t i = 0; i < n; ++i) {
    expected[0] += i;
    expected[1] += i * i;
    expected[static_cast<std::size_t>(2 + i % 10)] += 1;
  }
  EXPECT_EQ(got, expected);

  // a pair, with a non-commutative operation: the order of the blocks shows
  std::string serial;
  for (int i = 0; i < 500; ++i) serial += static_cast<char>('a' + i % 26);
  const auto [text, total] = parmap::map_reduce(
      std::views::iota(0, 500),
      [](int i) { return std::pair{std::string(1, static_cast<char>('a' + i % 26)), i}; },
      std::pair{std::string(), 0}, parmap::reduce_each(std::plus<>{}), opts(3, 7));
  EXPECT_EQ(text, serial);
  EXPECT_EQ(total, 499 * 500 / 2);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(MapReduce);

TEST(MapReduceOptions, BadOptionsFailBeforeAnyCall) {
  std::atomic<int> calls{0};
  EXPECT_THROW((void)parmap::map_reduce(
                   std::views::iota(0, 10), [&](int x) { return calls += x; }, 0, std::plus<>{},
                   parmap::options{.schedule = static_cast<parmap::schedule>(42)}),
               std::invalid_argument);
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
