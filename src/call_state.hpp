#pragma once
// The state of one call while its chunks run: the first error, the stop and deadline checks,
// progress. Every backend runs chunks through call_state::run_chunk, so all share these rules.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <mutex>

#include "parmap/detail/execute.hpp"

namespace parmap::detail {

class call_state {
 public:
  call_state(const options& opt, std::size_t size, chunk_body body, void* ctx) noexcept;

  /// Runs items [begin, end) unless an earlier item already failed, the stop was requested or
  /// the deadline passed; then no chunk starts any more.
  void run_chunk(std::size_t begin, std::size_t end) noexcept;

  /// Keeps the exception of the lowest failing index.
  void record(std::size_t index, std::exception_ptr error) noexcept;

  /// After every chunk has returned: throws what a serial loop would have, or makes the final
  /// progress report.
  void finish();

  /// True once no chunk that starts at `begin` or later will run: the stop was requested, the
  /// deadline passed, or an item before `begin` failed. Chunks before a failing item still run,
  /// since one of them may fail at a lower index.
  [[nodiscard]] bool halted(std::size_t begin) const noexcept;

  /// True when something watches the chunks go by: a stop token, a deadline or a progress
  /// callback. Otherwise a chunk is only a unit of scheduling.
  [[nodiscard]] bool watched() const noexcept {
    return watch_stop_ || watch_deadline_ || watch_progress_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  void report_progress(std::size_t items) noexcept;

  const options& opt_;
  const std::size_t size_;
  const chunk_body body_;
  void* const ctx_;
  const bool watch_stop_;
  const bool watch_deadline_;
  const bool watch_progress_;

  // Read by every chunk, written once when the call starts to fail.
  alignas(64) std::atomic<std::size_t> error_index_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> timed_out_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;

  // Written by every chunk, only when progress is reported.
  alignas(64) std::atomic<std::size_t> done_{0};
  std::atomic<std::int64_t> next_report_ns_{0};
  std::mutex progress_mutex_;
};

}  // namespace parmap::detail
