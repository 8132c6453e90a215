// The root of a parmap::mpi call (dealer.hpp).
//
// The calling thread does all the MPI work (so MPI_THREAD_FUNNELED suffices): it deals chunks
// to the other ranks, `depth` at a time each, and reads their results, while a helper thread
// maps chunks here, claiming them from the same counter. Every claim asks the call's rules
// first, so a failure, a stop or the deadline seen on any rank ends the dealing everywhere.
// When no chunk is left (or the dealing ended) and every dealt chunk has come back, the rules
// settle the outcome, and the root sends it to every rank; then, with all_gather, it
// broadcasts the results.

#include "dealer.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "parmap/detail/call_rules.hpp"
#include "parmap/detail/chunking.hpp"
#include "parmap/errors.hpp"
#include "parmap/mpi.hpp"
#include "protocol.hpp"
#include "transport.hpp"

namespace parmap::mpi::detail {
namespace {

namespace chunking = parmap::detail::chunking;
using parmap::detail::call_rules;

// A chunk failed on `rank`: an item threw (the lowest index wins, as a remote_error on every
// rank), or a stop or deadline seen there kept its items from running (no chunk starts
// anywhere after it, and the call ends in cancelled or timeout).
void record(call_rules& rules, const chunk_failure& f, int rank) noexcept {
  if (f.kind == failure_kind::item) {
    try {
      rules.fail(f.index, std::make_exception_ptr(remote_error(rank, f.index, f.what)));
    } catch (...) {
      rules.fail(f.index, std::current_exception());
    }
    return;
  }
  rules.stop_seen_elsewhere(f.kind == failure_kind::timeout);
  (void)rules.may_start(f.index);  // refused: the rules record the halt there
}

// How the call ended, once every chunk has: call_rules::finish() decides, and makes the final
// progress report when the call succeeded; the outcome is what every rank throws. An exception
// of on_progress (the only kind not already a remote_error) becomes one, on the root.
outcome settle(call_rules& rules, std::size_t n, int root) {
  const auto at = [&] {
    return rules.failed_index() != call_rules::no_index ? rules.failed_index() : n - 1;
  };
  try {
    rules.finish();
    return {};
  } catch (const remote_error& e) {
    return outcome{e.index(), e.rank(), e.original_what(), {}};
  } catch (const parmap::timeout&) {
    return outcome{outcome::npos, -1, {}, failure_kind::timeout};
  } catch (const parmap::cancelled&) {
    return outcome{outcome::npos, -1, {}, failure_kind::cancelled};
  } catch (const std::exception& e) {
    return outcome{at(), root, e.what(), {}};
  } catch (...) {
    return outcome{at(), root, "an exception not derived from std::exception", {}};
  }
}

// Maps chunks on the root with the root's options, and counts their items into the call's
// progress as the local call reports them, so that progress moves within a chunk too. One
// thread at a time.
class root_mapper {
 public:
  root_mapper(call_rules& rules, const parmap::options& local, chunk_ops& ops, int rank)
      : rules_(rules), ops_(ops), rank_(rank), local_(local) {
    if (local_.on_progress) {
      local_.on_progress = [this](std::size_t done, std::size_t) { count(done); };
    }
  }
  root_mapper(const root_mapper&) = delete;
  root_mapper& operator=(const root_mapper&) = delete;

  // Maps [begin, end), which the rules let start.
  void map(std::size_t begin, std::size_t end) noexcept {
    begin_ = begin;
    counted_ = 0;
    if (auto f = guarded(begin, [&] { ops_.map_here(begin, end, local_); })) {
      record(rules_, *f, rank_);
    } else {
      count(end - begin);
    }
  }

 private:
  // The local call has finished `done` items of the chunk.
  void count(std::size_t done) noexcept {
    if (done <= counted_) return;
    rules_.finished(done - counted_, begin_ + done - 1);
    counted_ = done;
  }

