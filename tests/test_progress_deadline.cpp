// options.on_progress and options.deadline on every backend, through every algorithm:
// progress reports never go backwards, never overlap, end with (total, total); a deadline that
// passes stops the work with parmap::timeout, one that does not changes nothing.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "parmap/detail/call_rules.hpp"
#include "test_backends.hpp"

namespace {

using parmap::backend;
using namespace std::chrono_literals;
using report = std::pair<std::size_t, std::size_t>;

/// Records every progress report and whether two ever ran at once.
class progress_log {
 public:
  [[nodiscard]] std::function<void(std::size_t, std::size_t)> callback() {
    return [this](std::size_t done, std::size_t total) {
      if (inside_.exchange(true)) overlapped_ = true;
      {
        std::lock_guard lock(mutex_);
        reports_.emplace_back(done, total);
      }
      std::this_thread::sleep_for(200us);  // widens the window in which an overlap would show
      inside_ = false;
    };
  }

  /// Checks the reports of a call over `total` items that succeeded.
  void expect_complete(std::size_t total) const {
    std::lock_guard lock(mutex_);
    EXPECT_FALSE(overlapped_.load());
    ASSERT_FALSE(reports_.empty());
    for (std::size_t i = 0; i < reports_.size(); ++i) {
      EXPECT_EQ(reports_[i].second, total) << "report " << i;
      EXPECT_LE(reports_[i].first, total) << "report " << i;
      if (i > 0) {
        EXPECT_GE(reports_[i].first, reports_[i - 1].first) << "report " << i;
      }
    }
    EXPECT_EQ(reports_.back(), report(total, total));
    // nothing follows a report of completion but the final report
    for (std::size_t i = 1; i < reports_.size(); ++i) {
      if (reports_[i - 1].first == total) {
        EXPECT_EQ(reports_[i], report(total, total));
      }
    }
  }

 private:
  mutable std::mutex mutex_;
  std::vector<report> reports_;
  std::atomic<bool> inside_{false}, overlapped_{false};
};

class ProgressDeadline : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads = 4, std::size_t chunk = 0) const {
    return parmap::options{.backend = GetParam(), .threads = threads, .chunk = chunk};
  }
};

/// A function slow enough that a call over a few hundred items reports several times.
std::size_t slow_square(std::size_t i) {
  std::this_thread::sleep_for(300us);
  return i * i;
}

TEST_P(ProgressDeadline, ParallelMapReportsProgress) {
  for (std::size_t chunk : {0u, 1u, 16u}) {
    SCOPED_TRACE("chunk=" + std::to_string(chunk));
    progress_log log;
    parmap::options o = opts(4, chunk);
    o.on_progress = log.callback();
    const auto out =
        parmap::parallel_map(std::views::iota(std::size_t{0}, std::size_t{400}), slow_square, o);
    ASSERT_EQ(out.size(), 400u);
    EXPECT_EQ(out[399], 399u * 399u);
    log.expect_complete(400);
  }
}

TEST_P(ProgressDeadline, ParallelForReportsProgressInIndices) {
  for (std::size_t chunk : {0u, 1u, 16u}) {
    SCOPED_TRACE("chunk=" + std::to_string(chunk));
    progress_log log;
    parmap::options o = opts(4, chunk);
    o.on_progress = log.callback();
    std::vector<std::size_t> out(400);
    parmap::parallel_for(
        -100, 300,
        [&](int i) {
          const auto k = static_cast<std::size_t>(i + 100);
          out[k] = slow_square(k);
        },
        o);
    EXPECT_EQ(out[399], 399u * 399u);
    log.expect_complete(400);
  }
}

