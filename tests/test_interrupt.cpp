// parmap::interrupt_scope: Ctrl-C (SIGINT) and SIGTERM stop a map. A child process running a
// long map gets the signals from outside, on every backend; in this process, signals are only
// raised while a scope or a test's own handler catches them, so a failure cannot kill the suite.
#include <dirent.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>

#include "child_process.hpp"
#include "signal_actions.hpp"
#include "test_backends.hpp"

namespace {

using namespace std::chrono_literals;
using parmap::backend;
using parmap_test::action_difference;
using parmap_test::current_action;
using parmap_test::install_action;

/// How long a child may take to start its map or to end; sanitizer builds start slowly.
constexpr auto child_patience = std::chrono::milliseconds(30s);
/// The child's map takes 5 s on 4 threads (20 s on serial) unless stopped, and is signalled
/// 0.3 s in. Its items take 10 ms, so parallel_map throws well within this after the stop:
constexpr long long ms_from_stop_to_exception = 1000;
/// and the process ends well within this after the signal (ThreadSanitizer alone adds 1 s at
/// exit while threads of OpenMP or TBB remain).
constexpr double seconds_from_signal_to_end = 3.0;

/// The number after `key=` in `output`; -1 if there is none.
long long number_after(const std::string& output, const std::string& key) {
  const auto at = output.find(key + "=");
  if (at == std::string::npos) return -1;
  return std::stoll(output.substr(at + key.size() + 1));
}

/// Sends `sig` to a child running a long map in `mode` once its items run; returns how it
/// ended and the seconds from the signal to its end.
std::pair<parmap_test::child_status, double> signal_long_map(backend b, const char* mode, int sig) {
  parmap_test::child_process child(parmap_test::child_path("interrupt_map"),
                                   {std::string(parmap::to_string(b)), mode});
  EXPECT_TRUE(child.wait_for_output("started", child_patience)) << child.output();
  std::this_thread::sleep_for(300ms);  // in the middle of the map
  const auto sent = std::chrono::steady_clock::now();
  child.send(sig);
  auto status = child.wait(child_patience);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - sent;
  return {std::move(status), took.count()};
}

class Interrupt : public testing::TestWithParam<backend> {};

/// Sends `sig` to a child in the middle of a long map and checks that it reports cancelled
/// soon after, with no chunk started after the stop.
void expect_signal_stops_a_long_map(backend b, int sig) {
  const auto [status, seconds] = signal_long_map(b, "map", sig);
  ASSERT_TRUE(status.ok()) << status.describe();
  EXPECT_NE(status.output.find("cancelled signal=" + std::to_string(sig) + " "),
            std::string::npos)
      << status.describe();
  EXPECT_EQ(number_after(status.output, "started_after_stop"), 0) << status.describe();
  const long long ms = number_after(status.output, "ms_after_stop");
  EXPECT_GE(ms, 0) << status.describe();
  EXPECT_LT(ms, ms_from_stop_to_exception) << status.describe();
  EXPECT_LT(seconds, seconds_from_signal_to_end) << status.describe();
}

TEST_P(Interrupt, SigintStopsALongMapSoonWithNoChunkStartedAfterTheStop) {
  expect_signal_stops_a_long_map(GetParam(), SIGINT);
}

TEST_P(Interrupt, SigtermStopsALongMapLikeSigint) {
  expect_signal_stops_a_long_map(GetParam(), SIGTERM);
}

TEST_P(Interrupt, SecondSigintEndsAProcessWhoseItemIsStuck) {
  parmap_test::child_process child(parmap_test::child_path("interrupt_map"),
                                   {std::string(parmap::to_string(GetParam())), "stuck"});
  ASSERT_TRUE(child.wait_for_output("started", child_patience)) << child.output();
  child.send(SIGINT);
  ASSERT_TRUE(child.wait_for_output("stuck", child_patience)) << child.output();
  // The first signal was caught; the items are stuck, so without a second one the child would
  // run until the harness kills it.
  std::this_thread::sleep_for(100ms);
  child.send(SIGINT);
  const auto status = child.wait(child_patience);
  EXPECT_FALSE(status.timed_out) << status.describe();
  EXPECT_FALSE(status.exited) << status.describe();
  EXPECT_EQ(status.signal, SIGINT) << status.describe();
}

TEST_P(Interrupt, TheHandlersFromBeforeTheScopeAreBackAfterIt) {
  const auto status = parmap_test::run_child(
      "interrupt_map", {std::string(parmap::to_string(GetParam())), "restore"}, child_patience);
  EXPECT_TRUE(status.ok()) << status.describe();
  EXPECT_NE(status.output.find("restored"), std::string::npos) << status.describe();
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Interrupt);

// ---- in this process ----------------------------------------------------------------------

std::atomic<int> guard_calls{0};
void guard_handler(int) {
  guard_calls.fetch_add(1);
}

std::atomic<int> plain_calls{0};
void plain_handler(int) {
  plain_calls.fetch_add(1);
}

std::atomic<int> info_calls{0};
std::atomic<int> info_signo{0};
void info_handler(int, siginfo_t* info, void*) {
  info_calls.fetch_add(1);
  info_signo.store(info != nullptr ? info->si_signo : -1);
}

/// An action with a handler taking (int), flags and one masked signal.
struct sigaction plain_action(int flags, int masked) {
  struct sigaction a {};
  a.sa_handler = plain_handler;
  a.sa_flags = flags;
  sigemptyset(&a.sa_mask);
  sigaddset(&a.sa_mask, masked);
  return a;
}

/// An action with an SA_SIGINFO handler.
struct sigaction info_action(int extra_flags, int masked) {
  struct sigaction a {};
  a.sa_sigaction = info_handler;
  a.sa_flags = SA_SIGINFO | extra_flags;
  sigemptyset(&a.sa_mask);
  sigaddset(&a.sa_mask, masked);
  return a;
}

/// Waits up to 10 s for the scope's watcher to pass the stop on.
bool stop_arrives(const std::stop_token& token) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!token.stop_requested()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// The threads of this process.
int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
  }
  return n;
}

