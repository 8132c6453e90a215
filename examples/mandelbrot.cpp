// The Mandelbrot set of the Computer Language Benchmarks Game, written in place: one call of
// parallel_for per row of the image, each writing its row of bytes (8 pixels per byte, as in a
// PBM bitmap) straight into the one image buffer. Nothing is returned, nothing is allocated
// per row. The program checks the image against a plain serial loop, byte for byte.
//
//   example_mandelbrot [size] [out.pbm]     (default 1600 x 1600; writes the image if asked)
#include <parmap/parmap.hpp>

#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr int max_iterations = 50;

/// Row y of a size x size image of the set over [-1.5, 0.5] x [-1, 1], packed 8 pixels per
/// byte, the leftmost pixel in the high bit; a pixel is set when its point stays bounded.
void render_row(std::size_t size, std::size_t y, unsigned char* row) {
  const double ci = 2.0 * static_cast<double>(y) / static_cast<double>(size) - 1.0;
  const std::size_t row_bytes = (size + 7) / 8;
  for (std::size_t byte = 0; byte < row_bytes; ++byte) {
    unsigned bits = 0;
    for (std::size_t bit = 0; bit < 8; ++bit) {
      const std::size_t x = byte * 8 + bit;
      bool inside = false;
      if (x < size) {
        const double cr = 2.0 * static_cast<double>(x) / static_cast<double>(size) - 1.5;
        double zr = 0.0, zi = 0.0;
        int i = 0;
        for (; i < max_iterations && zr * zr + zi * zi <= 4.0; ++i) {
          const double t = zr * zr - zi * zi + cr;
          zi = 2.0 * zr * zi + ci;
          zr = t;
        }
        inside = i == max_iterations;
      }
      bits = (bits << 1) | (inside ? 1u : 0u);
    }
    row[byte] = static_cast<unsigned char>(bits);
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t size = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1600;
  if (size == 0) {
    std::fprintf(stderr, "usage: example_mandelbrot [size > 0] [out.pbm]\n");
    return 2;
  }
  const std::size_t row_bytes = (size + 7) / 8;

  // The serial loop, as a reference.
  auto start = std::chrono::steady_clock::now();
  std::vector<unsigned char> expected(size * row_bytes);
  for (std::size_t y = 0; y < size; ++y) render_row(size, y, &expected[y * row_bytes]);
  const double serial_s = seconds_since(start);

  // The same loop with parmap: each call writes its own row, so no two calls share a byte.
  start = std::chrono::steady_clock::now();
  std::vector<unsigned char> image(size * row_bytes);
  parmap::parallel_for(size, [&](std::size_t y) { render_row(size, y, &image[y * row_bytes]); });
  const double parallel_s = seconds_since(start);

  std::size_t inside = 0;
  for (unsigned char b : image) inside += static_cast<std::size_t>(std::popcount(b));
  std::printf("%zu x %zu pixels, %zu in the set\n", size, size, inside);
  std::printf("serial loop    %8.1f ms\n", serial_s * 1e3);
  std::printf("parallel_for   %8.1f ms  (%u usable CPUs)\n", parallel_s * 1e3,
              parmap::usable_cpus());
  if (image != expected) {
    std::printf("the image differs from the serial loop's\n");
    return 1;
  }
  std::printf("the image is identical to the serial loop's, byte for byte\n");

  if (argc > 2) {
    std::ofstream out(argv[2], std::ios::binary);
    out << "P4\n" << size << ' ' << size << '\n';
    out.write(reinterpret_cast<const char*>(image.data()),
              static_cast<std::streamsize>(image.size()));
    if (!out) {
      std::fprintf(stderr, "could not write %s\n", argv[2]);
      return 1;
    }
    std::printf("wrote %s\n", argv[2]);
  }
  return 0;
}
