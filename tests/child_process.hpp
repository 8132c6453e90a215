#pragma once
// Runs one of the helper programs in tests/children as a child process, under a timeout, for
// behaviour that could hang or kill the test itself: process exit, signals, static
// destruction. A regression then fails the test (timed out, crashed, wrong output) instead of
// hanging the suite. The child's stdout and stderr are captured together.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#ifndef PARMAP_CHILD_DIR
#error "tests/CMakeLists.txt defines PARMAP_CHILD_DIR, where the child programs are built"
#endif

namespace parmap_test {

/// The path of the helper program tests/children/<name>.cpp.
inline std::string child_path(std::string_view name) {
  return std::string(PARMAP_CHILD_DIR) + "/child_" + std::string(name);
}

/// How a child ended.
struct child_status {
  bool timed_out = false;  ///< killed by the harness after the timeout
  bool exited = false;     ///< ended by exit() or return from main; then exit_code holds
  int exit_code = -1;
  int signal = 0;          ///< the signal that ended it, when !exited
  std::string output;      ///< stdout and stderr, interleaved
  double seconds = 0;      ///< from start to end (or to the kill)

  /// A one-line account for assertion messages.
  [[nodiscard]] std::string describe() const {
    std::string how = timed_out ? "timed out"
                      : exited  ? "exited with " + std::to_string(exit_code)
                                : "killed by signal " + std::to_string(signal);
    return how + " after " + std::to_string(seconds) + " s; output:\n" + output;
  }
  [[nodiscard]] bool ok() const { return !timed_out && exited && exit_code == 0; }
};

/// A running child. Its own process group, so a timeout kills whatever it started too.
class child_process {
 public:
  /// Starts `program` with `args`; `env` entries ("NAME=value") are added to this process's
  /// environment.
  child_process(const std::string& program, const std::vector<std::string>& args = {},
                const std::vector<std::string>& env = {})
      : start_(std::chrono::steady_clock::now()) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv_s{program};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s(env);
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      setpgid(0, 0);
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    setpgid(pid_, pid_);
    close(fds[1]);
    out_ = fds[0];
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  /// Reads output until it contains `text`; false if the child ended or the time ran out first.
  bool wait_for_output(std::string_view text, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (output_.find(text) == std::string::npos) {
      if (!read_some(until)) return output_.find(text) != std::string::npos;
    }
    return true;
  }

  /// Sends `sig` to the child itself.
  void send(int sig) const { kill(pid_, sig); }

  /// Waits for the child to end, killing it (and its group) after `timeout`.
  child_status wait(std::chrono::milliseconds timeout) {
    child_status st;
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (read_some(until)) {
    }
    int status = 0;
    for (;;) {
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() >= until) {
        st.timed_out = true;
        kill(-pid_, SIGKILL);
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      usleep(2000);
    }
    // Whatever is left in the pipe (grandchildren may hold it open: do not wait for them).
    while (read_some(std::chrono::steady_clock::now())) {
    }
    pid_ = -1;
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (!st.timed_out) {
      st.exited = WIFEXITED(status);
      if (st.exited) st.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) st.signal = WTERMSIG(status);
    }
    st.output = output_;
    return st;
  }

  [[nodiscard]] const std::string& output() const noexcept { return output_; }

 private:
  /// Reads what is there before `until`; false at end of output or when the time is up.
  bool read_some(std::chrono::steady_clock::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{out_, POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
    if (r < 0 && errno == EINTR) return true;
    if (r <= 0) return false;
    char buf[4096];
    const ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
  std::chrono::steady_clock::time_point start_;
};

/// Runs tests/children/<name> with `args` to its end, under `timeout`.
inline child_status run_child(std::string_view name, const std::vector<std::string>& args = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(30),
                              const std::vector<std::string>& env = {}) {
  child_process c(child_path(name), args, env);
  return c.wait(timeout);
}

}  // namespace parmap_test
