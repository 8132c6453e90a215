// The parallelism cheat sheet's first example, in C++:
//
//   results = []
//   for a, b in zip(range(20), range(100, 120)):
//       results.append((a + b) * const)
//
// becomes one call of parallel_zip_map. The constant is captured by the lambda: no
// functools.partial, no pickling, any callable works.
#include <chrono>
#include <cstdio>
#include <parmap/parmap.hpp>
#include <ranges>

int main() {
  const auto start = std::chrono::steady_clock::now();
  constexpr int k = 3;  // the constant baked into the function
  const auto results =
      parmap::parallel_zip_map([k](int a, int b) { return (a + b) * k; }, std::views::iota(0, 20),
                               std::views::iota(100, 120));
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;

  std::printf("(a + b) * %d for a, b in zip(range(20), range(100, 120)):\n  ", k);
  for (int r : results) std::printf("%d ", r);
  std::printf("\n%zu results in input order, backend %s, %.3f ms\n", results.size(),
              std::string(parmap::to_string(parmap::default_backend())).c_str(), took.count());
}
