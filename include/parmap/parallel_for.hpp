#pragma once
// parallel_for: an index loop, run in parallel. The body writes wherever it likes (a row of an
// image, a slice of a matrix) and returns nothing.
//
//   parmap::parallel_for(height, [&](std::size_t y) { render_row(y, &image[y * width]); });
//   parmap::parallel_for(-100, 100, [&](int i) { out[i + 100] = f(i); });

#include <concepts>
#include <cstddef>
#include <functional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "parmap/detail/execute.hpp"
#include "parmap/detail/misuse.hpp"
#include "parmap/options.hpp"

namespace parmap {
namespace detail {

template <class T, class... Ts>
inline constexpr bool is_one_of = (std::is_same_v<T, Ts> || ...);

/// A type parallel_for takes as a bound: a signed or unsigned integer type (bool and the
/// character types are not numbers to loop over), at most as wide as std::size_t, so that
/// every loop's length is a std::size_t.
template <class T>
concept loop_bound =
    std::integral<T> &&
    !is_one_of<std::remove_cv_t<T>, bool, char, wchar_t, char8_t, char16_t, char32_t> &&
    sizeof(T) <= sizeof(std::size_t);

/// The index type of a loop from a First to a Last: their common type (std::common_type_t).
template <class First, class Last>
using loop_index_t = std::common_type_t<First, Last>;

/// An integer written out for an error message.
template <class T>
[[nodiscard]] std::string integer_text(T value) {
  if constexpr (std::is_signed_v<T>) {
    return std::to_string(static_cast<long long>(value));
  } else {
    return std::to_string(static_cast<unsigned long long>(value));
  }
}

/// Index `i` of a loop that starts at `first`: first + i, for an i that keeps it within the
/// loop. Computed in unsigned arithmetic, which wraps where first + i could overflow I on the
/// way (a negative first and an i beyond I's maximum).
template <class I>
[[nodiscard]] constexpr I nth_index(I first, std::size_t i) noexcept {
  using U = std::make_unsigned_t<I>;
  return static_cast<I>(static_cast<U>(static_cast<U>(first) + static_cast<U>(i)));
}

/// Checks the bounds of parallel_for(first, last, f) and returns the loop's length.
/// Throws std::invalid_argument, naming the values, when last < first or when one of them
/// does not fit the index type (a negative bound beside an unsigned one).
template <class I, class First, class Last>
[[nodiscard]] std::size_t loop_length(First first, Last last) {
  if (!std::in_range<I>(first) || !std::in_range<I>(last)) {
    throw std::invalid_argument(
        "parmap::parallel_for: the bounds " + integer_text(first) + " and " + integer_text(last) +
        " have no index type that holds both: their common type is unsigned; pass signed "
        "bounds (e.g. std::ptrdiff_t) to loop over negative indices");
  }
  if (std::cmp_less(last, first)) {
    throw std::invalid_argument("parmap::parallel_for: last (" + integer_text(last) +
                                ") is less than first (" + integer_text(first) +
                                "); the loop runs over [first, last)");
  }
  using U = std::make_unsigned_t<I>;
  return static_cast<std::size_t>(
      static_cast<U>(static_cast<U>(static_cast<I>(last)) - static_cast<U>(static_cast<I>(first))));
}

/// Throws std::invalid_argument, naming it, when the count of parallel_for(n, f) is negative.
template <class N>
void check_count(N n) {
  if (std::cmp_less(n, 0)) {
    throw std::invalid_argument("parmap::parallel_for: n is " + integer_text(n) +
                                "; the loop runs over [0, n), so n cannot be negative");
  }
}

}  // namespace detail

/// Calls f(i) for every i in [first, last), in parallel. Equivalent to
///   for (I i = first; i < last; ++i) std::invoke(f, i);
/// where I, the type f is called with, is the bounds' common type (std::common_type_t: for
/// parallel_for(0, n) with a std::size_t n, std::size_t), except that the calls run
/// concurrently, on the backend, threads, chunk and schedule that `opt` names. f runs once per
/// index, from any of the call's threads, and must be safe to call concurrently; what it
/// returns is ignored. Everything else is parallel_map's: chunks of consecutive indices, the
/// exception of the lowest index whose call threw is rethrown with its own type and no chunk
/// after it starts; opt.stop and opt.deadline end the call with parmap::cancelled or
/// parmap::timeout; opt.on_progress counts indices, and so do the items of opt.report.
/// Throws std::invalid_argument, before any call of f, for bad options, when last < first, or
/// when a bound does not fit I (a negative first beside an unsigned last). first == last calls
/// nothing.
template <class First, class Last, class F>
requires detail::loop_bound<First> && detail::loop_bound<Last>
void parallel_for(First first, Last last, F&& f, const options& opt = {}) {
  using I = detail::loop_index_t<First, Last>;
  static_assert(std::invocable<F&, I>,
                "parmap::parallel_for: f cannot be called with an index (f(i), with i of the "
                "bounds' common type)");
  if constexpr (std::invocable<F&, I>) {
    const detail::plan p = detail::make_plan(opt);
    const std::size_t n = detail::loop_length<I>(first, last);
    auto body = [start = static_cast<I>(first), &f](std::size_t i) {
      std::invoke(f, detail::nth_index(start, i));
    };
    detail::for_each_index(p, opt, n, body);
  }
}

/// Calls f(i) for every i in [0, n), in parallel: parallel_for(N{0}, n, f, opt). f is called
/// with an N. Throws std::invalid_argument, before any call of f, for bad options or a
/// negative n.
template <class N, class F>
requires detail::loop_bound<N>
void parallel_for(N n, F&& f, const options& opt = {}) {
  detail::check_count(n);
  parallel_for(N{0}, n, std::forward<F>(f), opt);
}

/// parallel_for loops over indices, not over a range's elements: this overload only says so.
template <std::ranges::range R, class F>
void parallel_for(R&&, F&&, const options& = {}) {
  static_assert(detail::always_false<R>,
                "parmap::parallel_for loops over indices: pass a count or bounds, e.g. "
                "parallel_for(std::ranges::size(xs), [&](std::size_t i) { ... xs[i] ... })");
}

}  // namespace parmap
