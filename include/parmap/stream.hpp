#pragma once
// imap and imap_unordered: Pool.imap and Pool.imap_unordered, done in C++. Results arrive
// while the caller consumes them, from inputs that may be lazy or unbounded.
//
//   for (const std::string& line : parmap::imap(lines, parse)) use(line);           // in order
//   for (auto& [index, result] : parmap::imap_unordered(files, count_words)) ...    // as done

#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "parmap/detail/execute.hpp"
#include "parmap/detail/misuse.hpp"
#include "parmap/detail/stream_state.hpp"
#include "parmap/options.hpp"
#include "parmap/parallel_map.hpp"

namespace parmap {

/// Options of a stream, besides the options of the call.
struct stream_options {
  /// At most this many items are read from the input ahead of the consumer: items read but
  /// whose results the consumer has not taken yet. It bounds the memory of a stream however
  /// long its input is. 0: automatic, 4 * threads * max(chunk, 1).
  std::size_t window = 0;
};

/// A single-pass range of results, produced by worker threads while it is consumed; made by
/// imap (Order = input, yields R) and imap_unordered (Order = completion, yields
/// std::pair<std::size_t, R>: the input's index and its result). A view: it moves, it does not
/// copy. Destroying it (or leaving a loop over it early) stops the work: items not started yet
/// never start; the destructor waits for the calls of fn that are running and for a read of
/// the input in progress (an input whose read blocks forever blocks the destructor), then for
/// the stream's driver thread to return, which it does at once. It leaves no thread behind.
template <class R, detail::stream_order Order>
class basic_stream : public std::ranges::view_interface<basic_stream<R, Order>> {
  using channel = detail::stream_channel<R, Order>;

 public:
  using value_type = typename channel::value_type;

  /// Reads the stream. operator++ waits for the next result; when the stream reaches a
  /// failure it throws it there, and the iterator then equals end().
  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using value_type = typename channel::value_type;
    using difference_type = std::ptrdiff_t;

    iterator() = default;

    value_type& operator*() const noexcept { return channel_->current(); }
    value_type* operator->() const noexcept { return &channel_->current(); }

    iterator& operator++() {
      advance(channel_);
      return *this;
    }
    void operator++(int) { ++*this; }

    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return it.channel_ == nullptr;
    }

   private:
    friend class basic_stream;
    explicit iterator(channel* c) noexcept : channel_(c) {}
    channel* channel_ = nullptr;
  };

  /// Made by imap and imap_unordered: starts the driver of the workers.
  explicit basic_stream(std::shared_ptr<channel> c) : channel_(std::move(c)) {
    driver_ = std::thread([c = channel_] { c->drive(); });
  }

  basic_stream(basic_stream&& other) noexcept = default;
  basic_stream& operator=(basic_stream&& other) noexcept {
    if (this != &other) {
      stop();
      channel_ = std::move(other.channel_);
      driver_ = std::move(other.driver_);
      begun_ = other.begun_;
    }
    return *this;
  }
  ~basic_stream() { stop(); }

  /// The first call waits for the first result (and throws if the stream fails there); later
  /// calls return an iterator at the result the stream is on.
  iterator begin() {
    if (!channel_ || (begun_ && channel_->ended())) return iterator();
    iterator it(channel_.get());
    if (!begun_) {
      begun_ = true;
      advance(it.channel_);
    }
    return it;
  }
  [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

 private:
  static void advance(channel*& c) {
    try {
      if (!c->next()) c = nullptr;
    } catch (...) {
      c = nullptr;
      throw;
    }
  }

  void stop() noexcept {
    if (!channel_) return;
    channel_->close();
    driver_.join();
    channel_.reset();
  }

  std::shared_ptr<channel> channel_;
  std::thread driver_;
  bool begun_ = false;
};

/// What imap yields: R, in input order.
template <class R>
using imap_stream = basic_stream<R, detail::stream_order::input>;

/// What imap_unordered yields: std::pair<std::size_t, R> (input index, result), as finished.
template <class R>
using imap_unordered_stream = basic_stream<R, detail::stream_order::completion>;

