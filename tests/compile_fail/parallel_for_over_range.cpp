// expect: parmap::parallel_for loops over indices
// A range's elements are parallel_map's (or parallel_for over their indices).
#include <parmap/parmap.hpp>

#include <vector>

void use(std::vector<double>& xs) {
  parmap::parallel_for(xs, [](double& x) { x *= 2; });
}
