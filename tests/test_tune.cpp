// parmap::tune: what it measures (the serial baseline, every backend, the scaling and chunk
// sweeps), that `best` is the fastest survivor, that a costly input is sampled evenly, the
// JSON it writes, and its errors. The figures it finds are checked in parmap-bench (workload
// "tune"), never here.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_backends.hpp"

namespace {

using namespace std::chrono_literals;

std::vector<int> numbers(std::size_t n) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(Tune, MeasuresTheBaselineEveryBackendAndBothSweeps) {
  const auto in = numbers(2'000);
  const auto t =
      parmap::tune(in, [](int x) { return x * 3 + 1; }, {.budget = 300ms, .name = "triple"});
  ASSERT_FALSE(t.settings.empty());
  EXPECT_EQ(t.name, "triple");
  EXPECT_EQ(t.input_items, in.size());
  EXPECT_EQ(t.sample_items, in.size()) << "cheap items: the whole input fits the budget";
  const auto& first = t.settings.front().options;
  EXPECT_EQ(first.backend, parmap::backend::serial);
  EXPECT_EQ(first.threads, 1);
  std::set<parmap::backend> seen;
  std::set<parmap::schedule> schedules;
  std::set<std::size_t> chunks;
  for (const auto& s : t.settings) {
    seen.insert(s.options.backend);
    schedules.insert(s.options.schedule);
    chunks.insert(s.options.chunk);
    EXPECT_FALSE(s.times.empty());
    EXPECT_EQ(s.times.size(), s.calls.size());
    for (const auto c : s.calls) EXPECT_GE(c, 1u);
  }
  for (const auto b : parmap::available_backends()) EXPECT_TRUE(seen.count(b)) << to_string(b);
  if (parmap::available_backends().size() > 1) {
    EXPECT_EQ(schedules.size(), 4u);
    EXPECT_TRUE(chunks.count(0));
    EXPECT_TRUE(chunks.count(1));
    EXPECT_TRUE(chunks.count(8));
  }
  EXPECT_GE(t.rounds, 1);
  EXPECT_EQ(t.budget, 300ms);
#if !PARMAP_TEST_SANITIZED
  EXPECT_LT(t.elapsed, 300ms + 2s) << "tune overran its budget by far";
#endif
}

TEST(Tune, BestIsTheFastestOfTheMostMeasuredSettings) {
  const auto in = numbers(4'000);
  const auto t = parmap::tune(in, [](int x) { return x * 0.5; }, {.budget = 200ms});
  const auto& best = t.best_setting();
  EXPECT_EQ(best.options.backend, t.best.backend);
  EXPECT_EQ(best.options.threads, t.best.threads);
  EXPECT_EQ(best.options.chunk, t.best.chunk);
  EXPECT_EQ(best.options.schedule, t.best.schedule);
  for (const auto& s : t.settings) {
    EXPECT_LE(s.times.size(), best.times.size()) << t.case_name(s);
    if (s.times.size() == best.times.size()) {
      EXPECT_GE(s.median(), best.median()) << t.case_name(s);
    }
  }
  // The best options are ready to use as they are.
  const auto out = parmap::parallel_map(
      in, [](int x) { return x * 0.5; }, t.best);
  EXPECT_EQ(out.size(), in.size());
}

TEST(Tune, CostlyInputIsSampledEvenly) {
  // 2,000 items of 1 ms: the whole input would take 2 s a call; a 300 ms budget samples it,
  // spread over the whole input (the last items are seen, not just a prefix).
  const auto in = numbers(2'000);
  std::atomic<int> highest{-1};
  auto slow = [&](int x) {
    std::this_thread::sleep_for(1ms);
    int h = highest.load();
    while (x > h && !highest.compare_exchange_weak(h, x)) {
    }
    return x;
  };
  const auto t = parmap::tune(in, slow, {.budget = 300ms});
  EXPECT_LT(t.sample_items, in.size());
  EXPECT_GE(t.sample_items, 1u);
  EXPECT_GE(highest.load(), static_cast<int>(in.size() * 3 / 4));
  EXPECT_NE(t.case_name(t.settings.front()).find("/n:" + std::to_string(t.sample_items) + "/"),
            std::string::npos);
}

TEST(Tune, ErrorsNameTheProblem) {
  const auto in = numbers(10);
  auto id = [](int x) { return x; };
  EXPECT_NE(parmap_test::invalid_argument_message([&] {
              (void)parmap::tune(std::vector<int>{}, id);
            }).find("empty"),
            std::string::npos);
  EXPECT_NE(parmap_test::invalid_argument_message([&] {
              (void)parmap::tune(in, id, {.name = "my/map"});
            }).find("my/map"),
            std::string::npos);
  EXPECT_NE(parmap_test::invalid_argument_message([&] {
              (void)parmap::tune(in, id, {.budget = 0ms});
            }).find("budget"),
            std::string::npos);
  // fn's own exception ends tuning.
  EXPECT_THROW((void)parmap::tune(in,
                                  [](int x) -> int {
                                    if (x == 7) throw std::out_of_range("seven");
                                    return x;
                                  },
                                  {.budget = 50ms}),
               std::out_of_range);
}

TEST(Tune, WritesBenchmarkJsonWithTheHarnessNames) {
  const auto in = numbers(1'000);
  const auto t = parmap::tune(in, [](int x) { return x + 1; }, {.budget = 100ms, .name = "inc"});
  const auto path = std::filesystem::temp_directory_path() /
                    ("parmap-tune-" + std::to_string(::getpid()) + ".json");
  t.write_json(path.string());
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  std::filesystem::remove(path);
  const std::string json = text.str();
  for (const char* key :
       {"\"context\"", "\"benchmarks\"", "\"tune_workload\": \"inc\"", "\"bench_mode\": \"tune\"",
        "\"topology\"", "\"full_threads\"", "\"thread_counts\"", "\"tune_best\"",
        "\"run_type\": \"iteration\"", "\"time_unit\": \"ns\""}) {
    EXPECT_NE(json.find(key), std::string::npos) << key;
  }
  EXPECT_NE(json.find("\"inc/serial/n:1000/api:map/threads:1/schedule:automatic/chunk:0/"
                      "placement:none\""),
            std::string::npos);
  std::size_t entries = 0;
  for (const auto& s : t.settings) entries += s.times.size();
  std::size_t found = 0;
  for (std::size_t at = json.find("\"run_name\""); at != std::string::npos;
       at = json.find("\"run_name\"", at + 1)) {
    ++found;
  }
  EXPECT_EQ(found, entries) << "one entry per measurement";

  EXPECT_THROW(t.write_json("/nonexistent-dir/x.json"), std::runtime_error);
}

/// PARMAP_WISDOM set to a fresh file for one test, and restored after it.
class wisdom_file {
 public:
  wisdom_file()
      : path_(std::filesystem::temp_directory_path() /
              ("parmap-tuned-" + std::to_string(::getpid()) + ".json")) {
    if (const char* old = std::getenv("PARMAP_WISDOM")) old_ = old;
    std::filesystem::remove(path_);
    ::setenv("PARMAP_WISDOM", path_.c_str(), 1);
  }
  ~wisdom_file() {
    std::filesystem::remove(path_);
    std::filesystem::remove(path_.string() + ".lock");
    std::filesystem::remove(path_.string() + ".corrupt");
    if (old_) {
      ::setenv("PARMAP_WISDOM", old_->c_str(), 1);
    } else {
      ::unsetenv("PARMAP_WISDOM");
    }
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::optional<std::string> old_;
};

TEST(TunedOptions, TunesOnceThenReadsTheWisdom) {
  const wisdom_file file;
  const auto in = numbers(1'000);
  std::atomic<std::size_t> calls{0};
  auto counted = [&](int x) {
    calls.fetch_add(1, std::memory_order_relaxed);
    return x * 2;
  };
  const parmap::options first = parmap::tuned_options("double-it", in, counted, {.budget = 100ms});
  EXPECT_GT(calls.load(), in.size()) << "the first call tunes";
  ASSERT_TRUE(std::filesystem::exists(file.path()));
  const auto stored = parmap::wisdom(file.path()).lookup("double-it");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->backend, first.backend);
  EXPECT_EQ(stored->threads, first.threads);
  EXPECT_EQ(stored->chunk, first.chunk);
  EXPECT_EQ(stored->schedule, first.schedule);

  const std::size_t after_tuning = calls.load();
  const parmap::options second = parmap::tuned_options("double-it", in, counted, {.budget = 100ms});
  EXPECT_EQ(calls.load(), after_tuning) << "the second call reads the wisdom, fn never runs";
  EXPECT_EQ(second.backend, first.backend);
  EXPECT_EQ(second.threads, first.threads);
  EXPECT_EQ(second.chunk, first.chunk);
  EXPECT_EQ(second.schedule, first.schedule);
}

TEST(TunedOptions, ACorruptFileMeansTuningAgainNeverACrash) {
  const wisdom_file file;
  {
    std::ofstream bad(file.path());
    bad << "{\"format\": \"parmap-wisdom\", \"entries\": [ {\"name\": ";
  }
  const auto in = numbers(500);
  std::atomic<std::size_t> calls{0};
  auto counted = [&](int x) {
    calls.fetch_add(1, std::memory_order_relaxed);
    return x;
  };
  testing::internal::CaptureStderr();
  const parmap::options o = parmap::tuned_options("after-corrupt", in, counted, {.budget = 50ms});
  const std::string warning = testing::internal::GetCapturedStderr();
  EXPECT_GT(calls.load(), 0u);
  EXPECT_NE(warning.find(file.path().string()), std::string::npos) << warning;
  const auto stored = parmap::wisdom(file.path()).lookup("after-corrupt");
  ASSERT_TRUE(stored.has_value()) << "the new tuning replaced the corrupt file";
  EXPECT_EQ(stored->backend, o.backend);
}

TEST(TunedOptions, BadNameFailsBeforeAnyCallAndAnUnwritableFileOnlyWarns) {
  const wisdom_file file;
  const auto in = numbers(100);
  std::atomic<std::size_t> calls{0};
  auto counted = [&](int x) {
    calls.fetch_add(1, std::memory_order_relaxed);
    return x;
  };
  EXPECT_THROW((void)parmap::tuned_options("", in, counted), std::invalid_argument);
  EXPECT_EQ(calls.load(), 0u);

  ::setenv("PARMAP_WISDOM", "/proc/parmap-no-such-dir/wisdom.json", 1);
  testing::internal::CaptureStderr();
  const parmap::options o = parmap::tuned_options("unwritable", in, counted, {.budget = 30ms});
  const std::string warning = testing::internal::GetCapturedStderr();
  EXPECT_GT(calls.load(), 0u);
  EXPECT_TRUE(parmap::is_available(o.backend));
  EXPECT_NE(warning.find("not stored"), std::string::npos) << warning;
}

}  // namespace
