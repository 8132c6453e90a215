#pragma once
// The machinery behind imap and imap_unordered.
//
// A stream's driver thread runs batches of `threads` worker slots through the primitive
// (for_each_index). Each slot claims the next item of the input, in input order and under one
// lock, runs fn on it with the lock released and publishes the result, and claims again. Claims
// stop while `window` items are read but not yet handed to the consumer, so an unbounded input
// is read only as fast as it is consumed; because slots claim single items, a slow item holds
// up one slot and nothing else. A batch ends when nothing may be claimed and nothing runs (the
// consumer is behind, the input ended, an item failed, the stream was closed); the driver
// starts the next one when an item may be claimed again. So the backend's threads are held only
// while the stream has work for them.
//
// If a batch has not started a short while after the driver asked for it (the backend has no
// thread to give: a TBB arena whose every slot is held by the caller of a parallel_map that
// consumes this stream from its fn), the consuming thread claims and runs items itself while it
// waits, so a stream always makes progress.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "parmap/detail/execute.hpp"
#include "parmap/errors.hpp"
#include "parmap/options.hpp"

namespace parmap::detail {

/// The order in which a stream hands results to its consumer.
enum class stream_order { input, completion };

/// How long an idle worker waits for the consumer to make room before its batch ends.
inline constexpr std::chrono::milliseconds stream_linger{2};

/// How long the consumer waits for the backend to start a worker before it runs items itself.
inline constexpr std::chrono::milliseconds stream_start_grace{50};

/// How an item of a range of type V is held between its read and fn's call on it. Items of a
/// forward range whose references are lvalues stay where they are; any other item is copied or
/// moved out when read, since reading the next one may overwrite it.
template <class V>
struct stream_item {
  using reference = std::ranges::range_reference_t<V>;
  static constexpr bool in_place =
      std::ranges::forward_range<V> && std::is_lvalue_reference_v<reference>;
  using stored = std::conditional_t<
      in_place, std::remove_reference_t<reference>*,
      std::conditional_t<std::is_lvalue_reference_v<reference>, std::ranges::range_value_t<V>,
                         std::remove_cvref_t<reference>>>;

  static stored read(std::ranges::iterator_t<V>& it) {
    if constexpr (in_place) {
      return std::addressof(*it);
    } else {
      return stored(*it);
    }
  }

  /// The item as fn receives it: the same value category as the range's own reference.
  static decltype(auto) use(stored& s) noexcept {
    if constexpr (in_place) {
      return *s;
    } else if constexpr (std::is_lvalue_reference_v<reference>) {
      return static_cast<stored&>(s);
    } else {
      return static_cast<stored&&>(s);
    }
  }
};

/// Everything of a stream that does not depend on its input: the claim rules, the results on
/// their way to the consumer, the first failure, progress. R is fn's result type.
template <class R, stream_order Order>
class stream_channel {
 public:
  using value_type = std::conditional_t<Order == stream_order::input, R, std::pair<std::size_t, R>>;

  stream_channel(const stream_channel&) = delete;
  stream_channel& operator=(const stream_channel&) = delete;
  virtual ~stream_channel() = default;

