// Process exit and static destruction while parmap is busy, on every backend: exit during a
// long call, exit while other threads keep calling, streams destroyed as statics or abandoned
// with their input blocked, and parallel_map called from static destructors. Each scenario
// runs in a child program (tests/children) under a timeout and must end promptly with status 0
// and its expected output. Races with exit show up only in some runs, so most scenarios run
// their child several times.
#include <chrono>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.hpp"
#include "test_backends.hpp"

namespace {

using namespace std::chrono_literals;

// Each child takes well under a second when exit works. The limit is far above that (a
// sanitizer slows a child 5-20 times), and far below the minute that waiting for the
// remaining work of exit_during_call would take.
#ifdef PARMAP_TEST_SANITIZED
constexpr std::chrono::milliseconds child_limit = 20s;
#else
constexpr std::chrono::milliseconds child_limit = 10s;
#endif

/// How often to run a child that is asked for `runs` runs. A sanitizer makes every run slow
/// (ThreadSanitizer alone waits a second at exit) and catches a use after free in the run where
/// it happens, instead of leaving it to chance whether it crashes: a quarter of them will do.
constexpr int scaled_runs(int runs) {
#ifdef PARMAP_TEST_SANITIZED
  return (runs + 3) / 4;
#else
  return runs;
#endif
}

bool has_line(const std::string& output, std::string_view line) {
  std::istringstream lines(output);
  for (std::string l; std::getline(lines, l);) {
    if (l == line) return true;
  }
  return false;
}

class Exit : public testing::TestWithParam<parmap::backend> {
 protected:
  /// Runs `child` with this backend and `variant` `runs` times (fewer under a sanitizer:
  /// scaled_runs). Every run must exit with status 0 within child_limit, and print each of
  /// `lines`. Stops at the first bad run.
  void expect_clean_exits(std::string_view child, const std::string& variant, int runs,
                          const std::vector<std::string>& lines) const {
    const std::string backend(parmap::to_string(GetParam()));
    runs = scaled_runs(runs);
    for (int run = 1; run <= runs; ++run) {
      const auto st = parmap_test::run_child(child, {backend, variant}, child_limit);
      const std::string which = std::string(child) + " " + backend + " " + variant + ", run " +
                                std::to_string(run) + " of " + std::to_string(runs) + ": ";
      ASSERT_TRUE(st.ok()) << which << st.describe();
      for (const auto& line : lines) {
        ASSERT_TRUE(has_line(st.output, line))
            << which << "no line '" << line << "'; " << st.describe();
      }
    }
  }
};

TEST_P(Exit, ExitDuringALongCallInAnotherThread) {
  expect_clean_exits("exit_during_call", "exit", 1, {"ok"});
}

TEST_P(Exit, ReturnFromMainWhileThreadsKeepCalling) {
  expect_clean_exits("exit_while_calling", "return", 20, {"ok"});
}

TEST_P(Exit, StdExitWhileThreadsKeepCalling) {
  expect_clean_exits("exit_while_calling", "exit", 20, {"ok"});
}

TEST_P(Exit, StaticStreamMadeBeforeFirstUse) {
  expect_clean_exits("static_stream", "early", 10, {"ok"});
}

TEST_P(Exit, NamespaceScopeStreamMadeDuringStaticInitialization) {
  expect_clean_exits("global_stream", "return", 20, {"ok"});
}

TEST_P(Exit, StaticStreamMadeAfterFirstUse) {
  expect_clean_exits("static_stream", "late", 10, {"ok"});
}

TEST_P(Exit, AbandonedStreamBlockedOnItsFirstItem) {
  expect_clean_exits("abandoned_stream", "none", 3, {"ok"});
}

TEST_P(Exit, AbandonedStreamBlockedAfterSomeItems) {
  expect_clean_exits("abandoned_stream", "some", 3, {"ok"});
}

TEST_P(Exit, ConsumerWaitingOnABlockedStreamAtExit) {
  expect_clean_exits("abandoned_stream", "consumer", 3, {"ok"});
}

// 1^2 + ... + 100^2 = 338350, printed by the static's destructor after main printed "ok".
TEST_P(Exit, StaticMadeBeforeFirstUseCallsMapInItsDestructor) {
  expect_clean_exits("static_destructor_call", "early", 3, {"ok", "sum 338350"});
}

TEST_P(Exit, StaticMadeAfterFirstUseCallsMapInItsDestructor) {
  expect_clean_exits("static_destructor_call", "late", 3, {"ok", "sum 338350"});
}

TEST_P(Exit, PinnedMapInTheDestructorOfAStaticMadeBeforeFirstUse) {
  expect_clean_exits("static_destructor_call", "early-spread", 3, {"ok", "sum 338350"});
}

TEST_P(Exit, PinnedMapInTheDestructorOfAStaticMadeAfterFirstUse) {
  expect_clean_exits("static_destructor_call", "late-spread", 3, {"ok", "sum 338350"});
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Exit);

}  // namespace
