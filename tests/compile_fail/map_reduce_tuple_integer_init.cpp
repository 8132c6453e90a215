// expect: write init as 0.0
// Several reductions at once: the tuple's second element would be an int accumulator for
// doubles.
#include <parmap/parmap.hpp>

#include <functional>
#include <tuple>
#include <vector>

void use(const std::vector<double>& xs) {
  auto [count, sum] = parmap::map_reduce(
      xs, [](double x) { return std::tuple{1, x}; }, std::tuple{0, 0},
      parmap::reduce_each(std::plus<>{}));
  (void)count;
  (void)sum;
}
