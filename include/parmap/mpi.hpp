#pragma once
// parmap::mpi::parallel_map: parallel_map across the ranks of an MPI communicator, with the
// local parmap backend (threads, OpenMP, TBB, ...) inside each rank. Link parmap::mpi.
//
//   MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
//   std::vector<double> in = rank == 0 ? load() : std::vector<double>{};
//   auto out = parmap::mpi::parallel_map(MPI_COMM_WORLD, in, simulate,
//                                        parmap::options{.threads = 8},
//                                        parmap::mpi::options{.all_gather = true});

#include <mpi.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "parmap/detail/call_recorder.hpp"
#include "parmap/detail/indexed_input.hpp"
#include "parmap/detail/mpi_engine.hpp"
#include "parmap/errors.hpp"
#include "parmap/mpi_serializer.hpp"
#include "parmap/options.hpp"
#include "parmap/outcome.hpp"
#include "parmap/parallel_map.hpp"

namespace parmap::mpi {

/// What a call did, filled on the root when mpi::options::report points at one.
struct call_report {
  /// Items per chunk when they were fixed: mpi::options::chunk, or the whole input when one
  /// rank ran it alone. 0: the automatic guided sizes (see mpi::options::chunk).
  std::size_t chunk = 0;
  /// chunks_per_rank[r]: chunks rank r mapped (one entry per rank of the communicator).
  std::vector<std::size_t> chunks_per_rank;
  /// items_per_rank[r]: items rank r mapped.
  std::vector<std::size_t> items_per_rank;
};

/// Options of the distributed part of a call. A plain aggregate; 0 means automatic.
/// root, chunk and all_gather must be equal on every rank (checked: std::invalid_argument on
/// every rank otherwise); report may differ.
struct options {
  /// The rank that reads the input, deals the chunks, and receives the results. It maps
  /// chunks too. Must be in [0, size of the communicator).
  int root = 0;
  /// Items per chunk, the unit a rank asks for. 0: automatic: with one rank, the whole input
  /// in one local call; with more, guided sizes: each claim takes the items left divided by
  /// 4 x ranks, but no fewer than n / (64 x ranks) (at least 1), so that the messages are few
  /// and uneven work still evens out at the end.
  std::size_t chunk = 0;
  /// false: the result vector is returned on the root, other ranks get an empty vector.
  /// true: every rank gets the full result vector (broadcast from the root).
  bool all_gather = false;
  /// If not null on the root, receives what the call did (see call_report), also when the
  /// call throws after it began mapping. Ignored on other ranks.
  call_report* report = nullptr;
};

/// An exception thrown by the mapped function (or by a serializer, or by the root's
/// on_progress) on some rank, as every rank rethrows it: the original type cannot cross
/// processes, its rank, index and text do.
/// When several items throw, the one with the lowest index wins, as in a serial loop.
/// It is also the error of every failed parmap::outcome that a catching function's call
/// returns (see parallel_map below).
class remote_error : public std::runtime_error {
 public:
  /// index() of an error whose item is not known: one inside an outcome that is not itself the
  /// function's result (an outcome nested in a pair, a vector, ...).
  static constexpr std::size_t unknown_index = static_cast<std::size_t>(-1);

  remote_error(int rank, std::size_t index, const std::string& original_what)
      : std::runtime_error(describe(rank, index, original_what)),
        rank_(rank),
        index_(index),
        original_(std::make_shared<const std::string>(original_what)) {}
  /// The rank (of the call's communicator) whose call of the function threw; -1 if unknown.
  [[nodiscard]] int rank() const noexcept { return rank_; }
  /// The index in the input of the item that threw; unknown_index if unknown.
  [[nodiscard]] std::size_t index() const noexcept { return index_; }
  /// what() of the original exception ("an exception not derived from std::exception"
  /// otherwise). For the error of a catching function's outcome: "TYPE: WHAT" (the
  /// exception's demangled type and its what() or thrown string), or "exception of type TYPE"
  /// for a type that carries no text.
  [[nodiscard]] const std::string& original_what() const noexcept { return *original_; }

