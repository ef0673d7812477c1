#include "hwcov/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "hwcov/support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;

// Reads what the child wrote before exec: its errno, or nothing (EOF).
std::optional<int> ReadExecError(int fd) {
  int child_errno = 0;
  ssize_t n;
  while ((n = read(fd, &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  if (n == sizeof child_errno) return child_errno;
  return std::nullopt;
}

}  // namespace

bool IsExecutableFile(const fs::path& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

void ThrowErrno(const std::string& what) { throw Error(what + ": " + std::strerror(errno)); }

std::optional<std::string> EnvironmentSetting(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return value;
}

std::optional<fs::path> FindInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return fs::path(name);
  const char* env = std::getenv("PATH");
  const std::string path = env ? env : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    const fs::path dir = end > begin ? fs::path(path.substr(begin, end - begin)) : fs::path(".");
    if (IsExecutableFile(dir / name)) return dir / name;
    begin = end + 1;
  }
  return std::nullopt;
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

int KillingSignal(int wait_status) { return WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0; }

ChildProcess::ChildProcess(const std::vector<std::string>& argv, SpawnOptions options)
    : name_(argv.at(0)) {
  int go[2] = {-1, -1}, error[2];
  if (options.hold && pipe2(go, O_CLOEXEC) != 0) ThrowErrno("pipe");
  if (pipe2(error, O_CLOEXEC) != 0) {
    if (options.hold) close(go[0]), close(go[1]);
    ThrowErrno("pipe");
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int null = options.quiet ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;

  pid_ = fork();
  if (pid_ < 0) ThrowErrno("fork");
  if (pid_ == 0) {
    // Only async-signal-safe calls from here on.
    for (int sig : {SIGINT, SIGTERM, SIGQUIT}) signal(sig, SIG_DFL);
    close(error[0]);
    if (null >= 0)
      for (int fd : {0, 1, 2}) dup2(null, fd);
    if (options.hold) {
      close(go[1]);
      char byte = 0;
      ssize_t n;
      while ((n = read(go[0], &byte, 1)) < 0 && errno == EINTR) {
      }
      if (n != 1) _exit(127);  // hwcov gave up before starting us
    }
    int err = options.in_child ? options.in_child() : 0;
    if (err == 0) {
      if (options.search_path)
        execvp(args[0], args.data());
      else
        execv(args[0], args.data());
      err = errno;
    }
    (void)!write(error[1], &err, sizeof err);
    _exit(127);
  }
  if (null >= 0) close(null);
  close(error[1]);
  error_fd_ = error[0];
  if (options.hold) {
    close(go[0]);
    go_fd_ = go[1];
  } else {
    Start();
  }
}

ChildProcess::~ChildProcess() {
  if (go_fd_ >= 0) close(go_fd_);  // a held child reads EOF and exits
  if (error_fd_ >= 0) close(error_fd_);
  if (pid_ > 0 && !reaped_) {
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void ChildProcess::Start() {
  Release();
  if (const std::optional<int> exec_error = ExecError()) {
    Wait();
    throw Error(name_ + ": cannot run: " + std::strerror(*exec_error));
  }
}

void ChildProcess::Release() {
  if (go_fd_ < 0) return;
  const char go = 1;
  if (write(go_fd_, &go, 1) != 1) ThrowErrno("cannot start " + name_);
  close(go_fd_);
  go_fd_ = -1;
}

std::optional<int> ChildProcess::ExecError() {
  if (error_fd_ < 0) return std::nullopt;
  const std::optional<int> exec_error = ReadExecError(error_fd_);
  close(error_fd_);
  error_fd_ = -1;
  return exec_error;
}

int ChildProcess::Wait(const std::function<int()>& stop_request) {
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) ThrowErrno("waitpid");
    if (stop_request)
      if (const int signal = stop_request()) kill(pid_, signal);
  }
  reaped_ = true;
  return status;
}

CommandOutput RunCapturing(const std::vector<std::string>& argv) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) ThrowErrno("pipe");
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]);
    ThrowErrno("pipe");
  }
  const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto close_all = [&] {
    for (int fd : {out[0], out[1], err[0], err[1], null})
      if (fd >= 0) close(fd);
  };
  std::optional<ChildProcess> child;
  try {
    child.emplace(
        argv, SpawnOptions{.in_child = [&] {
          // dup2 clears close-on-exec on the copies only.
          if (null >= 0) dup2(null, STDIN_FILENO);
          return dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0 ? errno : 0;
        }});
  } catch (...) {
    close_all();
    throw;
  }
  close(out[1]), close(err[1]), close(null);
  out[1] = err[1] = -1;
  CommandOutput result;
  // Both streams at once: a child blocked writing one while we wait on the
  // other would never end.
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  char buffer[65536];
  for (int open_streams = 2; open_streams > 0;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      close(out[0]), close(err[0]);
      errno = saved;
      ThrowErrno("poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;  // poll skips it
        --open_streams;
      }
    }
  }
  result.exit_code = ExitCode(child->Wait());
  return result;
}

}  // namespace hwcov