TEST_P(ProgressDeadline, ZipAndMapReduceReportProgressInItems) {
  progress_log zip_log;
  parmap::options o = opts(3);
  o.on_progress = zip_log.callback();
  const auto sums =
      parmap::parallel_zip_map([](std::size_t a, std::size_t b) { return slow_square(a) + b; },
                               std::views::iota(std::size_t{0}, std::size_t{300}),
                               std::views::iota(std::size_t{0}, std::size_t{300}), o);
  EXPECT_EQ(sums[10], 110u);
  zip_log.expect_complete(300);

  for (std::size_t chunk : {0u, 7u}) {
    progress_log reduce_log;
    o.chunk = chunk;
    o.on_progress = reduce_log.callback();
    const std::size_t total = parmap::map_reduce(std::views::iota(std::size_t{0}, std::size_t{301}),
                                                 slow_square, std::size_t{0}, std::plus<>{}, o);
    EXPECT_EQ(total, std::size_t{300} * 301 * 601 / 6);
    reduce_log.expect_complete(301);
  }
}

TEST_P(ProgressDeadline, StreamsReportProgress) {
  progress_log ordered_log, unordered_log;
  parmap::options o = opts(3);
  o.on_progress = ordered_log.callback();
  std::size_t n = 0;
  for (std::size_t x :
       parmap::imap(std::views::iota(std::size_t{0}, std::size_t{250}), slow_square, o)) {
    EXPECT_EQ(x, n * n);
    ++n;
  }
  EXPECT_EQ(n, 250u);
  ordered_log.expect_complete(250);

  o.on_progress = unordered_log.callback();
  n = 0;
  for (const auto& item :
       parmap::imap_unordered(std::vector<std::size_t>(250, 3), slow_square, o)) {
    EXPECT_EQ(item.second, 9u);
    ++n;
  }
  EXPECT_EQ(n, 250u);
  unordered_log.expect_complete(250);
}

TEST_P(ProgressDeadline, NoFinalReportWhenTheCallFails) {
  std::mutex mutex;
  std::vector<report> reports;
  parmap::options o = opts(2, 1);
  o.on_progress = [&](std::size_t done, std::size_t total) {
    std::lock_guard lock(mutex);
    reports.emplace_back(done, total);
  };
  auto fail_at_150 = [](std::size_t i) {
    if (i == 150) throw std::runtime_error("no");
    return slow_square(i);
  };
  const auto input = std::views::iota(std::size_t{0}, std::size_t{200});
  EXPECT_THROW((void)parmap::parallel_map(input, fail_at_150, o), std::runtime_error);
  EXPECT_THROW(for (std::size_t x
                    : parmap::imap(input, fail_at_150, o))(void) x,
               std::runtime_error);
  EXPECT_THROW(parmap::parallel_for(
                   std::size_t{200}, [&](std::size_t i) { (void)fail_at_150(i); }, o),
               std::runtime_error);
  std::lock_guard lock(mutex);
  for (const report& r : reports) EXPECT_LT(r.first, r.second);
}

// Items take at least 2 ms each, so 1000 of them on 2 threads take at least a second: a
// deadline 30 ms away is sure to pass first, whatever the machine's load.
TEST_P(ProgressDeadline, DeadlineThatPassesThrowsTimeout) {
  std::atomic<std::size_t> calls{0};
  auto slow = [&](std::size_t i) {
    calls.fetch_add(1);
    std::this_thread::sleep_for(2ms);
    return i;
  };
  const auto input = std::views::iota(std::size_t{0}, std::size_t{1000});
  auto with_deadline = [&] {
    parmap::options o = opts(2, 1);
    o.deadline = std::chrono::steady_clock::now() + 30ms;
    return o;
  };

  EXPECT_THROW((void)parmap::parallel_map(input, slow, with_deadline()), parmap::timeout);
  EXPECT_LT(calls.load(), 1000u);

  calls = 0;
  EXPECT_THROW((void)parmap::parallel_zip_map([&](std::size_t a, std::size_t) { return slow(a); },
                                              input, input, with_deadline()),
               parmap::timeout);
  EXPECT_LT(calls.load(), 1000u);

  calls = 0;
  EXPECT_THROW(
      (void)parmap::map_reduce(input, slow, std::size_t{0}, std::plus<>{}, with_deadline()),
      parmap::timeout);
  EXPECT_LT(calls.load(), 1000u);

  // a stream delivers what finished in time, in order, then throws at the first item that
  // did not start
  calls = 0;
  std::size_t next = 0;
  try {
    for (std::size_t x : parmap::imap(input, slow, with_deadline())) EXPECT_EQ(x, next++);
    ADD_FAILURE() << "no exception";
  } catch (const parmap::timeout&) {
  }
  EXPECT_LT(next, 1000u);
  EXPECT_LT(calls.load(), 1000u);

  // a timeout is a cancellation
  calls = 0;
  EXPECT_THROW(for (const auto& item
                    : parmap::imap_unordered(input, slow, with_deadline()))(void) item,
               parmap::cancelled);
}

