// The one contract every algorithm shares (detail/call_rules.hpp), on every backend, where the
// copies of it used to disagree: the final progress report comes exactly once and has returned
// before the call (or the loop over a stream) ends; a stop that comes after every item started
// is not a cancellation, for parallel_map and streams alike; a stream only reads its input,
// never writes it (std::vector<bool>), and a slow read holds up no finished result; one
// result-type rule for map and zip.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <iterator>
#include <mutex>
#include <numeric>
#include <ranges>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using namespace std::chrono_literals;

class CallRules : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads, std::size_t chunk = 0) const {
    return parmap::options{.backend = GetParam(), .threads = threads, .chunk = chunk};
  }
};

TEST_P(CallRules, FinalProgressReportComesExactlyOnce) {
  // The last chunks ending together used to report done == total twice now and then: the
  // first chunk's report read the count after the second chunk had finished. Two one-item
  // chunks on two threads make that moment frequent.
  std::vector<int> in(2);
  for (int call = 0; call < 3000; ++call) {
    std::atomic<int> finals{0};
    auto o = opts(2, 1);
    o.on_progress = [&](std::size_t done, std::size_t total) {
      if (done == total) finals.fetch_add(1);
    };
    (void)parmap::parallel_map(
        in, [](int x) { return x; }, o);
    ASSERT_EQ(finals.load(), 1) << "call " << call;
  }
}

TEST_P(CallRules, StreamFinalProgressReportHasReturnedWhenTheLoopEnds) {
  for (bool unordered : {false, true}) {
    std::vector<int> in(32);
    std::atomic<int> finals{0};
    auto o = opts(2);
    o.on_progress = [&](std::size_t done, std::size_t total) {
      if (done != total) return;
      std::this_thread::sleep_for(20ms);  // a slow callback makes a late report visible
      finals.fetch_add(1);
    };
    // Named streams: the check runs after the loop, while the stream object still lives.
    std::size_t results = 0;
    if (unordered) {
      auto stream = parmap::imap_unordered(
          in, [](int x) { return x; }, o);
      for (auto& r : stream) results += r.first < in.size() ? 1u : 0u;
      EXPECT_EQ(finals.load(), 1) << "imap_unordered";
    } else {
      auto stream = parmap::imap(
          in, [](int x) { return x; }, o);
      for (int r : stream) results += r == 0 ? 1u : 0u;
      EXPECT_EQ(finals.load(), 1) << "imap";
    }
    EXPECT_EQ(results, in.size());
  }
}

TEST_P(CallRules, AStopAfterEveryItemStartedIsNotACancellation) {
  // The last item requests the stop: nothing is left undone, so the call succeeded.
  constexpr int n = 50;
  std::vector<int> in(n);
  std::iota(in.begin(), in.end(), 0);
  {
    std::stop_source stop;
    auto o = opts(1, 1);
    o.stop = stop.get_token();
    const auto out = parmap::parallel_map(
        in,
        [&](int x) {
          if (x == n - 1) stop.request_stop();
          return x;
        },
        o);
    EXPECT_EQ(out.size(), static_cast<std::size_t>(n));
  }
  for (bool unordered : {false, true}) {
    std::stop_source stop;
    auto o = opts(1);
    o.stop = stop.get_token();
    auto fn = [&](int x) {
      if (x == n - 1) stop.request_stop();
      return x;
    };
    std::size_t results = 0;
    if (unordered) {
      EXPECT_NO_THROW(for (auto& r
                           : parmap::imap_unordered(in, fn, o)) results += r.second >= 0 ? 1u : 0u);
    } else {
      EXPECT_NO_THROW(for (int r : parmap::imap(in, fn, o)) results += r >= 0 ? 1u : 0u);
    }
    EXPECT_EQ(results, static_cast<std::size_t>(n)) << (unordered ? "imap_unordered" : "imap");
  }
}

TEST_P(CallRules, AStopBeforeTheLastItemStillCancelsAStream) {
  constexpr int n = 50;
  std::vector<int> in(n);
  std::iota(in.begin(), in.end(), 0);
  std::stop_source stop;
  auto o = opts(1);
  o.stop = stop.get_token();
  std::vector<int> seen;
  EXPECT_THROW(for (int r
                    : parmap::imap(
                        in,
                        [&](int x) {
                          if (x == 10) stop.request_stop();
                          return x;
                        },
                        o)) seen.push_back(r),
               parmap::cancelled);
  EXPECT_GE(seen.size(), 11u);
  EXPECT_LT(seen.size(), static_cast<std::size_t>(n));
}

