// expect: parmap::parallel_zip_map: fn returns void
#include <parmap/parmap.hpp>

#include <vector>

void use(std::vector<int>& a, const std::vector<int>& b) {
  auto out = parmap::parallel_zip_map([](int& x, int y) { x += y; }, a, b);
  (void)out;
}
