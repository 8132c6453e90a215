// parmap::interrupt_scope. The signal handler only touches lock-free atomics and calls
// sem_post, sigaction and raise, all async-signal-safe; the stop request, which may run stop
// callbacks and take locks, is made by the scope's watcher thread.
#include "parmap/interrupt.hpp"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace parmap::detail {

/// One scope's state. The handler reaches it through `active_state` below.
struct interrupt_state {
  interrupt_state() {
    if (sem_init(&wake, 0, 0) != 0) {
      throw std::system_error(errno, std::generic_category(),
                              "parmap::interrupt_scope: sem_init failed");
    }
  }
  ~interrupt_state() { sem_destroy(&wake); }
  interrupt_state(const interrupt_state&) = delete;
  interrupt_state& operator=(const interrupt_state&) = delete;

  std::stop_source source;
  /// Posted by the handler on the first signal, and by the scope's end to release the watcher.
  sem_t wake{};
  /// The first signal caught; 0 before. Set by the handler.
  std::atomic<int> caught{0};
  /// The actions found when the scope began: SIGINT's, then SIGTERM's. Written before the
  /// state is published to the handler, read-only afterwards.
  struct sigaction previous[2]{};
  /// Whether the scope's handler was installed for that signal (not for an ignored one).
  bool installed[2]{false, false};
  std::thread watcher;
};

}  // namespace parmap::detail

namespace {

using parmap::detail::interrupt_state;

constexpr int handled_signals[2] = {SIGINT, SIGTERM};

static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free &&
                  std::atomic<interrupt_state*>::is_always_lock_free,
              "the signal handler may only use lock-free atomics");

/// True while a scope exists, from the start of its constructor to the end of its destructor:
/// the rule of one scope at a time.
std::atomic<bool> scope_exists{false};
/// The state the handler works on; null outside a scope and while one ends.
std::atomic<interrupt_state*> active_state{nullptr};
/// Handlers between reading active_state and their last use of what it points to. A scope
/// that ends waits for this to drop to 0 before its state goes away.
std::atomic<int> handlers_inside{0};

std::size_t slot_of(int sig) noexcept {
  return sig == SIGINT ? 0 : 1;
}

[[noreturn]] void throw_errno(int error, const char* what) {
  throw std::system_error(error, std::generic_category(),
                          std::string("parmap::interrupt_scope: ") + what);
}

}  // namespace

extern "C" {

static void parmap_interrupt_handler(int sig, siginfo_t* info, void* context);

}  // extern "C"

namespace {

bool is_our_handler(const struct sigaction& action) noexcept {
  return (action.sa_flags & SA_SIGINFO) != 0 && action.sa_sigaction == &parmap_interrupt_handler;
}

/// Gives `sig` to `action` as the kernel would have. Called from the handler.
void pass_on(const struct sigaction& action, int sig, siginfo_t* info, void* context) noexcept {
  if ((action.sa_flags & SA_SIGINFO) != 0) {
    if (action.sa_sigaction != nullptr && !is_our_handler(action)) {
      action.sa_sigaction(sig, info, context);
    }
  } else if (action.sa_handler == SIG_DFL) {
    // `sig` is blocked while the handler runs: it stays pending and, the action being SIG_DFL
    // again, ends the process as soon as the handler returns.
    raise(sig);
  } else if (action.sa_handler != SIG_IGN && action.sa_handler != nullptr) {
    action.sa_handler(sig);
  }
}

/// The watcher thread: waits for the handler (or the scope's end) and makes the stop request.
void watch(interrupt_state& state) {
  while (sem_wait(&state.wake) != 0 && errno == EINTR) {
  }
  if (state.caught.load() != 0) state.source.request_stop();
}

/// Undoes what a scope set up, in reverse: the actions it installed, the handler's access to
/// its state, the watcher thread. Used by the destructor and by a constructor that fails.
void tear_down(interrupt_state& state) noexcept {
  for (std::size_t i = 2; i-- > 0;) {
    if (state.installed[i]) sigaction(handled_signals[i], &state.previous[i], nullptr);
  }
  active_state.store(nullptr);
  // A handler that read the state before the store above is still using it: wait. One that
  // reads active_state from now on sees null (the counter is incremented before the read;
  // both sequentially consistent).
  while (handlers_inside.load() != 0) std::this_thread::yield();
  if (state.watcher.joinable()) {
    sem_post(&state.wake);
    state.watcher.join();
  }
}

}  // namespace

extern "C" {

static void parmap_interrupt_handler(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  struct sigaction next {};
  bool forward = true;
  handlers_inside.fetch_add(1);
  if (interrupt_state* state = active_state.load()) {
    int none = 0;
    if (state->caught.compare_exchange_strong(none, sig)) {
      sem_post(&state->wake);
      forward = false;
    } else {
      // The second signal: the action from before the scope takes over, from this one on.
      next = state->previous[slot_of(sig)];
      sigaction(sig, &next, nullptr);
    }
  } else {
    // The scope ended while this signal was on its way: the restored action decides.
    sigaction(sig, nullptr, &next);
  }
  // Not counted while it runs: the previous handler may never return (exit, longjmp).
  handlers_inside.fetch_sub(1);
  if (forward) pass_on(next, sig, info, context);
  errno = saved_errno;
}

}  // extern "C"

namespace parmap {

interrupt_scope::interrupt_scope() : state_(std::make_unique<detail::interrupt_state>()) {
  bool exists = false;
  if (!scope_exists.compare_exchange_strong(exists, true)) {
    throw std::logic_error(
        "parmap::interrupt_scope: another interrupt_scope is alive in this process; only one "
        "may own SIGINT and SIGTERM at a time (pass its token() on instead)");
  }
  detail::interrupt_state& state = *state_;
  try {
    for (std::size_t i = 0; i < 2; ++i) {
      if (sigaction(handled_signals[i], nullptr, &state.previous[i]) != 0) {
        throw_errno(errno, "sigaction failed to read the current action");
      }
    }
    // The watcher blocks every signal, so that none is delivered to it rather than to one of
    // the program's own threads.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      state.watcher = std::thread(watch, std::ref(state));
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);

    active_state.store(&state);
    struct sigaction ours {};
    ours.sa_sigaction = &parmap_interrupt_handler;
    ours.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&ours.sa_mask);
    for (int sig : handled_signals) sigaddset(&ours.sa_mask, sig);
    for (std::size_t i = 0; i < 2; ++i) {
      if ((state.previous[i].sa_flags & SA_SIGINFO) == 0 &&
          state.previous[i].sa_handler == SIG_IGN) {
        continue;
      }
      if (sigaction(handled_signals[i], &ours, nullptr) != 0) {
        throw_errno(errno, "sigaction failed to install the handler");
      }
      state.installed[i] = true;
    }
  } catch (...) {
    tear_down(state);
    scope_exists.store(false);
    throw;
  }
}

interrupt_scope::~interrupt_scope() {
  tear_down(*state_);
  scope_exists.store(false);
}

std::stop_token interrupt_scope::token() const noexcept {
  return state_->source.get_token();
}

bool interrupt_scope::interrupted() const noexcept {
  return state_->caught.load() != 0;
}

int interrupt_scope::caught_signal() const noexcept {
  return state_->caught.load();
}

}  // namespace parmap
