#pragma once
// The machinery behind imap and imap_unordered.
//
// A stream's driver thread runs batches of `threads` workers through the primitive
// (for_each_index). Each worker claims the next item of the input, in input order: one thread at
// a time reads it, with the stream's lock released, so a slow read holds up no finished result.
// The worker then asks the call's rules (call_rules: the same as parallel_map's) whether the item
// may start, runs fn on it with the lock released, publishes the result, and claims again.
// Claims stop while `window` items are read but not yet handed to the consumer, so an unbounded
// input is read only as fast as it is consumed; because workers claim single items, a slow item
// holds up one worker and nothing else. A batch ends when nothing may be claimed and nothing runs
// (the consumer is behind, the input ended, an item failed, the stream was closed); the driver
// starts the next one when an item may be claimed again. So the backend's threads are held only
// while the stream has work for them. The driver always takes part in its own batch, so closing
// a stream never waits for a thread the backend cannot give, and the driver is always joined.
//
// If a batch has not started a short while after the driver asked for it, the consuming thread
// claims and runs items itself while it waits, so a stream always makes progress.

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
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "parmap/detail/call_recorder.hpp"
#include "parmap/detail/call_rules.hpp"
#include "parmap/detail/chunking.hpp"
#include "parmap/detail/execute.hpp"
#include "parmap/errors.hpp"
#include "parmap/options.hpp"