 private:
  static std::string describe(int rank, std::size_t index, const std::string& original_what) {
    std::string s = "parmap::mpi: ";
    s += index == unknown_index ? std::string("an item") : "item " + std::to_string(index);
    s += " failed on ";
    s += rank < 0 ? std::string("an unknown rank") : "rank " + std::to_string(rank);
    return s + ": " + original_what;
  }

  int rank_;
  std::size_t index_;
  std::shared_ptr<const std::string> original_;  // shared: copying an exception must not throw
};

namespace detail {

/// The text a failed outcome's error travels with: "TYPE: WHAT" when the exception carries a
/// text (a std::exception, a thrown string), "exception of type TYPE" otherwise.
[[nodiscard]] inline std::string describe_exception(const std::exception_ptr& e) {
  std::string type = parmap::detail::exception_type_name(e);
  if (auto text = parmap::detail::exception_text(e)) return type + ": " + *text;
  return "exception of type " + type;
}

/// `e` as the remote_error every rank sees: `e` itself when it already is one, else a
/// remote_error naming `rank`, `index` and describe_exception(e).
[[nodiscard]] inline std::exception_ptr as_remote_error(const std::exception_ptr& e, int rank,
                                                        std::size_t index) {
  try {
    std::rethrow_exception(e);
  } catch (const remote_error&) {
    return e;
  } catch (...) {
  }
  return std::make_exception_ptr(remote_error(rank, index, describe_exception(e)));
}

/// This process's rank in MPI_COMM_WORLD, or -1 when MPI is not running.
[[nodiscard]] inline int world_rank_if_running() noexcept {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int rank = -1;
  if (initialized != 0 && finalized == 0) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

}  // namespace detail

/// Outcomes (parmap/outcome.hpp): a byte 1 and the value, or a byte 0 and the error. The
/// exception object itself cannot travel between processes: an error arrives as a
/// remote_error with the rank, index and original_what() it had (parallel_map turns the error
/// of every item of a catching function into one before it is sent, naming the rank that ran
/// the item and its index); any other exception, in an outcome that is not itself the
/// function's result, goes as a remote_error with the writer's rank in MPI_COMM_WORLD,
/// remote_error::unknown_index, and "TYPE: WHAT" of the exception.
template <class T>
requires(std::is_void_v<T> || serializable<T>) struct serializer<parmap::outcome<T>> {
  static void write(writer& w, const parmap::outcome<T>& o) {
    if (o.has_value()) {
      w.write(std::uint8_t{1});
      if constexpr (!std::is_void_v<T>) w.write(*o);
      return;
    }
    w.write(std::uint8_t{0});
    const std::exception_ptr e = detail::as_remote_error(o.error(), detail::world_rank_if_running(),
                                                         remote_error::unknown_index);
    try {
      std::rethrow_exception(e);
    } catch (const remote_error& r) {
      w.write(static_cast<std::int32_t>(r.rank()));
      w.write(static_cast<std::uint64_t>(r.index()));
      w.write(r.original_what());
    }
  }
  static parmap::outcome<T> read(reader& r) {
    if (r.read<std::uint8_t>() != 0) {
      if constexpr (std::is_void_v<T>) {
        return parmap::outcome<T>();
      } else {
        return parmap::outcome<T>(std::in_place, r.read<T>());
      }
    }
    const auto rank = r.read<std::int32_t>();
    const auto index = static_cast<std::size_t>(r.read<std::uint64_t>());
    auto what = r.read<std::string>();
    return parmap::outcome<T>(parmap::unexpect,
                              std::make_exception_ptr(remote_error(rank, index, what)));
  }
};

namespace detail {

/// How a worker rank hands a received item to the function: as the root's range would.
template <class Ref, class V>
using worker_arg_t = std::conditional_t<
    std::is_lvalue_reference_v<Ref>,
    std::conditional_t<std::is_const_v<std::remove_reference_t<Ref>>, const V&, V&>, V&&>;

/// Maps items [0, count) of one chunk with the local parmap backend; `item(i)` returns the
/// result of the chunk's i-th item. An item that throws is thrown as a chunk_failure that names
/// its index in the whole input (`first` is the chunk's first index there), so the one the
/// local call rethrows, its lowest failing item's, arrives located. The local call's report
/// goes to `rank_report`, which sums this rank's chunks (local.report, per rank).
template <class T, class Item>
std::vector<T> map_chunk(std::size_t first, std::size_t count, Item& item,
                         const parmap::options& local,
                         parmap::detail::call_recorder& rank_report) {
  auto located = [&item, first](std::size_t i) -> T {
    try {
      return item(i);
    } catch (const std::exception& e) {
      throw chunk_failure{failure_kind::item, first + i, e.what()};
    } catch (...) {
      throw chunk_failure{failure_kind::item, first + i,
                          "an exception not derived from std::exception"};
    }
  };
  parmap::call_report part;
  struct add_to_rank {
    parmap::detail::call_recorder& rank;
    const parmap::call_report& part;
    ~add_to_rank() { rank.merge(part); }
  } const on_exit{rank_report, part};
  parmap::options o = local;
  o.report = rank_report.on() ? &part : nullptr;
  try {
    return parmap::parallel_map(std::views::iota(std::size_t{0}, count), located, o);
  } catch (const parmap::timeout&) {
    throw chunk_failure{failure_kind::timeout, first, {}};
  } catch (const parmap::cancelled&) {
    throw chunk_failure{failure_kind::cancelled, first, {}};
  }
}

/// Everything one call's typed operations need, on any rank.
template <class R, class F, class T>
class typed_call final : public chunk_ops {
 public:
  using input = parmap::detail::indexed_input<std::remove_reference_t<R>>;
  using value = std::ranges::range_value_t<R>;
  /// What the root's fn receives for an item; other ranks receive the same value category.
  using reference = decltype(std::declval<input&>().items()(std::size_t{}));
  using arg = worker_arg_t<reference, value>;

