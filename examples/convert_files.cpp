// Convert a folder of files, keep going past the ones that fail, and say which failed and why.
// The seeds' idiom is a try/except inside the mapped function, returning (ok, value or error),
// and a loop over the results afterwards; parmap::catching does the first part for any
// function, and parmap::failures the second.
//
// The program makes a temporary folder of 40 small "record" files: a header line, then one
// number per line. Four of them are broken on purpose: a wrong header, a line that is not a
// number, a directory where a file should be, and a file that vanishes before it is read.
// Converting a record sums its numbers and writes the sum beside it; the program prints the
// summary line a batch job would ("4 of 40 files failed; first: ..."), every failure, and exits
// with 0, since the good files were converted. The folder is removed at the end.
//
//   example_convert_files
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <parmap/parmap.hpp>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char* header = "RECORD v1";

/// A record that cannot be converted: says which line and why.
struct convert_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Converts one record: sums its numbers, writes the sum to <file>.sum, returns it.
long convert(const fs::path& file) {
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);
  if (!fs::exists(status)) throw convert_error("no such file");
  if (!fs::is_regular_file(status)) throw convert_error("not a regular file");
  std::ifstream in(file);
  if (!in) throw convert_error("cannot open it");
  std::string line;
  if (!std::getline(in, line) || line != header) {
    throw convert_error("bad header '" + line + "' (expected '" + header + "')");
  }
  long sum = 0;
  for (int number = 2; std::getline(in, line); ++number) {
    std::size_t used = 0;
    long value = 0;
    try {
      value = std::stol(line, &used);
    } catch (const std::logic_error&) {
      used = 0;  // std::stol's own messages ("stol") say nothing useful
    }
    if (used == 0 || used != line.size()) {
      throw convert_error("line " + std::to_string(number) + ": '" + line + "' is not a number");
    }
    sum += value;
  }
  std::ofstream out(file.string() + ".sum");
  out << sum << '\n';
  if (!out) throw convert_error("cannot write " + file.string() + ".sum");
  return sum;
}

/// Writes the 40 records into `dir` and returns their paths, in order; breaks four of them.
std::vector<fs::path> make_records(const fs::path& dir) {
  std::vector<fs::path> files;
  for (int i = 0; i < 40; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "record-%02d.txt", i);
    const fs::path path = dir / name;
    files.push_back(path);
    if (i == 17) {
      fs::create_directory(path);  // a directory where a file should be
      continue;
    }
    std::ofstream out(path);
    out << (i == 5 ? "RECORD v0" : header) << '\n';
    for (int k = 1; k <= 10; ++k)
      out << (i == 23 && k == 4 ? "12a" : std::to_string(i * k)) << '\n';
  }
  fs::remove(files[31]);  // listed, then gone before the conversion reads it
  return files;
}

}  // namespace

int main() {
  std::error_code ec;
  const fs::path dir = fs::temp_directory_path() / ("parmap-convert-" + std::to_string(getpid()));
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  const std::vector<fs::path> files = make_records(dir);

  // One outcome per file, in input order: a sum, or the exception convert threw for that file.
  const std::vector<parmap::outcome<long>> sums =
      parmap::parallel_map(files, parmap::catching(convert));

  long total = 0;
  for (const auto& s : sums) total += s.value_or(0);
  const std::vector<parmap::failure> failed = parmap::failures(sums);
  std::printf("converted %zu of %zu files in %s; their numbers sum to %ld\n",
              files.size() - failed.size(), files.size(), dir.c_str(), total);
  if (!failed.empty()) {
    const parmap::failure& first = failed.front();
    std::printf("%zu of %zu files failed; first: #%zu %s: %s\n", failed.size(), files.size(),
                first.index, files[first.index].filename().c_str(), first.what.c_str());
    for (const parmap::failure& f : failed) {
      std::printf("  #%-3zu %-15s %s\n", f.index, files[f.index].filename().c_str(),
                  f.what.c_str());
    }
  }

  fs::remove_all(dir, ec);
  return 0;
}
