#pragma once
// How parmap::mpi moves bytes: MPI error checks, polite waiting, sends in flight, probing
// receives, broadcasts of any size, and the call's private communicator. Knows nothing of
// chunks or of what the bytes mean (protocol.hpp does).

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace parmap::mpi::detail {

/// Throws std::runtime_error naming `call` and MPI's text for `rc` unless rc is MPI_SUCCESS.
/// MPI errors reach us only where the communicator's error handler returns them.
void check(int rc, const char* call);

/// `size` as an MPI count of bytes; throws std::runtime_error when one message cannot carry it.
[[nodiscard]] int byte_count(std::size_t size);

/// Polite waiting: polls for a few microseconds (a reply is often that close), yielding so
/// that a rank sharing the core runs meanwhile, then sleeps, doubling the sleep up to half a
/// millisecond. MPI implementations busy-poll in MPI_Wait, which would take a core from the
/// ranks and threads that compute; waits here poll with MPI_Test/MPI_Improbe instead.
class backoff {
 public:
  void pause();
  void reset();

 private:
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::chrono::microseconds sleep_{10};
};

/// Sends in flight, each with the buffer it reads.
class sender {
 public:
  explicit sender(MPI_Comm comm) : comm_(comm) {}
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;
  /// Only an MPI failure unwinds past sends in flight: they are left to MPI, buffers and all.
  ~sender();

  /// Starts sending `bytes` to rank `to` with `tag`.
  void send(std::vector<std::byte> bytes, int to, int tag);
  /// Forgets the sends that completed; true if one did.
  bool progress();
  /// Waits until every send completed.
  void finish();

 private:
  struct pending {
    MPI_Request request;
    std::vector<std::byte> bytes;
  };
  MPI_Comm comm_;
  std::vector<pending> sends_;
};

/// A received message.
struct message {
  int source;
  int tag;
  std::vector<std::byte> bytes;
};

/// The message from `from` with `tag` (either may be MPI_ANY_*), if one has arrived.
[[nodiscard]] std::optional<message> try_receive(MPI_Comm comm, int from, int tag);

/// MPI_Bcast of a byte vector of any size from `root`: the others' vector is resized to fit.
/// Collective: every rank of `comm` calls it, in the same order.
void bcast_bytes(std::vector<std::byte>& bytes, int root, MPI_Comm comm);

/// The call's private communicator, freed whatever way the call ends.
struct comm_guard {
  MPI_Comm comm = MPI_COMM_NULL;
  comm_guard() = default;
  comm_guard(const comm_guard&) = delete;
  comm_guard& operator=(const comm_guard&) = delete;
  ~comm_guard() {
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

}  // namespace parmap::mpi::detail
