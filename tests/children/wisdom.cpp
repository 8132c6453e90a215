// Wisdom from another process, for test_wisdom: writers that run at once on one file, a writer
// that meets a lock held by the test, and a reader without the test's privileges.
//
//   child_wisdom store <file> <prefix> <count>   stores "<prefix>-<i>" with chunk = i for i in
//                                                [0, count), and after each store reads it back
//   child_wisdom store-one <file> <name> <chunk> says "storing", stores once, says "stored"
//   child_wisdom lookup <file> <name>            says "found chunk=<chunk>" or "none"
// A last argument "as-nobody" makes a child started as root drop to the user nobody first, so
// that file permissions apply to it. Exit status 0 when all went as asked; otherwise one line
// says what went wrong.
#include <grp.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <exception>
#include <parmap/parmap.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// options that differ from one stored index to the next in every stored field.
parmap::options options_for(std::size_t i) {
  return {.backend = i % 2 == 0 ? parmap::backend::serial : parmap::backend::threads,
          .threads = static_cast<int>(i % 7) - 3,
          .chunk = i,
          .schedule = static_cast<parmap::schedule>(i % 4),
          .placement = static_cast<parmap::placement>(i % 3)};
}

bool same(const parmap::options& a, const parmap::options& b) {
  return a.backend == b.backend && a.threads == b.threads && a.chunk == b.chunk &&
         a.schedule == b.schedule && a.placement == b.placement;
}

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

bool drop_to_nobody() {
  if (geteuid() != 0) return true;
  constexpr uid_t nobody = 65534;
  return setgroups(0, nullptr) == 0 && setgid(nobody) == 0 && setuid(nobody) == 0;
}

int run(const std::vector<std::string_view>& args) {
  const std::string_view mode = args[0];
  parmap::wisdom w{std::string(args[1])};
  if (mode == "store" && args.size() == 4) {
    const std::string prefix(args[2]);
    const std::size_t count = std::stoul(std::string(args[3]));
    for (std::size_t i = 0; i < count; ++i) {
      const std::string name = prefix + "-" + std::to_string(i);
      w.store(name, options_for(i));
      // Another writer may have replaced the file since: it must still hold this entry.
      const auto back = w.lookup(name);
      if (!back || !same(*back, options_for(i))) {
        say("lost " + name + " right after storing it");
        return 1;
      }
    }
    say("stored " + std::to_string(count));
    return 0;
  }
  if (mode == "store-one" && args.size() == 4) {
    say("storing");
    w.store(args[2], {.chunk = std::stoul(std::string(args[3]))});
    say("stored");
    return 0;
  }
  if (mode == "lookup" && args.size() == 3) {
    const auto found = w.lookup(args[2]);
    say(found ? "found chunk=" + std::to_string(found->chunk) : "none");
    return 0;
  }
  say("usage: child_wisdom store|store-one|lookup <file> ... [as-nobody]");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (!args.empty() && args.back() == "as-nobody") {
    args.pop_back();
    if (!drop_to_nobody()) {
      say("cannot drop to the user nobody");
      return 3;
    }
  }
  if (args.size() < 3) return run({"usage", "", ""});
  try {
    return run(args);
  } catch (const std::exception& e) {
    say(std::string("threw: ") + e.what());
    return 1;
  }
}
