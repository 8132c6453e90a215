// options::report: every algorithm fills a call_report on every backend, when the call returns
// and when it throws (an item's exception, a stop, the deadline); bad options leave it alone.
// Items add up to the input, threads never exceed the request, a chunk given is the chunk
// reported, and no thread is busy longer than the call took.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;
using parmap::call_report;
using namespace std::chrono_literals;

/// A report filled with values no call writes, to see that a call overwrote every field.
call_report garbage() {
  call_report r;
  r.backend = static_cast<backend>(77);
  r.threads = -5;
  r.chunk = 999'999;
  r.chunks = 999'999;
  r.items = 999'999;
  r.wall = -1s;
  r.per_thread.assign(300, parmap::thread_share{999'999, 999s});
  return r;
}

/// What every filled report satisfies.
void expect_consistent(const call_report& r, backend b, int threads_asked) {
  EXPECT_EQ(r.backend, b);
  EXPECT_GE(r.threads, 0);
  EXPECT_LE(r.threads, threads_asked);
  EXPECT_EQ(r.per_thread.size(), static_cast<std::size_t>(r.threads));
  std::size_t items = 0;
  for (const auto& t : r.per_thread) {
    items += t.items;
    EXPECT_GE(t.busy.count(), 0);
    EXPECT_LE(t.busy, r.wall) << "a thread was busy longer than the call took";
  }
  EXPECT_EQ(items, r.items) << "per-thread items do not add up";
  EXPECT_GE(r.wall.count(), 0);
  EXPECT_GE(r.imbalance(), 1.0);
  EXPECT_GE(r.overhead(), 0.0);
  EXPECT_LE(r.overhead(), 1.0);
  if (r.items > 0) {
    EXPECT_GT(r.chunks, 0u);
  }
}

class Report : public testing::TestWithParam<backend> {
 protected:
  parmap::options opts(int threads, std::size_t chunk = 0,
                       parmap::schedule s = parmap::schedule::automatic) {
    return parmap::options{.backend = GetParam(),
                           .threads = threads,
                           .chunk = chunk,
                           .schedule = s,
                           .report = &report_};
  }
  call_report report_ = garbage();
};

TEST_P(Report, MapFillsEveryFieldForEverySizeScheduleAndChunk) {
  for (const std::size_t n :
       {std::size_t{1}, std::size_t{3}, std::size_t{1000}, std::size_t{10'007}}) {
    std::vector<int> in(n);
    std::iota(in.begin(), in.end(), 0);
    for (const int threads : {1, 2, 3}) {
      for (const auto s : parmap_test::all_schedules) {
        for (const std::size_t chunk :
             {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{64}}) {
          SCOPED_TRACE("n " + std::to_string(n) + ", threads " + std::to_string(threads) + ", " +
                       std::string(parmap::to_string(s)) + ", chunk " + std::to_string(chunk));
          report_ = garbage();
          const auto out = parmap::parallel_map(
              in, [](int x) { return x + 1; }, opts(threads, chunk, s));
          ASSERT_EQ(out.size(), n);
          expect_consistent(report_, GetParam(), threads);
          EXPECT_EQ(report_.items, n);
          EXPECT_GE(report_.threads, 1);
          EXPECT_EQ(report_.schedule, s);
          EXPECT_EQ(report_.automatic_chunk, chunk == 0);
          if (chunk != 0) {
            EXPECT_EQ(report_.chunk, chunk);
            EXPECT_GE(report_.chunks, (n + chunk - 1) / chunk);
          } else {
            EXPECT_GE(report_.chunk, 1u);
            EXPECT_LE(report_.chunk, n);
          }
        }
      }
    }
  }
}

TEST_P(Report, BusyTimeCoversTheItemsAndWallCoversTheBusiest) {
  // Eight items of at least 2 ms each: the threads' busy times add up to at least 16 ms.
  std::vector<int> in(8);
  auto nap = [](int x) {
    std::this_thread::sleep_for(2ms);
    return x;
  };
  (void)parmap::parallel_map(in, nap, opts(2, 1, parmap::schedule::dynamic));
  expect_consistent(report_, GetParam(), 2);
  std::chrono::nanoseconds busy{0};
  for (const auto& t : report_.per_thread) busy += t.busy;
  EXPECT_GE(busy, 16ms);
  EXPECT_GE(report_.wall, 2ms);
  EXPECT_EQ(report_.chunks, 8u);
  EXPECT_EQ(report_.chunk, 1u);
}

TEST_P(Report, EveryAlgorithmCountsItsItems) {
  const std::size_t n = 5'000;
  std::vector<double> xs(n, 0.5);
  auto twice = [](double x) { return 2 * x; };

  std::vector<double> out(n);
  parmap::parallel_map_into(xs, out, twice, opts(2));
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, n);

  report_ = garbage();
  (void)parmap::parallel_zip_map([](double a, double b) { return a + b; }, xs, xs, opts(2));
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, n);

  report_ = garbage();
  const double sum = parmap::map_reduce(xs, twice, 0.0, std::plus<>{}, opts(2, 100));
  EXPECT_EQ(sum, static_cast<double>(n));
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, n);
  EXPECT_EQ(report_.chunk, 100u) << "a map_reduce chunk is one reduction block";
  EXPECT_EQ(report_.chunks, 50u);
  EXPECT_FALSE(report_.automatic_chunk);

  report_ = garbage();
  (void)parmap::map_reduce(xs, twice, 0.0, std::plus<>{}, opts(2));
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, n);
  EXPECT_TRUE(report_.automatic_chunk);

  report_ = garbage();
  std::vector<double> written(n);
  parmap::parallel_for(
      -100, static_cast<int>(n) - 100,
      [&](int i) { written[static_cast<std::size_t>(i + 100)] = 1; }, opts(2));
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, n) << "a parallel_for's items are its indices";

  report_ = garbage();
  double streamed = 0;
  for (double r : parmap::imap(xs, twice, opts(2))) streamed += r;
  EXPECT_EQ(streamed, static_cast<double>(n));
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, n);
  EXPECT_EQ(report_.chunks, n) << "a stream's unit of work is one item";
  EXPECT_EQ(report_.chunk, 1u);

  report_ = garbage();
  std::size_t seen = 0;
  for (auto& r : parmap::imap_unordered(xs, twice, opts(2))) seen += r.second > 0 ? 1 : 0;
  EXPECT_EQ(seen, n);
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, n);
}

