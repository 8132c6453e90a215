// Maps over a range on every backend the installed parmap offers, through the one public header,
// and exits non-zero when a result or an error is not what the serial loop gives.
#include <cstdio>
#include <parmap/parmap.hpp>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

int main() {
  int failures = 0;
  for (parmap::backend b : parmap::available_backends()) {
    const parmap::options opt{.backend = b, .threads = 3, .chunk = 7};
    const auto squares = parmap::parallel_map(
        std::views::iota(0, 1000), [](int x) { return x * x; }, opt);
    for (std::size_t i = 0; i < squares.size(); ++i) {
      if (squares[i] != static_cast<int>(i * i)) ++failures;
    }
    if (squares.size() != 1000) ++failures;
    try {
      (void)parmap::parallel_map(
          std::views::iota(0, 100),
          [](int x) {
            if (x % 10 == 3) throw std::runtime_error(std::to_string(x));
            return x;
          },
          opt);
      ++failures;
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()) != "3") ++failures;
    }
    std::printf("parmap %s: backend %.*s %s\n", PARMAP_VERSION,
                static_cast<int>(parmap::to_string(b).size()), parmap::to_string(b).data(),
                failures == 0 ? "ok" : "FAILED");
  }
  return failures == 0 ? 0 : 1;
}
