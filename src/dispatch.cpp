// The front door of every call: backend names and availability, the option rules, and the one
// #if ladder that maps a backend to the file that runs it.
#include <sched.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "backends/chunked_call.hpp"
#include "cpu_allowance.hpp"
#include "join.hpp"
#include "parmap/config.hpp"
#include "parmap/errors.hpp"
#include "process_cpus.hpp"
#include "tsan.hpp"

namespace parmap {
namespace {

constexpr std::array<std::string_view, 5> backend_names = {"serial", "threads", "openmp", "tbb",
                                                           "stdpar"};

constexpr bool built_in(backend b) noexcept {
  switch (b) {
    case backend::serial:
    case backend::threads: return true;
    case backend::openmp: return PARMAP_HAS_OPENMP;
    case backend::tbb: return PARMAP_HAS_TBB;
    case backend::stdpar: return PARMAP_HAS_STDPAR;
  }
  return false;
}

/// PARMAP_BACKEND from the environment, or the build's choice. When the environment names
/// something unusable, the default is a value outside the enum, and every call that uses it
/// fails with `error` instead of silently running elsewhere.
struct default_choice {
  backend value = backend_from_string(PARMAP_DEFAULT_BACKEND_NAME);
  std::string error;
};
constexpr auto unusable_default = static_cast<backend>(255);

const default_choice& the_default() {
  // Never destroyed: calls made while the process exits read it too.
  static const default_choice* const choice = new default_choice([] {
    default_choice c;
    const char* env = std::getenv("PARMAP_BACKEND");
    if (env == nullptr || *env == '\0') return c;
    try {
      c.value = backend_from_string(env);
      if (!is_available(c.value)) {
        c.error = "parmap: PARMAP_BACKEND=" + std::string(env) +
                  " names a backend that is not built in (available: " +
                  detail::available_backend_list() + ")";
      }
    } catch (const std::invalid_argument&) {
      c.error = "parmap: PARMAP_BACKEND=" + std::string(env) +
                " is not a backend (valid names: serial, threads, openmp or omp, tbb, stdpar)";
    }
    if (!c.error.empty()) c.value = unusable_default;
    return c;
  }());
  return *choice;
}

}  // namespace

backend default_backend() noexcept {
  try {
    return the_default().value;
  } catch (...) {
    return backend::threads;
  }
}

bool is_available(backend b) noexcept { return built_in(b); }

std::vector<backend> available_backends() {
  std::vector<backend> out;
  for (std::size_t i = 0; i < backend_names.size(); ++i) {
    if (built_in(static_cast<backend>(i))) out.push_back(static_cast<backend>(i));
  }
  return out;
}

std::string_view to_string(backend b) noexcept {
  const auto i = static_cast<std::size_t>(b);
  return i < backend_names.size() ? backend_names[i] : std::string_view("unknown");
}

backend backend_from_string(std::string_view name) {
  if (name == "omp") return backend::openmp;
  for (std::size_t i = 0; i < backend_names.size(); ++i) {
    if (name == backend_names[i]) return static_cast<backend>(i);
  }
  throw std::invalid_argument("parmap: unknown backend '" + std::string(name) +
                              "' (valid names: serial, threads, openmp or omp, tbb, stdpar)");
}

std::string_view to_string(schedule s) noexcept {
  switch (s) {
    case schedule::automatic: return "automatic";
    case schedule::static_: return "static";
    case schedule::dynamic: return "dynamic";
    case schedule::guided: return "guided";
  }
  return "unknown";
}

std::string_view to_string(placement p) noexcept {
  switch (p) {
    case placement::none: return "none";
    case placement::spread: return "spread";
    case placement::close: return "close";
  }
  return "unknown";
}

unsigned usable_cpus() noexcept {
  return static_cast<unsigned>(CPU_COUNT(&detail::process_cpu_mask()));
}

int resolve_threads(int threads) {
  if (threads > max_threads || threads < -max_threads) {
    throw std::invalid_argument("parmap: options.threads = " + std::to_string(threads) +
                                " is out of range (|threads| <= " +
                                std::to_string(max_threads) + ")");
  }
  if (threads > 0) return threads;
  const auto& allowance = detail::process_allowance();
  if (threads == 0) {
    if (!allowance.error.empty()) throw std::invalid_argument(allowance.error);
    return static_cast<int>(allowance.allowance.threads);
  }
  // Counted from what the machine allows, not from PARMAP_NUM_THREADS: "all CPUs but one"
  // should not change meaning with a variable that sets the default.
  return std::max(static_cast<int>(allowance.quota_threads) + 1 + threads, 1);
}

namespace detail {

plan make_plan(const options& opt) {
  if (!built_in(opt.backend)) {
    const auto& def = the_default();
    if (opt.backend == def.value && !def.error.empty()) throw std::invalid_argument(def.error);
    const auto b = static_cast<std::size_t>(opt.backend);
    if (b >= backend_names.size()) {
      throw std::invalid_argument("parmap: options.backend = " + std::to_string(b) +
                                  " is not a backend (available: " + available_backend_list() +
                                  ")");
    }
    throw std::invalid_argument("parmap: backend '" + std::string(to_string(opt.backend)) +
                                "' is not built in (available: " + available_backend_list() +
                                ")");
  }
  const auto s = static_cast<std::size_t>(opt.schedule);
  if (s > static_cast<std::size_t>(schedule::guided)) {
    throw std::invalid_argument("parmap: options.schedule = " + std::to_string(s) +
                                " is not a schedule (automatic, static_, dynamic, guided)");
  }
  const auto where = static_cast<std::size_t>(opt.placement);
  if (where > static_cast<std::size_t>(placement::close)) {
    throw std::invalid_argument("parmap: options.placement = " + std::to_string(where) +
                                " is not a placement (none, spread, close)");
  }
  return plan{opt.backend, resolve_threads(opt.threads), opt.chunk, opt.schedule};
}

void execute(const plan& p, const options& opt, std::size_t size, chunk_body body, void* ctx) {
  // Never more threads than chunks: small inputs make no empty chunks and wake no idle threads.
  std::size_t threads = static_cast<std::size_t>(p.threads);
  if (p.chunk != 0) threads = std::min(threads, chunk_count(size, p.chunk));
  threads = std::min(threads, size);
  if (size == 0) {
    call_recorder(opt.report, p.backend, p.schedule, 0, p.chunk).publish();
    return;
  }
  call_state state(p, opt, static_cast<int>(threads), size, body, ctx);
  const chunked_call call{size, static_cast<int>(threads), p.chunk, p.schedule, opt.placement,
                          &state};

  // A call already stopped or late ends before any thread is woken.
  if (!state.rules().may_start(0)) {
    state.recorder().publish();
    state.rules().finish();
  }

  // The caller works as one of the call's threads: whatever a placement pins, it gets back
  // exactly its own mask when the call ends, also when fn throws.
  const placement_scope caller_placement;
  tsan_release(&state);
  switch (p.backend) {
    case backend::serial: run_serial(call); break;
    case backend::threads: run_threads(call); break;
#if PARMAP_HAS_OPENMP
    case backend::openmp: run_openmp(call); break;
#endif
#if PARMAP_HAS_TBB
    case backend::tbb: run_tbb(call); break;
#endif
#if PARMAP_HAS_STDPAR
    case backend::stdpar: run_stdpar(call); break;
#endif
    default: throw std::logic_error("parmap: make_plan let an unavailable backend through");
  }
  tsan_acquire(&state);
  state.recorder().publish();
  state.rules().finish();
}

}  // namespace detail
}  // namespace parmap
