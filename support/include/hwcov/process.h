// Starting and waiting for other programs, written once for all of hwcov:
// the command a backend traces, QEMU, git. The exec errno is reported
// through a close-on-exec pipe, $PATH is searched as execvp does, and wait
// statuses follow the shell's convention.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hwcov {

// Throws hwcov::Error("<what>: <strerror(errno)>").
[[noreturn]] void ThrowErrno(const std::string& what);

// A regular file this process may execute (what execvp looks for).
bool IsExecutableFile(const std::filesystem::path& path);

// An environment variable's value; nullopt when it is unset or empty (an
// empty one means the default, as for TMPDIR). Not for PATH, where an empty
// value has a meaning of its own.
std::optional<std::string> EnvironmentSetting(const char* name);

// Where execvp would find |name|: |name| itself when it has a '/', else the
// first executable regular file of that name on $PATH (an empty entry is the
// current directory); nullopt when there is none.
std::optional<std::filesystem::path> FindInPath(const std::string& name);

// A wait status as a shell reports it: the exit code, or 128 + the signal.
int ExitCode(int wait_status);
// The signal that killed the process, 0 when it exited.
int KillingSignal(int wait_status);

struct SpawnOptions {
  bool search_path = true;  // execvp (else execv: argv[0] is a path)
  bool hold = false;        // wait before exec until Start() (perf's prepare_workload)
  bool quiet = false;       // stdin, stdout and stderr from/to /dev/null
  // Runs in the child just before exec, after the terminal signals are back
  // to their defaults: async-signal-safe calls only (ptrace, prctl, rlimit).
  // A non-zero errno is reported as exec's would be, and nothing runs.
  std::function<int()> in_child = nullptr;
};

// A forked child running a command. Unless held, the constructor returns
// once exec succeeded and throws "<argv0>: cannot run: <reason>" if it failed.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, SpawnOptions options = {});
  // A held child that never started exits; an unreaped one is waited for.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Lets a held child exec; throws as the constructor does if exec fails.
  void Start();
  // Lets a held child go on to exec without waiting for the outcome, for a
  // caller that must keep serving the child meanwhile (a ptrace supervisor).
  void Release();
  // Once the child exec'd or ended: the errno of its failed exec, if it failed.
  std::optional<int> ExecError();
  // Waits for the child to end; its wait status. When a signal interrupts
  // the wait, |stop_request| says which signal to pass on to the child (0:
  // none): Ctrl-C reaches it from the terminal anyway, a SIGTERM sent to
  // hwcov alone must be passed on.
  int Wait(const std::function<int()>& stop_request = nullptr);
  // The caller reaped the child itself (a waitpid(-1) loop).
  void MarkReaped() { reaped_ = true; }

 private:
  std::string name_;
  pid_t pid_ = -1;
  int go_fd_ = -1;     // write end: one byte releases a held child
  int error_fd_ = -1;  // read end: the child's errno if exec failed, else EOF
  bool reaped_ = false;
};

// What a command wrote and how it ended, for short-lived helpers (git).
struct CommandOutput {
  int exit_code = 0;  // ExitCode() of its wait status
  std::string out, err;
};
// Runs |argv| ($PATH searched) with stdin from /dev/null, both output
// streams read to the end. Throws as ChildProcess does if it cannot run.
CommandOutput RunCapturing(const std::vector<std::string>& argv);

}  // namespace hwcov
