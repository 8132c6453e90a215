// parallel_map and parallel_map_into on every backend: sizes, schedules, chunk sizes, thread
// counts, every kind of input range, result type and callable, and a differential check against
// the serial backend.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <list>
#include <memory>
#include <random>
#include <ranges>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using parmap_test::all_schedules;
using parmap::schedule;


/// A cheap function whose value depends on every bit of its argument (splitmix64's finalizer).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string describe(std::size_t n, int threads, std::size_t chunk, schedule s) {
  return "n=" + std::to_string(n) + " threads=" + std::to_string(threads) +
         " chunk=" + std::to_string(chunk) + " schedule=" + std::string(parmap::to_string(s));
}

/// Maps i -> 3i + 1 over [0, n) and checks that every index was visited exactly once and every
/// result sits at its index. Reports the first bad index only, so a broken backend does not
/// drown the log in a million lines.
void expect_each_index_once(const parmap::options& opt, std::size_t n) {
  SCOPED_TRACE(describe(n, opt.threads, opt.chunk, opt.schedule));
  std::vector<std::atomic<unsigned>> visits(n);
  const auto out = parmap::parallel_map(
      std::views::iota(std::size_t{0}, n),
      [&](std::size_t i) {
        visits[i].fetch_add(1, std::memory_order_relaxed);
        return 3 * i + 1;
      },
      opt);
  ASSERT_EQ(out.size(), n);
  std::size_t bad_visits = 0, bad_values = 0, first_bad = n;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned v = visits[i].load(std::memory_order_relaxed);
    if (v != 1) ++bad_visits;
    if (out[i] != 3 * i + 1) ++bad_values;
    if ((v != 1 || out[i] != 3 * i + 1) && first_bad == n) first_bad = i;
  }
  EXPECT_EQ(bad_visits, 0u) << "first bad index " << first_bad << " was visited "
                            << (first_bad < n ? visits[first_bad].load() : 0u) << " times";
  EXPECT_EQ(bad_values, 0u) << "first bad index " << first_bad;
}

class ParallelMap : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads = 2, std::size_t chunk = 0,
                                     schedule s = schedule::automatic) const {
    return parmap::options{
        .backend = GetParam(), .threads = threads, .chunk = chunk, .schedule = s};
  }
};

TEST_P(ParallelMap, EmptyInputReturnsEmptyWithoutCallingFn) {
  std::atomic<int> calls{0};
  const std::vector<int> empty;
  for (int threads : {1, 2, 8, -1}) {
    const auto out = parmap::parallel_map(
        empty,
        [&](int x) {
          calls.fetch_add(1);
          return x;
        },
        opts(threads));
    EXPECT_TRUE(out.empty());
  }
  const auto none = parmap::parallel_map(
      std::views::iota(5, 5),
      [&](int x) {
        calls.fetch_add(1);
        return x;
      },
      opts());
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(ParallelMap, SingleItem) {
  const std::vector<int> one = {41};
  for (int threads : {1, 2, 8, -1}) {
    const auto out = parmap::parallel_map(
        one, [](int x) { return x + 1; }, opts(threads));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], 42);
  }
}

TEST_P(ParallelMap, FewerItemsThanThreads) {
  for (const auto& c : parmap_test::fewer_items_than_threads()) {
    expect_each_index_once(opts(c.threads, c.chunk, c.schedule), c.n);
  }
}

TEST_P(ParallelMap, UnevenSplits) {
  for (const auto& c : parmap_test::uneven_splits()) {
    expect_each_index_once(opts(c.threads, c.chunk, c.schedule), c.n);
  }
}

TEST_P(ParallelMap, EveryScheduleChunkAndThreadCount) {
  for (const auto& c : parmap_test::every_schedule_chunk_and_thread_count()) {
    expect_each_index_once(opts(c.threads, c.chunk, c.schedule), c.n);
  }
}

TEST_P(ParallelMap, LargeInput) {
  for (const auto& c : parmap_test::large_splits()) {
    expect_each_index_once(opts(c.threads, c.chunk, c.schedule), c.n);
  }
}