TEST_P(Report, FilledWhenAnItemThrows) {
  std::vector<int> in(2'000);
  std::iota(in.begin(), in.end(), 0);
  auto fails_at_700 = [](int x) {
    if (x == 700) throw std::runtime_error("item 700");
    return x;
  };
  EXPECT_THROW((void)parmap::parallel_map(in, fails_at_700, opts(2, 16)), std::runtime_error);
  expect_consistent(report_, GetParam(), 2);
  EXPECT_LT(report_.items, in.size());
  EXPECT_GE(report_.items, 0u);
  EXPECT_EQ(report_.chunk, 16u);

  report_ = garbage();
  EXPECT_THROW(
      {
        for (int r : parmap::imap(in, fails_at_700, opts(2))) (void)r;
      },
      std::runtime_error);
  expect_consistent(report_, GetParam(), 2);
  EXPECT_LT(report_.items, in.size());
}

TEST_P(Report, FilledWhenStoppedOrLate) {
  std::vector<int> in(4'000);
  std::stop_source stop;
  std::atomic<int> started{0};
  auto stops_midway = [&](int x) {
    if (started.fetch_add(1) == 500) stop.request_stop();
    return x;
  };
  auto o = opts(2, 8);
  o.stop = stop.get_token();
  EXPECT_THROW((void)parmap::parallel_map(in, stops_midway, o), parmap::cancelled);
  expect_consistent(report_, GetParam(), 2);
  EXPECT_LT(report_.items, in.size());
  EXPECT_GT(report_.items, 500u);

  // Already stopped: nothing runs, and the report says so.
  report_ = garbage();
  EXPECT_THROW((void)parmap::parallel_map(in, stops_midway, o), parmap::cancelled);
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, 0u);
  EXPECT_EQ(report_.chunks, 0u);

  report_ = garbage();
  auto late = opts(2, 8);
  late.deadline = std::chrono::steady_clock::now() - 1s;
  EXPECT_THROW((void)parmap::parallel_map(
                   in, [](int x) { return x; }, late),
               parmap::timeout);
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, 0u);
}

