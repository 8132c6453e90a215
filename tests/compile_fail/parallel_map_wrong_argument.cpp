// expect: parmap::parallel_map: fn cannot be called with an element of the input
#include <parmap/parmap.hpp>

#include <string>
#include <vector>

void use(const std::vector<int>& xs) {
  auto out = parmap::parallel_map(xs, [](const std::string& s) { return s.size(); });
  (void)out;
}
