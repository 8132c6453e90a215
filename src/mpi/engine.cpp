// The protocol of parmap::mpi::parallel_map.
//
// The root deals chunks; the other ranks ("workers") map them and send the results back.
// On the root, the calling thread does all the MPI work (so MPI_THREAD_FUNNELED suffices)
// while a helper thread maps chunks, claiming them from the same counter the dealer uses.
// Each worker holds up to `depth` chunks, so it finds its next chunk waiting when it finishes
// one. When no chunk is left (or a failure or stop ends the dealing) and every dealt chunk has
// come back, the root sends every worker a final message with the outcome, so every rank learns
// it and returns; then, with all_gather, it broadcasts the results.
//
// Waiting never spins for long: MPI implementations busy-poll in MPI_Wait, which would take a
// core from the ranks and threads that compute, so waits poll with MPI_Test/MPI_Improbe and
// sleep between polls, backing off to half a millisecond.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "parmap/detail/chunking.hpp"
#include "parmap/detail/execute.hpp"
#include "parmap/errors.hpp"
#include "parmap/mpi.hpp"

namespace parmap::mpi::detail {
namespace {

namespace chunking = parmap::detail::chunking;

// Message tags on the call's private (duplicated) communicator.
constexpr int tag_chunk = 1;   // root -> worker: u64 begin, u64 end, items
constexpr int tag_result = 2;  // worker -> root: u64 begin, u64 end, u8 status, results|failure
constexpr int tag_final = 3;   // root -> worker: the outcome (see outcome::write)

// Chunks a worker holds at once: the one it maps and the one waiting behind it.
constexpr std::size_t depth = 2;
// Broadcasts of all_gather go in pieces MPI's int counts can carry.
constexpr std::size_t bcast_piece = std::size_t{1} << 30;

constexpr std::uint8_t status_ok = 0;
constexpr std::uint8_t status_failed = 1;
constexpr std::uint8_t status_skipped = 2;  // not mapped: a lower index of this rank failed

[[noreturn]] void throw_mpi(int rc, const char* call) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(std::string("parmap::mpi: ") + call +
                           " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

// MPI errors reach us only where the communicator's error handler returns them.
void check(int rc, const char* call) {
  if (rc != MPI_SUCCESS) throw_mpi(rc, call);
}

// Polite waiting: polls for a few microseconds (a reply is often that close), yielding so that
// a rank sharing the core runs meanwhile, then sleeps, doubling the sleep up to half a
// millisecond.
class backoff {
 public:
  void pause() {
    const auto now = std::chrono::steady_clock::now();
    if (now - since_ < spin_for) {
      std::this_thread::yield();
      return;
    }
    std::this_thread::sleep_for(sleep_);
    sleep_ = std::min(sleep_ * 2, std::chrono::microseconds(500));
  }
  void reset() {
    since_ = std::chrono::steady_clock::now();
    sleep_ = std::chrono::microseconds(10);
  }

 private:
  static constexpr std::chrono::microseconds spin_for{20};
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::chrono::microseconds sleep_{10};
};

int byte_count(std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX)) {
    throw std::runtime_error("parmap::mpi: a message of " + std::to_string(size) +
                             " bytes exceeds MPI's limit of 2^31 - 1; set mpi::options::chunk "
                             "smaller");
  }
  return static_cast<int>(size);
}

// A send in flight and the buffer it reads.
struct pending_send {
  MPI_Request request;
  std::vector<std::byte> bytes;
};

class sender {
 public:
  explicit sender(MPI_Comm comm) : comm_(comm) {}
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;
  // Only an MPI failure unwinds past sends in flight. Waiting for them could then hang, and
  // freeing their buffers could let MPI read freed memory: let MPI finish them on its own and
  // give it the buffers for good.
  ~sender() {
    for (auto& s : sends_) {
      if (s.request == MPI_REQUEST_NULL) continue;
      MPI_Request_free(&s.request);
      new std::vector<std::byte>(std::move(s.bytes));  // deliberately never freed
    }
  }