  /// `rank`: this rank in the call's communicator (named in the errors of catching outcomes).
  /// `local`: this rank's options, whose report (if any) counts this rank's chunks.
  typed_call(F& fn, int rank, const parmap::options& local)
      : report(local.report, local.backend, local.schedule, threads_of(local), local.chunk),
        fn_(fn),
        rank_(rank) {}

  std::optional<input> in;                // on the root
  std::vector<std::optional<T>> results;  // on the root, one slot per item
  std::vector<T> gathered;                // on other ranks, with all_gather
  parmap::detail::call_recorder report;   // local.report: this rank's local work

  void write_items(std::size_t begin, std::size_t end, writer& out) override {
    auto item = in->items();
    for (std::size_t i = begin; i < end; ++i) {
      const value& x = item(i);
      out.write(x);
    }
  }
  void map_here(std::size_t begin, std::size_t end, const parmap::options& local) override {
    auto item = [this, begin, at = in->items()](std::size_t i) -> T {
      return std::invoke(fn_, at(begin + i));
    };
    std::vector<T> out = map_chunk<T>(begin, end - begin, item, local, report);
    seal(out, begin);
    for (std::size_t i = begin; i < end; ++i) results[i].emplace(std::move(out[i - begin]));
  }
  void read_results(std::size_t begin, std::size_t end, reader& from) override {
    for (std::size_t i = begin; i < end; ++i) results[i].emplace(from.read<T>());
  }
  void map_remote(std::size_t begin, std::size_t end, reader& from, writer& out,
                  const parmap::options& local) override {
    std::vector<value> items;
    items.reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i) items.push_back(from.read<value>());
    auto item = [this, &items](std::size_t i) -> T {
      return std::invoke(fn_, static_cast<arg>(items[i]));
    };
    std::vector<T> mapped = map_chunk<T>(begin, end - begin, item, local, report);
    seal(mapped, begin);
    for (const T& r : mapped) out.write(r);
  }
  void write_all(writer& out) override {
    for (const auto& r : results) out.write(*r);
  }
  void read_all(std::size_t size, reader& from) override {
    gathered.reserve(size);
    for (std::size_t i = 0; i < size; ++i) gathered.push_back(from.read<T>());
  }

