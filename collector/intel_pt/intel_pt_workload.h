// The process a hardware recording traces. A launched command is forked
// and held before its exec (perf's evlist__prepare_workload) so that its
// events can be opened on its pid with enable_on_exec; Start() lets it exec
// (evlist__start_workload). An attached process is only looked at.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <string>
#include <vector>

namespace hwcov::collector {

class Workload {
 public:
  // Forks a child that waits for Start() before it execs |command|.
  explicit Workload(const std::vector<std::string>& command);
  // Kills and reaps a child that never started.
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  pid_t pid() const { return pid_; }
  // Lets the child exec; throws "<cmd>: cannot run: <reason>" if exec fails.
  void Start();
  // Waits for the child to end: its status as a shell reports it.
  int Wait();

 private:
  std::string name_;
  pid_t pid_ = -1;
  int go_fd_ = -1;     // write end: one byte releases the child
  int error_fd_ = -1;  // read end: the child's errno if exec failed, else EOF
  bool reaped_ = false;
};

// The threads of a running process (/proc/PID/task), or throws when it
// does not exist.
std::vector<pid_t> ThreadsOf(pid_t pid);
bool ProcessExists(pid_t pid);
// The executable a running process runs (/proc/PID/exe).
std::string ExecutableOf(pid_t pid);
// Where execvp would find |name| (PATH search), or |name| itself.
std::string FindInPath(const std::string& name);

// Ignores Ctrl-C / SIGTERM / SIGQUIT in hwcov while a launched command runs
// (the command gets them and ends; hwcov then writes the trace), or, for an
// attached process, turns them into a stop request.
class TerminalSignals {
 public:
  explicit TerminalSignals(bool catch_as_stop);
  ~TerminalSignals();
  TerminalSignals(const TerminalSignals&) = delete;
  TerminalSignals& operator=(const TerminalSignals&) = delete;
  static bool stop_requested();

 private:
  struct sigaction old_[3];
};

}  // namespace hwcov::collector
