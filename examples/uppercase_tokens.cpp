// Uppercase 12 tokens, where each token takes as many tenths of a second as it has characters
// (a stand-in for I/O-bound work). With one thread per token the whole run takes only as long
// as the longest token. parallel_map returns the results in input order, all at once;
// imap_unordered hands each result over as soon as it is ready, so the short tokens arrive
// first.
//
//   example_uppercase_tokens [seconds per character, default 0.1]
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <parmap/parmap.hpp>
#include <string>
#include <thread>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const double per_char = argc > 1 ? std::atof(argv[1]) : 0.1;
  const std::array<std::string, 12> tokens = {"parallelism", "is",     "when", "many",
                                              "things",      "run",    "at",   "the",
                                              "same",        "moment", "on",   "cores"};
  auto shout = [per_char](const std::string& token) {
    std::this_thread::sleep_for(
        std::chrono::duration<double>(per_char * static_cast<double>(token.size())));
    std::string upper = token;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return upper;
  };
  std::size_t longest = 0, serial_chars = 0;
  for (const auto& t : tokens) {
    longest = std::max(longest, t.size());
    serial_chars += t.size();
  }
  const parmap::options opt{.threads = static_cast<int>(tokens.size())};
  std::printf(
      "12 tokens, %.2f s per character: a serial loop would take %.1f s, the longest "
      "token %.1f s\n\n",
      per_char, per_char * static_cast<double>(serial_chars),
      per_char * static_cast<double>(longest));

  auto start = clock_type::now();
  const auto ordered = parmap::parallel_map(tokens, shout, opt);
  std::printf("parallel_map (input order, all at once after %.2f s):\n  ", seconds_since(start));
  for (const auto& s : ordered) std::printf("%s ", s.c_str());

  std::printf("\n\nimap_unordered (as they finish):\n");
  start = clock_type::now();
  for (const auto& [index, upper] : parmap::imap_unordered(tokens, shout, opt)) {
    std::printf("  %5.2f s  #%-2zu %s\n", seconds_since(start), index, upper.c_str());
  }
  std::printf("total %.2f s\n", seconds_since(start));
}
