#pragma once
// Ctrl-C for parallel code: while a parmap::interrupt_scope lives, SIGINT and SIGTERM request a
// stop on its token instead of killing the process, so a call given `.stop = scope.token()`
// throws parmap::cancelled once its running chunks end. A second signal is handled as if the
// scope did not exist (by default: the program ends), so a stuck function can still be killed.
//
//   parmap::interrupt_scope scope;
//   try {
//     auto out = parmap::parallel_map(items, fn, {.stop = scope.token()});
//   } catch (const parmap::cancelled&) {
//     return 128 + scope.caught_signal();  // 130 after Ctrl-C, as a shell reports it
//   }
//
// POSIX only.

#include <memory>
#include <stop_token>

namespace parmap {

namespace detail {
struct interrupt_state;
}  // namespace detail

/// Catches SIGINT and SIGTERM for as long as it lives and turns the first one into a stop
/// request on token().
///
/// What it catches. From the end of the constructor to the start of the destructor, the
/// process's actions for SIGINT and SIGTERM are parmap's handler, except for a signal whose
/// action was SIG_IGN when the scope began: that one stays ignored (a program started with
/// nohup or in the background of a non-interactive shell keeps ignoring Ctrl-C, as was meant).
/// The handler is installed with SA_RESTART (system calls it interrupts restart where the
/// system allows) and SIGINT and SIGTERM blocked while it runs. The scope does not change any
/// thread's signal mask: a signal that every thread blocks is not caught (it stays pending and
/// meets the restored action later). Its own thread blocks every signal.
///
/// The first signal. The handler does only async-signal-safe things: it records the signal
/// (interrupted() and caught_signal() see it from then on) and posts a semaphore. A thread
/// owned by the scope, the watcher, wakes on it and calls request_stop() on the scope's
/// std::stop_source, so token().stop_requested() becomes true shortly after interrupted():
/// once the watcher is scheduled, normally within microseconds. stop_requested() is never true
/// without interrupted(). Stop callbacks registered on token() run on the watcher thread (or at
/// once, on the registering thread, if the stop was already requested); the destructor waits
/// for them.
///
/// A second signal (SIGINT or SIGTERM, after either one was caught) is not turned into
/// anything: the handler puts back, for that signal, the action found when the scope began,
/// and hands the signal to it. SIG_DFL: the signal is raised again and ends the process when
/// the handler returns (a shell sees "killed by SIGINT"). A function: it is called, with
/// (sig, info, context) if its action has SA_SIGINFO, else with (sig); later signals reach it
/// directly. SIG_IGN: nothing happens. Signals are counted as they arrive, not per key press: a
/// wrapper that forwards SIGINT to its child while the terminal also sends it to the child's
/// process group delivers two, which end the program (coreutils timeout without --foreground
/// does this); two that arrive before the first is handled merge into one.
///
/// What it restores. The destructor puts back the actions of SIGINT and SIGTERM exactly as they
/// were when the constructor ran (handler, sa_mask and sa_flags), waits for any of its
/// handlers still running on other threads, wakes and joins the watcher thread. Afterwards
/// nothing in the process is left changed: no thread, no action. A signal that arrives while the
/// destructor runs gets either the scope's handling or the restored action, never neither.
///
/// One at a time. At most one interrupt_scope exists in a process at a time, whichever thread
/// made it: constructing a second one while another is alive throws std::logic_error (pass
/// the first one's token() to the code that needs it instead). Once a scope is destroyed a new
/// one may be created.
///
/// Threads. The scope may be destroyed on a thread other than the one that made it. token(),
/// interrupted() and caught_signal() may be called from any thread at the same time; the
/// destructor must not run concurrently with them, nor from a stop callback on token() (it
/// joins the watcher thread that runs those callbacks). The token stays valid after the scope
/// ends: stopped if a signal came, otherwise never stoppable (stop_possible() is false).
///
/// Other code that changes the actions of SIGINT or SIGTERM while a scope lives (signal(),
/// sigaction()) takes them over; the destructor still restores the actions found at the start.
/// The scope is not meant to live across fork(): the child has the handler but no watcher.
class interrupt_scope {
 public:
  /// Starts the watcher thread, then installs the handler for SIGINT and SIGTERM (leaving an
  /// ignored one ignored). Throws std::logic_error if another interrupt_scope is alive, and
  /// std::system_error if sigaction() fails or the thread cannot start; in either case nothing
  /// stays installed or started.
  interrupt_scope();
  /// Restores the actions found by the constructor and joins the watcher thread; see above.
  ~interrupt_scope();
  interrupt_scope(const interrupt_scope&) = delete;
  interrupt_scope& operator=(const interrupt_scope&) = delete;
  interrupt_scope(interrupt_scope&&) = delete;
  interrupt_scope& operator=(interrupt_scope&&) = delete;

  /// The token that the first caught signal stops, for options::stop. Every call returns a
  /// token of the same stop state.
  [[nodiscard]] std::stop_token token() const noexcept;

  /// True from the moment the handler caught the first SIGINT or SIGTERM. token() reports the
  /// stop shortly after (see the class comment); never before.
  [[nodiscard]] bool interrupted() const noexcept;

  /// The first signal caught: SIGINT or SIGTERM, or 0 while none was. 128 + caught_signal() is
  /// the exit status a shell expects from a program that a signal ended.
  [[nodiscard]] int caught_signal() const noexcept;

 private:
  std::unique_ptr<detail::interrupt_state> state_;
};

}  // namespace parmap
