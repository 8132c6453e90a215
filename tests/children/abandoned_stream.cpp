// A stream is abandoned (never destroyed) while its input is blocked for good in a read: the
// input is a pipe that this process keeps open and stops writing to, like
// std::views::istream over a FIFO nobody writes. Returning from main must not wait for it.
// Variants: "none": abandoned before any item arrived; "some": after three results were read;
// "consumer": a detached thread is inside the stream's operator++ waiting for the fourth
// result (imap_unordered) when main returns.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <iterator>
#include <ranges>
#include <thread>
#include <utility>

#include "child_args.hpp"

namespace {

/// The ints written to a pipe, read one by one; the range ends when the pipe is closed.
class pipe_ints : public std::ranges::view_interface<pipe_ints> {
 public:
  class iterator {
   public:
    using value_type = int;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    explicit iterator(int fd) : fd_(fd) { read_one(); }

    int operator*() const noexcept { return value_; }
    iterator& operator++() {
      read_one();
      return *this;
    }
    void operator++(int) { read_one(); }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return it.fd_ < 0;
    }

   private:
    void read_one() {
      // Blocks until a writer writes: here, for the rest of the process's life.
      if (::read(fd_, &value_, sizeof value_) != static_cast<ssize_t>(sizeof value_)) fd_ = -1;
    }
    int fd_ = -1;
    int value_ = 0;
  };

  pipe_ints() = default;
  explicit pipe_ints(int fd) : fd_(fd) {}
  [[nodiscard]] iterator begin() const { return iterator(fd_); }
  [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

 private:
  int fd_ = -1;
};
static_assert(std::ranges::input_range<pipe_ints> && std::ranges::view<pipe_ints>);

int square(int x) {
  return x * x;
}

// Reachable from a global, so that a leak checker does not count the abandoned stream.
parmap::imap_stream<int>* abandoned = nullptr;
std::atomic<int> consumed{0};

}  // namespace

int main(int argc, char** argv) {
  const auto args = child::parse(argc, argv, {"none", "some", "consumer"});
  if (!args) return 2;
  const parmap::options opt{.backend = args->backend, .threads = 4};
  // One item ahead of the consumer: the stream reads its input with its lock held, so a read
  // that blocks keeps the consumer from results already computed too. This way the read that
  // blocks starts only once the third result was taken.
  const parmap::stream_options one_ahead{.window = 1};
  int fds[2];
  if (::pipe(fds) != 0) return 3;
  // The write end stays open and unused after the first three ints: reads then block.
  if (args->variant != "none") {
    for (int v : {1, 2, 3}) {
      if (::write(fds[1], &v, sizeof v) != static_cast<ssize_t>(sizeof v)) return 3;
    }
  }

  if (args->variant == "consumer") {
    std::thread([opt, one_ahead, fd = fds[0]] {
      for (auto& [index, result] : parmap::imap_unordered(pipe_ints(fd), square, opt, one_ahead)) {
        if (result != square(static_cast<int>(index) + 1)) {
          child::say("wrong result");
          std::_Exit(3);
        }
        consumed.fetch_add(1);
      }
      child::say("the input ended");
      std::_Exit(3);
    }).detach();
    while (consumed.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Time for the consumer to get into its wait for the fourth result.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } else {
    abandoned =
        new parmap::imap_stream<int>(parmap::imap(pipe_ints(fds[0]), square, opt, one_ahead));
    if (args->variant == "some") {
      // No ++ after the third result: that would wait for a fourth, which never comes.
      auto it = abandoned->begin();
      for (int expected = 1;; ++expected, ++it) {
        if (it == std::default_sentinel || *it != square(expected)) {
          child::say("wrong result");
          return 3;
        }
        if (expected == 3) break;
      }
    } else {
      // Give the stream's workers time to reach the blocking read.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  child::say("ok");
  return 0;
}