/// Keeps this process's SIGINT and SIGTERM actions across a test, and gives both a counting
/// handler while it runs: a signal that a broken scope would let through is counted, not fatal.
class InterruptScope : public testing::Test {
 protected:
  void SetUp() override {
    sigaction(SIGINT, nullptr, &saved_int_);
    sigaction(SIGTERM, nullptr, &saved_term_);
    struct sigaction guard {};
    guard.sa_handler = guard_handler;
    sigemptyset(&guard.sa_mask);
    sigaction(SIGINT, &guard, nullptr);
    sigaction(SIGTERM, &guard, nullptr);
    guard_calls = 0;
    plain_calls = 0;
    info_calls = 0;
    info_signo = 0;
  }
  void TearDown() override {
    EXPECT_EQ(guard_calls.load(), 0) << "a signal got past the scope";
    sigaction(SIGINT, &saved_int_, nullptr);
    sigaction(SIGTERM, &saved_term_, nullptr);
  }

 private:
  struct sigaction saved_int_ {};
  struct sigaction saved_term_ {};
};

TEST_F(InterruptScope, NothingHappensWithoutASignal) {
  parmap::interrupt_scope scope;
  EXPECT_FALSE(scope.interrupted());
  EXPECT_EQ(scope.caught_signal(), 0);
  EXPECT_TRUE(scope.token().stop_possible());
  EXPECT_FALSE(scope.token().stop_requested());
}

TEST_F(InterruptScope, SigintSetsInterruptedAtOnceAndStopsTheTokenSoonAfter) {
  parmap::interrupt_scope scope;
  raise(SIGINT);  // the handler has run when raise returns
  EXPECT_TRUE(scope.interrupted());
  EXPECT_EQ(scope.caught_signal(), SIGINT);
  EXPECT_TRUE(stop_arrives(scope.token()));
  EXPECT_TRUE(scope.interrupted());
}

