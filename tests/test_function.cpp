// parmap::fn<f>, a function passed by name, on every backend: the same results as passing the
// function itself, for free functions, member functions and data members, through map, into,
// zip, streams and map_reduce.
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "test_backends.hpp"

namespace {

using parmap::backend;

double halve(double x) noexcept { return x / 2; }
int add(int a, int b) { return a + b; }
std::string label(int x) {
  std::string s = "#";
  s += std::to_string(x);
  return s;
}

struct point {
  int x;
  [[nodiscard]] int twice() const { return 2 * x; }
};

static_assert(std::is_empty_v<decltype(parmap::fn<halve>)>, "fn<f> carries no pointer");
static_assert(noexcept(parmap::fn<halve>(1.0)), "fn<f> keeps f's noexcept");
static_assert(!noexcept(parmap::fn<label>(1)));

class Function : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts() const {
    return parmap::options{.backend = GetParam(), .threads = 3, .chunk = 7};
  }
};

TEST_P(Function, ByNameEqualsByPointer) {
  std::vector<double> xs(1001);
  std::iota(xs.begin(), xs.end(), 0.0);
  EXPECT_EQ(parmap::parallel_map(xs, parmap::fn<halve>, opts()),
            parmap::parallel_map(xs, halve, opts()));
  std::vector<double> out(xs.size());
  parmap::parallel_map_into(xs, out, parmap::fn<halve>, opts());
  EXPECT_EQ(out, parmap::parallel_map(xs, halve, opts()));

  std::vector<int> a(100), b(100);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 100);
  const auto sums = parmap::parallel_zip_map(parmap::fn<add>, a, b, opts());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(sums[i], a[i] + b[i]);

  std::vector<std::string> labels;
  for (auto& s : parmap::imap(a, parmap::fn<label>, opts())) labels.push_back(s);
  EXPECT_EQ(labels, parmap::parallel_map(a, label, opts()));

  EXPECT_EQ(parmap::map_reduce(a, parmap::fn<label>, std::string(), std::plus<>{}, opts()),
            parmap::map_reduce(a, label, std::string(), std::plus<>{}, opts()));
}

TEST_P(Function, MembersByName) {
  const std::vector<point> pts = {{1}, {2}, {3}};
  EXPECT_EQ(parmap::parallel_map(pts, parmap::fn<&point::twice>, opts()),
            (std::vector<int>{2, 4, 6}));
  EXPECT_EQ(parmap::parallel_map(pts, parmap::fn<&point::x>, opts()), (std::vector<int>{1, 2, 3}));
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Function);

}  // namespace