 private:
  /// The local thread count for the report; bad options are the engine's to reject, on every
  /// rank alike, so they must not throw here.
  static int threads_of(const parmap::options& local) noexcept {
    try {
      return parmap::resolve_threads(local.threads);
    } catch (...) {
      return 1;
    }
  }

  /// With a catching function (T an outcome): replaces the error of each failed item of the
  /// chunk that starts at `first` by the remote_error every rank will see, naming this rank and
  /// the item's index. Done where the item ran, the root included, so that an outcome does not
  /// depend on which rank mapped it, and because only there are the rank and index known.
  void seal(std::vector<T>& chunk, std::size_t first) const {
    if constexpr (is_outcome_v<T>) {
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        if (chunk[i].has_value()) continue;
        std::exception_ptr e = as_remote_error(chunk[i].error(), rank_, first + i);
        // Rebuilt in place: T need not be assignable, and the error constructor cannot throw
        // with a non-null exception.
        std::destroy_at(&chunk[i]);
        std::construct_at(&chunk[i], parmap::unexpect, std::move(e));
      }
    }
  }

  F& fn_;
  const int rank_;
};

}  // namespace detail

/// The result type of mapping F over R across ranks.
template <class R, class F>
using map_result_t = std::remove_cvref_t<parmap::map_result_t<R, F>>;