  void send(std::vector<std::byte> bytes, int to, int tag) {
    sends_.push_back({MPI_REQUEST_NULL, std::move(bytes)});
    auto& s = sends_.back();
    check(
        MPI_Isend(s.bytes.data(), byte_count(s.bytes.size()), MPI_BYTE, to, tag, comm_, &s.request),
        "MPI_Isend");
  }
  // Forgets the sends that completed; true if one did.
  bool progress() {
    const auto before = sends_.size();
    std::erase_if(sends_, [](pending_send& s) {
      int done = 0;
      check(MPI_Test(&s.request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      return done != 0;
    });
    return sends_.size() != before;
  }
  void finish() {
    backoff wait;
    while (!sends_.empty()) {
      if (!progress()) wait.pause();
    }
  }

 private:
  MPI_Comm comm_;
  std::vector<pending_send> sends_;
};

// A received message, if one from `from` with `tag` (either may be MPI_ANY_*) has arrived.
struct message {
  int source;
  int tag;
  std::vector<std::byte> bytes;
};

std::optional<message> try_receive(MPI_Comm comm, int from, int tag) {
  int found = 0;
  MPI_Message handle;
  MPI_Status status;
  check(MPI_Improbe(from, tag, comm, &found, &handle, &status), "MPI_Improbe");
  if (!found) return std::nullopt;
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  message m{status.MPI_SOURCE, status.MPI_TAG,
            std::vector<std::byte>(static_cast<std::size_t>(count))};
  check(MPI_Mrecv(m.bytes.data(), count, MPI_BYTE, &handle, MPI_STATUS_IGNORE), "MPI_Mrecv");
  return m;
}

// The collective calls below all come after the agreement, in the same order on every rank.
void bcast_bytes(std::vector<std::byte>& bytes, int root, MPI_Comm comm) {
  auto size = static_cast<std::uint64_t>(bytes.size());
  check(MPI_Bcast(&size, 1, MPI_UINT64_T, root, comm), "MPI_Bcast");
  bytes.resize(static_cast<std::size_t>(size));
  for (std::size_t at = 0; at < bytes.size(); at += bcast_piece) {
    const std::size_t piece = std::min(bcast_piece, bytes.size() - at);
    check(MPI_Bcast(bytes.data() + at, static_cast<int>(piece), MPI_BYTE, root, comm), "MPI_Bcast");
  }
}

// How the call ended, as the root decides and every rank learns it.
struct outcome {
  // Lowest failing item so far; index == npos: none.
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
  std::size_t index = npos;
  int rank = -1;
  std::string what;
  // A stop or deadline that cut the work short (used only when no item failed).
  std::optional<failure_kind> stopped;

  void note(failure_kind kind, std::size_t at, int on_rank, std::string text) {
    if (kind == failure_kind::item) {
      if (at < index) {
        index = at;
        rank = on_rank;
        what = std::move(text);
      }
    } else if (!stopped || kind == failure_kind::timeout) {
      stopped = kind;
    }
  }
  [[nodiscard]] bool failed() const noexcept { return index != npos || stopped.has_value(); }

  void write(writer& w) const {
    w.write(static_cast<std::uint64_t>(index));
    w.write(static_cast<std::int32_t>(rank));
    w.write(what);
    w.write(static_cast<std::uint8_t>(stopped ? static_cast<std::uint8_t>(*stopped) : 0));
  }
  static outcome read(reader& r) {
    outcome o;
    o.index = static_cast<std::size_t>(r.read<std::uint64_t>());
    o.rank = r.read<std::int32_t>();
    o.what = r.read<std::string>();
    if (const auto s = r.read<std::uint8_t>(); s != 0) o.stopped = static_cast<failure_kind>(s);
    return o;
  }
  // Throws what every rank throws for this outcome; returns if the call succeeded.
  void rethrow() const {
    if (index != npos) throw remote_error(rank, index, what);
    if (stopped == failure_kind::timeout) throw parmap::timeout();
    if (stopped == failure_kind::cancelled) throw parmap::cancelled();
  }
};

// Runs body(), which maps or serializes the chunk that starts at `begin`, and returns what it
// threw as a failure: a chunk_failure as it is, any other exception at `begin`.
template <class Body>
std::optional<chunk_failure> guarded(std::size_t begin, Body&& body) noexcept {
  try {
    body();
    return std::nullopt;
  } catch (chunk_failure& f) {
    return std::move(f);
  } catch (const std::exception& e) {
    try {
      return chunk_failure{failure_kind::item, begin, e.what()};
    } catch (...) {
      return chunk_failure{failure_kind::item, begin, {}};
    }
  } catch (...) {
    return chunk_failure{failure_kind::item, begin, {}};
  }
}

// ---- checks before any work ------------------------------------------------------------------

// What only this rank can know is wrong with the call.
std::string check_local(const parmap::options& local) {
  if (local.on_progress) {
    return "parmap::options::on_progress is not supported by parmap::mpi::parallel_map "
           "(leave it empty)";
  }
  try {
    (void)parmap::detail::make_plan(local);
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

// The same on every rank once the ranks agree on the root.
void check_root(const parmap::mpi::options& opt, place where) {
  if (opt.root < 0 || opt.root >= where.size) {
    throw std::invalid_argument("parmap::mpi::parallel_map: mpi::options::root is " +
                                std::to_string(opt.root) + " but the communicator has " +
                                std::to_string(where.size) + " rank" +
                                (where.size == 1 ? "" : "s"));
  }
}

// Every rank contributes its arguments; every rank sees the same verdict and throws the same
// std::invalid_argument when they do not fit. Returns the input size (the root's).
std::size_t agree(MPI_Comm comm, place where, const parmap::mpi::options& opt,
                  std::size_t input_size, const std::string& problem) {
  const bool is_root = where.rank == opt.root;
  const auto u = [](auto v) { return static_cast<std::uint64_t>(v); };
  // A maximum over v and over ~v gives both the maximum and the minimum in one reduction.
  std::uint64_t v[] = {
      u(static_cast<std::int64_t>(opt.root)),
      ~u(static_cast<std::int64_t>(opt.root)),
      u(opt.chunk),
      ~u(opt.chunk),
      u(opt.all_gather ? 1 : 0),
      ~u(opt.all_gather ? 1 : 0),
      is_root ? u(input_size) : 0,                       // the root's size
      !is_root ? u(input_size) : 0,                      // largest other size
      !is_root && input_size != 0 ? ~u(input_size) : 0,  // smallest non-zero other size
      problem.empty() ? 0 : u(where.size - where.rank),  // lowest rank with a problem
  };
  check(MPI_Allreduce(MPI_IN_PLACE, v, static_cast<int>(std::size(v)), MPI_UINT64_T, MPI_MAX, comm),
        "MPI_Allreduce");

  const std::string prefix = "parmap::mpi::parallel_map: ";
  const auto differs = [&](std::size_t at, const char* name, auto as) {
    const auto high = v[at];
    const auto low = ~v[at + 1];
    if (high == low) return;
    throw std::invalid_argument(prefix + "mpi::options::" + name +
                                " must be the same on every rank, but ranges from " +
                                std::to_string(static_cast<decltype(as)>(low)) + " to " +
                                std::to_string(static_cast<decltype(as)>(high)));
  };
  differs(0, "root", std::int64_t{});
  differs(2, "chunk", std::uint64_t{});
  differs(4, "all_gather", std::uint64_t{});
  check_root(opt, where);
  if (v[9] != 0) {
    const int bad = where.size - static_cast<int>(v[9]);
    std::vector<std::byte> text(problem.size());
    std::memcpy(text.data(), problem.data(), problem.size());
    bcast_bytes(text, bad, comm);
    const std::string said(reinterpret_cast<const char*>(text.data()), text.size());
    if (bad == where.rank) throw std::invalid_argument(prefix + said);
    throw std::invalid_argument(prefix + "rank " + std::to_string(bad) +
                                " rejected the call: " + said);
  }
  const std::uint64_t n = v[6];
  const std::uint64_t other_high = v[7];
  const std::uint64_t other_low = ~v[8];
  if (other_high != 0 && (other_high != n || other_low != n)) {
    throw std::invalid_argument(
        prefix + "the root's input has " + std::to_string(n) +
        " items, but another rank passed an input of " +
        std::to_string(other_high != n ? other_high : other_low) +
        " items; other ranks pass an empty input (or one of the root's size, which is not "
        "read)");
  }
  return static_cast<std::size_t>(n);
}

// Frees the call's private communicator, whatever way the call ends.
struct comm_guard {
  MPI_Comm comm = MPI_COMM_NULL;
  comm_guard() = default;
  comm_guard(const comm_guard&) = delete;
  comm_guard& operator=(const comm_guard&) = delete;
  ~comm_guard() {
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

// ---- one rank --------------------------------------------------------------------------------

void run_alone(const parmap::mpi::options& opt, std::size_t n, const chunk_ops& ops) {
  const std::size_t chunk = opt.chunk != 0 ? opt.chunk : std::max<std::size_t>(n, 1);
  if (opt.report) *opt.report = call_report{chunk, {0}, {0}};
  outcome result;
  for (std::size_t begin = 0; begin < n && !result.failed(); begin += chunk) {
    const std::size_t end = std::min(n, begin + std::min(chunk, n - begin));
    if (auto f = guarded(begin, [&] { ops.map_here(ops.ctx, begin, end); })) {
      result.note(f->kind, f->index, 0, std::move(f->what));
    }
    if (opt.report) {
      ++opt.report->chunks_per_rank[0];
      opt.report->items_per_rank[0] += end - begin;
    }
  }
  result.rethrow();
}

// ---- the root --------------------------------------------------------------------------------

class root_call {
 public:
  root_call(MPI_Comm comm, place where, const parmap::mpi::options& opt,
            const parmap::options& local, std::size_t n, std::size_t chunk, const chunk_ops& ops)
      : comm_(comm),
        where_(where),
        opt_(opt),
        local_(local),
        n_(n),
        chunk_(chunk),
        floor_(chunking::mpi_smallest_deal(n, static_cast<std::size_t>(where.size))),
        ops_(ops),
        sends_(comm),
        held_(static_cast<std::size_t>(where.size), 0),
        chunks_by_rank_(static_cast<std::size_t>(where.size), 0),
        items_by_rank_(static_cast<std::size_t>(where.size), 0) {}

  void run() {
    // Hand every worker its first chunk before the helper starts claiming, so that with
    // fewer chunks than ranks the work still spreads out.
    for (int w = 0; w < where_.size; ++w) {
      if (w != where_.rank) deal(w);
    }
    std::thread helper;
    try {
      helper = std::thread([this] { map_on_root(); });
    } catch (...) {
      helper_done_.store(true);  // no helper: the workers do everything
    }
    try {
      for (std::size_t round = 1; round < depth; ++round) {
        for (int w = 0; w < where_.size; ++w) {
          if (w != where_.rank) deal(w);
        }
      }
      serve();
      finish();
    } catch (...) {
      halt_.store(true);
      if (helper.joinable()) helper.join();
      throw;
    }
    if (helper.joinable()) helper.join();
    chunks_by_rank_[static_cast<std::size_t>(where_.rank)] += root_chunks_;
    items_by_rank_[static_cast<std::size_t>(where_.rank)] += root_items_;
    if (opt_.report) *opt_.report = call_report{chunk_, chunks_by_rank_, items_by_rank_};

    if (!result_.failed() && opt_.all_gather) {
      writer all;
      std::uint8_t ok = 1;
      std::string problem;
      if (auto f = guarded(0, [&] { ops_.write_all(ops_.ctx, all); })) {
        ok = 0;
        problem = "could not serialize the results for all_gather: " + f->what;
      }
      check(MPI_Bcast(&ok, 1, MPI_UINT8_T, where_.rank, comm_), "MPI_Bcast");
      if (!ok) {
        writer text;
        text.write(problem);
        bcast_bytes(text.bytes(), where_.rank, comm_);
        throw std::runtime_error("parmap::mpi: " + problem);
      }
      bcast_bytes(all.bytes(), where_.rank, comm_);
    }
    result_.rethrow();
  }

 private:
  // The next chunk [begin, end) to hand out; begin == end when none is left or the dealing
  // stopped.
  std::pair<std::size_t, std::size_t> claim() noexcept {
    if (halt_.load(std::memory_order_acquire)) return {n_, n_};
    std::size_t begin = next_.load(std::memory_order_relaxed);
    while (begin < n_) {
      const std::size_t left = n_ - begin;
      std::size_t size = chunk_;
      if (size == 0) size = chunking::mpi_deal(left, static_cast<std::size_t>(where_.size), floor_);
      const std::size_t end = begin + std::min(size, left);
      if (next_.compare_exchange_weak(begin, end, std::memory_order_relaxed)) return {begin, end};
    }
    return {n_, n_};
  }

  void note(failure_kind kind, std::size_t index, int rank, std::string what) {
    const std::lock_guard lock(mu_);
    result_.note(kind, index, rank, std::move(what));
    halt_.store(true, std::memory_order_release);
  }

  // The helper thread: maps chunks here until none is left. Makes no MPI call.
  void map_on_root() noexcept {
    for (auto [begin, end] = claim(); begin != end; std::tie(begin, end) = claim()) {
      auto f = guarded(begin, [&] { ops_.map_here(ops_.ctx, begin, end); });
      root_chunks_ += 1;
      root_items_ += end - begin;
      if (f) {
        try {
          note(f->kind, f->index, where_.rank, std::move(f->what));
        } catch (...) {
          halt_.store(true);
        }
      }
    }
    helper_done_.store(true, std::memory_order_release);
  }

  // Sends worker w its next chunk, if there is one.
  void deal(int w) {
    const auto [begin, end] = claim();
    if (begin == end) return;
    writer out;
    out.write(static_cast<std::uint64_t>(begin));
    out.write(static_cast<std::uint64_t>(end));
    auto f = guarded(begin, [&] {
      ops_.write_items(ops_.ctx, begin, end, out);
      (void)byte_count(out.bytes().size());  // too big for one message: a failure, not a throw
    });
    if (f) {
      note(f->kind, f->index, where_.rank, std::move(f->what));
      return;
    }
    sends_.send(std::move(out.bytes()), w, tag_chunk);
    ++held_[static_cast<std::size_t>(w)];
    ++held_total_;
  }

  void receive(message& m) {
    reader in(m.bytes.data(), m.bytes.size());
    const auto begin = static_cast<std::size_t>(in.read<std::uint64_t>());
    const auto end = static_cast<std::size_t>(in.read<std::uint64_t>());
    const auto status = in.read<std::uint8_t>();
    const auto w = static_cast<std::size_t>(m.source);
    --held_[w];
    --held_total_;
    if (status == status_ok) {
      ++chunks_by_rank_[w];
      items_by_rank_[w] += end - begin;
      bool failed = false;
      {
        const std::lock_guard lock(mu_);
        failed = result_.failed();
      }
      if (!failed) {
        auto f = guarded(begin, [&] {
          ops_.read_results(ops_.ctx, begin, end, in);
          if (in.remaining() != 0) {
            throw std::runtime_error("parmap::mpi: " + std::to_string(in.remaining()) +
                                     " bytes left over after the results (do write() and "
                                     "read() of a serializer agree?)");
          }
        });
        if (f) note(f->kind, f->index, m.source, std::move(f->what));
      }
    } else if (status == status_failed) {
      ++chunks_by_rank_[w];
      const auto kind = static_cast<failure_kind>(in.read<std::uint8_t>());
      const auto index = static_cast<std::size_t>(in.read<std::uint64_t>());
      note(kind, index, m.source, in.read<std::string>());
    }
    deal(m.source);
  }

  void serve() {
    backoff wait;
    while (true) {
      bool busy = sends_.progress();
      while (auto m = try_receive(comm_, MPI_ANY_SOURCE, tag_result)) {
        receive(*m);
        busy = true;
      }
      // The root's own stop token and deadline end the dealing; its helper sees them too.
      if (!halt_.load(std::memory_order_relaxed)) {
        if (local_.stop.stop_requested()) {
          note(failure_kind::cancelled, 0, where_.rank, {});
        } else if (std::chrono::steady_clock::now() >= local_.deadline) {
          note(failure_kind::timeout, 0, where_.rank, {});
        }
      }
      if (held_total_ == 0 && helper_done_.load(std::memory_order_acquire)) {
        // Nothing out: unless the dealing stopped, every chunk has been mapped.
        if (halt_.load() || next_.load() >= n_) break;
      }
      if (busy) {
        wait.reset();
      } else {
        wait.pause();
      }
    }
  }

  // Tells every worker how the call ended.
  void finish() {
    writer end;
    {
      const std::lock_guard lock(mu_);
      result_.write(end);
    }
    for (int w = 0; w < where_.size; ++w) {
      if (w != where_.rank) sends_.send(end.bytes(), w, tag_final);
    }
    sends_.finish();
  }

  MPI_Comm comm_;
  place where_;
  const parmap::mpi::options& opt_;
  const parmap::options& local_;
  std::size_t n_;
  std::size_t chunk_;  // items per chunk; 0: guided
  std::size_t floor_;  // the smallest guided chunk
  const chunk_ops& ops_;
  sender sends_;

  std::atomic<std::size_t> next_{0};
  std::atomic<bool> halt_{false};
  std::atomic<bool> helper_done_{false};
  std::mutex mu_;
  outcome result_;  // guarded by mu_

  // Touched only by the calling thread.
  std::vector<std::size_t> held_;  // chunks each worker holds
  std::size_t held_total_ = 0;
  std::vector<std::size_t> chunks_by_rank_;
  std::vector<std::size_t> items_by_rank_;
  // Touched only by the helper until it is joined.
  std::size_t root_chunks_ = 0;
  std::size_t root_items_ = 0;
};

// ---- the other ranks -------------------------------------------------------------------------

void run_worker(MPI_Comm comm, const parmap::mpi::options& opt, std::size_t n,
                const chunk_ops& ops) {
  sender sends(comm);
  bool failed_here = false;  // after a failure, later chunks of this rank are not mapped
  outcome result;
  backoff wait;
  while (true) {
    std::optional<message> m = try_receive(comm, opt.root, MPI_ANY_TAG);
    if (!m) {
      if (sends.progress()) {
        wait.reset();
      } else {
        wait.pause();
      }
      continue;
    }
    wait.reset();
    reader in(m->bytes.data(), m->bytes.size());
    if (m->tag == tag_final) {
      result = outcome::read(in);
      break;
    }
    const auto begin = static_cast<std::size_t>(in.read<std::uint64_t>());
    const auto end = static_cast<std::size_t>(in.read<std::uint64_t>());
    writer out;
    out.write(static_cast<std::uint64_t>(begin));
    out.write(static_cast<std::uint64_t>(end));
    if (failed_here) {
      out.write(status_skipped);
    } else {
      const std::size_t mark = out.bytes().size();
      out.write(status_ok);
      auto f = guarded(begin, [&] {
        ops.map_remote(ops.ctx, begin, end, in, out);
        if (in.remaining() != 0) {
          throw std::runtime_error("parmap::mpi: " + std::to_string(in.remaining()) +
                                   " bytes left over after the items (do write() and read() "
                                   "of a serializer agree?)");
        }
      });
      if (f) {
        failed_here = true;
        out.bytes().resize(mark);  // drop the results written before the failure
        out.write(status_failed);
        out.write(static_cast<std::uint8_t>(f->kind));
        out.write(static_cast<std::uint64_t>(f->index));
        out.write(f->what);
      }
    }
    if (out.bytes().size() > static_cast<std::size_t>(INT_MAX)) {
      const std::size_t too_big = out.bytes().size();
      failed_here = true;
      out = writer{};
      out.write(static_cast<std::uint64_t>(begin));
      out.write(static_cast<std::uint64_t>(end));
      out.write(status_failed);
      out.write(static_cast<std::uint8_t>(failure_kind::item));
      out.write(static_cast<std::uint64_t>(begin));
      out.write("parmap::mpi: the results of items [" + std::to_string(begin) + ", " +
                std::to_string(end) + ") take " + std::to_string(too_big) +
                " bytes, more than one MPI message carries; set mpi::options::chunk smaller");
    }
    sends.send(std::move(out.bytes()), opt.root, tag_result);
  }
  sends.finish();

  if (!result.failed() && opt.all_gather) {
    std::uint8_t ok = 0;
    check(MPI_Bcast(&ok, 1, MPI_UINT8_T, opt.root, comm), "MPI_Bcast");
    std::vector<std::byte> bytes;
    bcast_bytes(bytes, opt.root, comm);
    reader in(bytes.data(), bytes.size());
    if (!ok) throw std::runtime_error("parmap::mpi: " + in.read<std::string>());
    ops.read_all(ops.ctx, n, in);
  }
  result.rethrow();
}

}  // namespace

// ---- entry points ----------------------------------------------------------------------------

place check_environment(MPI_Comm comm) {
  int flag = 0;
  MPI_Initialized(&flag);
  if (!flag) {
    throw std::logic_error(
        "parmap::mpi::parallel_map: MPI is not initialized; call MPI_Init_thread(&argc, &argv, "
        "MPI_THREAD_FUNNELED, &provided) first");
  }
  MPI_Finalized(&flag);
  if (flag) throw std::logic_error("parmap::mpi::parallel_map: MPI is already finalized");
  int level = MPI_THREAD_SINGLE;
  check(MPI_Query_thread(&level), "MPI_Query_thread");
  if (level < MPI_THREAD_FUNNELED) {
    throw std::logic_error(
        "parmap::mpi::parallel_map: MPI was initialized with MPI_THREAD_SINGLE, but parmap runs "
        "threads inside each rank; initialize with MPI_Init_thread(..., MPI_THREAD_FUNNELED, "
        "...) or higher");
  }
  if (level == MPI_THREAD_FUNNELED) {
    check(MPI_Is_thread_main(&flag), "MPI_Is_thread_main");
    if (!flag) {
      throw std::logic_error(
          "parmap::mpi::parallel_map: MPI runs at MPI_THREAD_FUNNELED, which allows MPI calls "
          "from the main thread only; call it from the main thread or initialize MPI with "
          "MPI_THREAD_SERIALIZED or higher");
    }
  }
  if (comm == MPI_COMM_NULL) {
    throw std::invalid_argument("parmap::mpi::parallel_map: the communicator is MPI_COMM_NULL");
  }
  check(MPI_Comm_test_inter(comm, &flag), "MPI_Comm_test_inter");
  if (flag) {
    throw std::invalid_argument(
        "parmap::mpi::parallel_map: intercommunicators are not supported; pass an "
        "intracommunicator (MPI_Intercomm_merge makes one)");
  }
  place where{0, 1};
  check(MPI_Comm_rank(comm, &where.rank), "MPI_Comm_rank");
  check(MPI_Comm_size(comm, &where.size), "MPI_Comm_size");
  return where;
}

void run(MPI_Comm comm, place where, const parmap::mpi::options& opt, const parmap::options& local,
         std::size_t input_size, const std::string& local_problem, const chunk_ops& ops) {
  const std::string problem = local_problem.empty() ? check_local(local) : local_problem;
  if (where.size == 1) {
    check_root(opt, where);
    if (!problem.empty()) throw std::invalid_argument("parmap::mpi::parallel_map: " + problem);
    run_alone(opt, input_size, ops);
    return;
  }
  comm_guard own;
  check(MPI_Comm_dup(comm, &own.comm), "MPI_Comm_dup");
  const std::size_t n = agree(own.comm, where, opt, input_size, problem);
  const std::size_t ranks = static_cast<std::size_t>(where.size);
  const std::size_t chunk = opt.chunk;
  if (n == 0) {
    if (where.rank == opt.root && opt.report) {
      *opt.report = call_report{chunk, std::vector<std::size_t>(ranks, 0),
                                std::vector<std::size_t>(ranks, 0)};
    }
    return;
  }
  if (where.rank == opt.root) {
    root_call(own.comm, where, opt, local, n, chunk, ops).run();
  } else {
    run_worker(own.comm, opt, n, ops);
  }
}

}  // namespace parmap::mpi::detail
