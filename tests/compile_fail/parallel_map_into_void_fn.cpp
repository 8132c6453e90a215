// expect: parmap::parallel_map_into: fn returns void
#include <parmap/parmap.hpp>

#include <vector>

void use(const std::vector<double>& xs, std::vector<double>& out) {
  parmap::parallel_map_into(xs, out, [](double) {});
}
