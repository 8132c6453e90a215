#pragma once
// The contract of one call, written once: which failure wins, when a stop or the deadline ends
// the work, and how progress is reported. parallel_map and its relatives (through execute),
// both stream orders and the MPI root all follow these rules through this one type.
//
//  - Failures: the exception of the lowest failing index is kept, as a serial loop would have
//    thrown it.
//  - Stop and deadline: seen only when a unit of work (a chunk, a stream item, an MPI deal) is
//    about to start; from then on nothing starts, and the call ends in parmap::cancelled or
//    parmap::timeout. A stop that comes after every unit started is not seen: the call
//    succeeded, since nothing was left undone.
//  - Progress: on_progress(done, total) at most ~20 times a second, never concurrently, never
//    going backwards, and exactly once with done == total, from finish(), when the call
//    succeeds.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>

#include "parmap/options.hpp"

namespace parmap::detail {

class call_rules {
 public:
  /// An index that no item has: "none".
  static constexpr std::size_t no_index = std::numeric_limits<std::size_t>::max();

  /// `total` is the call's item count; no_index when it is not known (a stream over an input
  /// without a size, which may not ask for progress). `opt` must outlive the call_rules.
  call_rules(const options& opt, std::size_t total) noexcept;
  call_rules(const call_rules&) = delete;
  call_rules& operator=(const call_rules&) = delete;

  /// Whether the unit of work that starts at item `begin` may start: no earlier item failed,
  /// no stop was requested and the deadline has not passed. The first refusal for a stop or
  /// the deadline is remembered: the call then ends in cancelled or timeout, at `begin`.
  [[nodiscard]] bool may_start(std::size_t begin) noexcept;

  /// Without consulting the token or the clock: true once nothing at `begin` or later will
  /// start (a failure before `begin`, or a stop or deadline already seen).
  [[nodiscard]] bool halted(std::size_t begin) const noexcept {
    return begin > failed_index_.load(std::memory_order_relaxed) ||
           halt_index_.load(std::memory_order_acquire) != no_index;
  }

  /// A stop or the deadline seen outside this call's own options (by another rank of an MPI
  /// call, which watches its own token and clock): from now on may_start refuses, as it would
  /// for opt.stop, or for opt.deadline when `timed_out`. Like those, it ends the call only
  /// once a unit of work is refused. Safe from any thread.
  void stop_seen_elsewhere(bool timed_out) noexcept;

  /// Item `index` failed with `error`; the lowest index wins. Safe from any thread.
  void fail(std::size_t index, std::exception_ptr error) noexcept;

  /// `items` more items ran to completion. Reports progress when one is due; a progress
  /// callback that throws fails the call at `index` (the last of those items).
  void finished(std::size_t items, std::size_t index) noexcept;

  /// The lowest failing index so far, or no_index.
  [[nodiscard]] std::size_t failed_index() const noexcept {
    return failed_index_.load(std::memory_order_relaxed);
  }
  /// The lowest index a stop or the deadline kept from starting, or no_index.
  [[nodiscard]] std::size_t halt_index() const noexcept {
    return halt_index_.load(std::memory_order_acquire);  // pairs with the release in may_start
  }
  /// The exception that ends the work at `index`, which is failed_index() or halt_index():
  /// the item's own exception, or parmap::timeout / parmap::cancelled.
  [[nodiscard]] std::exception_ptr failure_at(std::size_t index) const;

  /// Whether anything watches the units of work go by (a stop token, a deadline, a progress
  /// callback); if not, a chunk is only a unit of scheduling and may be as large as wanted.
  [[nodiscard]] bool watched() const noexcept {
    return watch_stop_ || watch_deadline_ || watch_progress_;
  }

  /// After every unit of work has ended. Throws like a serial loop: the lowest failing item's
  /// exception if any item failed, else parmap::timeout or parmap::cancelled if a stop or the
  /// deadline kept an item from starting. Otherwise makes the final progress report
  /// (done == total, exactly once) and returns.
  void finish();

 private:
  void report_progress() noexcept;

  const options& opt_;
  const std::size_t total_;
  const bool watch_stop_;
  const bool watch_deadline_;
  const bool watch_progress_;

  // Read before every unit of work, written when the call starts to end.
  alignas(64) std::atomic<std::size_t> failed_index_{no_index};
  std::atomic<std::size_t> halt_index_{no_index};
  std::atomic<bool> timed_out_{false};
  std::atomic<unsigned char> elsewhere_{0};  // stop_seen_elsewhere: 0 not, 1 stop, 2 deadline
  mutable std::mutex failure_mutex_;
  std::exception_ptr failure_;  // guarded by failure_mutex_

  // Written after every unit of work, only when progress is reported.
  alignas(64) std::atomic<std::size_t> done_{0};
  std::atomic<std::int64_t> next_report_ns_{0};
  std::mutex progress_mutex_;
  bool final_reported_ = false;  // guarded by progress_mutex_
};

}  // namespace parmap::detail
