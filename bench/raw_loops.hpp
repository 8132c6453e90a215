#pragma once
// The hand-written loops that parmap's backends wrap, measured beside them so that each
// backend's overhead is a ratio taken in one run: a plain serial loop, `#pragma omp parallel
// for`, `tbb::parallel_for` and `std::transform(std::execution::par, ...)`. Each is what a
// careful user writes by hand: static OpenMP schedule, TBB's default partitioner, and the
// library's default pool when the thread count is the whole machine (an arena of that many
// slots otherwise, which is how TBB limits a loop's threads).

#include <cstddef>
#include <map>
#include <memory>
#include <parmap/config.hpp>
#include <parmap/parmap.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#if PARMAP_HAS_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#endif
#if PARMAP_HAS_STDPAR
#include <algorithm>
#include <execution>
#endif

namespace parmap::bench {

/// A hand-written loop, the baseline of one backend.
enum class raw_loop { serial, openmp, tbb, stdpar };

/// "raw_serial", "raw_openmp", "raw_tbb" or "raw_stdpar": the implementation names in results.
[[nodiscard]] inline std::string_view to_string(raw_loop r) noexcept {
  switch (r) {
    case raw_loop::serial:
      return "raw_serial";
    case raw_loop::openmp:
      return "raw_openmp";
    case raw_loop::tbb:
      return "raw_tbb";
    case raw_loop::stdpar:
      return "raw_stdpar";
  }
  return "raw_unknown";
}

/// The raw loops this build can run: they need the same dependencies as their backends.
[[nodiscard]] inline std::vector<raw_loop> available_raw_loops() {
  std::vector<raw_loop> loops{raw_loop::serial};
  if (PARMAP_HAS_OPENMP) loops.push_back(raw_loop::openmp);
  if (PARMAP_HAS_TBB) loops.push_back(raw_loop::tbb);
  if (PARMAP_HAS_STDPAR) loops.push_back(raw_loop::stdpar);
  return loops;
}

/// The raw loop a backend is measured against. The threads backend has no raw form of its own;
/// it is held to raw OpenMP, the fastest hand-written fork-join on Linux.
[[nodiscard]] inline raw_loop partner_of(parmap::backend b) noexcept {
  switch (b) {
    case parmap::backend::serial:
      return raw_loop::serial;
    case parmap::backend::tbb:
      return raw_loop::tbb;
    case parmap::backend::stdpar:
      return raw_loop::stdpar;
    case parmap::backend::threads:
    case parmap::backend::openmp:
      return raw_loop::openmp;
  }
  return raw_loop::serial;
}

template <class In, class Out, class F>
void raw_serial_loop(const In& in, Out& out, F& fn) {
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) out[i] = fn(in[i]);
}

#if PARMAP_HAS_OPENMP
template <class In, class Out, class F>
void raw_openmp_loop(int threads, const In& in, Out& out, F& fn) {
  const std::size_t n = in.size();
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t i = 0; i < n; ++i) out[i] = fn(in[i]);
}
#endif

#if PARMAP_HAS_TBB
/// One arena per thread count, made once: building it is setup, not loop cost.
inline tbb::task_arena& raw_arena(int threads) {
  static std::map<int, std::unique_ptr<tbb::task_arena>> arenas;
  auto& a = arenas[threads];
  if (!a) {
    a = std::make_unique<tbb::task_arena>(threads, 1);
    a->initialize();
  }
  return *a;
}

/// Runs f directly when the loop may use the whole machine, else in an arena of `threads`.
template <class G>
void in_tbb_arena(int threads, G&& g) {
  if (static_cast<unsigned>(threads) == parmap::usable_cpus()) {
    g();
  } else {
    raw_arena(threads).execute(g);
  }
}

template <class In, class Out, class F>
void raw_tbb_loop(int threads, const In& in, Out& out, F& fn) {
  in_tbb_arena(threads, [&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, in.size()),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t i = r.begin(); i != r.end(); ++i) out[i] = fn(in[i]);
                      });
  });
}
#endif

#if PARMAP_HAS_STDPAR
template <class In, class Out, class F>
void raw_stdpar_loop(int threads, const In& in, Out& out, F& fn) {
  in_tbb_arena(threads, [&] {
    std::transform(std::execution::par, in.begin(), in.end(), out.begin(),
                   [&fn](const auto& x) { return fn(x); });
  });
}
#endif

/// out[i] = fn(in[i]) for every i, by the hand-written loop `kind` on `threads` threads.
/// Throws std::invalid_argument if that loop is not built in.
template <class In, class Out, class F>
void raw_transform(raw_loop kind, int threads, const In& in, Out& out, F& fn) {
  switch (kind) {
    case raw_loop::serial:
      return raw_serial_loop(in, out, fn);
#if PARMAP_HAS_OPENMP
    case raw_loop::openmp:
      return raw_openmp_loop(threads, in, out, fn);
#endif
#if PARMAP_HAS_TBB
    case raw_loop::tbb:
      return raw_tbb_loop(threads, in, out, fn);
#endif
#if PARMAP_HAS_STDPAR
    case raw_loop::stdpar:
      return raw_stdpar_loop(threads, in, out, fn);
#endif
    default:
      break;
  }
  throw std::invalid_argument("parmap-bench: " + std::string(to_string(kind)) +
                              " is not built in (its backend's dependency was not found)");
}

}  // namespace parmap::bench
