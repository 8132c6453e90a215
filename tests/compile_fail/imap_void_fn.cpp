// expect: parmap::imap / imap_unordered: fn returns void
#include <parmap/parmap.hpp>

#include <cstdio>
#include <vector>

void use(const std::vector<int>& xs) {
  auto stream = parmap::imap(xs, [](int x) { std::printf("%d\n", x); });
  (void)stream;
}
