// "A function that accepts a filename and returns results": count the lines and words of every
// file under a directory, streamed with imap_unordered. Results arrive as each file is done; a
// progress bar, drawn by options.on_progress, shows how far the whole run is.
//
//   example_word_count [directory, default: this checkout's sources] [threads, default 0 = all]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <parmap/parmap.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct file_counts {
  std::size_t lines = 0;
  std::size_t words = 0;
};

/// The function of the example: a file name in, results out.
file_counts count_words(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  file_counts c;
  bool in_word = false;
  for (char ch; in.get(ch);) {
    if (ch == '\n') ++c.lines;
    const bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
    if (!space && !in_word) ++c.words;
    in_word = !space;
  }
  return c;
}

void draw_bar(std::size_t done, std::size_t total) {
  constexpr std::size_t width = 40;
  const std::size_t filled = total == 0 ? width : done * width / total;
  std::fprintf(stderr, "\r  [%s%s] %zu/%zu files", std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(), done, total);
  if (done == total) std::fprintf(stderr, "\n");
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path root = argc > 1 ? fs::path(argv[1]) : fs::path(PARMAP_EXAMPLE_DEFAULT_DIR);
  const int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied)) {
    const std::string name = entry.path().string();
    if (name.find("/.git/") != std::string::npos || name.find("/build") != std::string::npos) {
      continue;
    }
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::printf("counting words in %zu files under %s\n", files.size(), root.c_str());
  std::fflush(stdout);  // before the progress bar, which goes to stderr

  const auto start = std::chrono::steady_clock::now();
  std::size_t lines = 0, words = 0;
  std::vector<std::pair<std::size_t, std::size_t>> by_words;  // (words, file index)
  const parmap::options opt{.threads = threads, .on_progress = draw_bar};
  for (const auto& [index, counts] : parmap::imap_unordered(files, count_words, opt)) {
    lines += counts.lines;
    words += counts.words;
    by_words.emplace_back(counts.words, index);
  }
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;

  std::sort(by_words.rbegin(), by_words.rend());
  std::printf("the largest files by words:\n");
  for (std::size_t i = 0; i < std::min<std::size_t>(5, by_words.size()); ++i) {
    std::printf("  %7zu  %s\n", by_words[i].first,
                fs::relative(files[by_words[i].second], root).c_str());
  }
  std::printf("%zu files, %zu lines, %zu words in %.1f ms\n", files.size(), lines, words,
              took.count());
}
