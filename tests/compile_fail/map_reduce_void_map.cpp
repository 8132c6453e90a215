// expect: parmap::map_reduce: map returns void
#include <parmap/parmap.hpp>

#include <functional>
#include <vector>

int total(std::vector<int>& xs) {
  return parmap::map_reduce(xs, [](int& x) { x += 1; }, 0, std::plus<>{});
}
