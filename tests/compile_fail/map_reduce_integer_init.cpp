// expect: write init as 0.0
// The example: 1,000 x 0.5 summed into the int accumulator that init 0 makes would
// return 0, with no warning even under -Wconversion.
#include <parmap/parmap.hpp>

#include <functional>
#include <vector>

double total() {
  const std::vector<double> xs(1000, 0.5);
  return parmap::map_reduce(xs, [](double x) { return x; }, 0, std::plus<>{});
}