namespace parmap::detail {

/// The order in which a stream hands results to its consumer.
enum class stream_order { input, completion };

using chunking::stream_linger;
using chunking::stream_start_grace;

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
        if (delivered_ == end_index()) return fail_now();
        if (!pending_.empty() && pending_.front().has_value()) {
          current_.emplace(std::move(*pending_.front()));
          pending_.pop_front();
          return delivered();
        }
        if (input_done_ && delivered_ == pulled_ && !reading_) return end_now(lock);
      } else {
        while (!done_.empty()) {
          if (done_.front().first >= end_index()) {
            done_.pop_front();  // a serial loop would have stopped before this item
            continue;
          }
          current_.emplace(std::move(done_.front()));
          done_.pop_front();
          return delivered();
        }
        if (end_index() != no_index && !running_below(end_index())) return fail_now();
        if (input_done_ && running_.empty() && !reading_) return end_now(lock);
      }
      if (batch_pending_ && can_claim()) {
        const auto help_from = batch_since_ + stream_start_grace;
        if (std::chrono::steady_clock::now() < help_from) {
          result_cv_.wait_until(lock, help_from);
        } else {
          run_one(lock, 0);  // the consumer counts as the call's first thread
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

  /// Owner, once: no item starts any more; waits for the items that are running and for a
  /// read of the input in progress. The driver then returns as soon as its batch does: every
  /// backend runs a batch on the driver's own thread too, so a batch never waits for a thread
  /// the backend cannot give.
  void close() noexcept {
    std::unique_lock lock(mutex_);
    closed_ = true;
    work_cv_.notify_all();
    result_cv_.wait(lock, [&] { return running_.empty() && !reading_; });
    if (!reported_) {  // a stream that failed, or was left before its end
      reported_ = true;
      recorder_.publish();
    }
  }

  /// Driver: whenever an item may be claimed, runs a batch of workers through the
  /// primitive. A batch ends when nothing is claimable and nothing is running, so the backend's
  /// threads are held only while the stream has work for them.
  void drive() noexcept {
    auto worker = [this](std::size_t who) { work(who); };
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
        for_each_index(batch_plan_, batch_options_, static_cast<std::size_t>(batch_plan_.threads),
                       worker);
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
  static constexpr std::size_t no_index = call_rules::no_index;

  /// `p` is the checked plan of the user's options; `total` the input's size, or no_index when
  /// the input does not know it (then there are no progress reports).
  stream_channel(const plan& p, const options& opt, std::size_t window, std::size_t total)
      : opt_(opt),
        rules_(opt_, total),
        recorder_(opt.report, p.backend, p.schedule, p.threads, 1),
        threads_(static_cast<std::size_t>(p.threads)),
        window_(window != 0 ? window : chunking::stream_window(threads_, opt.chunk)),
        batch_options_(batch_options(opt, p)),
        batch_plan_(make_plan(batch_options_)),
        batch_since_(std::chrono::steady_clock::now()) {}

  /// Input side, without the lock, by one thread at a time: reads item `index` (the next one)
  /// of the input. Returns false when the input has ended. May throw: the input's own
  /// exception.
  virtual bool read_next(std::size_t index) = 0;

  /// Input side, without the lock: runs fn on the item read for `index`, and drops the item.
  virtual R compute(std::size_t index) = 0;

  /// Input side, without the lock: drops the item read for `index` without running it.
  virtual void drop(std::size_t index) noexcept = 0;

  /// The options of a batch: one worker per thread, handed out one at a time. Stop,
  /// deadline and progress are the stream's business, checked per item, not per worker.
  static options batch_options(const options& opt, const plan& p) {
    options o;
    o.backend = opt.backend;
    o.threads = p.threads;
    o.chunk = 1;
    o.schedule = schedule::dynamic;
    o.placement = opt.placement;
    return o;
  }

 private:
  /// A worker of a batch: claims and runs items while there are any to claim. It waits for more
  /// only while another item of the stream is running (the batch cannot end before that item
  /// does anyway), and otherwise returns, ending the batch.
  void work(std::size_t who) noexcept {
    std::unique_lock lock(mutex_);
    if (batch_pending_) {
      batch_pending_ = false;
      result_cv_.notify_all();
    }
    for (;;) {
      // An item being read counts as running: once read, the next one may be claimed.
      work_cv_.wait(lock, [&] {
        return workers_done() || can_claim() || (running_.empty() && !reading_);
      });
      if (!workers_done() && !can_claim()) {
        // The consumer is usually about to make room: starting a new batch for every item it
        // takes would cost far more than this short wait.
        work_cv_.wait_for(lock, stream_linger, [&] { return workers_done() || can_claim(); });
      }
      if (!can_claim()) {
        if (reading_ && !workers_done()) continue;  // a read in progress frees the next claim
        return;
      }
      run_one(lock, who);
    }
  }

  [[nodiscard]] bool workers_done() const noexcept {
    return closed_ || input_done_ || end_index() != no_index;
  }

  /// Where the stream ends early: the lowest index that failed or that a stop or the deadline
  /// kept from starting (call_rules), or no_index.
  [[nodiscard]] std::size_t end_index() const noexcept {
    return std::min(rules_.failed_index(), rules_.halt_index());
  }

  [[nodiscard]] bool can_claim() const noexcept {
    return !workers_done() && !reading_ && running_.size() < threads_ &&
           pulled_ - delivered_ < window_;
  }

  [[nodiscard]] bool running_below(std::size_t index) const noexcept {
    return std::any_of(running_.begin(), running_.end(),
                       [index](std::size_t k) { return k < index; });
  }

  /// With the lock held and can_claim(): reads the next item with the lock released (a slow
  /// read holds up no result and no consumer), runs it with the lock released, publishes its
  /// result or its failure. Returns with the lock held. `who` is the running thread's number
  /// in the call (call_recorder).
  void run_one(std::unique_lock<std::mutex>& lock, std::size_t who) noexcept {
    const std::size_t k = pulled_;
    reading_ = true;
    lock.unlock();
    bool have = false;
    std::exception_ptr read_error;
    try {
      have = read_next(k);
    } catch (...) {
      read_error = std::current_exception();
    }
    // Only an item that exists can be kept from starting: a stop or deadline that comes after
    // the input's last item started is not seen, and the stream succeeds.
    bool may_start = have && !read_error && rules_.may_start(k);
    if (have && !may_start) drop(k);
    lock.lock();
    reading_ = false;
    if (may_start && closed_) {  // the owner closed the stream during the read
      drop(k);
      may_start = false;
    }
    if (read_error) {
      input_done_ = true;
      return fail_at(k, std::move(read_error));
    }
    if (!have || !may_start) {
      input_done_ = input_done_ || !have;
      notify_all();
      return;
    }
    try {
      running_.push_back(k);
      if constexpr (Order == stream_order::input) pending_.emplace_back();
    } catch (...) {  // out of memory: the stream fails here, as if the item had failed
      if (!running_.empty() && running_.back() == k) running_.pop_back();
      drop(k);
      return fail_at(k, std::current_exception());
    }
    ++pulled_;
    work_cv_.notify_all();  // the read is over: another worker may claim the next item

    lock.unlock();
    std::optional<R> result;
    std::exception_ptr error;
    recorder_.timed(who, [&]() -> std::size_t {
      try {
        result.emplace(compute(k));
        return 1;
      } catch (...) {
        error = std::current_exception();
        return 0;
      }
    });
    // Counted before the result is published: the consumer's final report (end_now) then
    // always comes after every item's own.
    if (!error) rules_.finished(1, k);
    lock.lock();

    running_.erase(std::find(running_.begin(), running_.end(), k));
    if (error) return fail_at(k, std::move(error));
    try {
      if constexpr (Order == stream_order::input) {
        pending_[k - delivered_].emplace(std::move(*result));
      } else {
        done_.emplace_back(k, std::move(*result));
      }
    } catch (...) {  // a result whose move throws, or no memory: the item fails
      return fail_at(k, std::current_exception());
    }
    notify_all();
  }

  /// With the lock held: item `index` failed, or the input failed while reading it. The
  /// lowest failing index wins (call_rules); nothing is claimed after it.
  void fail_at(std::size_t index, std::exception_ptr error) noexcept {
    rules_.fail(index, std::move(error));
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

  /// Every item was delivered: the final progress report, on the consumer's thread, so it has
  /// returned before the loop over the stream ends.
  bool end_now(std::unique_lock<std::mutex>& lock) {
    ended_ = true;
    reported_ = true;
    recorder_.publish();
    lock.unlock();
    rules_.finish();
    return false;
  }

  bool fail_now() {
    ended_ = true;
    closed_ = true;
    work_cv_.notify_all();
    std::rethrow_exception(rules_.failure_at(end_index()));
  }

  const options opt_;
  call_rules rules_;  // failures, stop, deadline, progress: one rule set with parallel_map
  call_recorder recorder_;  // options::report: published at the end, or by close()
  const std::size_t threads_;
  const std::size_t window_;
  const options batch_options_;
  const plan batch_plan_;

  std::mutex mutex_;
  std::condition_variable work_cv_;    // workers: an item may be claimed, or none ever will
  std::condition_variable result_cv_;  // consumer and close(): a result, a failure, an end
  std::size_t pulled_ = 0;             // items read from the input
  std::size_t delivered_ = 0;          // results handed to the consumer
  std::vector<std::size_t> running_;   // items whose fn is running (at most threads + 1)
  bool reading_ = false;               // a thread is reading item pulled_ of the input
  bool input_done_ = false;
  bool closed_ = false;
  bool ended_ = false;
  bool reported_ = false;  // the report was published
  // The driver asked the backend for a batch of workers and none has started yet (since
  // batch_since_; the stream's creation counts as the first request).
  bool batch_pending_ = true;
  std::chrono::steady_clock::time_point batch_since_;
  // input order: results of items [delivered_, pulled_), empty until the item is done
  std::deque<std::optional<R>> pending_;
  // completion order: results not yet handed out, as they were finished
  std::deque<std::pair<std::size_t, R>> done_;

  std::optional<value_type> current_;  // the consumer's alone
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
    items_.emplace(index, std::move(read));
    return true;
  }

  void drop(std::size_t index) noexcept override {
    std::lock_guard lock(items_mutex_);
    items_.erase(index);
  }

  R compute(std::size_t index) override {
    typename item::stored held = take(index);
    return std::invoke(fn_, item::use(held));
  }

  /// Moves the item read for `index` out of the items in flight. Items are only ever
  /// constructed and destroyed here, never assigned: a stored proxy (std::vector<bool>'s bit
  /// reference) assigned to would write into the user's input.
  typename item::stored take(std::size_t index) {
    std::lock_guard lock(items_mutex_);
    auto node = items_.extract(index);
    return typename item::stored(std::move(node.mapped()));
  }

  V input_;
  F fn_;
  // Used by one reading thread at a time (the channel's reading_ flag), never under its lock.
  std::optional<std::ranges::iterator_t<V>> it_;
  std::optional<std::ranges::sentinel_t<V>> end_;
  std::mutex items_mutex_;
  std::map<std::size_t, typename item::stored> items_;  // read, not yet taken
};

}  // namespace parmap::detail
