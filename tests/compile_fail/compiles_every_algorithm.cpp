// expect: compiles
// The positive control: every algorithm used correctly compiles with the same command as the
// misuses beside it, so their failures come from the misuse, not from the harness.
#include <parmap/parmap.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ranges>
#include <string>
#include <tuple>
#include <vector>

void use(std::vector<double>& xs, const std::vector<std::string>& words) {
  parmap::parallel_for(xs.size(), [&](std::size_t i) { xs[i] *= 2; });
  parmap::parallel_for(0, xs.size(), [&](std::size_t i) { xs[i] += 1; });
  parmap::parallel_for(-5, 5, [](int) {}, {.threads = 2, .chunk = 4});
  auto doubled = parmap::parallel_map(xs, [](double x) { return 2 * x; });
  std::vector<double> out(xs.size());
  parmap::parallel_map_into(xs, out, [](double x) { return x + 1; });
  auto sums = parmap::parallel_zip_map([](double a, double b) { return a + b; }, xs, out);
  for (double x : parmap::imap(xs, [](double x) { return x; })) (void)x;
  for (auto& [i, n] : parmap::imap_unordered(words, [](const std::string& w) { return w.size(); }))
    (void)i, (void)n;
  // An integer map into a floating-point accumulator is not narrowing: the usual mean.
  const double mean_length =
      parmap::map_reduce(words, [](const std::string& w) { return w.size(); }, 0.0,
                         std::plus<>{}) /
      static_cast<double>(words.size());
  const std::size_t letters = parmap::map_reduce(
      words, [](const std::string& w) { return w.size(); }, std::size_t{0}, std::plus<>{});
  const std::int64_t widened = parmap::map_reduce(
      std::views::iota(0, 100), [](int i) { return i; }, std::int64_t{0}, std::plus<>{});
  const auto [sum, largest] = parmap::map_reduce(
      xs, [](double x) { return std::tuple{x, x}; }, std::tuple{0.0, 0.0},
      parmap::reduce_each(std::plus<>{}, [](double a, double b) { return a < b ? b : a; }));
  const auto counts = parmap::map_reduce(
      std::views::iota(0, 100),
      [](int i) {
        std::array<int, 3> c{};
        c[static_cast<std::size_t>(i % 3)] = 1;
        return c;
      },
      std::array<int, 3>{}, parmap::reduce_each(std::plus<>{}));
  auto caught = parmap::parallel_map(xs, parmap::catching([](double x) { return x; }));
  (void)doubled, (void)sums, (void)mean_length, (void)letters, (void)widened, (void)sum,
      (void)largest, (void)counts, (void)caught;
}
