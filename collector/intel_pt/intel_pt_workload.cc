#include "intel_pt_workload.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGQUIT};
volatile sig_atomic_t g_stop = 0;

void OnStopSignal(int) { g_stop = 1; }

[[noreturn]] void ThrowErrno(const std::string& what) {
  throw Error(what + ": " + std::strerror(errno));
}

}  // namespace

Workload::Workload(const std::vector<std::string>& command) : name_(command.at(0)) {
  int go[2], error[2];
  if (pipe2(go, O_CLOEXEC) != 0) ThrowErrno("pipe");
  if (pipe2(error, O_CLOEXEC) != 0) {
    close(go[0]);
    close(go[1]);
    ThrowErrno("pipe");
  }
  std::vector<char*> argv;
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) ThrowErrno("fork");
  if (pid_ == 0) {
    // Only async-signal-safe calls from here on.
    for (int sig : kSignals) signal(sig, SIG_DFL);
    close(go[1]);
    close(error[0]);
    char byte = 0;
    ssize_t n;
    while ((n = read(go[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) _exit(127);  // hwcov gave up before starting us
    execvp(argv[0], argv.data());
    int err = errno;
    (void)!write(error[1], &err, sizeof err);
    _exit(127);
  }
  close(go[0]);
  close(error[1]);
  go_fd_ = go[1];
  error_fd_ = error[0];
}

Workload::~Workload() {
  if (go_fd_ >= 0) close(go_fd_);  // an unstarted child reads EOF and exits
  if (error_fd_ >= 0) close(error_fd_);
  if (pid_ > 0 && !reaped_) {
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void Workload::Start() {
  const char go = 1;
  if (write(go_fd_, &go, 1) != 1) ThrowErrno("cannot start " + name_);
  close(go_fd_);
  go_fd_ = -1;
  int child_errno = 0;
  ssize_t n;
  while ((n = read(error_fd_, &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  close(error_fd_);
  error_fd_ = -1;
  if (n == sizeof child_errno) {
    int status;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    throw Error(name_ + ": cannot run: " + std::strerror(child_errno));
  }
}

int Workload::Wait() {
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0)
    if (errno != EINTR) ThrowErrno("waitpid");
  reaped_ = true;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::vector<pid_t> ThreadsOf(pid_t pid) {
  std::vector<pid_t> tids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") == std::string::npos)
      tids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  if (tids.empty()) throw Error("process " + std::to_string(pid) + " does not exist");
  std::sort(tids.begin(), tids.end());
  return tids;
}

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

std::string ExecutableOf(pid_t pid) {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  if (ec)
    throw Error("cannot read the executable of process " + std::to_string(pid) + ": " +
                ec.message());
  return exe.string();
}

std::string FindInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    fs::path candidate =
        fs::path(dirs.substr(begin, end - begin).empty() ? "." : dirs.substr(begin, end - begin)) /
        name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    begin = end + 1;
  }
  return name;
}

TerminalSignals::TerminalSignals(bool catch_as_stop) {
  g_stop = 0;
  struct sigaction sa {};
  sa.sa_handler = catch_as_stop ? OnStopSignal : SIG_IGN;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &old_[i]);
}

TerminalSignals::~TerminalSignals() {
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
}

bool TerminalSignals::stop_requested() { return g_stop != 0; }

}  // namespace hwcov::collector
