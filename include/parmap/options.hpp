#pragma once
// Options of a parmap call: a plain aggregate, written with designated initializers:
//   parmap::options{.backend = parmap::backend::tbb, .threads = 2, .chunk = 64,
//                   .schedule = parmap::schedule::dynamic}

#include <chrono>
#include <cstddef>
#include <functional>
#include <stop_token>

#include "parmap/backend.hpp"

namespace parmap {

struct call_report;  // parmap/report.hpp

/// How chunks are handed to threads.
enum class schedule {
  automatic,  ///< parmap decides: contiguous blocks per thread, idle threads steal the rest
              ///< (OpenMP and threads); TBB's auto_partitioner; the PSTL's own split (stdpar)
  static_,    ///< fixed round-robin assignment of chunks, decided up front: OpenMP
              ///< schedule(static), TBB static_partitioner
  dynamic,    ///< threads claim the next chunk when they finish one: OpenMP schedule(dynamic),
              ///< TBB simple_partitioner
  guided,     ///< claims shrink as the work runs out: OpenMP schedule(guided), TBB
              ///< auto_partitioner
};

/// The name of a schedule: "automatic", "static", "dynamic" or "guided".
[[nodiscard]] std::string_view to_string(schedule s) noexcept;

/// Where a call's threads run (thread pinning). With anything but `none`, the i-th thread of a
/// call is pinned to a CPU picked from detect_topology().cpus_by_core, on every backend.
enum class placement {
  none,    ///< the operating system decides (default); threads are not pinned
  spread,  ///< one thread per physical core first, SMT siblings only when every core has one
  close,   ///< fill every hardware thread of a core before moving to the next core
};

/// The name of a placement: "none", "spread" or "close".
[[nodiscard]] std::string_view to_string(placement p) noexcept;

/// The largest thread count a call may ask for: beyond it options::threads is rejected.
inline constexpr int max_threads = 4096;

/// Options of one call. Every member has a default; 0 means "automatic".
/// Each call checks its options before any work and throws std::invalid_argument that names
/// the problem if: the backend is outside the enum or not built in; |threads| > max_threads;
/// threads is 0 and PARMAP_NUM_THREADS is malformed; the schedule or placement is outside its
/// enum.
struct options {
  /// Where the call runs; see backend and default_backend().
  parmap::backend backend = parmap::default_backend();
  /// 0: the default, detect_cpu_allowance().threads: PARMAP_NUM_THREADS when it is set, else
  ///    every logical CPU this process may run on (usable_cpus()), but no more than its cgroup
  ///    CPU quota rounded up (docker --cpus=1.5, a Kubernetes CPU limit: 2), and at least 1.
  ///    A PARMAP_NUM_THREADS that is not a whole number from 1 to max_threads makes every call
  ///    with threads = 0 throw std::invalid_argument naming it.
  /// N > 0: exactly N threads (more than the CPUs is allowed: latency-bound work wants it).
  /// N < 0: joblib's rule, max(cpus + 1 + N, 1): -1 is all CPUs, -2 all but one, where cpus
  ///    is max(1, min(usable_cpus(), ceil(CPU quota))); PARMAP_NUM_THREADS plays no part.
  /// The calling thread counts as one of them. At most N threads run the function.
  int threads = 0;
  /// Items per chunk, the unit of scheduling, cancellation and progress. 0: automatic.
  std::size_t chunk = 0;
  /// How chunks are handed to threads (see schedule).
  parmap::schedule schedule = parmap::schedule::automatic;
  /// When stop is requested, no further chunk starts and the call throws parmap::cancelled.
  std::stop_token stop = {};
  /// Called with (items done, total items) from worker threads at chunk granularity, at most
  /// about 20 times a second, never concurrently with itself, and a final time with
  /// done == total when the call succeeds. Empty: no progress reports.
  std::function<void(std::size_t done, std::size_t total)> on_progress = {};
  /// When this time passes, no further chunk starts and the call throws parmap::timeout.
  /// The default (the clock's maximum) means no deadline.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  /// Where the threads run; see placement. Pinning costs a system call when a thread moves.
  parmap::placement placement = parmap::placement::none;
  /// When not null, the call fills *report with what it did (threads, chunk size, chunks,
  /// items, wall time, per-thread items and busy time) when it returns or throws; see
  /// call_report in <parmap/report.hpp>. Costs two clock reads per chunk; nothing when null.
  /// The report belongs to the caller: the call writes it from the calling thread only, before
  /// it returns.
  call_report* report = nullptr;
};

/// The number of logical CPUs this process may run on: its affinity mask as it was when
/// libparmap was loaded, whichever thread asks (a thread that pinned itself does not change it).
/// A cgroup CPU quota does not count here; threads = 0 applies it (see detect_cpu_allowance()).
[[nodiscard]] unsigned usable_cpus() noexcept;

/// The thread count a call with these options uses: the rule documented at options::threads.
/// Throws std::invalid_argument when |threads| > max_threads, or when threads is 0 and
/// PARMAP_NUM_THREADS is set to something that is not a thread count.
[[nodiscard]] int resolve_threads(int threads);

}  // namespace parmap
