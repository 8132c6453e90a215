// The other ranks of a parmap::mpi call (worker.hpp). A worker keeps the call's rules for its
// own part: it starts no chunk after its stop, deadline or an earlier failure of its own, and
// it reports a stop or deadline it has seen with every result, so the root stops dealing.

#include "worker.hpp"

#include <climits>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "parmap/detail/call_rules.hpp"
#include "parmap/mpi.hpp"
#include "protocol.hpp"
#include "transport.hpp"

namespace parmap::mpi::detail {
namespace {

using parmap::detail::call_rules;

// One worker's part of a call.
class worker {
 public:
  worker(place where, const parmap::options& local, std::size_t n, chunk_ops& ops)
      : where_(where), local_(quiet(local)), rules_(local_, n), ops_(ops) {}
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // The reply to the chunk [begin, end) whose items `in` holds.
  writer answer(std::size_t begin, std::size_t end, reader& in) {
    writer out;
    result_head{begin, end, 0, status_ok}.write(out);
    const std::size_t status_at = out.bytes().size() - 1;
    if (!rules_.may_start(begin)) {
      // A lower item of this rank failed (the root knows it), or this rank saw its stop or
      // deadline (the root learns it from `seen`).
      const bool stopped = rules_.halt_index() != call_rules::no_index;
      out.bytes()[status_at] = std::byte{stopped ? status_stopped : status_skipped};
    } else if (auto f = map(begin, end, in, out, status_at)) {
      out.bytes().resize(status_at + 1);  // drop the results written before the failure
      out.bytes()[status_at] = std::byte{status_failed};
      out.write(static_cast<std::uint8_t>(f->kind));
      out.write(static_cast<std::uint64_t>(f->index));
      out.write(f->what);
    }
    out.bytes()[result_head::seen_at] = std::byte{seen(end)};
    return out;
  }

 private:
  // This rank's options without on_progress: progress is the root's alone.
  static parmap::options quiet(const parmap::options& local) {
    parmap::options o = local;
    o.on_progress = nullptr;
    return o;
  }

  // Maps the chunk, appending its results to `out`; returns its failure, if any.
  std::optional<chunk_failure> map(std::size_t begin, std::size_t end, reader& in, writer& out,
                                   std::size_t status_at) {
    auto f = guarded(begin, [&] {
      ops_.map_remote(begin, end, in, out, local_);
      expect_consumed(in, "items");
      if (out.bytes().size() > static_cast<std::size_t>(INT_MAX)) {
        throw chunk_failure{failure_kind::item, begin,
                            "parmap::mpi: the results of items [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ") take " +
                                std::to_string(out.bytes().size() - status_at - 1) +
                                " bytes, more than one MPI message carries; set "
                                "mpi::options::chunk smaller"};
      }
    });
    // The rules need the failing index only, so that no later chunk of this rank starts; a
    // stop or deadline seen inside the chunk, they see themselves.
    if (f && f->kind == failure_kind::item) {
      try {
        rules_.fail(f->index,
                    std::make_exception_ptr(remote_error(where_.rank, f->index, f->what)));
      } catch (...) {
        rules_.fail(f->index, std::current_exception());
      }
    }
    return f;
  }

  // What the root must know after the chunk that ends at `end`: whether a chunk could still
  // start on this rank, or a stop or deadline seen here ends the dealing.
  std::uint8_t seen(std::size_t end) {
    if (rules_.halt_index() == call_rules::no_index) (void)rules_.may_start(end);
    if (rules_.halt_index() == call_rules::no_index) return 0;
    return static_cast<std::uint8_t>(halt_kind(rules_));
  }

  place where_;
  const parmap::options local_;
  call_rules rules_;
  chunk_ops& ops_;
};

}  // namespace

void run_worker(MPI_Comm comm, place where, const parmap::mpi::options& opt,
                const parmap::options& local, std::size_t n, chunk_ops& ops) {
  worker self(where, local, n, ops);
  sender sends(comm);
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
    sends.send(std::move(self.answer(begin, end, in).bytes()), opt.root, tag_result);
  }
  sends.finish();

  if (!result.failed() && opt.all_gather) receive_all_results(comm, opt.root, n, ops);
  result.rethrow();
}

}  // namespace parmap::mpi::detail