TEST_P(CallRules, StreamsReadAVectorOfBoolWithoutWritingIt) {
  std::vector<bool> bits(300);
  for (std::size_t i = 0; i < bits.size(); ++i) bits[i] = (i * 7) % 3 == 0;
  const std::vector<bool> before = bits;
  std::vector<bool> negated;
  for (bool b : parmap::imap(
           bits, [](bool b) { return !b; }, opts(2)))
    negated.push_back(b);
  ASSERT_EQ(negated.size(), bits.size());
  for (std::size_t i = 0; i < bits.size(); ++i) EXPECT_EQ(negated[i], !before[i]) << i;
  std::vector<int> unordered(bits.size(), -1);
  for (auto [i, b] : parmap::imap_unordered(
           bits, [](bool b) { return !b; }, opts(2))) {
    unordered[i] = b ? 1 : 0;
  }
  for (std::size_t i = 0; i < bits.size(); ++i) EXPECT_EQ(unordered[i], before[i] ? 0 : 1) << i;
  EXPECT_EQ(bits, before) << "the stream wrote into its input";
}

/// A single-pass input whose step from item 0 to item 1 blocks until released (or until a
/// long timeout, so a stream that reads under its lock fails the test instead of hanging).
class gated_source {
 public:
  class iterator {
   public:
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(gated_source* s) : s_(s) {}
    const int& operator*() const { return s_->value_; }
    iterator& operator++() {
      if (s_->value_ == 0) s_->wait_for_release();
      ++s_->value_;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }
    [[nodiscard]] bool at_end() const { return s_->value_ >= 3; }

   private:
    gated_source* s_ = nullptr;
  };

  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

  void release() {
    std::lock_guard lock(m_);
    released_ = true;
    cv_.notify_all();
  }
  [[nodiscard]] bool timed_out() const { return timed_out_.load(); }

 private:
  void wait_for_release() {
    std::unique_lock lock(m_);
    if (!cv_.wait_for(lock, 10s, [&] { return released_; })) timed_out_ = true;
  }

  int value_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
  bool released_ = false;
  std::atomic<bool> timed_out_{false};
};

TEST_P(CallRules, ASlowReadHoldsUpNoFinishedResult) {
  for (bool unordered : {false, true}) {
    gated_source source;
    std::vector<int> got;
    auto fn = [](int x) { return x * 10; };
    if (unordered) {
      for (auto [i, r] : parmap::imap_unordered(source, fn, opts(2))) {
        got.push_back(r);
        if (i == 0) source.release();  // result 0 arrived while item 1 was still being read
      }
    } else {
      for (int r : parmap::imap(source, fn, opts(2))) {
        got.push_back(r);
        if (r == 0) source.release();
      }
    }
    EXPECT_FALSE(source.timed_out()) << "result 0 waited for the read of item 1";
    EXPECT_EQ(got.size(), 3u);
  }
}

/// A single-pass input of `size` items whose every step takes `step` (a file, a pipe).
class slow_source {
 public:
  slow_source(int size, std::chrono::milliseconds step) : size_(size), step_(step) {}
  class iterator {
   public:
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(slow_source* s) : s_(s) {}
    const int& operator*() const { return s_->value_; }
    iterator& operator++() {
      std::this_thread::sleep_for(s_->step_);
      ++s_->value_;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }
    [[nodiscard]] bool at_end() const { return s_->value_ >= s_->size_; }

   private:
    slow_source* s_ = nullptr;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  int value_ = 0;
  int size_;
  std::chrono::milliseconds step_;
};

TEST_P(CallRules, ASlowInputStillFeedsSeveralWorkers) {
  // Once an item is read, the next may be claimed: workers that wait for a claim must hear of
  // it, or every read is followed by one item at a time.
  if (GetParam() == backend::serial) GTEST_SKIP() << "one thread: nothing runs side by side";
  slow_source source(12, 2ms);
  std::atomic<int> inside{0}, peak{0};
  auto fn = [&](int x) {
    const int now = ++inside;
    for (int seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(100ms);
    --inside;
    return x;
  };
  int results = 0;
  for (int r : parmap::imap(source, fn, opts(4))) results += r >= 0 ? 1 : 0;
  EXPECT_EQ(results, 12);
  // Reads take 2 ms and items 100 ms: all four threads are busy within ~10 ms of the start.
  EXPECT_EQ(peak.load(), 4) << "items waited behind the reads instead of filling the threads";
}

PARMAP_INSTANTIATE_FOR_BACKENDS(CallRules);

TEST(ResultTypeRule, ZipAcceptsWhatMapAccepts) {
  const std::vector<int> u = {1, 5, 3}, v = {4, 2, 6};
  // std::ranges::max returns a const reference; the result is a copy, as with parallel_map.
  const auto biggest = parmap::parallel_zip_map(std::ranges::max, u, v);
  EXPECT_EQ(biggest, (std::vector<int>{4, 5, 6}));
  struct point {
    int x;
  };
  const std::vector<point> pts = {{1}, {2}};
  EXPECT_EQ(parmap::parallel_zip_map(&point::x, pts), (std::vector<int>{1, 2}));
  const auto as_const = parmap::parallel_zip_map(
      [](int a, int b) -> const std::string { return std::to_string(a + b); }, u, v);
  EXPECT_EQ(as_const, (std::vector<std::string>{"5", "7", "9"}));
}

}  // namespace
