// parallel_zip_map on every backend: results equal the serial loop over zipped inputs of every
// kind, unequal lengths are refused before any call, failures are those of a serial loop.
#include <atomic>
#include <cstddef>
#include <list>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using parmap_test::item_failed;


/// A result type without a default constructor.
struct labelled {
  explicit labelled(std::string s) : text(std::move(s)) {}
  std::string text;
};

class Zip : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads = 3, std::size_t chunk = 0) const {
    return parmap::options{.backend = GetParam(), .threads = threads, .chunk = chunk};
  }
};

TEST_P(Zip, EqualsTheSerialLoop) {
  for (std::size_t n : {0u, 1u, 2u, 5u, 999u, 10007u}) {
    for (std::size_t chunk : {0u, 1u, 64u}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " chunk=" + std::to_string(chunk));
      std::vector<long> a(n);
      std::list<long> b;
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = static_cast<long>(i) * 3 - 7;
        b.push_back(static_cast<long>(i * i % 101));
      }
      constexpr long k = 5;  // a constant baked into the function, no partial needed
      const auto out =
          parmap::parallel_zip_map([k](long x, long y, long z) { return (x + y) * k - z; }, a, b,
                                   std::views::iota(0L, static_cast<long>(n)), opts(3, chunk));
      ASSERT_EQ(out.size(), n);
      auto bi = b.begin();
      for (std::size_t i = 0; i < n; ++i, ++bi) {
        ASSERT_EQ(out[i], (a[i] + *bi) * k - static_cast<long>(i)) << "at " << i;
      }
    }
  }
}

TEST_P(Zip, SinglePassInputsAndDefaultOptions) {
  std::istringstream text("1 2 3 4");
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  const auto out = parmap::parallel_zip_map(
      [](int v, const std::string& s) { return labelled(s + std::to_string(v)); },
      std::views::istream<int>(text), names, opts());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].text, "a1");
  EXPECT_EQ(out[3].text, "d4");
  // a single range is a plain map; without options the default backend runs it
  const auto one = parmap::parallel_zip_map([](int x) { return x * 2; }, std::views::iota(0, 4));
  EXPECT_EQ(one, (std::vector<int>{0, 2, 4, 6}));
}

TEST_P(Zip, UnequalLengthsFailBeforeAnyCall) {
  std::atomic<int> calls{0};
  auto fn = [&](int x, int y) {
    calls.fetch_add(1);
    return x + y;
  };
  const std::vector<int> three = {1, 2, 3};
  try {
    (void)parmap::parallel_zip_map(fn, three, std::views::iota(0, 4), opts());
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("3, 4"), std::string::npos) << what;
  }
  std::istringstream text("1 2");
  EXPECT_THROW((void)parmap::parallel_zip_map(fn, std::views::istream<int>(text), three, opts()),
               std::invalid_argument);
  EXPECT_THROW((void)parmap::parallel_zip_map(fn, std::vector<int>{}, three, opts()),
               std::invalid_argument);
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(Zip, LowestFailingIndexWins) {
  for (int threads : {1, 2, 4}) {
    try {
      (void)parmap::parallel_zip_map(
          [](std::size_t i, std::size_t j) {
            if (i == 700 || i == 71) throw item_failed{i + j};
            return i;
          },
          std::views::iota(std::size_t{0}, std::size_t{1000}), std::vector<std::size_t>(1000, 0),
          opts(threads, 8));
      ADD_FAILURE() << "no exception";
    } catch (const item_failed& e) {
      EXPECT_EQ(e.index, 71u);
    }
  }
}

TEST_P(Zip, EmptyInputsNeverCallFn) {
  std::atomic<int> calls{0};
  const auto out = parmap::parallel_zip_map(
      [&](int x, int y) {
        calls.fetch_add(1);
        return x + y;
      },
      std::vector<int>{}, std::views::iota(0, 0), opts());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(calls.load(), 0);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Zip);

TEST(ZipOptions, BadOptionsFailBeforeAnyCall) {
  std::atomic<int> calls{0};
  auto fn = [&](int x, int y) { return calls += x + y; };
  EXPECT_THROW((void)parmap::parallel_zip_map(fn, std::views::iota(0, 3), std::views::iota(0, 3),
                                              parmap::options{.threads = -100000}),
               std::invalid_argument);
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
