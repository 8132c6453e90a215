#pragma once
// Where the results of an indexed computation go while threads write them: straight into the
// output vector where each element is its own object and assignable, otherwise into a buffer of
// optionals that is moved out, in order, at the end (types without a default value, and bool,
// which std::vector packs into shared bits that threads cannot write concurrently).

#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace parmap::detail {

/// The one result-type rule of every algorithm (map, zip, streams, reduce's map): what
/// std::invoke(fn, args...) returns, as a value (a data member pointer, or a function returning
/// a reference or a const type, gives a copy).
template <class F, class... Args>
using call_result_t = std::remove_cvref_t<std::invoke_result_t<F&, Args...>>;

template <class T>
class result_slots {
 public:
  explicit result_slots(std::size_t n) : slots_(n) {}

  /// A small copyable handle: put(i, value) stores the result of item i, each i from one
  /// thread, once. Loop bodies hold it by value, so the destination stays in a register.
  [[nodiscard]] auto writer() noexcept {
    return [dest = slots_.data()](std::size_t i, auto&& value) {
      if constexpr (in_place) {
        dest[i] = std::forward<decltype(value)>(value);
      } else {
        dest[i].emplace(std::forward<decltype(value)>(value));
      }
    };
  }

  /// The results, once every item has been set.
  [[nodiscard]] std::vector<T> take() && {
    if constexpr (in_place) {
      return std::move(slots_);
    } else {
      std::vector<T> out;
      out.reserve(slots_.size());
      for (auto& s : slots_) out.push_back(std::move(*s));
      return out;
    }
  }

 private:
  static constexpr bool in_place = std::is_default_constructible_v<T> &&
                                   std::is_move_assignable_v<T> && !std::is_same_v<T, bool>;
  std::vector<std::conditional_t<in_place, T, std::optional<T>>> slots_;
};

}  // namespace parmap::detail