TEST_P(ParallelMap, DefaultOptionsUseTheDefaultBackend) {
  const std::vector<int> in = {1, 2, 3, 4, 5};
  const auto out = parmap::parallel_map(in, [](int x) { return x * x; });
  EXPECT_EQ(out, (std::vector<int>{1, 4, 9, 16, 25}));
}

// Random sizes, chunks, thread counts and schedules; the serial backend is the reference and is
// itself checked against a plain loop.
TEST_P(ParallelMap, MatchesSerialOnRandomCases) {
  std::mt19937_64 rng(20240611);
  auto pick = [&](std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = pick(0, 3) == 0 ? pick(0, 16) : pick(0, 3000);
    std::vector<std::int64_t> in(n);
    for (auto& x : in) x = static_cast<std::int64_t>(rng());
    const std::size_t chunk = pick(0, 2) == 0 ? 0 : pick(1, n + 10);
    const int threads = static_cast<int>(pick(0, 10)) - 2;  // -2 .. 8
    const schedule s = all_schedules[pick(0, all_schedules.size() - 1)];
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + describe(n, threads, chunk, s));

    auto fn = [](std::int64_t x) { return mix(static_cast<std::uint64_t>(x)); };
    std::vector<std::uint64_t> expected;
    for (std::int64_t x : in) expected.push_back(fn(x));
    const auto serial = parmap::parallel_map(
        in, fn,
        parmap::options{
            .backend = backend::serial, .threads = threads, .chunk = chunk, .schedule = s});
    ASSERT_EQ(serial, expected);
    const auto got = parmap::parallel_map(in, fn, opts(threads, chunk, s));
    ASSERT_EQ(got, serial);
  }
}

// ---- inputs ---------------------------------------------------------------------------------

TEST_P(ParallelMap, VectorInput) {
  std::vector<double> in(333);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = 0.5 * static_cast<double>(i);
  const auto out = parmap::parallel_map(
      in, [](double x) { return x * 2; }, opts(3, 10));
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], static_cast<double>(i));
}

TEST_P(ParallelMap, ElementsArePassedByReferenceWithoutCopies) {
  std::vector<int> in(50, 0);
  const auto addresses = parmap::parallel_map(
      in, [](int& x) { return &x; }, opts(3, 4));
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(addresses[i], &in[i]);
}

TEST_P(ParallelMap, ArrayInput) {
  const std::array<int, 7> in = {7, -3, 0, 12, 5, 5, -100};
  const auto out = parmap::parallel_map(
      in, [](int x) { return x - 1; }, opts(3, 2));
  EXPECT_EQ(out, (std::vector<int>{6, -4, -1, 11, 4, 4, -101}));
}

TEST_P(ParallelMap, ListInput) {
  std::list<std::string> in;
  for (int i = 0; i < 257; ++i) in.push_back(std::string(static_cast<std::size_t>(i % 13), 'w'));
  const auto out = parmap::parallel_map(
      in, [](const std::string& s) { return s.size(); }, opts(3, 5));
  ASSERT_EQ(out.size(), in.size());
  std::size_t i = 0;
  for (const auto& s : in) EXPECT_EQ(out[i++], s.size());
}

TEST_P(ParallelMap, IotaWithNegativeBounds) {
  const auto out = parmap::parallel_map(
      std::views::iota(-500, 501), [](int x) { return x; }, opts(3, 0, schedule::guided));
  ASSERT_EQ(out.size(), 1001u);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], static_cast<int>(i) - 500);
}