  /// Consumer: moves to the next result. Returns false at the end of the stream; throws the
  /// failure (fn's or the input's exception, parmap::cancelled, parmap::timeout) when the
  /// stream reaches its position, after which the stream has ended.
  bool next() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (ended_) return false;
      if constexpr (Order == stream_order::input) {
        if (delivered_ == fail_index_) return fail_now();
        if (!pending_.empty() && pending_.front().has_value()) {
          current_.emplace(std::move(*pending_.front()));
          pending_.pop_front();
          return delivered();
        }
        if (input_done_ && delivered_ == pulled_) return end_now();
      } else {
        while (!done_.empty()) {
          if (done_.front().first >= fail_index_) {
            done_.pop_front();  // a serial loop would have stopped before this item
            continue;
          }
          current_.emplace(std::move(done_.front()));
          done_.pop_front();
          return delivered();
        }
        if (fail_index_ != no_index && !running_below(fail_index_)) return fail_now();
        if (input_done_ && running_.empty()) return end_now();
      }
      if (batch_pending_ && can_claim()) {
        const auto help_from = batch_since_ + stream_start_grace;
        if (std::chrono::steady_clock::now() < help_from) {
          result_cv_.wait_until(lock, help_from);
        } else {
          run_one(lock);
        }
        continue;
      }
      result_cv_.wait(lock);
    }
  }

  /// Consumer: true once next() returned false or threw.
  [[nodiscard]] bool ended() const noexcept { return ended_; }

  /// Consumer: the result next() moved to.
  [[nodiscard]] value_type& current() noexcept { return *current_; }

  /// Owner, once: no item starts any more; waits for the items that are running (and, since
  /// the input is read under the lock, for a read in progress). The driver then returns as
  /// soon as its batch does: every backend runs a batch on the driver's own thread too, so a
  /// batch never waits for a thread the backend cannot give.
  void close() noexcept {
    std::unique_lock lock(mutex_);
    closed_ = true;
    work_cv_.notify_all();
    result_cv_.wait(lock, [&] { return running_.empty(); });
  }

  /// Driver: whenever an item may be claimed, runs a batch of worker slots through the
  /// primitive. A batch ends when nothing is claimable and nothing is running, so the backend's
  /// threads are held only while the stream has work for them.
  void drive() noexcept {
    auto slot = [this](std::size_t) { work(); };
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        batch_pending_ = false;
        work_cv_.wait(lock, [&] { return workers_done() || can_claim(); });
        if (workers_done()) break;
        batch_pending_ = true;
        batch_since_ = std::chrono::steady_clock::now();
      }
      try {
        for_each_index(slot_plan_, slot_options_, static_cast<std::size_t>(slot_plan_.threads),
                       slot);
      } catch (...) {
        // The workers catch everything themselves, so this is the backend failing to run them
        // (no thread could be started): the stream fails at the first item that did not run.
        std::lock_guard lock(mutex_);
        fail_at(pulled_, std::current_exception());
      }
    }
    std::lock_guard lock(mutex_);
    batch_pending_ = false;
    result_cv_.notify_all();
  }

 protected:
  static constexpr std::size_t no_index = std::numeric_limits<std::size_t>::max();

  /// `p` is the checked plan of the user's options; `total` the input's size when the input
  /// knows it (only needed for progress reports).
  stream_channel(const plan& p, const options& opt, std::size_t window, std::size_t total)
      : opt_(opt),
        threads_(static_cast<std::size_t>(p.threads)),
        window_(window != 0 ? window : automatic_window(threads_, opt.chunk)),
        total_(total),
        slot_options_(slot_options(opt, p)),
        slot_plan_(make_plan(slot_options_)),
        batch_since_(std::chrono::steady_clock::now()) {}

  /// Input side, with the lock held: reads item `index` (the next one) of the input. Returns
  /// false when the input has ended. May throw: the input's own exception.
  virtual bool read_next(std::size_t index) = 0;

  /// Input side, without the lock: runs fn on the item read for `index`, and drops the item.
  virtual R compute(std::size_t index) = 0;

  /// The window when stream_options::window is 0: four items per thread and chunk, so every
  /// thread finds work while the consumer is busy.
  static std::size_t automatic_window(std::size_t threads, std::size_t chunk) noexcept {
    const std::size_t c = std::max<std::size_t>(chunk, 1);
    const std::size_t most = std::numeric_limits<std::size_t>::max();
    return c > most / 4 / threads ? most : 4 * threads * c;
  }

  /// The options of the workers' own call: one slot per thread, handed out one at a time.
  /// Stop, deadline and progress are the stream's business, checked per item, not per slot.
  static options slot_options(const options& opt, const plan& p) {
    options o;
    o.backend = opt.backend;
    o.threads = p.threads;
    o.chunk = 1;
    o.schedule = schedule::dynamic;
    o.placement = opt.placement;
    return o;
  }

 private:
  /// A worker slot: claims and runs items while there are any to claim. It waits for more
  /// only while another item of the stream is running (the batch cannot end before that item
  /// does anyway), and otherwise returns, ending the batch.
  void work() noexcept {
    std::unique_lock lock(mutex_);
    if (batch_pending_) {
      batch_pending_ = false;
      result_cv_.notify_all();
    }
    for (;;) {
      work_cv_.wait(lock, [&] { return workers_done() || can_claim() || running_.empty(); });
      if (!workers_done() && !can_claim()) {
        // The consumer is usually about to make room: starting a new batch for every item it
        // takes would cost far more than this short wait.
        work_cv_.wait_for(lock, stream_linger, [&] { return workers_done() || can_claim(); });
      }
      if (!can_claim()) return;
      run_one(lock);
    }
  }

  [[nodiscard]] bool workers_done() const noexcept {
    return closed_ || input_done_ || fail_index_ != no_index;
  }

  [[nodiscard]] bool can_claim() const noexcept {
    return !workers_done() && running_.size() < threads_ && pulled_ - delivered_ < window_;
  }

  [[nodiscard]] bool running_below(std::size_t index) const noexcept {
    return std::any_of(running_.begin(), running_.end(),
                       [index](std::size_t k) { return k < index; });
  }

  /// With the lock held and can_claim(): reads the next item, runs it with the lock released,
  /// publishes its result or its failure. Returns with the lock held.
  void run_one(std::unique_lock<std::mutex>& lock) noexcept {
    const std::size_t k = pulled_;
    // Like a chunk of parallel_map: nothing starts once the stop or the deadline is seen.
    if (opt_.stop.stop_requested()) return fail_at(k, std::make_exception_ptr(cancelled()));
    if (opt_.deadline != std::chrono::steady_clock::time_point::max() &&
        std::chrono::steady_clock::now() >= opt_.deadline) {
      return fail_at(k, std::make_exception_ptr(timeout()));
    }
    try {
      if (!read_next(k)) {
        input_done_ = true;
        notify_all();
        return;
      }
    } catch (...) {
      input_done_ = true;
      return fail_at(k, std::current_exception());
    }
    ++pulled_;
    running_.push_back(k);
    if constexpr (Order == stream_order::input) pending_.emplace_back();

    lock.unlock();
    std::optional<R> result;
    std::exception_ptr error;
    try {
      result.emplace(compute(k));
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();

    running_.erase(std::find(running_.begin(), running_.end(), k));
    if (error) {
      fail_at(k, std::move(error));
      return;
    }
    if constexpr (Order == stream_order::input) {
      pending_[k - delivered_].emplace(std::move(*result));
    } else {
      done_.emplace_back(k, std::move(*result));
    }
    notify_all();
    if (opt_.on_progress) {
      lock.unlock();
      report_progress(k);
      lock.lock();
    }
  }

  /// After item `index` succeeded: counts it and tells on_progress, at most ~20 times a
  /// second, never concurrently, and a last time when every item of the input is done.
  void report_progress(std::size_t index) noexcept {
    constexpr auto interval = std::chrono::milliseconds(50);
    const std::size_t done = completed_.fetch_add(1, std::memory_order_relaxed) + 1;
    try {
      if (done == total_) {
        std::lock_guard guard(progress_mutex_);
        progress_final_ = true;
        opt_.on_progress(total_, total_);
        return;
      }
      std::unique_lock guard(progress_mutex_, std::try_to_lock);
      const auto now = std::chrono::steady_clock::now();
      if (!guard.owns_lock() || progress_final_ || now < next_report_) return;
      next_report_ = now + interval;
      // Read under the lock, so the reports never go backwards.
      const std::size_t seen = completed_.load(std::memory_order_relaxed);
      if (seen < total_) opt_.on_progress(seen, total_);
    } catch (...) {
      // A progress callback that throws fails the stream at the item that reported.
      std::lock_guard lock(mutex_);
      fail_at(index, std::current_exception());
    }
  }

  /// With the lock held: item `index` failed (or stands where the input failed, or where the
  /// stream was stopped). The lowest such index wins; nothing is claimed after it.
  void fail_at(std::size_t index, std::exception_ptr error) noexcept {
    if (index < fail_index_) {
      fail_index_ = index;
      failure_ = std::move(error);
    }
    notify_all();
  }

  void notify_all() noexcept {
    work_cv_.notify_all();
    result_cv_.notify_all();
  }

  bool delivered() noexcept {
    ++delivered_;
    work_cv_.notify_all();
    return true;
  }

  bool end_now() noexcept {
    ended_ = true;
    return false;
  }

  bool fail_now() {
    ended_ = true;
    closed_ = true;
    work_cv_.notify_all();
    std::rethrow_exception(failure_);
  }

  const options opt_;
  const std::size_t threads_;
  const std::size_t window_;
  const std::size_t total_;
  const options slot_options_;
  const plan slot_plan_;

  std::mutex mutex_;
  std::condition_variable work_cv_;    // workers: an item may be claimed, or none ever will
  std::condition_variable result_cv_;  // consumer and close(): a result, a failure, an end
  std::size_t pulled_ = 0;             // items read from the input
  std::size_t delivered_ = 0;          // results handed to the consumer
  std::vector<std::size_t> running_;   // items whose fn is running (at most threads + 1)
  bool input_done_ = false;
  bool closed_ = false;
  bool ended_ = false;
  // The driver asked the backend for a batch of workers and none has started yet (since
  // batch_since_; the stream's creation counts as the first request).
  bool batch_pending_ = true;
  std::chrono::steady_clock::time_point batch_since_;
  std::size_t fail_index_ = no_index;
  std::exception_ptr failure_;
  // input order: results of items [delivered_, pulled_), empty until the item is done
  std::deque<std::optional<R>> pending_;
  // completion order: results not yet handed out, as they were finished
  std::deque<std::pair<std::size_t, R>> done_;

  std::optional<value_type> current_;  // the consumer's alone

  std::atomic<std::size_t> completed_{0};
  std::mutex progress_mutex_;
  std::chrono::steady_clock::time_point next_report_{};  // guarded by progress_mutex_
  bool progress_final_ = false;                          // guarded by progress_mutex_
};

