// imap and imap_unordered on every backend: order, completion order, bounded reading of
// unbounded inputs, early destruction, failures at their position (in fn and in the input),
// empty inputs, concurrent and nested streams, and streams consumed from another thread.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <set>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using parmap_test::item_failed;
using namespace std::chrono_literals;

static_assert(std::ranges::input_range<parmap::imap_stream<int>>);
static_assert(std::ranges::view<parmap::imap_stream<int>>);
static_assert(std::same_as<std::ranges::range_value_t<parmap::imap_unordered_stream<int>>,
                           std::pair<std::size_t, int>>);


/// Thrown by the inputs below while they are read.
class input_failed : public std::runtime_error {
 public:
  explicit input_failed(std::size_t i)
      : std::runtime_error("input failed at " + std::to_string(i)), index(i) {}
  std::size_t index;
};

/// A single-pass input, like a generator or lines read from a file: 0, 1, 2, ... up to `size`
/// (or without end when size is 0), throwing input_failed when it reaches `fail_at`.
class counting_source {
 public:
  static constexpr std::size_t never = static_cast<std::size_t>(-1);

  class iterator {
   public:
    using value_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(counting_source* s) : s_(s) {}
    const std::size_t& operator*() const { return s_->value_; }
    iterator& operator++() {
      const std::size_t next = s_->value_ + 1;
      if (next == s_->fail_at_) throw input_failed(next);
      s_->value_ = next;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.s_->done(); }

   private:
    counting_source* s_ = nullptr;
  };

  counting_source(std::size_t size, std::size_t fail_at) : size_(size), fail_at_(fail_at) {}
  counting_source(counting_source&&) = default;
  counting_source& operator=(counting_source&&) = default;

  iterator begin() {
    if (fail_at_ == 0) throw input_failed(0);
    return iterator(this);
  }
  [[nodiscard]] std::default_sentinel_t end() const { return {}; }
  [[nodiscard]] bool done() const { return size_ != 0 && value_ >= size_; }

 private:
  std::size_t value_ = 0;
  std::size_t size_;
  std::size_t fail_at_;
};
static_assert(std::ranges::input_range<counting_source>);
static_assert(!std::ranges::forward_range<counting_source>);

class Stream : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads = 4, std::size_t chunk = 0) const {
    return parmap::options{.backend = GetParam(), .threads = threads, .chunk = chunk};
  }
};

TEST_P(Stream, YieldsInInputOrder) {
  for (std::size_t n : {1u, 2u, 3u, 7u, 100u, 1001u}) {
    for (int threads : {1, 2, 3, 8}) {
      for (std::size_t window : {0u, 1u, 5u}) {
        SCOPED_TRACE("n=" + std::to_string(n) + " threads=" + std::to_string(threads) +
                     " window=" + std::to_string(window));
        std::vector<std::size_t> got;
        for (std::size_t x :
             parmap::imap(std::views::iota(std::size_t{0}, n),
                          [](std::size_t i) { return 3 * i + 1; }, opts(threads), {window})) {
          got.push_back(x);
        }
        ASSERT_EQ(got.size(), n);
        for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], 3 * i + 1) << "at " << i;
      }
    }
  }
}

TEST_P(Stream, UnorderedYieldsEveryItemOnceWithItsIndex) {
  for (std::size_t n : {1u, 3u, 100u, 1001u}) {
    for (int threads : {1, 2, 5}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " threads=" + std::to_string(threads));
      std::vector<int> seen(n, 0);
      for (const auto& [index, value] : parmap::imap_unordered(
               std::views::iota(std::size_t{0}, n), [](std::size_t i) { return 2 * i; },
               opts(threads))) {
        ASSERT_LT(index, n);
        ASSERT_EQ(value, 2 * index);
        ++seen[index];
      }
      EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<std::ptrdiff_t>(n));
    }
  }
}

