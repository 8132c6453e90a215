// How parmap::mpi moves bytes (transport.hpp): error checks, waiting, sends, receives and
// broadcasts.

#include "transport.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace parmap::mpi::detail {
namespace {

// Polls before the first sleep.
constexpr std::chrono::microseconds spin_for{20};
// Broadcasts go in pieces MPI's int counts can carry.
constexpr std::size_t bcast_piece = std::size_t{1} << 30;

}  // namespace

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(std::string("parmap::mpi: ") + call +
                           " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

int byte_count(std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX)) {
    throw std::runtime_error("parmap::mpi: a message of " + std::to_string(size) +
                             " bytes exceeds MPI's limit of 2^31 - 1; set mpi::options::chunk "
                             "smaller");
  }
  return static_cast<int>(size);
}

void backoff::pause() {
  const auto now = std::chrono::steady_clock::now();
  if (now - since_ < spin_for) {
    std::this_thread::yield();
    return;
  }
  std::this_thread::sleep_for(sleep_);
  sleep_ = std::min(sleep_ * 2, std::chrono::microseconds(500));
}

void backoff::reset() {
  since_ = std::chrono::steady_clock::now();
  sleep_ = std::chrono::microseconds(10);
}

sender::~sender() {
  // Waiting for the sends could hang after an MPI failure, and freeing their buffers could
  // let MPI read freed memory: let MPI finish them on its own and give it the buffers for good.
  for (auto& s : sends_) {
    if (s.request == MPI_REQUEST_NULL) continue;
    MPI_Request_free(&s.request);
    new std::vector<std::byte>(std::move(s.bytes));  // deliberately never freed
  }
}

void sender::send(std::vector<std::byte> bytes, int to, int tag) {
  sends_.push_back({MPI_REQUEST_NULL, std::move(bytes)});
  auto& s = sends_.back();
  check(MPI_Isend(s.bytes.data(), byte_count(s.bytes.size()), MPI_BYTE, to, tag, comm_, &s.request),
        "MPI_Isend");
}

bool sender::progress() {
  const auto before = sends_.size();
  std::erase_if(sends_, [](pending& s) {
    int done = 0;
    check(MPI_Test(&s.request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    return done != 0;
  });
  return sends_.size() != before;
}

void sender::finish() {
  backoff wait;
  while (!sends_.empty()) {
    if (!progress()) wait.pause();
  }
}

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

void bcast_bytes(std::vector<std::byte>& bytes, int root, MPI_Comm comm) {
  auto size = static_cast<std::uint64_t>(bytes.size());
  check(MPI_Bcast(&size, 1, MPI_UINT64_T, root, comm), "MPI_Bcast");
  bytes.resize(static_cast<std::size_t>(size));
  for (std::size_t at = 0; at < bytes.size(); at += bcast_piece) {
    const std::size_t piece = std::min(bcast_piece, bytes.size() - at);
    check(MPI_Bcast(bytes.data() + at, static_cast<int>(piece), MPI_BYTE, root, comm), "MPI_Bcast");
  }
}

}  // namespace parmap::mpi::detail
