// A stream over an unbounded input that is a namespace-scope variable: made during static
// initialization, before main (its driver starts parmap's own statics at about the same
// time, so which of them is destroyed first varies from run to run), partly consumed by main,
// destroyed during static destruction with its workers waiting for the consumer.
// Static initialization comes before main's arguments: it reads the backend's name from
// /proc/self/cmdline.
// Variant: "return" (the only one; the argument keeps every exit child's command line alike).
#include <cstdint>
#include <fstream>
#include <ranges>
#include <stdexcept>
#include <string>

#include "child_args.hpp"

namespace {

// Quick, so that the workers have filled the window and wait for the consumer when the
// stream is destroyed.
std::int64_t twice(std::int64_t i) {
  return 2 * i;
}

/// The backend named by the first argument; serial, which is always built in, if there is none
/// to read (main then rejects the command line anyway).
parmap::backend backend_from_command_line() {
  std::ifstream cmdline("/proc/self/cmdline");
  std::string program, name;
  if (std::getline(cmdline, program, '\0') && std::getline(cmdline, name, '\0')) {
    try {
      return parmap::backend_from_string(name);
    } catch (const std::invalid_argument&) {
    }
  }
  return parmap::backend::serial;
}

// Many threads (more than the CPUs): a batch of workers that the driver starts as the
// process exits then takes long enough to get going that exit meets it half started.
auto global_stream =
    parmap::imap(std::views::iota(std::int64_t{0}), twice,
                 parmap::options{.backend = backend_from_command_line(), .threads = 16});

}  // namespace

int main(int argc, char** argv) {
  const auto args = child::parse(argc, argv, {"return"});
  if (!args) return 2;
  std::int64_t expected = 0;
  for (std::int64_t result : global_stream) {
    if (result != 2 * expected) {
      child::say("wrong result");
      return 3;
    }
    if (++expected == 10) break;
  }
  if (expected != 10) return 3;
  child::say("ok");
  return 0;
}
