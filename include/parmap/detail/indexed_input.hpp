#pragma once
// Gives any input range an index: item i of the input, for i in [0, size()).
// Random-access sized ranges are indexed in place; forward ranges through a vector of their
// iterators; single-pass ranges are read once into a buffer.

#include <cstddef>
#include <iterator>
#include <ranges>
#include <utility>
#include <vector>

namespace parmap::detail {

template <class R>
class indexed_input {
 public:
  explicit indexed_input(R& r) {
    if constexpr (random_access) {
      first_ = std::ranges::begin(r);
      size_ = static_cast<std::size_t>(std::ranges::distance(r));
    } else if constexpr (std::ranges::forward_range<R>) {
      if constexpr (std::ranges::sized_range<R>) its_.reserve(std::ranges::size(r));
      for (auto it = std::ranges::begin(r); it != std::ranges::end(r); ++it) its_.push_back(it);
      size_ = its_.size();
    } else {
      for (auto&& x : r) buffer_.emplace_back(std::forward<decltype(x)>(x));
      size_ = buffer_.size();
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// A small copyable handle with operator[](i) giving item i, as the range's own reference
  /// type would. Loop bodies hold it by value, so the compiler keeps it in registers.
  [[nodiscard]] auto items() noexcept {
    if constexpr (random_access) {
      return [first = first_](std::size_t i) -> decltype(auto) {
        return first[static_cast<std::ranges::range_difference_t<R>>(i)];
      };
    } else if constexpr (std::ranges::forward_range<R>) {
      return [its = its_.data()](std::size_t i) -> decltype(auto) { return *its[i]; };
    } else {
      using value = std::ranges::range_value_t<R>;
      using ref = std::conditional_t<std::is_lvalue_reference_v<std::ranges::range_reference_t<R>>,
                                     value&, value&&>;
      return [buf = buffer_.data()](std::size_t i) -> ref { return static_cast<ref>(buf[i]); };
    }
  }

 private:
  static constexpr bool random_access =
      std::ranges::random_access_range<R> && std::ranges::sized_range<R>;
  struct none {};
  using iterator = std::ranges::iterator_t<R>;

  std::size_t size_ = 0;
  [[no_unique_address]] std::conditional_t<random_access, iterator, none> first_{};
  [[no_unique_address]] std::conditional_t<!random_access && std::ranges::forward_range<R>,
                                           std::vector<iterator>, none> its_{};
  [[no_unique_address]] std::conditional_t<!std::ranges::forward_range<R>,
                                           std::vector<std::ranges::range_value_t<R>>, none>
      buffer_{};
};

}  // namespace parmap::detail
