#pragma once
// The execution backends parmap can run a loop on, and how they are named.

#include <string_view>
#include <vector>

namespace parmap {

/// Where a parallel_map call runs. Every backend gives identical results and error behaviour.
enum class backend {
  serial,   ///< the calling thread alone, in index order: for debugging
  threads,  ///< parmap's own std::thread pool (always built in)
  openmp,   ///< an OpenMP `parallel for` (PARMAP_WITH_OPENMP)
  tbb,      ///< oneTBB `parallel_for` in a task_arena (PARMAP_WITH_TBB)
  stdpar,   ///< `std::for_each(std::execution::par, ...)` (PARMAP_WITH_STDPAR)
};

/// The backend used when options::backend is not set: the one the environment variable
/// PARMAP_BACKEND names (read once, at first use), else the one chosen at build time with
/// `cmake -DPARMAP_BACKEND=<name>` (default `threads`). When PARMAP_BACKEND names no built-in
/// backend, this returns a value outside the enum, and every call that uses it throws
/// std::invalid_argument saying what is wrong with the variable: nothing silently runs
/// elsewhere.
[[nodiscard]] backend default_backend() noexcept;

/// The backends compiled into this build, in enum order. serial and threads are always present;
/// stdpar only where the standard library really runs `std::execution::par` in parallel.
[[nodiscard]] std::vector<backend> available_backends();

/// True if `b` is compiled into this build.
[[nodiscard]] bool is_available(backend b) noexcept;

/// "serial", "threads", "openmp", "tbb" or "stdpar"; "unknown" for a value outside the enum.
[[nodiscard]] std::string_view to_string(backend b) noexcept;

/// The inverse of to_string; also accepts "omp" for openmp. Throws std::invalid_argument naming
/// the valid names otherwise. Does not check availability (see is_available).
[[nodiscard]] backend backend_from_string(std::string_view name);

}  // namespace parmap
