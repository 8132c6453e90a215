#pragma once
// The command line every exit child takes, `child_<name> <backend> <variant>`, and how it
// reports: one line per event on stdout, flushed at once, since a child that hangs or crashes
// afterwards must still have told the test how far it got.
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <optional>
#include <parmap/parmap.hpp>
#include <string_view>

namespace child {

struct arguments {
  parmap::backend backend;
  std::string_view variant;
};

/// The backend and variant, or nothing (after saying why) when the command line is wrong.
inline std::optional<arguments> parse(int argc, char** argv,
                                      std::initializer_list<std::string_view> variants) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <backend> <variant>\n", argc > 0 ? argv[0] : "child");
    return std::nullopt;
  }
  arguments args{};
  try {
    args.backend = parmap::backend_from_string(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return std::nullopt;
  }
  for (std::string_view v : variants) {
    if (v == argv[2]) {
      args.variant = v;
      return args;
    }
  }
  std::fprintf(stderr, "unknown variant '%s'\n", argv[2]);
  return std::nullopt;
}

/// Prints `line` and a newline, and flushes.
inline void say(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
}

}  // namespace child
