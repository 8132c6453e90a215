// A long parallel_map under a parmap::interrupt_scope, for test_interrupt.cpp, which sends this
// process SIGINT or SIGTERM while the map runs.
//
//   child_interrupt_map <backend> map      2,000 items of 10 ms (about 5 s on 4 threads) with
//                                          .stop = scope.token(). Prints "started" once items
//                                          run; on parmap::cancelled prints "cancelled", the
//                                          signal, how many items started after the stop was
//                                          requested and the milliseconds from the request to
//                                          the exception, and exits 0. Exits 3 if the map ends.
//   child_interrupt_map <backend> stuck    The same, but an item that ends after the signal
//                                          blocks for ever and prints "stuck": only a second
//                                          signal can end the process.
//   child_interrupt_map <backend> restore  Installs its own handlers, runs a scope that raises
//                                          SIGINT in an item, then checks that its handlers are
//                                          back exactly and that SIGINT reaches them. Prints
//                                          "restored" and exits 0, else says what differs.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <parmap/parmap.hpp>
#include <ranges>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "../signal_actions.hpp"

namespace {

using namespace std::chrono_literals;

void say(const char* line) {
  std::fputs(line, stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

#if defined(__SANITIZE_THREAD__)
constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool under_tsan = true;
#else
constexpr bool under_tsan = false;
#endif
#else
constexpr bool under_tsan = false;
#endif

/// Under ThreadSanitizer only. TSan runs a signal handler when the thread the signal reached
/// next enters a function it intercepts; parmap's idle workers wait in futexes it does not
/// intercept, so a signal that reaches one of them would wait for ever. Here SIGINT and
/// SIGTERM are blocked in the calling thread, and so in the map's threads, which it starts;
/// the thread this returns takes them instead, sleeping in a call TSan intercepts.
std::jthread signals_to_a_sleeping_thread() {
  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, SIGINT);
  sigaddset(&both, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &both, nullptr);
  return std::jthread([both](const std::stop_token& done) {
    pthread_sigmask(SIG_UNBLOCK, &both, nullptr);
    while (!done.stop_requested()) std::this_thread::sleep_for(20ms);
  });
}

int run_map(parmap::backend b, bool stuck) {
  // A suite started in the background of a shell passes SIGINT on ignored, and the scope leaves
  // an ignored signal ignored: this test wants the ordinary case, the default action.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  std::jthread receiver;
  if (under_tsan) receiver = signals_to_a_sleeping_thread();
  parmap::interrupt_scope scope;
  const std::stop_token stop = scope.token();
  std::atomic<bool> started{false};
  std::atomic<bool> stuck_said{false};
  std::atomic<int> late{0};
  using clock = std::chrono::steady_clock;
  // When the stop request was made (stop callbacks run in request_stop, on the scope's thread).
  std::atomic<clock::rep> stopped_at{0};
  const std::stop_callback note(stop,
                                [&] { stopped_at.store(clock::now().time_since_epoch().count()); });
  auto item = [&](int i) {
    if (stop.stop_requested()) late.fetch_add(1);
    if (!started.exchange(true)) say("started");
    std::this_thread::sleep_for(10ms);
    if (stuck && scope.interrupted()) {
      if (!stuck_said.exchange(true)) say("stuck");
      for (;;) std::this_thread::sleep_for(1s);
    }
    return i;
  };
  try {
    (void)parmap::parallel_map(std::views::iota(0, 2000), item,
                               {.backend = b, .threads = 4, .chunk = 1, .stop = stop});
  } catch (const parmap::cancelled&) {
    const clock::time_point stop_time{clock::duration{stopped_at.load()}};
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - stop_time).count();
    std::printf("cancelled signal=%d started_after_stop=%d ms_after_stop=%lld\n",
                scope.caught_signal(), late.load(), static_cast<long long>(ms));
    std::fflush(stdout);
    return 0;
  }
  say("finished without a stop");
  return 3;
}

volatile sig_atomic_t own_int_calls = 0;
volatile sig_atomic_t own_term_calls = 0;
void own_int(int, siginfo_t*, void*) {
  own_int_calls = own_int_calls + 1;
}
void own_term(int) {
  own_term_calls = own_term_calls + 1;
}

int run_restore(parmap::backend b) {
  struct sigaction mine_int {};
  mine_int.sa_sigaction = own_int;
  mine_int.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&mine_int.sa_mask);
  sigaddset(&mine_int.sa_mask, SIGUSR1);
  struct sigaction mine_term {};
  mine_term.sa_handler = own_term;
  mine_term.sa_flags = 0;
  sigemptyset(&mine_term.sa_mask);
  sigaddset(&mine_term.sa_mask, SIGHUP);
  mine_int = parmap_test::install_action(SIGINT, mine_int);
  mine_term = parmap_test::install_action(SIGTERM, mine_term);
  {
    parmap::interrupt_scope scope;
    try {
      (void)parmap::parallel_map(std::views::iota(0, 400),
                                 [&](int i) {
                                   if (i == 40) raise(SIGINT);
                                   std::this_thread::sleep_for(1ms);
                                   return i;
                                 },
                                 {.backend = b, .threads = 4, .chunk = 1, .stop = scope.token()});
      say("the map was not cancelled");
      return 5;
    } catch (const parmap::cancelled&) {
    }
    if (scope.caught_signal() != SIGINT || own_int_calls != 0) {
      say("the scope did not catch SIGINT");
      return 5;
    }
  }
  for (auto [sig, mine] : {std::pair{SIGINT, mine_int}, std::pair{SIGTERM, mine_term}}) {
    const std::string difference =
        parmap_test::action_difference(parmap_test::current_action(sig), mine);
    if (!difference.empty()) {
      std::printf("the action of signal %d was not restored: %s differs\n", sig,
                  difference.c_str());
      return 5;
    }
  }
  raise(SIGINT);
  raise(SIGTERM);
  if (own_int_calls != 1 || own_term_calls != 1) {
    say("the restored handlers did not get the signals");
    return 5;
  }
  say("restored");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <backend> map|stuck|restore\n", argv[0]);
    return 2;
  }
  const parmap::backend b = parmap::backend_from_string(argv[1]);
  const std::string_view mode = argv[2];
  if (mode == "map") return run_map(b, false);
  if (mode == "stuck") return run_map(b, true);
  if (mode == "restore") return run_restore(b);
  std::fprintf(stderr, "unknown mode %s\n", argv[2]);
  return 2;
}
