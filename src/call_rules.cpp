#include "parmap/detail/call_rules.hpp"

#include "parmap/errors.hpp"

namespace parmap::detail {
namespace {

// At most this often, ~20 reports a second: a progress bar redrawn faster is not read, and each
// report costs the caller's callback a lock.
constexpr std::int64_t progress_interval_ns = 50'000'000;

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Lowers `value` to `candidate` if that is lower. Release: whoever sees the new value (a
/// stream's consumer, before the thread that stored it takes the stream's lock) also sees
/// what was stored before it, such as timed_out_.
void lower_to(std::atomic<std::size_t>& value, std::size_t candidate) noexcept {
  std::size_t seen = value.load(std::memory_order_relaxed);
  while (candidate < seen && !value.compare_exchange_weak(seen, candidate, std::memory_order_release,
                                                          std::memory_order_relaxed)) {
  }
}

}  // namespace

call_rules::call_rules(const options& opt, std::size_t total) noexcept
    : opt_(opt),
      total_(total),
      watch_stop_(opt.stop.stop_possible()),
      watch_deadline_(opt.deadline != std::chrono::steady_clock::time_point::max()),
      watch_progress_(static_cast<bool>(opt.on_progress) && total != no_index) {}

bool call_rules::may_start(std::size_t begin) noexcept {
  // A unit past a failing item would only compute results the call throws away; units before
  // it still run, since one of them may fail at a lower index.
  if (halted(begin)) return false;
  if (watch_stop_ && opt_.stop.stop_requested()) {
    lower_to(halt_index_, begin);
    return false;
  }
  if (watch_deadline_ && std::chrono::steady_clock::now() >= opt_.deadline) {
    timed_out_.store(true, std::memory_order_relaxed);
    lower_to(halt_index_, begin);
    return false;
  }
  if (const auto seen = elsewhere_.load(std::memory_order_relaxed); seen != 0) {
    if (seen == 2) timed_out_.store(true, std::memory_order_relaxed);
    lower_to(halt_index_, begin);
    return false;
  }
  return true;
}

void call_rules::stop_seen_elsewhere(bool timed_out) noexcept {
  // Of a stop and a deadline both seen elsewhere, the deadline is kept, whichever was heard
  // first: messages from several ranks arrive in no fixed order.
  const unsigned char seen = timed_out ? 2 : 1;
  // Set now, not when may_start next refuses: once a halt is recorded, may_start returns
  // before it looks at elsewhere_ again, and the order the ranks were heard in must not matter.
  if (timed_out) timed_out_.store(true, std::memory_order_relaxed);
  unsigned char was = elsewhere_.load(std::memory_order_relaxed);
  while (was < seen && !elsewhere_.compare_exchange_weak(was, seen, std::memory_order_relaxed)) {
  }
}

void call_rules::fail(std::size_t index, std::exception_ptr error) noexcept {
  std::lock_guard lock(failure_mutex_);
  if (index < failed_index_.load(std::memory_order_relaxed)) {
    failure_ = std::move(error);
    failed_index_.store(index, std::memory_order_relaxed);
  }
}

std::exception_ptr call_rules::failure_at(std::size_t index) const {
  {
    std::lock_guard lock(failure_mutex_);
    if (index == failed_index_.load(std::memory_order_relaxed)) return failure_;
  }
  if (timed_out_.load(std::memory_order_relaxed)) return std::make_exception_ptr(timeout());
  return std::make_exception_ptr(cancelled());
}

void call_rules::finished(std::size_t items, std::size_t index) noexcept {
  if (!watch_progress_) return;
  done_.fetch_add(items, std::memory_order_relaxed);
  const std::int64_t now = now_ns();
  if (now < next_report_ns_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(progress_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || now < next_report_ns_.load(std::memory_order_relaxed)) return;
  next_report_ns_.store(now + progress_interval_ns, std::memory_order_relaxed);
  // Read under the lock, so the reports never go backwards. The report at done == total is
  // finish()'s alone, made once, after the last unit of work.
  const std::size_t done = done_.load(std::memory_order_relaxed);
  if (done >= total_ || final_reported_) return;
  try {
    opt_.on_progress(done, total_);
  } catch (...) {
    // A progress callback that throws fails the call like the items it reported on.
    fail(index, std::current_exception());
  }
}

void call_rules::finish() {
  {
    std::lock_guard lock(failure_mutex_);
    if (failure_) std::rethrow_exception(failure_);
  }
  if (halt_index_.load(std::memory_order_relaxed) != no_index) {
    if (timed_out_.load(std::memory_order_relaxed)) throw parmap::timeout();
    throw parmap::cancelled();
  }
  if (watch_progress_) {
    std::lock_guard lock(progress_mutex_);
    if (!final_reported_) {
      final_reported_ = true;
      opt_.on_progress(total_, total_);
    }
  }
}

}  // namespace parmap::detail