/// A stream over the view V (the user's range through std::views::all) with the function F.
template <class V, class F, class R, stream_order Order>
class stream_source final : public stream_channel<R, Order> {
  using item = stream_item<V>;
  using base = stream_channel<R, Order>;

 public:
  stream_source(V input, F fn, const plan& p, const options& opt, std::size_t window,
                std::size_t total)
      : base(p, opt, window, total), input_(std::move(input)), fn_(std::move(fn)) {}

 private:
  bool read_next(std::size_t index) override {
    // The iterator moves past an item only when the next one is wanted: reading ahead could
    // block on a slow input, or fail, for an item nobody asked for yet.
    if (!it_) {
      it_.emplace(std::ranges::begin(input_));
      end_.emplace(std::ranges::end(input_));
    } else {
      ++*it_;
    }
    if (*it_ == *end_) return false;
    typename item::stored read = item::read(*it_);
    std::lock_guard lock(items_mutex_);
    items_.emplace_back(index, std::move(read));
    return true;
  }

  R compute(std::size_t index) override {
    typename item::stored held = take(index);
    return std::invoke(fn_, item::use(held));
  }

  /// Moves the item read for `index` out of the list of items in flight.
  typename item::stored take(std::size_t index) {
    std::lock_guard lock(items_mutex_);
    auto it = std::find_if(items_.begin(), items_.end(),
                           [index](const auto& e) { return e.first == index; });
    typename item::stored held = std::move(it->second);
    items_.erase(it);
    return held;
  }

  V input_;
  F fn_;
  std::optional<std::ranges::iterator_t<V>> it_;  // guarded by the channel's lock
  std::optional<std::ranges::sentinel_t<V>> end_;
  std::mutex items_mutex_;  // taken inside the channel's lock, or alone
  std::vector<std::pair<std::size_t, typename item::stored>> items_;  // read, not yet taken
};

}  // namespace parmap::detail