TEST_F(InterruptScope, SigtermIsCaughtLikeSigint) {
  parmap::interrupt_scope scope;
  raise(SIGTERM);
  EXPECT_EQ(scope.caught_signal(), SIGTERM);
  EXPECT_TRUE(stop_arrives(scope.token()));
}

TEST_F(InterruptScope, RestoresBothActionsExactly) {
  const auto int_before = install_action(SIGINT, info_action(SA_RESTART | SA_NODEFER, SIGUSR1));
  const auto term_before = install_action(SIGTERM, plain_action(SA_ONSTACK, SIGHUP));
  {
    parmap::interrupt_scope scope;
    EXPECT_FALSE(action_difference(current_action(SIGINT), int_before).empty());
    EXPECT_FALSE(action_difference(current_action(SIGTERM), term_before).empty());
  }
  EXPECT_EQ(action_difference(current_action(SIGINT), int_before), "");
  EXPECT_EQ(action_difference(current_action(SIGTERM), term_before), "");
}

TEST_F(InterruptScope, RestoresTheDefaultAction) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  const auto before = install_action(SIGTERM, dfl);
  { parmap::interrupt_scope scope; }
  EXPECT_EQ(action_difference(current_action(SIGTERM), before), "");
}

TEST_F(InterruptScope, RestoresAfterASignalToo) {
  const auto before = install_action(SIGINT, info_action(0, SIGQUIT));
  {
    parmap::interrupt_scope scope;
    raise(SIGINT);
    EXPECT_TRUE(stop_arrives(scope.token()));
  }
  EXPECT_EQ(action_difference(current_action(SIGINT), before), "");
  EXPECT_EQ(info_calls.load(), 0);
}

TEST_F(InterruptScope, SecondSignalGoesToThePreviousSiginfoHandler) {
  const auto before = install_action(SIGINT, info_action(SA_RESTART, SIGUSR2));
  parmap::interrupt_scope scope;
  raise(SIGINT);
  EXPECT_EQ(info_calls.load(), 0);
  raise(SIGINT);
  EXPECT_EQ(info_calls.load(), 1);
  EXPECT_EQ(info_signo.load(), SIGINT);  // called with the siginfo_t it was meant to get
  // From the second signal on, the previous action is SIGINT's again.
  EXPECT_EQ(action_difference(current_action(SIGINT), before), "");
  raise(SIGINT);
  EXPECT_EQ(info_calls.load(), 2);
  EXPECT_EQ(scope.caught_signal(), SIGINT);
}

TEST_F(InterruptScope, SecondSignalGoesToThePreviousPlainHandler) {
  const auto before = install_action(SIGINT, plain_action(0, SIGUSR1));
  parmap::interrupt_scope scope;
  raise(SIGINT);
  raise(SIGINT);
  EXPECT_EQ(plain_calls.load(), 1);
  EXPECT_EQ(action_difference(current_action(SIGINT), before), "");
}

TEST_F(InterruptScope, SigtermAfterSigintGoesToSigtermsPreviousHandler) {
  const auto int_before = install_action(SIGINT, info_action(0, SIGUSR1));
  const auto term_before = install_action(SIGTERM, plain_action(0, SIGUSR1));
  parmap::interrupt_scope scope;
  raise(SIGINT);
  raise(SIGTERM);
  EXPECT_EQ(plain_calls.load(), 1);
  EXPECT_EQ(info_calls.load(), 0);
  EXPECT_EQ(action_difference(current_action(SIGTERM), term_before), "");
  EXPECT_EQ(scope.caught_signal(), SIGINT);
  // SIGINT is still the scope's until a second SIGINT.
  EXPECT_FALSE(action_difference(current_action(SIGINT), int_before).empty());
  raise(SIGINT);
  EXPECT_EQ(info_calls.load(), 1);
}

