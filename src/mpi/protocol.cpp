// What parmap::mpi's messages mean (protocol.hpp): result heads, the outcome, and the
// broadcast of all results.

#include "protocol.hpp"

#include <stdexcept>
#include <vector>

#include "parmap/errors.hpp"
#include "parmap/mpi.hpp"
#include "transport.hpp"

namespace parmap::mpi::detail {

void result_head::write(writer& w) const {
  w.write(static_cast<std::uint64_t>(begin));
  w.write(static_cast<std::uint64_t>(end));
  w.write(seen);
  w.write(status);
}

result_head result_head::read(reader& r) {
  result_head h{};
  h.begin = static_cast<std::size_t>(r.read<std::uint64_t>());
  h.end = static_cast<std::size_t>(r.read<std::uint64_t>());
  h.seen = r.read<std::uint8_t>();
  h.status = r.read<std::uint8_t>();
  return h;
}

void outcome::write(writer& w) const {
  w.write(static_cast<std::uint64_t>(index));
  w.write(static_cast<std::int32_t>(rank));
  w.write(what);
  w.write(static_cast<std::uint8_t>(stopped ? static_cast<std::uint8_t>(*stopped) : 0));
}

outcome outcome::read(reader& r) {
  outcome o;
  o.index = static_cast<std::size_t>(r.read<std::uint64_t>());
  o.rank = r.read<std::int32_t>();
  o.what = r.read<std::string>();
  if (const auto s = r.read<std::uint8_t>(); s != 0) o.stopped = static_cast<failure_kind>(s);
  return o;
}

void outcome::rethrow() const {
  if (index != npos) throw remote_error(rank, index, what);
  if (stopped == failure_kind::timeout) throw parmap::timeout();
  if (stopped == failure_kind::cancelled) throw parmap::cancelled();
}

failure_kind halt_kind(const parmap::detail::call_rules& rules) {
  try {
    std::rethrow_exception(rules.failure_at(rules.halt_index()));
  } catch (const parmap::timeout&) {
    return failure_kind::timeout;
  } catch (...) {
    // parmap::cancelled, or an item's failure at the same index, which outranks any stop.
    return failure_kind::cancelled;
  }
}

void expect_consumed(const reader& in, const char* what) {
  if (in.remaining() == 0) return;
  throw std::runtime_error("parmap::mpi: " + std::to_string(in.remaining()) +
                           " bytes left over after the " + what +
                           " (do write() and read() of a serializer agree?)");
}

void send_all_results(MPI_Comm comm, int root, chunk_ops& ops) {
  writer all;
  std::uint8_t ok = 1;
  std::string problem;
  if (auto f = guarded(0, [&] { ops.write_all(all); })) {
    ok = 0;
    problem = "could not serialize the results for all_gather: " + f->what;
  }
  check(MPI_Bcast(&ok, 1, MPI_UINT8_T, root, comm), "MPI_Bcast");
  if (!ok) {
    writer text;
    text.write(problem);
    bcast_bytes(text.bytes(), root, comm);
    throw std::runtime_error("parmap::mpi: " + problem);
  }
  bcast_bytes(all.bytes(), root, comm);
}

void receive_all_results(MPI_Comm comm, int root, std::size_t n, chunk_ops& ops) {
  std::uint8_t ok = 0;
  check(MPI_Bcast(&ok, 1, MPI_UINT8_T, root, comm), "MPI_Bcast");
  std::vector<std::byte> bytes;
  bcast_bytes(bytes, root, comm);
  reader in(bytes.data(), bytes.size());
  if (!ok) throw std::runtime_error("parmap::mpi: " + in.read<std::string>());
  ops.read_all(n, in);
}

}  // namespace parmap::mpi::detail
