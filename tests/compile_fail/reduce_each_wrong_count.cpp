// expect: parmap::reduce_each: give one operation for every element of the tuple
#include <parmap/parmap.hpp>

#include <functional>
#include <tuple>
#include <vector>

void use(const std::vector<double>& xs) {
  auto [a, b] = parmap::map_reduce(xs, [](double x) { return std::tuple{x, x}; },
                                   std::tuple{0.0, 0.0},
                                   parmap::reduce_each(std::plus<>{}, std::plus<>{}, std::plus<>{}));
  (void)a;
  (void)b;
}
