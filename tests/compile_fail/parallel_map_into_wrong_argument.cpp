// expect: parmap::parallel_map_into: fn cannot be called with an element of the input
#include <parmap/parmap.hpp>

#include <vector>

struct point {
  double x, y;
};

void use(const std::vector<double>& xs, std::vector<double>& out) {
  parmap::parallel_map_into(xs, out, [](const point& p) { return p.x; });
}