namespace detail {

/// The result a stream over R with F holds: fn's result, by value; misused_call when fn cannot
/// be called with the input's elements or returns void (make_stream's static_assert says
/// which).
template <class R, class F>
using stream_result_t = checked_result_t<F, std::ranges::range_reference_t<R>>;

/// The stream imap or imap_unordered returns over R with F: a stream of misused_call when fn
/// cannot be used, so that a loop over it adds no error of its own to make_stream's.
template <class R, class F, stream_order Order>
using checked_stream_t = basic_stream<stream_result_t<R, F>, Order>;

/// The stream of imap and imap_unordered, once make_stream has checked fn.
template <stream_order Order, class R, class F>
auto make_checked_stream(R&& input, F&& fn, const options& opt, stream_options sopt,
                         const char* name) {
  using V = std::views::all_t<R>;
  using T = stream_result_t<R, F>;
  const plan p = make_plan(opt);
  V view = std::views::all(std::forward<R>(input));
  std::size_t total = detail::call_rules::no_index;  // not known: no progress reports
  if constexpr (std::ranges::sized_range<V>) {
    total = static_cast<std::size_t>(std::ranges::size(view));
  } else if (opt.on_progress) {
    throw std::invalid_argument(std::string("parmap::") + name +
                                ": options.on_progress needs an input whose size is known "
                                "(a std::ranges::sized_range); count the results instead");
  }
  auto source = std::make_shared<stream_source<V, std::decay_t<F>, T, Order>>(
      std::move(view), std::forward<F>(fn), p, opt, sopt.window, total);
  return basic_stream<T, Order>(std::move(source));
}

template <stream_order Order, class R, class F>
auto make_stream(R&& input, F&& fn, const options& opt, stream_options sopt, const char* name)
    -> checked_stream_t<R, F, Order> {
  constexpr misuse problem = value_fn_misuse<F, std::ranges::range_reference_t<R>>();
  static_assert(problem != misuse::not_callable,
                "parmap::imap / imap_unordered: fn cannot be called with an element of the input");
  static_assert(problem != misuse::returns_void,
                "parmap::imap / imap_unordered: fn returns void, so the stream would have no "
                "results; to run a body for its side effects, use parmap::parallel_for(n, "
                "[&](std::size_t i) { ... })");
  static_assert(problem != misuse::result_not_movable,
                "parmap::imap / imap_unordered: fn's result type must be move-constructible");
  if constexpr (problem != misuse::none) {
    return checked_stream_t<R, F, Order>(nullptr);
  } else {
    return make_checked_stream<Order>(std::forward<R>(input), std::forward<F>(fn), opt, sopt, name);
  }
}

}  // namespace detail

/// Returns the range {fn(x) for x in input}, in input order, computed in parallel while the
/// caller reads it: Python's Pool.imap. Equivalent to
///   for (auto&& x : input) co_yield std::invoke(fn, x);
/// except that up to `threads` calls run at once, on the backend `opt` names, ahead of the
/// reader by at most sopt.window items. Works on lazy and unbounded inputs (a generator,
/// std::views::istream, std::views::iota(0)): the input is read in order, from one thread at a
/// time, only as far as the window allows. An lvalue input is read in place and must outlive
/// the stream; an rvalue input is moved into it. `fn` is copied (decayed) into the stream.
///
/// Options: backend, threads, placement as for parallel_map; chunk only scales the automatic
/// window (items are handed out one at a time); schedule does not apply. stop and deadline:
/// no item starts after either is seen, and the stream throws parmap::cancelled or
/// parmap::timeout at the first item that did not run. on_progress: called with (items done,
/// input size) as for parallel_map; it needs a sized input.
///
/// Errors: the results before the first failing item are delivered, then its exception (with
/// its own type) is thrown by the iterator's operator++ (or begin()) that would move to it, and
/// the stream ends. An input that throws while it is read fails the same way, at the item it
/// was reading. Throws std::invalid_argument for bad options, before any work.
template <std::ranges::input_range R, class F>
requires std::ranges::viewable_range<R>
[[nodiscard]] auto imap(R&& input, F&& fn, const options& opt = {}, stream_options sopt = {})
    -> detail::checked_stream_t<R, F, detail::stream_order::input> {
  return detail::make_stream<detail::stream_order::input>(std::forward<R>(input),
                                                          std::forward<F>(fn), opt, sopt, "imap");
}

/// As imap, but yields std::pair<std::size_t, R> (the item's index in the input, fn's result)
/// in the order the calls finish: Python's Pool.imap_unordered. A slow item delays only its
/// own result. When an item fails, the results of the items before it that are still running
/// are delivered when they finish, results of items after it are dropped, and then its
/// exception is thrown (if several fail: the lowest index, like a serial loop).
template <std::ranges::input_range R, class F>
requires std::ranges::viewable_range<R>
[[nodiscard]] auto imap_unordered(R&& input, F&& fn, const options& opt = {},
                                  stream_options sopt = {})
    -> detail::checked_stream_t<R, F, detail::stream_order::completion> {
  return detail::make_stream<detail::stream_order::completion>(
      std::forward<R>(input), std::forward<F>(fn), opt, sopt, "imap_unordered");
}

}  // namespace parmap
