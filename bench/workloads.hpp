#pragma once
// The workloads of parmap-bench, each a pure function of one item with a known cost. Every
// implementation (a parmap backend or a hand-written loop) maps the same function over the same
// input vector, so two cases of one workload differ only by the implementation parameter.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace parmap::bench {

// ---- overhead, memory-bound, chunk sweep -------------------------------------------------------

/// The trivially cheap map of the overhead workload: one multiply-add per item.
[[nodiscard]] inline double cheap(double x) noexcept {
  return x * 1.5 + 1.0;
}

/// cheap() as a type of its own: cases that must compare the very same compiled loop (with and
/// without options::report) pass this, not each its own lambda.
struct cheap_map {
  [[nodiscard]] double operator()(double x) const noexcept { return cheap(x); }
};

/// A result as large as parmap::outcome<double> (16 bytes): the value and a pointer nobody uses.
struct wide_result {
  double value;
  const void* unused;
};

/// cheap() with a wide_result: the overhead workload's control for parmap::catching, a plain map
/// whose results take as many bytes as outcomes do, so that the cost of catching itself can be
/// told from the cost of moving larger results.
[[nodiscard]] inline wide_result cheap_wide(double x) noexcept {
  return wide_result{cheap(x), nullptr};
}

/// y = a*x + b: the memory-bound map (16 bytes of traffic per item: read x, write y).
struct axpy {
  double a = 2.5;
  double b = -1.0;
  [[nodiscard]] double operator()(double x) const noexcept { return a * x + b; }
};

/// One round of a 64-bit finalizer (good mixing, one dependent chain): the unit of compute.
[[nodiscard]] inline std::uint64_t mix(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 29;
  return h;
}

// ---- compute-bound and triangular --------------------------------------------------------------

/// `rounds` dependent rounds of mix() from `seed`: a pure function whose cost is linear in
/// rounds and that no compiler can fold, since each round needs the previous one.
[[nodiscard]] inline std::uint64_t burn(std::uint64_t seed, std::uint64_t rounds) noexcept {
  std::uint64_t h = seed + 0x9e3779b97f4a7c15ULL;
  for (std::uint64_t r = 0; r < rounds; ++r) h = mix(h + r);
  return h;
}

/// How many rounds of burn() take `target` on this machine: the median of a few timed tries,
/// so that the compute-bound workload costs about `target` per item wherever it runs.
[[nodiscard]] inline std::uint64_t calibrate_rounds(std::chrono::nanoseconds target) {
  using clock = std::chrono::steady_clock;
  constexpr std::uint64_t probe = 200000;
  std::vector<double> ns_per_round;
  std::uint64_t sink = 0;
  for (int attempt = 0; attempt < 7; ++attempt) {
    auto seed = static_cast<std::uint64_t>(attempt);
    // The barriers keep the compiler from moving the pure call out of the timed span.
    benchmark::DoNotOptimize(seed);
    const auto t0 = clock::now();
    std::uint64_t h = burn(seed, probe);
    benchmark::DoNotOptimize(h);
    const auto t1 = clock::now();
    sink += h;
    ns_per_round.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                           static_cast<double>(probe));
  }
  benchmark::DoNotOptimize(sink);
  std::sort(ns_per_round.begin(), ns_per_round.end());
  const double per = ns_per_round[ns_per_round.size() / 2];
  const auto rounds = static_cast<std::uint64_t>(static_cast<double>(target.count()) / per);
  return rounds > 0 ? rounds : 1;
}

/// The triangular workload: item i of n costs 2*mean*(i+1)/n rounds, so the cost rises with the
/// index and the mean cost is `mean` rounds. A static split gives the last thread most of it.
struct triangular {
  std::uint64_t n = 1;
  std::uint64_t mean_rounds = 1;
  [[nodiscard]] std::uint64_t operator()(std::uint64_t i) const noexcept {
    return burn(i, 2 * mean_rounds * (i + 1) / n);
  }
};

// ---- Mandelbrot rows ---------------------------------------------------------------------------

/// One row of a width x height Mandelbrot image of the region [-2, 0.6] x [0, 1.2] (the upper
/// half: the set is symmetric, and a symmetric image would split evenly between two threads):
/// returns the sum of the escape iteration counts (capped at max_iter). Rows near the real axis
/// cross the set and cost up to max_iter per pixel, rows near the top a handful: an imbalance
/// nobody chose on purpose.
struct mandelbrot_row {
  std::uint32_t width = 256;
  std::uint32_t height = 256;
  std::uint32_t max_iter = 256;
  [[nodiscard]] std::uint64_t operator()(std::uint32_t row) const noexcept {
    const double y = 1.2 * static_cast<double>(row) / static_cast<double>(height);
    std::uint64_t total = 0;
    for (std::uint32_t col = 0; col < width; ++col) {
      const double x = -2.0 + 2.6 * static_cast<double>(col) / static_cast<double>(width);
      double zr = 0.0, zi = 0.0;
      std::uint32_t it = 0;
      while (it < max_iter && zr * zr + zi * zi <= 4.0) {
        const double t = zr * zr - zi * zi + x;
        zi = 2.0 * zr * zi + y;
        zr = t;
        ++it;
      }
      total += it;
    }
    return total;
  }
};

// ---- latency-bound -----------------------------------------------------------------------------

/// The latency-bound workload: each item waits `wait` (a stand-in for a web request or a disk
/// read) and uses no CPU meanwhile; more workers than cores help here.
struct sleeper {
  std::chrono::microseconds wait{};
  [[nodiscard]] int operator()(int item) const {
    std::this_thread::sleep_for(wait);
    return item;
  }
};

// ---- a real task: hashing files ----------------------------------------------------------------

/// 64-bit FNV-1a of a file's bytes. Throws std::runtime_error naming the file if it cannot be
/// read, so a failing item surfaces through parallel_map like any user error.
[[nodiscard]] inline std::uint64_t hash_file(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("parmap-bench: cannot read " + file.string());
  std::uint64_t h = 0xcbf29ce484222325ULL;
  unsigned char buffer[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
    for (std::size_t k = 0; k < got; ++k) {
      h ^= buffer[k];
      h *= 0x100000001b3ULL;
    }
  }
  std::fclose(f);
  return h;
}

/// The regular, readable files under `dir` (recursively, symlinks not followed), in path order,
/// at most `limit` of them. Throws std::invalid_argument if `dir` is not a readable directory.
[[nodiscard]] inline std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir,
                                                                   std::size_t limit) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::invalid_argument("parmap-bench: --dir " + dir.string() +
                                " is not a directory (the files workload hashes the files "
                                "under it)");
  }
  std::vector<fs::path> files;
  for (auto it =
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::erase_if(files, [](const fs::path& p) {
    std::FILE* f = std::fopen(p.c_str(), "rb");
    if (f == nullptr) return true;
    std::fclose(f);
    return false;
  });
  if (files.size() > limit) files.resize(limit);
  return files;
}

}  // namespace parmap::bench
