// The soft trace source as a TraceBackend: launches the command under ptrace
// and hands it to the SoftTracer engine. See docs/soft-tracer.md.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend.h"
#include "soft_tracer.h"
#include "stop_signals.h"

namespace hwcov::collector {
namespace {

// Tracer and tracees on one CPU: each single step is a cross-process
// wake-up, about 3x cheaper when both sides share a core. Restored after.
class PinToCurrentCpu {
 public:
  PinToCurrentCpu() {
    have_saved_ = sched_getaffinity(0, sizeof saved_, &saved_) == 0;
    int cpu = sched_getcpu();
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  ~PinToCurrentCpu() {
    if (have_saved_) sched_setaffinity(0, sizeof saved_, &saved_);
  }

 private:
  cpu_set_t saved_;
  bool have_saved_ = false;
};

// Launches |command| stopped at its exec, or throws with the reason exec failed.
pid_t Launch(const std::vector<std::string>& command) {
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) ThrowErrno("pipe");
  std::vector<char*> argv;
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) {
    close(error_pipe[0]);
    for (int sig : {SIGINT, SIGTERM, SIGQUIT}) signal(sig, SIG_DFL);
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    execvp(argv[0], argv.data());
    int err = errno;
    (void)!write(error_pipe[1], &err, sizeof err);
    _exit(127);
  }
  close(error_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  while ((n = read(error_pipe[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  close(error_pipe[0]);
  if (n == sizeof child_errno) {
    waitpid(pid, nullptr, 0);
    throw Error(command[0] + ": cannot run: " + std::strerror(child_errno));
  }
  return pid;
}

class SoftBackend : public TraceBackend {
 public:
  RecordResult Record(const RecordOptions& options) override {
    if (options.attach_pid) throw Error("-p (attach) needs --backend intel-pt");
    PinToCurrentCpu pin;
    CatchTerminalSignals catch_signals;
    pid_t pid = Launch(options.command);
    try {
      SoftTracer tracer(options, pid, &catch_signals.request());
      return tracer.Run();
    } catch (...) {
      // Never leave a stopped tracee behind: PTRACE_O_EXITKILL kills what
      // remains traced when hwcov exits; the root may not be traced yet.
      kill(pid, SIGKILL);
      throw;
    }
  }
};

}  // namespace

std::unique_ptr<TraceBackend> MakeSoftBackend() { return std::make_unique<SoftBackend>(); }

}  // namespace hwcov::collector
