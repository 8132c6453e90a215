#include <parmap/parmap.hpp>
#include <cstdio>
#include <numeric>
int main() {
  std::vector<int> v(1000); std::iota(v.begin(), v.end(), 0);
  for (auto b : parmap::available_backends()) {
    for (auto s : {parmap::schedule::automatic, parmap::schedule::static_, parmap::schedule::dynamic, parmap::schedule::guided}) {
      auto r = parmap::parallel_map(v, [](int x) { return x * 2; }, {.backend = b, .threads = 3, .schedule = s});
      long sum = std::accumulate(r.begin(), r.end(), 0L);
      std::printf("%s %s %ld\n", std::string(parmap::to_string(b)).c_str(), std::string(parmap::to_string(s)).c_str(), sum);
    }
  }
  std::printf("%s\n", parmap::describe(parmap::detect_topology()).c_str());
}