  call_rules& rules_;
  chunk_ops& ops_;
  const int rank_;
  parmap::options local_;
  std::size_t begin_ = 0;
  std::size_t counted_ = 0;  // items of the chunk counted so far
};

class dealer {
 public:
  dealer(MPI_Comm comm, place where, const parmap::mpi::options& opt, const parmap::options& local,
         std::size_t n, chunk_ops& ops)
      : comm_(comm),
        where_(where),
        opt_(opt),
        n_(n),
        floor_(chunking::mpi_smallest_deal(n, static_cast<std::size_t>(where.size))),
        ops_(ops),
        rules_(local, n),
        here_(rules_, local, ops, where.rank),
        sends_(comm),
        held_(static_cast<std::size_t>(where.size), 0),
        chunks_by_rank_(static_cast<std::size_t>(where.size), 0),
        items_by_rank_(static_cast<std::size_t>(where.size), 0) {}

  void run() {
    // Hand every worker its first chunk before the helper starts claiming, so that with
    // fewer chunks than ranks the work still spreads out.
    deal_round();
    std::thread helper;
    try {
      helper = std::thread([this] { map_on_root(); });
    } catch (...) {
      helper_done_.store(true);  // no helper: the workers do everything
    }
    try {
      for (std::size_t round = 1; round < depth; ++round) deal_round();
      serve();
    } catch (...) {
      abandoned_.store(true);
      if (helper.joinable()) helper.join();
      throw;
    }
    if (helper.joinable()) helper.join();
    const auto root = static_cast<std::size_t>(where_.rank);
    chunks_by_rank_[root] += root_chunks_;
    items_by_rank_[root] += root_items_;
    if (opt_.report) *opt_.report = call_report{opt_.chunk, chunks_by_rank_, items_by_rank_};

    const outcome end = settle(rules_, n_, where_.rank);
    tell(end);
    if (!end.failed() && opt_.all_gather) send_all_results(comm_, where_.rank, ops_);
    end.rethrow();
  }

 private:
  // The next chunk [begin, end), if the rules let it start; begin == end when none is left or
  // the dealing is over. Called by the calling thread and the helper.
  std::pair<std::size_t, std::size_t> claim() noexcept {
    std::size_t begin = next_.load(std::memory_order_relaxed);
    while (begin < n_ && !rules_.halted(begin) && !abandoned_.load(std::memory_order_relaxed)) {
      const std::size_t left = n_ - begin;
      const std::size_t size =
          opt_.chunk != 0 ? opt_.chunk
                          : chunking::mpi_deal(left, static_cast<std::size_t>(where_.size), floor_);
      const std::size_t end = begin + std::min(size, left);
      if (!next_.compare_exchange_weak(begin, end, std::memory_order_relaxed)) continue;
      // Refused: the rules record why, and refuse every later chunk too.
      if (rules_.may_start(begin)) return {begin, end};
      break;
    }
    return {n_, n_};
  }

  // Whether no chunk will be dealt any more: none is left, or the rules ended the dealing.
  [[nodiscard]] bool dealing_over() const noexcept {
    const std::size_t next = next_.load(std::memory_order_relaxed);
    return next >= n_ || rules_.halted(next);
  }

  // Whether the call already ends in a failure, a stop or a timeout.
  [[nodiscard]] bool ending() const noexcept {
    return rules_.failed_index() != call_rules::no_index ||
           rules_.halt_index() != call_rules::no_index;
  }

  // The helper thread: maps chunks here until none is left. Makes no MPI call.
  void map_on_root() noexcept {
    for (auto [begin, end] = claim(); begin != end; std::tie(begin, end) = claim()) {
      here_.map(begin, end);
      root_chunks_ += 1;
      root_items_ += end - begin;
    }
    helper_done_.store(true, std::memory_order_release);
  }

  void deal_round() {
    for (int w = 0; w < where_.size; ++w) {
      if (w != where_.rank) deal(w);
    }
  }

  // Sends worker w its next chunk, if there is one.
  void deal(int w) {
    const auto [begin, end] = claim();
    if (begin == end) return;
    writer out;
    out.write(static_cast<std::uint64_t>(begin));
    out.write(static_cast<std::uint64_t>(end));
    auto f = guarded(begin, [&] {
      ops_.write_items(begin, end, out);
      (void)byte_count(out.bytes().size());  // too big for one message: a failure, not a throw
    });
    if (f) {
      record(rules_, *f, where_.rank);
      return;
    }
    sends_.send(std::move(out.bytes()), w, tag_chunk);
    ++held_[static_cast<std::size_t>(w)];
    ++held_total_;
  }