/// Returns {fn(x) for x in input}, in input order, computed by every rank of `comm` together:
/// the same loop as parmap::parallel_map, with the items dealt out in chunks to the ranks that
/// ask for work, and each chunk mapped inside its rank by parmap::parallel_map with `local`
/// (backend, threads, chunk, schedule, placement, stop, deadline).
///
/// The rules of a call are parmap::parallel_map's, across ranks (the root keeps them):
/// - local.on_progress: the root's is called, on the root only, with the items finished on
///   every rank as their results arrive (and as the root's own chunks go), at most about 20
///   times a second, never concurrently, from any of the root's threads, and exactly once
///   with done == total when the call succeeds. Other ranks' on_progress is
///   never called, so it need not agree across ranks. A progress callback that throws fails
///   the call: every rank throws a remote_error naming the root and its text.
/// - local.stop and local.deadline: each rank watches its own. One seen on any rank, before a
///   chunk starts there or when a rank finishes one, reaches the root, which then deals no
///   further chunk anywhere; every rank throws parmap::cancelled (parmap::timeout for a
///   deadline). One seen only once every chunk was dealt and started is not a failure: the
///   call succeeds, since nothing was left undone. Inside a chunk, the local call sees them
///   as usual.
/// - local.report: per rank. Each rank's report sums the local calls of the chunks that rank
///   mapped (items, chunks, per-thread items and busy time over its local threads), with the
///   wall time of the whole call on that rank; filled on return and when the call throws.
///   opt.report (mpi::call_report) is the root's view of the ranks.
///
/// SPMD: every rank of `comm` calls it with the same `opt.root`, `opt.chunk` and
/// `opt.all_gather`. Only the root's `input` is read; other ranks pass an empty range, or one
/// of the same size (which is not read). Returns the results on the root, and on every rank
/// when opt.all_gather is set; otherwise other ranks get an empty vector.
///
/// Items and results cross ranks through parmap::mpi::serializer (mpi_serializer.hpp):
/// trivially copyable types as raw bytes, strings, vectors, pairs, tuples and optionals out of
/// the box, any other type through a specialization. fn runs on every rank (each its own copy)
/// and must be safe to call concurrently from `local`'s threads; it must not make MPI calls
/// (on the root it runs on a helper thread). An error of fn is the same whichever rank ran it:
/// a remote_error, also when that rank is the root, so the outcome does not depend on the deal.
///
/// Keeping going past failures: with fn = parmap::catching(g), the call returns one
/// parmap::outcome per item and does not stop at a failure. The exception object cannot travel
/// between processes, so the error of every failed item, on every rank (the root's own items
/// included), is a remote_error naming the rank that ran it, its index, and "TYPE: WHAT" of
/// g's exception (remote_error::original_what()); outcome::what() is the remote_error's what(),
/// and parmap::failures(results) lists them. parmap::cancelled still ends the call.
///
/// MPI: must be initialized, not finalized, with MPI_THREAD_FUNNELED or more; only the calling
/// thread makes MPI calls (on the root, a helper thread maps chunks while the caller serves
/// the other ranks), so with FUNNELED it must be the main thread. The call duplicates `comm`
/// for its messages, so they never meet the program's own; calls on one communicator run one
/// at a time, in the same order on every rank, like any collective. `local.threads` counts per
/// rank: with several ranks on one machine, give each rank its share of the cores (and launch
/// with `mpirun --bind-to none`, or Open MPI pins each rank to a single core).
///
/// Throws, on every rank alike, so that SPMD code stays in step:
/// - std::invalid_argument before any work: bad local options, opt.root out of range, root,
///   chunk or all_gather that differ across ranks, a non-root input whose size is neither 0
///   nor the root's. (MPI_COMM_NULL, an intercommunicator, or MPI not ready are reported at
///   once by the rank that sees it, std::invalid_argument or std::logic_error.)
/// - remote_error when fn (or a serializer) threw on any rank: the lowest failing index.
/// - parmap::cancelled / parmap::timeout when a rank's local stop token or deadline kept a
///   chunk from being mapped and no item failed.
/// Every rank returns (or throws) only after every rank has learnt the outcome. Empty input
/// returns empty vectors without calling fn; with one rank no message is sent.
template <std::ranges::input_range R, class F>
requires std::invocable<F&, std::ranges::range_reference_t<R>>
[[nodiscard]] auto parallel_map(MPI_Comm comm, R&& input, F&& fn, const parmap::options& local = {},
                                const options& opt = {}) -> std::vector<map_result_t<R, F>> {
  using T = map_result_t<R, F>;
  using V = std::ranges::range_value_t<R>;
  using call = detail::typed_call<R, std::remove_reference_t<F>, T>;
  static_assert(!std::is_void_v<T>, "parmap::mpi::parallel_map: fn must return a value");
  static_assert(serializable<V>,
                "parmap::mpi::parallel_map: the input's element type has no serializer; "
                "specialize parmap::mpi::serializer<T> (see parmap/mpi_serializer.hpp)");
  static_assert(serializable<T>,
                "parmap::mpi::parallel_map: fn's result type has no serializer; "
                "specialize parmap::mpi::serializer<T> (see parmap/mpi_serializer.hpp)");
  static_assert(std::invocable<F&, typename call::arg>,
                "parmap::mpi::parallel_map: fn must also accept the element type as the "
                "range's reference would pass it (items arrive as values on other ranks)");
  static_assert(std::is_move_constructible_v<T>,
                "parmap::mpi::parallel_map: fn's result type must be move-constructible");

  const detail::place where = detail::check_environment(comm);
  call c(fn, where.rank, local);
  std::size_t input_size = 0;
  std::string problem;
  try {
    if (where.rank == opt.root) {
      c.in.emplace(input);
      input_size = c.in->size();
      c.results.resize(input_size);
    } else if constexpr (std::ranges::sized_range<R>) {
      input_size = static_cast<std::size_t>(std::ranges::size(input));
    } else if constexpr (std::ranges::forward_range<R>) {
      input_size = static_cast<std::size_t>(std::ranges::distance(input));
    }
  } catch (const std::exception& e) {
    problem = std::string("could not read the input: ") + e.what();
  }
  try {
    detail::run(comm, where, opt, local, input_size, problem, c);
  } catch (...) {
    c.report.publish();
    throw;
  }
  c.report.publish();

  std::vector<T> out;
  if (where.rank == opt.root) {
    out.reserve(c.results.size());
    for (auto& r : c.results) out.push_back(std::move(*r));
  } else {
    out = std::move(c.gathered);
  }
  return out;
}

}  // namespace parmap::mpi
