// expect: parmap::parallel_zip_map: fn cannot be called with one item of each input
// Three inputs, a function of two arguments.
#include <parmap/parmap.hpp>

#include <vector>

void use(const std::vector<int>& a, const std::vector<int>& b, const std::vector<int>& c) {
  auto out = parmap::parallel_zip_map([](int x, int y) { return x + y; }, a, b, c,
                                      parmap::options{.threads = 2});
  (void)out;
}