TEST_F(InterruptScope, AnIgnoredSignalStaysIgnored) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  const auto before = install_action(SIGINT, ignore);
  {
    parmap::interrupt_scope scope;
    EXPECT_EQ(action_difference(current_action(SIGINT), before), "");
    raise(SIGINT);
    EXPECT_FALSE(scope.interrupted());
    // SIGTERM was not ignored: it is caught.
    raise(SIGTERM);
    EXPECT_EQ(scope.caught_signal(), SIGTERM);
  }
  EXPECT_EQ(action_difference(current_action(SIGINT), before), "");
}

TEST_F(InterruptScope, OnlyOneScopeAtATime) {
  {
    parmap::interrupt_scope first;
    EXPECT_THROW(parmap::interrupt_scope second, std::logic_error);
    std::thread elsewhere([] {
      try {
        parmap::interrupt_scope second;
        ADD_FAILURE() << "a second scope was made on another thread";
      } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("another interrupt_scope is alive"), std::string::npos)
            << e.what();
      }
    });
    elsewhere.join();
    // The failed attempts changed nothing: the first scope still catches.
    raise(SIGINT);
    EXPECT_TRUE(stop_arrives(first.token()));
  }
  parmap::interrupt_scope after;
  EXPECT_FALSE(after.interrupted());
}

TEST_F(InterruptScope, MayEndOnAnotherThread) {
  const auto before = install_action(SIGTERM, plain_action(SA_RESTART, SIGUSR1));
  auto scope = std::make_unique<parmap::interrupt_scope>();
  const std::stop_token token = scope->token();
  std::thread([&scope] { scope.reset(); }).join();
  EXPECT_EQ(action_difference(current_action(SIGTERM), before), "");
  EXPECT_FALSE(token.stop_possible());  // nothing can stop it any more
  parmap::interrupt_scope next;
  raise(SIGTERM);
  EXPECT_EQ(next.caught_signal(), SIGTERM);
  EXPECT_EQ(plain_calls.load(), 0);
}

TEST_F(InterruptScope, TheTokenStaysStoppedAfterTheScope) {
  std::stop_token token;
  {
    parmap::interrupt_scope scope;
    token = scope.token();
    raise(SIGINT);
    EXPECT_TRUE(stop_arrives(token));
  }
  EXPECT_TRUE(token.stop_requested());
}

TEST_F(InterruptScope, LeavesNoThreadBehind) {
  const int before = thread_count();
  for (int i = 0; i < 20; ++i) {
    parmap::interrupt_scope scope;
    if (i % 2 == 0) raise(SIGINT);
  }
  EXPECT_EQ(thread_count(), before);
}

class InterruptInProcess : public InterruptScope, public testing::WithParamInterface<backend> {};

TEST_P(InterruptInProcess, SigintRaisedByAnItemStopsTheMap) {
  parmap::interrupt_scope scope;
  const std::stop_token stop = scope.token();
  std::atomic<int> late{0};
  std::atomic<int> ran{0};
  auto item = [&](int i) {
    if (stop.stop_requested()) late.fetch_add(1);
    ran.fetch_add(1);
    if (i == 30) raise(SIGINT);  // on a worker thread: the handler runs there
    std::this_thread::sleep_for(2ms);
    return i;
  };
  EXPECT_THROW(
      (void)parmap::parallel_map(std::views::iota(0, 2000), item,
                                 {.backend = GetParam(), .threads = 4, .chunk = 1, .stop = stop}),
      parmap::cancelled);
  EXPECT_EQ(scope.caught_signal(), SIGINT);
  EXPECT_TRUE(stop.stop_requested());
  EXPECT_EQ(late.load(), 0);
  EXPECT_LT(ran.load(), 2000);
}

PARMAP_INSTANTIATE_FOR_BACKENDS(InterruptInProcess);

}  // namespace