TEST_P(ParallelMap, IotaWith64BitBounds) {
  constexpr std::int64_t low = -5'000'000'000LL;
  const auto neg = parmap::parallel_map(
      std::views::iota(low, low + 1000), [](std::int64_t x) { return x; }, opts(2, 33));
  ASSERT_EQ(neg.size(), 1000u);
  for (std::size_t i = 0; i < neg.size(); ++i)
    EXPECT_EQ(neg[i], low + static_cast<std::int64_t>(i));

  constexpr std::int64_t top = std::numeric_limits<std::int64_t>::max();
  const auto high = parmap::parallel_map(
      std::views::iota(top - 300, top), [](std::int64_t x) { return top - x; }, opts(3));
  ASSERT_EQ(high.size(), 300u);
  for (std::size_t i = 0; i < high.size(); ++i) {
    EXPECT_EQ(high[i], 300 - static_cast<std::int64_t>(i));
  }

  constexpr std::uint64_t big = std::uint64_t{1} << 40;
  const auto unsigned_out = parmap::parallel_map(
      std::views::iota(big, big + 77), [](std::uint64_t x) { return x - big; }, opts(3));
  for (std::size_t i = 0; i < unsigned_out.size(); ++i) EXPECT_EQ(unsigned_out[i], i);
}

TEST_P(ParallelMap, FilteredAndTransformedView) {
  auto odd_squares = std::views::iota(0, 2000) | std::views::filter([](int x) { return x % 2; }) |
                     std::views::transform([](int x) { return x * x; });
  const auto out = parmap::parallel_map(
      odd_squares, [](int x) { return x + 1; }, opts(3, 0, schedule::dynamic));
  ASSERT_EQ(out.size(), 1000u);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int odd = 2 * static_cast<int>(i) + 1;
    EXPECT_EQ(out[i], odd * odd + 1);
  }

  // A random-access view over a vector is read in place, through its transform.
  std::vector<int> base(100);
  for (std::size_t i = 0; i < base.size(); ++i) base[i] = static_cast<int>(i);
  const auto doubled = parmap::parallel_map(
      base | std::views::reverse | std::views::transform([](int x) { return 2 * x; }),
      [](int x) { return x; }, opts(2, 7));
  for (std::size_t i = 0; i < doubled.size(); ++i) {
    EXPECT_EQ(doubled[i], 2 * (99 - static_cast<int>(i)));
  }
}

TEST_P(ParallelMap, IstreamViewInput) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += std::to_string(i * 7 - 1000) + " ";
  std::istringstream stream(text);
  const auto out = parmap::parallel_map(
      std::views::istream<int>(stream), [](int x) { return x + 1000; }, opts(3, 16));
  ASSERT_EQ(out.size(), 500u);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], 7 * static_cast<int>(i));
}

/// A single-pass range that hands out move-only values: each element exists once, so it must be
/// read exactly once and moved, never copied.
class ticket_dispenser {
 public:
  explicit ticket_dispenser(int count) : left_(count) {}

  class iterator {
   public:
    using value_type = std::unique_ptr<int>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(ticket_dispenser* d) : d_(d) {}
    iterator(iterator&&) = default;
    iterator& operator=(iterator&&) = default;
    value_type operator*() const { return std::make_unique<int>(d_->next_); }
    iterator& operator++() {
      ++d_->next_;
      --d_->left_;
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return d_->left_ == 0; }

   private:
    ticket_dispenser* d_ = nullptr;
  };

  iterator begin() {
    ++begins_;
    return iterator(this);
  }
  std::default_sentinel_t end() const { return {}; }
  [[nodiscard]] int begins() const { return begins_; }

 private:
  int next_ = 0;
  int left_;
  int begins_ = 0;
};
static_assert(std::ranges::input_range<ticket_dispenser>);
static_assert(!std::ranges::forward_range<ticket_dispenser>);

TEST_P(ParallelMap, SinglePassRangeOfMoveOnlyValues) {
  ticket_dispenser tickets(300);
  const auto out = parmap::parallel_map(
      tickets, [](std::unique_ptr<int> p) { return *p * 2; }, opts(3, 7, schedule::static_));
  EXPECT_EQ(tickets.begins(), 1);
  ASSERT_EQ(out.size(), 300u);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], 2 * static_cast<int>(i));
}

// ---- results --------------------------------------------------------------------------------

TEST_P(ParallelMap, MoveOnlyResults) {
  const auto out = parmap::parallel_map(
      std::views::iota(0, 500), [](int x) { return std::make_unique<int>(x); }, opts(3));
  ASSERT_EQ(out.size(), 500u);
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_NE(out[i], nullptr);
    EXPECT_EQ(*out[i], static_cast<int>(i));
  }
}

