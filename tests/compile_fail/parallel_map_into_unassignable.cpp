// expect: parmap::parallel_map_into: fn's result cannot be assigned to an element of the output
#include <parmap/parmap.hpp>

#include <string>
#include <vector>

void use(const std::vector<int>& xs, std::vector<int>& out) {
  parmap::parallel_map_into(xs, out, [](int x) { return std::to_string(x); });
}
