// expect: parmap::map_reduce: map cannot be called with an element of the input
#include <parmap/parmap.hpp>

#include <functional>
#include <string>
#include <vector>

double total(const std::vector<std::string>& xs) {
  return parmap::map_reduce(xs, [](double x) { return x; }, 0.0, std::plus<>{});
}