/// No default constructor, no assignment: results can only be constructed in place.
struct tagged {
  explicit tagged(int v) : value(v) {}
  tagged(const tagged&) = default;
  tagged& operator=(const tagged&) = delete;
  const int value;
};
static_assert(!std::is_default_constructible_v<tagged>);

/// Neither default-constructible nor copyable.
struct sealed {
  explicit sealed(int v) : value(std::make_unique<int>(v)) {}
  std::unique_ptr<int> value;
};
static_assert(!std::is_default_constructible_v<sealed> && !std::is_copy_constructible_v<sealed>);

TEST_P(ParallelMap, NonDefaultConstructibleResults) {
  const auto a = parmap::parallel_map(
      std::views::iota(0, 300), [](int x) { return tagged(-x); }, opts(3, 11, schedule::dynamic));
  ASSERT_EQ(a.size(), 300u);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].value, -static_cast<int>(i));

  const auto b = parmap::parallel_map(
      std::views::iota(0, 300), [](int x) { return sealed(x); }, opts(2, 0, schedule::guided));
  ASSERT_EQ(b.size(), 300u);
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_EQ(*b[i].value, static_cast<int>(i));
}

TEST_P(ParallelMap, BoolResults) {
  // Many bools share one word of std::vector<bool>; neighbours written by different threads
  // must not lose each other's bits.
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{0}}) {
    const auto out = parmap::parallel_map(
        std::views::iota(0, 4000),
        [](int x) { return mix(static_cast<std::uint64_t>(x)) % 2 == 1; },
        opts(3, chunk, schedule::dynamic));
    ASSERT_EQ(out.size(), 4000u);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < out.size(); ++i) wrong += out[i] != (mix(i) % 2 == 1);
    EXPECT_EQ(wrong, 0u) << "chunk " << chunk;
  }
}

TEST_P(ParallelMap, StringResults) {
  const auto out = parmap::parallel_map(
      std::views::iota(0, 1000),
      [](int x) {
        std::string s(static_cast<std::size_t>(x % 40), 'a');
        s += std::to_string(x);
        return s;
      },
      opts(3, 9));
  ASSERT_EQ(out.size(), 1000u);
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].substr(i % 40), std::to_string(i));
    EXPECT_EQ(out[i].find_first_not_of('a'), i % 40);
  }
}

// ---- callables ------------------------------------------------------------------------------

struct item {
  int id;
  int weight;
  [[nodiscard]] int doubled_weight() const { return 2 * weight; }
};

int negate(int x) {
  return -x;
}

/// A functor that can be neither copied nor moved: parallel_map must use it where it is.
struct scaler {
  explicit scaler(int f) : factor(f) {}
  scaler(const scaler&) = delete;
  scaler& operator=(const scaler&) = delete;
  int operator()(int x) const { return factor * x; }
  int factor;
};

TEST_P(ParallelMap, MemberFunctionPointer) {
  std::vector<item> items;
  for (int i = 0; i < 200; ++i) items.push_back({i, i * 3});
  const auto out = parmap::parallel_map(items, &item::doubled_weight, opts(3, 8));
  ASSERT_EQ(out.size(), items.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], 6 * static_cast<int>(i));
}

TEST_P(ParallelMap, DataMemberPointer) {
  std::vector<item> items;
  for (int i = 0; i < 200; ++i) items.push_back({i * 5, i});
  const std::vector<int> ids = parmap::parallel_map(items, &item::id, opts(3, 8));
  ASSERT_EQ(ids.size(), items.size());
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], 5 * static_cast<int>(i));
}

