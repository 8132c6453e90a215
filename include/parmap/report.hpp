#pragma once
// What one call did: options::report points at a call_report that the call fills when it
// returns or throws. The automatic choices made visible (threads, chunk), and where the time
// went: per thread, the items it ran and the time it spent running them.
//
//   parmap::call_report r;
//   auto out = parmap::parallel_map(xs, f, {.report = &r});
//   std::puts(parmap::to_string(r).c_str());
//   // threads 2, chunk 4096 (automatic), 64 chunks, 262144 items in 3.1 ms,
//   // imbalance 1.03, overhead 0.4%

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "parmap/backend.hpp"
#include "parmap/options.hpp"

namespace parmap {

/// One thread's share of a call.
struct thread_share {
  std::size_t items = 0;             ///< items this thread ran to completion
  std::chrono::nanoseconds busy{0};  ///< time it spent running chunks of them
};

/// What one call did. Filled when the call returns or throws (after a failure, a stop or the
/// deadline it describes the work that did run); a call rejected for bad options, before any
/// work, leaves it as it was.
struct call_report {
  parmap::backend backend = parmap::backend::serial;
  /// The call's threads: options::threads resolved, and never more than there were chunks to
  /// run (0 for empty input). An MPI rank's report counts that rank's local threads.
  int threads = 0;
  /// Items per chunk: options::chunk when it was set; else the mean items per chunk that the
  /// backend's automatic choice ran (items / chunks, rounded). For map_reduce, the items per
  /// reduction block; for streams, 1 (a stream's unit of work is one item).
  std::size_t chunk = 0;
  std::size_t chunks = 0;  ///< chunks that ran
  std::size_t items = 0;   ///< items that ran to completion: the input's size when it succeeded
  std::chrono::nanoseconds wall{0};  ///< from the call's start to its end
  /// One entry per thread of the call (per_thread.size() == threads), in the backend's own
  /// numbering (the pool's participants, OpenMP's thread numbers, TBB's arena slots), also
  /// for threads that ran nothing.
  std::vector<thread_share> per_thread;
  /// options::chunk was 0: `chunk` reports what the backend chose.
  bool automatic_chunk = false;
  parmap::schedule schedule = parmap::schedule::automatic;

  /// The busiest thread's busy time over the mean busy time: 1 is perfect balance, 2 means
  /// the busiest thread worked twice the average. 1 when nothing ran.
  [[nodiscard]] double imbalance() const noexcept;
  /// The share of the threads' time (threads x wall) not spent running items: starting and
  /// waking threads, scheduling, waiting for the slowest thread. 0 to 1; 0 when nothing ran.
  [[nodiscard]] double overhead() const noexcept;
};

/// A short human summary of a report, e.g. "threads backend, threads 2, chunk 4096
/// (automatic), 64 chunks, 262144 items in 3.1 ms, imbalance 1.03, overhead 0.4%".
[[nodiscard]] std::string to_string(const call_report& r);

}  // namespace parmap