TEST_P(Stream, EveryKindOfInput) {
  const std::vector<std::string> words = {"a", "bb", "ccc", "dddd", "eeeee"};
  auto size = [](const std::string& s) { return s.size(); };
  // an lvalue container, read in place
  std::vector<std::size_t> got;
  for (std::size_t x : parmap::imap(words, size, opts())) got.push_back(x);
  EXPECT_EQ(got, (std::vector<std::size_t>{1, 2, 3, 4, 5}));
  // an rvalue container, moved into the stream, which outlives the expression that made it
  auto owning = parmap::imap(std::vector<std::string>(words), size, opts());
  got.clear();
  std::ranges::copy(owning, std::back_inserter(got));
  EXPECT_EQ(got, (std::vector<std::size_t>{1, 2, 3, 4, 5}));
  // a single-pass input: every item is read once, in order, and outlives its read
  std::istringstream text("10 20 30 40");
  got.clear();
  for (std::size_t x : parmap::imap(
           std::views::istream<std::size_t>(text), [](std::size_t v) { return v + 1; }, opts())) {
    got.push_back(x);
  }
  EXPECT_EQ(got, (std::vector<std::size_t>{11, 21, 31, 41}));
  // move-only results
  std::vector<int> values;
  for (auto& p : parmap::imap(
           std::views::iota(0, 50), [](int i) { return std::make_unique<int>(i); }, opts())) {
    values.push_back(*p);
  }
  ASSERT_EQ(values.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(values[static_cast<std::size_t>(i)], i);
}

TEST_P(Stream, EmptyInputNeverCallsFn) {
  std::atomic<int> calls{0};
  auto fn = [&](auto x) {
    calls.fetch_add(1);
    return x;
  };
  const std::vector<int> none;
  auto ordered = parmap::imap(none, fn, opts());
  EXPECT_TRUE(ordered.begin() == ordered.end());
  auto unordered = parmap::imap_unordered(std::views::iota(0, 0), fn, opts());
  EXPECT_TRUE(unordered.begin() == unordered.end());
  auto single_pass = parmap::imap(counting_source(1, counting_source::never), fn, opts());
  std::vector<std::size_t> got;
  for (std::size_t x : single_pass) got.push_back(x);
  EXPECT_EQ(got, std::vector<std::size_t>{0});
  EXPECT_EQ(calls.load(), 1);
}

// One item waits until every other item has been handed to the consumer: completion order
// must put it last. (If the consumer had to run the slow item itself because the backend gave
// the stream no thread in time, the item waits for the others to finish instead.)
TEST_P(Stream, UnorderedYieldsASlowItemLast) {
  constexpr std::size_t n = 12;
  for (std::size_t slow : {std::size_t{0}, std::size_t{5}, n - 1}) {
    SCOPED_TRACE("slow item " + std::to_string(slow));
    std::atomic<std::size_t> received{0}, finished{0};
    auto fn = [&](std::size_t i) {
      if (i == slow && GetParam() != backend::serial) {
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        std::optional<std::chrono::steady_clock::time_point> others_finished_at;
        while (received.load() < n - 1 && std::chrono::steady_clock::now() < give_up) {
          if (finished.load() == n - 1 && !others_finished_at) {
            others_finished_at = std::chrono::steady_clock::now();
          }
          if (others_finished_at && std::chrono::steady_clock::now() > *others_finished_at + 2s) {
            break;
          }
          std::this_thread::sleep_for(1ms);
        }
      }
      finished.fetch_add(1);
      return i;
    };
    std::vector<std::size_t> order;
    for (const auto& [index, value] :
         parmap::imap_unordered(std::views::iota(std::size_t{0}, n), fn, opts(4))) {
      EXPECT_EQ(index, value);
      order.push_back(index);
      received.fetch_add(1);
    }
    ASSERT_EQ(order.size(), n);
    if (GetParam() == backend::serial) {
      // One item at a time, in input order: completion order is input order.
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(order[i], i);
    } else {
      EXPECT_EQ(order.back(), slow);
    }
  }
}

// An ordered stream keeps its order even when a slow item finishes after everything behind it.
TEST_P(Stream, OrderedWaitsForASlowItem) {
  std::atomic<std::size_t> finished{0};
  auto fn = [&](std::size_t i) {
    if (i == 0 && GetParam() != backend::serial) {
      const auto give_up = std::chrono::steady_clock::now() + 2s;
      while (finished.load() < 7 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);
      }
    }
    finished.fetch_add(1);
    return i;
  };
  std::vector<std::size_t> got;
  for (std::size_t x :
       parmap::imap(std::views::iota(std::size_t{0}, std::size_t{8}), fn, opts(4), {.window = 8})) {
    got.push_back(x);
  }
  EXPECT_EQ(got, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

// An unbounded input is read only `window` items ahead of the consumer.
TEST_P(Stream, ReadsAnUnboundedInputOnlyAsFarAsTheWindow) {
  for (std::size_t window : {1u, 4u, 16u}) {
    SCOPED_TRACE("window=" + std::to_string(window));
    std::atomic<std::size_t> reads{0};
    auto input = std::views::iota(std::size_t{0}) | std::views::transform([&](std::size_t i) {
                   reads.fetch_add(1);
                   return i;
                 });
    std::size_t consumed = 0, most_ahead = 0;
    {
      auto s = parmap::imap(input, [](std::size_t i) { return i * i; }, opts(3), {window});
      for (std::size_t x : s) {
        EXPECT_EQ(x, consumed * consumed);
        ++consumed;
        most_ahead = std::max(most_ahead, reads.load() - consumed);
        if (consumed == 200) break;
      }
    }
    EXPECT_LE(most_ahead, window);
    EXPECT_LE(reads.load(), consumed + window);
  }
  // the same for the unordered stream, over a single-pass input
  std::size_t consumed = 0;
  {
    counting_source source(0, counting_source::never);
    auto s = parmap::imap_unordered(source, [](std::size_t i) { return i; }, opts(3), {8});
    for (auto it = s.begin(); it != s.end() && consumed < 100; ++it) ++consumed;
  }
  EXPECT_EQ(consumed, 100u);
}

// Leaving a loop early stops the work: no item starts after the stream is gone, and no call of
// fn is still running when the destructor returns.
TEST_P(Stream, EarlyDestructionStopsTheWork) {
  constexpr std::size_t n = 100000;
  std::atomic<std::size_t> started{0};
  std::atomic<int> running{0};
  auto fn = [&](std::size_t i) {
    started.fetch_add(1);
    running.fetch_add(1);
    std::this_thread::sleep_for(100us);
    running.fetch_sub(1);
    return i;
  };
  std::size_t started_at_end = 0;
  {
    auto s = parmap::imap(std::views::iota(std::size_t{0}, n), fn, opts(4), {.window = 8});
    std::size_t consumed = 0;
    for (std::size_t x : s) {
      EXPECT_EQ(x, consumed);
      if (++consumed == 10) break;
    }
  }
  EXPECT_EQ(running.load(), 0);
  started_at_end = started.load();
  EXPECT_LE(started_at_end, 10u + 8u);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(started.load(), started_at_end);

  // destroyed before anything was read
  started = 0;
  { auto s = parmap::imap_unordered(std::views::iota(std::size_t{0}, n), fn, opts(4), {4}); }
  EXPECT_EQ(running.load(), 0);
  EXPECT_LE(started.load(), 4u);
}

TEST_P(Stream, FailureIsThrownAtItsPosition) {
  for (int threads : {1, 2, 4}) {
    SCOPED_TRACE("threads=" + std::to_string(threads));
    auto fn = [](std::size_t i) {
      if (i == 37 || i == 60) throw item_failed{i};
      return i;
    };
    std::vector<std::size_t> got;
    try {
      for (std::size_t x :
           parmap::imap(std::views::iota(std::size_t{0}, std::size_t{200}), fn, opts(threads))) {
        got.push_back(x);
      }
      ADD_FAILURE() << "no exception";
    } catch (const item_failed& e) {
      EXPECT_EQ(e.index, 37u);
    }
    ASSERT_EQ(got.size(), 37u);
    for (std::size_t i = 0; i < 37; ++i) EXPECT_EQ(got[i], i);

    // unordered: everything before the failure arrives, then the lowest failure
    std::set<std::size_t> seen;
    auto s = parmap::imap_unordered(std::views::iota(std::size_t{0}, std::size_t{200}), fn,
                                    opts(threads));
    try {
      for (const auto& [index, value] : s) {
        EXPECT_TRUE(seen.insert(index).second) << "twice: " << index;
        EXPECT_EQ(index, value);
      }
      ADD_FAILURE() << "no exception";
    } catch (const item_failed& e) {
      EXPECT_EQ(e.index, 37u);
    }
    for (std::size_t i = 0; i < 37; ++i) EXPECT_TRUE(seen.count(i)) << "missing " << i;
    EXPECT_FALSE(seen.count(37));
    EXPECT_TRUE(s.begin() == s.end());  // the stream has ended
  }
}

TEST_P(Stream, FailureInTheFirstItemComesFromBegin) {
  auto s = parmap::imap(
      std::views::iota(0, 10),
      [](int i) {
        if (i == 0) throw std::out_of_range("first");
        return i;
      },
      opts());
  EXPECT_THROW((void)s.begin(), std::out_of_range);
  EXPECT_TRUE(s.begin() == s.end());
}

TEST_P(Stream, InputThatThrowsWhileRead) {
  for (std::size_t fail_at : {std::size_t{0}, std::size_t{1}, std::size_t{25}}) {
    SCOPED_TRACE("fail_at=" + std::to_string(fail_at));
    std::vector<std::size_t> got;
    try {
      for (std::size_t x : parmap::imap(
               counting_source(100, fail_at), [](std::size_t i) { return i; }, opts())) {
        got.push_back(x);
      }
      ADD_FAILURE() << "no exception";
    } catch (const input_failed& e) {
      EXPECT_EQ(e.index, fail_at);
    }
    ASSERT_EQ(got.size(), fail_at);
    for (std::size_t i = 0; i < fail_at; ++i) EXPECT_EQ(got[i], i);

    std::set<std::size_t> seen;
    try {
      for (const auto& [index, value] : parmap::imap_unordered(
               counting_source(100, fail_at), [](std::size_t i) { return i; }, opts())) {
        seen.insert(index);
      }
      ADD_FAILURE() << "no exception";
    } catch (const input_failed& e) {
      EXPECT_EQ(e.index, fail_at);
    }
    EXPECT_EQ(seen.size(), fail_at);
  }
  // an input view whose items throw when they are read (random access this time)
  auto input = std::views::iota(0, 100) | std::views::transform([](int i) {
                 if (i == 42) throw input_failed(42);
                 return i;
               });
  int next = 0;
  EXPECT_THROW(for (int x
                    : parmap::imap(
                        input, [](int i) { return i; }, opts())) EXPECT_EQ(x, next++),
               input_failed);
  EXPECT_EQ(next, 42);
}

TEST_P(Stream, StopRequestCancelsAtTheNextItem) {
  std::stop_source stop;
  parmap::options o = opts(2);
  o.stop = stop.get_token();
  std::size_t consumed = 0;
  try {
    for (std::size_t x : parmap::imap(std::views::iota(std::size_t{0}, std::size_t{100000}),
                                      [](std::size_t i) { return i; }, o, {.window = 4})) {
      EXPECT_EQ(x, consumed);
      if (++consumed == 10) stop.request_stop();
    }
    ADD_FAILURE() << "no exception";
  } catch (const parmap::cancelled&) {
  }
  EXPECT_GE(consumed, 10u);
  EXPECT_LE(consumed, 10u + 4u);

  // requested before the stream starts: nothing runs
  std::atomic<int> calls{0};
  auto s = parmap::imap(
      std::views::iota(0, 10), [&](int i) { return calls += i; }, o);
  EXPECT_THROW((void)s.begin(), parmap::cancelled);
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(Stream, ConcurrentStreams) {
  constexpr int streams = 4;
  std::vector<std::thread> threads;
  std::vector<int> ok(streams, 0);
  for (int t = 0; t < streams; ++t) {
    threads.emplace_back([&, t] {
      std::size_t expect = 0;
      bool good = true;
      for (std::size_t x : parmap::imap(
               std::views::iota(std::size_t{0}, std::size_t{2000}),
               [t](std::size_t i) { return i * 7 + static_cast<std::size_t>(t); }, opts(2))) {
        good = good && x == expect * 7 + static_cast<std::size_t>(t);
        ++expect;
      }
      ok[static_cast<std::size_t>(t)] = good && expect == 2000;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < streams; ++t) EXPECT_TRUE(ok[static_cast<std::size_t>(t)]) << t;
}

TEST_P(Stream, ConsumedFromAnotherThread) {
  auto s = parmap::imap(
      std::views::iota(0, 500), [](int i) { return i + 1; }, opts());
  std::vector<int> got;
  std::thread consumer([&got, s = std::move(s)]() mutable {
    for (int x : s) got.push_back(x);
  });
  consumer.join();
  ASSERT_EQ(got.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i + 1);

  // made on one thread, read partly there and finished on another
  auto u = parmap::imap_unordered(
      std::views::iota(0, 300), [](int i) { return i; }, opts());
  std::set<int> seen;
  auto it = u.begin();
  for (int k = 0; k < 100; ++k, ++it)
    seen.insert(it->first == static_cast<std::size_t>(it->second) ? it->second : -1);
  std::thread rest([&] {
    for (; it != u.end(); ++it) seen.insert(it->second);
  });
  rest.join();
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_FALSE(seen.count(-1));
}

// A stream read inside fn of a parallel_map, on the same backend and thread count: the outer
// call holds every thread the backend would give the stream, which must still finish.
TEST_P(Stream, InsideFnOfParallelMap) {
  for (int threads : {2, 4}) {
    SCOPED_TRACE("threads=" + std::to_string(threads));
    const auto sums = parmap::parallel_map(
        std::views::iota(0, 6),
        [&](int k) {
          long sum = 0;
          for (int x : parmap::imap(
                   std::views::iota(0, 100), [k](int i) { return i * k; }, opts(threads))) {
            sum += x;
          }
          for (const auto& [index, x] : parmap::imap_unordered(
                   std::views::iota(0, 50), [](int i) { return i; }, opts(threads))) {
            sum += x - static_cast<int>(index);
          }
          return sum;
        },
        opts(threads));
    ASSERT_EQ(sums.size(), 6u);
    for (int k = 0; k < 6; ++k) EXPECT_EQ(sums[static_cast<std::size_t>(k)], 4950L * k);
  }
}

TEST_P(Stream, AtMostThreadsCallsRunAtOnce) {
  std::atomic<int> running{0}, most{0};
  auto fn = [&](int i) {
    const int now = running.fetch_add(1) + 1;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(200us);
    running.fetch_sub(1);
    return i;
  };
  int count = 0;
  for (int x : parmap::imap(std::views::iota(0, 200), fn, opts(3))) count += x >= 0;
  EXPECT_EQ(count, 200);
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 1);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Stream);

TEST(StreamOptions, BadOptionsFailBeforeAnyWork) {
  std::atomic<int> calls{0};
  auto fn = [&](int i) { return calls += i; };
  EXPECT_THROW((void)parmap::imap(std::views::iota(0, 10), fn, {.threads = 100000}),
               std::invalid_argument);
  EXPECT_THROW((void)parmap::imap_unordered(std::views::iota(0, 10), fn,
                                            {.backend = static_cast<parmap::backend>(99)}),
               std::invalid_argument);
  // progress needs a known total
  try {
    (void)parmap::imap(counting_source(10, counting_source::never), [](std::size_t i) { return i; },
                       {.on_progress = [](std::size_t, std::size_t) {}});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("on_progress"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
