// expect: parmap::map_reduce: reduce cannot be called with two values of init's type
#include <parmap/parmap.hpp>

#include <string>
#include <vector>

double total(const std::vector<double>& xs) {
  return parmap::map_reduce(xs, [](double x) { return x; }, 0.0,
                            [](const std::string& a, const std::string& b) { return a + b; });
}
