#pragma once
// The root's input, indexed: random-access sized ranges are read in place; any other range is
// read once into a vector of its values (the other ranks receive values anyway).

#include <cstddef>
#include <iterator>
#include <ranges>
#include <type_traits>
#include <vector>

namespace parmap::mpi::detail {

template <class R>
class root_input {
 public:
  static constexpr bool in_place =
      std::ranges::random_access_range<R> && std::ranges::sized_range<R>;
  using value = std::ranges::range_value_t<R>;
  /// What operator[] gives: the range's own reference in place, else a reference to the copy
  /// of the same value category.
  using reference = std::conditional_t<
      in_place, std::ranges::range_reference_t<R>,
      std::conditional_t<std::is_lvalue_reference_v<std::ranges::range_reference_t<R>>, value&,
                         value&&>>;

  explicit root_input(R& r) {
    if constexpr (in_place) {
      first_ = std::ranges::begin(r);
      size_ = static_cast<std::size_t>(std::ranges::size(r));
    } else {
      if constexpr (std::ranges::sized_range<R>) copy_.reserve(std::ranges::size(r));
      for (auto&& x : r) copy_.emplace_back(std::forward<decltype(x)>(x));
      size_ = copy_.size();
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// Item i. Safe to call from several threads at once.
  reference operator[](std::size_t i) {
    if constexpr (in_place) {
      return first_[static_cast<std::ranges::range_difference_t<R>>(i)];
    } else {
      return static_cast<reference>(copy_[i]);
    }
  }

 private:
  struct none {};
  std::size_t size_ = 0;
  [[no_unique_address]] std::conditional_t<in_place, std::ranges::iterator_t<R>, none> first_{};
  [[no_unique_address]] std::conditional_t<in_place, none, std::vector<value>> copy_{};
};

}  // namespace parmap::mpi::detail
