#include "call_state.hpp"

#include <limits>

#include "parmap/errors.hpp"

namespace parmap::detail {
namespace {

constexpr std::size_t no_error = std::numeric_limits<std::size_t>::max();
constexpr std::int64_t progress_interval_ns = 50'000'000;  // at most 20 reports a second

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

call_state::call_state(const options& opt, std::size_t size, chunk_body body, void* ctx) noexcept
    : opt_(opt),
      size_(size),
      body_(body),
      ctx_(ctx),
      watch_stop_(opt.stop.stop_possible()),
      watch_deadline_(opt.deadline != std::chrono::steady_clock::time_point::max()),
      watch_progress_(static_cast<bool>(opt.on_progress)),
      error_index_(no_error) {}

void record_error(call_state& state, std::size_t index) noexcept {
  state.record(index, std::current_exception());
}

bool call_state::halted(std::size_t begin) const noexcept {
  return begin > error_index_.load(std::memory_order_relaxed) ||
         stopped_.load(std::memory_order_relaxed);
}

void call_state::run_chunk(std::size_t begin, std::size_t end) noexcept {
  // A chunk past a failing item would only compute results the call throws away; chunks before
  // it still run, since one of them may fail at a lower index.
  if (begin > error_index_.load(std::memory_order_relaxed)) return;
  if (stopped_.load(std::memory_order_relaxed)) return;
  if (watch_stop_ && opt_.stop.stop_requested()) {
    stopped_.store(true, std::memory_order_relaxed);
    return;
  }
  if (watch_deadline_ && std::chrono::steady_clock::now() >= opt_.deadline) {
    timed_out_.store(true, std::memory_order_relaxed);
    stopped_.store(true, std::memory_order_relaxed);
    return;
  }
  body_(ctx_, begin, end, *this);
  if (watch_progress_) report_progress(end - begin);
}

void call_state::record(std::size_t index, std::exception_ptr error) noexcept {
  std::lock_guard lock(error_mutex_);
  if (index < error_index_.load(std::memory_order_relaxed)) {
    error_ = std::move(error);
    error_index_.store(index, std::memory_order_relaxed);
  }
}

void call_state::report_progress(std::size_t items) noexcept {
  // The report at done == total is finish()'s, made once, after the last chunk.
  if (done_.fetch_add(items, std::memory_order_relaxed) + items == size_) return;
  const std::int64_t now = now_ns();
  if (now < next_report_ns_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(progress_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || now < next_report_ns_.load(std::memory_order_relaxed)) return;
  next_report_ns_.store(now + progress_interval_ns, std::memory_order_relaxed);
  try {
    // Read under the lock so the reports a user sees never go backwards.
    opt_.on_progress(done_.load(std::memory_order_relaxed), size_);
  } catch (...) {
    // A progress callback that throws fails the call like the items it reported on.
    record(size_ - 1, std::current_exception());
  }
}

void call_state::finish() {
  if (error_) std::rethrow_exception(error_);
  if (timed_out_.load(std::memory_order_relaxed)) throw parmap::timeout();
  if (stopped_.load(std::memory_order_relaxed)) throw parmap::cancelled();
  if (watch_progress_) {
    std::lock_guard lock(progress_mutex_);
    opt_.on_progress(size_, size_);
  }
}

}  // namespace parmap::detail