TEST_P(ParallelMap, FunctionPointerAndFunctor) {
  const auto negated = parmap::parallel_map(std::views::iota(0, 100), &negate, opts(2));
  for (std::size_t i = 0; i < negated.size(); ++i) EXPECT_EQ(negated[i], -static_cast<int>(i));

  const scaler triple(3);
  const auto tripled = parmap::parallel_map(std::views::iota(0, 100), triple, opts(3, 1));
  ASSERT_EQ(tripled.size(), 100u);
  for (std::size_t i = 0; i < tripled.size(); ++i) EXPECT_EQ(tripled[i], 3 * static_cast<int>(i));

  const auto quintupled = parmap::parallel_map(std::views::iota(0, 100), scaler(5), opts(3));
  for (std::size_t i = 0; i < quintupled.size(); ++i) {
    EXPECT_EQ(quintupled[i], 5 * static_cast<int>(i));
  }
}

TEST_P(ParallelMap, PlacementsGiveTheSameResults) {
  for (auto where : {parmap::placement::spread, parmap::placement::close}) {
    auto opt = opts(3, 5);
    opt.placement = where;
    const auto out = parmap::parallel_map(
        std::views::iota(0, 1000), [](int x) { return x * 2; }, opt);
    ASSERT_EQ(out.size(), 1000u);
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], 2 * static_cast<int>(i));
  }
}

// ---- parallel_map_into ----------------------------------------------------------------------

TEST_P(ParallelMap, IntoVector) {
  for (std::size_t n : {0u, 1u, 3u, 1000u}) {
    for (schedule s : all_schedules) {
      std::vector<long> out(n, -1);
      parmap::parallel_map_into(
          std::views::iota(std::size_t{0}, n), out,
          [](std::size_t i) { return static_cast<long>(i * i); }, opts(3, 0, s));
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], static_cast<long>(i * i));
    }
  }
}

TEST_P(ParallelMap, IntoLongerOutputLeavesTheRestAlone) {
  std::array<int, 10> out{};
  out.fill(-7);
  const std::list<int> in = {1, 2, 3, 4};
  parmap::parallel_map_into(
      in, out, [](int x) { return x * 10; }, opts(3, 1));
  EXPECT_EQ(out, (std::array<int, 10>{10, 20, 30, 40, -7, -7, -7, -7, -7, -7}));

  std::vector<int> backing(20, 0);
  parmap::parallel_map_into(
      std::views::iota(0, 5), std::span(backing).subspan(10, 5), [](int x) { return x + 1; },
      opts(2));
  for (std::size_t i = 0; i < backing.size(); ++i) {
    EXPECT_EQ(backing[i], i >= 10 && i < 15 ? static_cast<int>(i) - 9 : 0) << i;
  }
}

TEST_P(ParallelMap, IntoMoveOnlyOutputFromSinglePassInput) {
  ticket_dispenser tickets(64);
  std::vector<std::unique_ptr<int>> out(64);
  parmap::parallel_map_into(
      tickets, out, [](std::unique_ptr<int> p) { return p; }, opts(3, 4));
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_NE(out[i], nullptr);
    EXPECT_EQ(*out[i], static_cast<int>(i));
  }
}

TEST_P(ParallelMap, IntoTooShortOutputThrowsBeforeCallingFn) {
  std::atomic<int> calls{0};
  std::vector<int> out(9, 5);
  EXPECT_THROW(parmap::parallel_map_into(
                   std::views::iota(0, 10), out,
                   [&](int x) {
                     calls.fetch_add(1);
                     return x;
                   },
                   opts(3)),
               std::invalid_argument);
  std::vector<int> empty_out;
  EXPECT_THROW(parmap::parallel_map_into(
                   std::vector<int>{1}, empty_out,
                   [&](int x) {
                     calls.fetch_add(1);
                     return x;
                   },
                   opts(1)),
               std::invalid_argument);
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(out, std::vector<int>(9, 5));
}

PARMAP_INSTANTIATE_FOR_BACKENDS(ParallelMap);

// ---- compile-time contract -----------------------------------------------------------------

static_assert(
    std::is_same_v<decltype(parmap::parallel_map(std::vector<int>{}, [](int) { return 1.5; })),
                   std::vector<double>>);
static_assert(
    std::is_same_v<decltype(parmap::parallel_map(std::views::iota(0, 1), [](int) { return true; })),
                   std::vector<bool>>);

}  // namespace
