#pragma once
// Lists in messages, reports and JSON context values: "1,2,4", "serial, threads, tbb".

#include <string>
#include <string_view>

#include "parmap/backend.hpp"

namespace parmap::detail {

/// The items of `items`, each as `text(item)` gives it, separated by `separator`.
template <class Range, class Text>
[[nodiscard]] std::string join(const Range& items, Text text, std::string_view separator = ",") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += text(item);
  }
  return out;
}

/// The backends built in, for messages: "serial, threads, openmp, tbb, stdpar".
[[nodiscard]] inline std::string available_backend_list() {
  return join(
      available_backends(), [](backend b) { return std::string(to_string(b)); }, ", ");
}

}  // namespace parmap::detail