TEST_P(ProgressDeadline, DeadlineAlreadyPassedRunsNothing) {
  std::atomic<int> calls{0};
  auto fn = [&](int i) {
    calls.fetch_add(1);
    return i;
  };
  parmap::options o = opts();
  o.deadline = std::chrono::steady_clock::now() - 1ms;
  EXPECT_THROW((void)parmap::parallel_map(std::views::iota(0, 100), fn, o), parmap::timeout);
  EXPECT_THROW((void)parmap::map_reduce(std::views::iota(0, 100), fn, 0, std::plus<>{}, o),
               parmap::timeout);
  EXPECT_THROW(parmap::parallel_for(100, fn, o), parmap::timeout);
  auto s = parmap::imap(std::views::iota(0, 100), fn, o);
  EXPECT_THROW((void)s.begin(), parmap::timeout);
  EXPECT_EQ(calls.load(), 0);
}

TEST_P(ProgressDeadline, DeadlineNotReachedChangesNothing) {
  parmap::options o = opts(3);
  o.deadline = std::chrono::steady_clock::now() + 1h;
  const auto input = std::views::iota(std::size_t{0}, std::size_t{5000});
  const auto out = parmap::parallel_map(
      input, [](std::size_t i) { return i + 1; }, o);
  ASSERT_EQ(out.size(), 5000u);
  EXPECT_EQ(out[4999], 5000u);
  EXPECT_EQ(parmap::map_reduce(
                input, [](std::size_t i) { return i; }, std::size_t{0}, std::plus<>{}, o),
            std::size_t{4999} * 5000 / 2);
  std::size_t next = 0;
  for (std::size_t x : parmap::imap(
           input, [](std::size_t i) { return i; }, o)) {
    ASSERT_EQ(x, next++);
  }
  EXPECT_EQ(next, 5000u);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(ProgressDeadline);

// A stop or deadline that another MPI rank saw reaches the call's rules through
// stop_seen_elsewhere: like the call's own, it ends the call only once a unit is refused.
TEST(CallRules, StopSeenElsewhere) {
  using parmap::detail::call_rules;
  const parmap::options o{};
  {
    call_rules rules(o, 10);
    EXPECT_TRUE(rules.may_start(0));
    rules.stop_seen_elsewhere(false);
    EXPECT_FALSE(rules.halted(5));
    EXPECT_NO_THROW(rules.finish());  // nothing was refused: the call succeeded
  }
  {
    call_rules rules(o, 10);
    rules.stop_seen_elsewhere(false);
    EXPECT_FALSE(rules.may_start(4));
    EXPECT_EQ(rules.halt_index(), 4u);
    EXPECT_TRUE(rules.halted(8));
    bool timed_out = true;
    try {
      rules.finish();
    } catch (const parmap::timeout&) {
    } catch (const parmap::cancelled&) {
      timed_out = false;
    }
    EXPECT_FALSE(timed_out);
  }
  {
    call_rules rules(o, 10);
    rules.stop_seen_elsewhere(true);
    rules.stop_seen_elsewhere(false);  // of the two, the deadline is kept
    EXPECT_FALSE(rules.may_start(0));
    EXPECT_THROW(rules.finish(), parmap::timeout);
  }
}

}  // namespace
