// A partly consumed stream over an unbounded input, held in a static and so destroyed during
// static destruction, its workers waiting for the consumer.
// Variants: "early": a namespace-scope holder, constructed before main and so before parmap's
// own statics, whose destructor therefore runs after theirs; "late": a function-local static
// made after a first parallel_map call, destroyed before parmap's statics.
#include <cstdint>
#include <optional>
#include <ranges>

#include "child_args.hpp"

namespace {

// Quick, so that the workers have filled the window and wait for the consumer when the
// stream is destroyed.
std::int64_t twice(std::int64_t i) {
  return 2 * i;
}

using stream = parmap::imap_stream<std::int64_t>;

stream make_stream(const parmap::options& opt) {
  return parmap::imap(std::views::iota(std::int64_t{0}), twice, opt);
}

std::optional<stream> early_stream;

stream& late_stream(const parmap::options& opt) {
  static stream s = make_stream(opt);
  return s;
}

/// Reads the first ten results; false if any is wrong.
bool consume_some(stream& s) {
  std::int64_t expected = 0;
  for (std::int64_t result : s) {
    if (result != 2 * expected) return false;
    if (++expected == 10) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = child::parse(argc, argv, {"early", "late"});
  if (!args) return 2;
  // Many threads (more than the CPUs): a batch of workers that the driver starts as the
  // process exits then takes long enough to get going that exit meets it half started.
  const parmap::options opt{.backend = args->backend, .threads = 16};
  stream* s = nullptr;
  if (args->variant == "early") {
    s = &early_stream.emplace(make_stream(opt));
  } else {
    const auto warm_up = parmap::parallel_map(
        std::views::iota(0, 100), [](int i) { return i; }, opt);
    if (warm_up.size() != 100) return 3;
    s = &late_stream(opt);
  }
  if (!consume_some(*s)) {
    child::say("wrong result");
    return 3;
  }
  child::say("ok");
  return 0;
}
