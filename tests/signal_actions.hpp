#pragma once
// Comparing signal actions, for the tests of parmap::interrupt_scope (test_interrupt.cpp and
// the child program children/interrupt_map.cpp).
#include <signal.h>

#include <string>

namespace parmap_test {

/// What a signal's action is now.
inline struct sigaction current_action(int sig) {
  struct sigaction now {};
  sigaction(sig, nullptr, &now);
  return now;
}

/// Makes `action` the action of `sig`; returns it as the system reports it back (the C library
/// adds SA_RESTORER and its restorer), which is what "restored exactly" compares with.
inline struct sigaction install_action(int sig, const struct sigaction& action) {
  sigaction(sig, &action, nullptr);
  return current_action(sig);
}

/// An empty description if `a` and `b` are the same action (the handler, sa_flags and every
/// signal of sa_mask), else what differs.
inline std::string action_difference(const struct sigaction& a, const struct sigaction& b) {
  if (a.sa_flags != b.sa_flags) {
    return "sa_flags " + std::to_string(a.sa_flags) + " vs " + std::to_string(b.sa_flags);
  }
  if ((a.sa_flags & SA_SIGINFO) != 0 ? a.sa_sigaction != b.sa_sigaction
                                     : a.sa_handler != b.sa_handler) {
    return "the handler";
  }
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&a.sa_mask, sig) != sigismember(&b.sa_mask, sig)) {
      return "sa_mask at signal " + std::to_string(sig);
    }
  }
  return {};
}

}  // namespace parmap_test
