// expect: parmap::map_reduce: init's type cannot hold map's values
// Sizes summed into an int: init 0 makes the accumulator an int.
#include <parmap/parmap.hpp>

#include <functional>
#include <string>
#include <vector>

long total_length(const std::vector<std::string>& words) {
  return parmap::map_reduce(words, [](const std::string& w) { return w.size(); }, 0,
                            std::plus<>{});
}