  void receive(message& m) {
    reader in(m.bytes.data(), m.bytes.size());
    const result_head head = result_head::read(in);
    const auto w = static_cast<std::size_t>(m.source);
    --held_[w];
    --held_total_;
    if (head.status == status_ok) {
      ++chunks_by_rank_[w];
      items_by_rank_[w] += head.end - head.begin;
      if (!ending()) take_results(head, in, m.source);
    } else if (head.status == status_failed) {
      ++chunks_by_rank_[w];
      const auto kind = static_cast<failure_kind>(in.read<std::uint8_t>());
      const auto index = static_cast<std::size_t>(in.read<std::uint64_t>());
      record(rules_, chunk_failure{kind, index, in.read<std::string>()}, m.source);
    } else if (head.status == status_stopped) {
      record(rules_, chunk_failure{static_cast<failure_kind>(head.seen), head.begin, {}}, m.source);
    }  // status_skipped: the failure that caused it is recorded already
    if (head.seen != 0) {
      // Before the next deal: no chunk is dealt anywhere after a stop seen on any rank.
      rules_.stop_seen_elsewhere(static_cast<failure_kind>(head.seen) == failure_kind::timeout);
    }
    deal(m.source);
  }

  void take_results(const result_head& head, reader& in, int source) {
    auto f = guarded(head.begin, [&] {
      ops_.read_results(head.begin, head.end, in);
      expect_consumed(in, "results");
    });
    if (f) {
      record(rules_, *f, source);
    } else {
      rules_.finished(head.end - head.begin, head.end - 1);
    }
  }

  void serve() {
    backoff wait;
    while (true) {
      bool busy = sends_.progress();
      while (auto m = try_receive(comm_, MPI_ANY_SOURCE, tag_result)) {
        receive(*m);
        busy = true;
      }
      if (held_total_ == 0 && helper_done_.load(std::memory_order_acquire) && dealing_over()) {
        break;
      }
      if (busy) {
        wait.reset();
      } else {
        wait.pause();
      }
    }
  }

  // Tells every worker how the call ended.
  void tell(const outcome& end) {
    writer out;
    end.write(out);
    for (int w = 0; w < where_.size; ++w) {
      if (w != where_.rank) sends_.send(out.bytes(), w, tag_final);
    }
    sends_.finish();
  }

  MPI_Comm comm_;
  place where_;
  const parmap::mpi::options& opt_;
  const std::size_t n_;
  const std::size_t floor_;  // the smallest guided chunk
  chunk_ops& ops_;
  call_rules rules_;  // thread-safe: both threads consult it
  root_mapper here_;  // the helper's
  sender sends_;

  std::atomic<std::size_t> next_{0};
  std::atomic<bool> abandoned_{false};  // an MPI error ends the call: the helper stops
  std::atomic<bool> helper_done_{false};

  // Touched only by the calling thread.
  std::vector<std::size_t> held_;  // chunks each worker holds
  std::size_t held_total_ = 0;
  std::vector<std::size_t> chunks_by_rank_;
  std::vector<std::size_t> items_by_rank_;
  // Touched only by the helper until it is joined.
  std::size_t root_chunks_ = 0;
  std::size_t root_items_ = 0;
};

}  // namespace

void run_alone(const parmap::mpi::options& opt, const parmap::options& local, std::size_t n,
               chunk_ops& ops) {
  const std::size_t chunk = opt.chunk != 0 ? opt.chunk : std::max<std::size_t>(n, 1);
  if (opt.report) *opt.report = call_report{chunk, {0}, {0}};
  if (n == 0) return;
  call_rules rules(local, n);
  root_mapper here(rules, local, ops, 0);
  for (std::size_t begin = 0; begin < n && rules.may_start(begin); begin += chunk) {
    const std::size_t end = begin + std::min(chunk, n - begin);
    here.map(begin, end);
    if (opt.report) {
      ++opt.report->chunks_per_rank[0];
      opt.report->items_per_rank[0] += end - begin;
    }
  }
  settle(rules, n, 0).rethrow();
}

void run_root(MPI_Comm comm, place where, const parmap::mpi::options& opt,
              const parmap::options& local, std::size_t n, chunk_ops& ops) {
  dealer(comm, where, opt, local, n, ops).run();
}

}  // namespace parmap::mpi::detail
