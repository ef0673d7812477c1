// The soft trace source as a TraceBackend: launches the command under ptrace
// and hands it to the SoftTracer engine. See docs/soft-tracer.md.
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <cerrno>

#include "backend.h"
#include "hwcov/process.h"
#include "program_selection.h"
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
ChildProcess Launch(const std::vector<std::string>& command) {
  return ChildProcess(command, SpawnOptions{.in_child = [] {
                        return ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0 ? 0 : errno;
                      }});
}

class SoftBackend : public TraceBackend {
 public:
  RecordResult Record(const RecordOptions& options) override {
    if (options.attach_pid) throw Error("-p (attach) needs --backend intel-pt");
    PinToCurrentCpu pin;
    TerminalSignals signals(StopSignalMode::kRecord);
    ChildProcess root = Launch(options.command);
    try {
      SoftTracer tracer(options, root.pid(), &signals.request());
      RecordResult result = tracer.Run();
      root.MarkReaped();
      if (result.stats.processes == 0 && options.log) *options.log << NothingTracedNote(options);
      return result;
    } catch (...) {
      // Never leave a stopped tracee behind: PTRACE_O_EXITKILL kills what
      // remains traced when hwcov exits; the root may not be traced yet.
      kill(root.pid(), SIGKILL);
      throw;
    }
  }
};

}  // namespace

std::unique_ptr<TraceBackend> MakeSoftBackend() { return std::make_unique<SoftBackend>(); }

}  // namespace hwcov::collector
