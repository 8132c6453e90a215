// expect: parmap::imap / imap_unordered: fn cannot be called with an element of the input
#include <parmap/parmap.hpp>

#include <string>
#include <vector>

void use(const std::vector<std::string>& lines) {
  for (auto& [index, n] : parmap::imap_unordered(lines, [](int x) { return x + 1; })) {
    (void)index;
    (void)n;
  }
}
