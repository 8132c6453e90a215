// A static object whose destructor calls parallel_map, and prints the checked sum of what it
// computed ("sum 338350"). The call must work, exit must be prompt and clean.
// Variants: "early": a namespace-scope object, constructed before main and so before any
// parmap call: its destructor runs after parmap's own statics are destroyed; "late": a
// function-local static made after a first parallel_map call, destroyed before them.
// "-spread" pins the destructor's call's threads (placement::spread).
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <ranges>

#include "child_args.hpp"

namespace {

class maps_at_exit {
 public:
  maps_at_exit() = default;
  explicit maps_at_exit(const parmap::options& opt) : opt_(opt), armed_(true) {}
  maps_at_exit(const maps_at_exit&) = delete;
  maps_at_exit& operator=(const maps_at_exit&) = delete;

  void arm(const parmap::options& opt) {
    opt_ = opt;
    armed_ = true;
  }

  ~maps_at_exit() {
    if (!armed_) return;
    const auto squares = parmap::parallel_map(
        std::views::iota(std::int64_t{1}, std::int64_t{101}), [](std::int64_t i) { return i * i; },
        opt_);
    std::printf("sum %lld\n", static_cast<long long>(std::accumulate(squares.begin(), squares.end(),
                                                                     std::int64_t{0})));
    std::fflush(stdout);
  }

 private:
  parmap::options opt_;
  bool armed_ = false;
};

maps_at_exit early_object;

}  // namespace

int main(int argc, char** argv) {
  const auto args = child::parse(argc, argv, {"early", "late", "early-spread", "late-spread"});
  if (!args) return 2;
  parmap::options opt{.backend = args->backend, .threads = 4};
  if (args->variant.ends_with("-spread")) opt.placement = parmap::placement::spread;
  const bool early = args->variant.starts_with("early");
  if (early) early_object.arm(opt);
  // parmap's first use, after early_object was made and before late_object is.
  const auto first = parmap::parallel_map(
      std::views::iota(0, 100), [](int i) { return i; }, opt);
  if (first.size() != 100 || first[99] != 99) return 3;
  if (!early) static maps_at_exit late_object(opt);
  child::say("ok");
  return 0;
}