TEST_P(Report, EmptyInputReportsNothingRan) {
  const std::vector<int> none;
  (void)parmap::parallel_map(
      none, [](int x) { return x; }, opts(2));
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, 0u);
  EXPECT_EQ(report_.chunks, 0u);
  EXPECT_EQ(report_.threads, 0);

  report_ = garbage();
  EXPECT_EQ(parmap::map_reduce(
                none, [](int x) { return x; }, 5, std::plus<>{}, opts(2)),
            5);
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, 0u);

  report_ = garbage();
  parmap::parallel_for(
      7, 7, [](int) {}, opts(2));
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, 0u);
  EXPECT_EQ(report_.threads, 0);
}

TEST_P(Report, BadOptionsLeaveTheReportAlone) {
  std::vector<int> in(10);
  auto o = opts(parmap::max_threads + 1);
  EXPECT_THROW((void)parmap::parallel_map(
                   in, [](int x) { return x; }, o),
               std::invalid_argument);
  EXPECT_EQ(report_.threads, -5);
  EXPECT_EQ(report_.items, 999'999u);
}

TEST_P(Report, NestedCallsKeepTheirOwnReports) {
  std::vector<int> rows(6);
  std::vector<call_report> inner(rows.size());
  auto row_sum = [&](std::size_t i) {
    std::vector<int> cols(100, 1);
    const auto v = parmap::parallel_map(cols, [](int c) { return c; },
                                        {.backend = GetParam(), .threads = 2, .report = &inner[i]});
    return std::accumulate(v.begin(), v.end(), 0);
  };
  const auto sums =
      parmap::parallel_map(std::views::iota(std::size_t{0}, rows.size()), row_sum, opts(2, 1));
  for (int s : sums) EXPECT_EQ(s, 100);
  expect_consistent(report_, GetParam(), 2);
  EXPECT_EQ(report_.items, rows.size());
  for (const auto& r : inner) {
    expect_consistent(r, GetParam(), 2);
    EXPECT_EQ(r.items, 100u);
  }
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Report);

TEST(ReportArithmetic, ImbalanceAndOverheadFromTheShares) {
  call_report r;
  r.threads = 2;
  r.wall = 100ms;
  r.per_thread = {{10, 80ms}, {10, 40ms}};
  EXPECT_DOUBLE_EQ(r.imbalance(), 80.0 / 60.0);
  EXPECT_DOUBLE_EQ(r.overhead(), 1.0 - 120.0 / 200.0);
  r.per_thread = {{0, 0ns}, {0, 0ns}};
  EXPECT_DOUBLE_EQ(r.imbalance(), 1.0);
  EXPECT_DOUBLE_EQ(r.overhead(), 1.0);
  r.per_thread.clear();
  EXPECT_DOUBLE_EQ(r.overhead(), 0.0);
}

TEST(ReportArithmetic, SummaryNamesTheChoices) {
  call_report r;
  r.backend = backend::threads;
  r.threads = 2;
  r.chunk = 4096;
  r.automatic_chunk = true;
  r.chunks = 64;
  r.items = 262'144;
  r.wall = 3100us;
  r.per_thread = {{131'072, 3000us}, {131'072, 2900us}};
  const std::string s = parmap::to_string(r);
  EXPECT_NE(s.find("threads 2"), std::string::npos) << s;
  EXPECT_NE(s.find("chunk 4096 (automatic)"), std::string::npos) << s;
  EXPECT_NE(s.find("64 chunks"), std::string::npos) << s;
  EXPECT_NE(s.find("262144 items in 3.1 ms"), std::string::npos) << s;
  EXPECT_NE(s.find("imbalance 1.02"), std::string::npos) << s;
  EXPECT_NE(s.find("overhead 4.8%"), std::string::npos) << s;
  r.automatic_chunk = false;
  EXPECT_EQ(parmap::to_string(r).find("automatic)"), std::string::npos);
}

}  // namespace
