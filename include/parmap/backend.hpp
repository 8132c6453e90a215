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

/// The backend used when options::backend is not set: the environment variable PARMAP_BACKEND
/// if it names a built-in backend, else the one chosen at build time with
/// `cmake -DPARMAP_BACKEND=<name>` (default `threads`). The variable is read once, at first use;
/// a PARMAP_BACKEND that names no built-in backend is reported by parallel_map as an
/// std::invalid_argument when the default is used.
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
