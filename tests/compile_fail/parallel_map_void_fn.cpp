// expect: parmap::parallel_map: fn returns void
// A body run for its side effects has nothing to collect: parallel_for is its algorithm.
#include <parmap/parmap.hpp>

#include <vector>

void use(std::vector<int>& xs) {
  auto out = parmap::parallel_map(xs, [](int& x) { x *= 2; });
  // Code that uses the result adds no error of its own: the misuse is the one line.
  for (auto& r : out) (void)r;
}
