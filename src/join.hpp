#pragma once
// Lists in reports and JSON context values: "1,2,4".

#include <string>

namespace parmap::detail {

/// The items of `items`, each as `text(item)` gives it, separated by commas.
template <class Range, class Text>
[[nodiscard]] std::string join_with_commas(const Range& items, Text text) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += text(item);
  }
  return out;
}

}  // namespace parmap::detail
