// The soft tracer's engine: follows every thread and process of a command
// under ptrace, single-steps the code inside the trace filter, lets the rest
// run free, and writes what it observes as Intel PT in perf.data, one AUX
// queue per thread (perf's per-thread mode). See docs/soft-tracer.md.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "code_filter.h"
#include "hwcov/collector.h"
#include "hwcov/trace.h"
#include "process_maps.h"
#include "program_selection.h"
#include "pt_encoder.h"
#include "ptrace_tracee.h"
#include "stop_signals.h"
#include "trace_output.h"

namespace hwcov::collector {

class SoftTracer {
 public:
  SoftTracer(const RecordOptions& options, pid_t root, const StopRequest* stop);
  // Traces until every followed task has exited; returns the root's status.
  RecordResult Run();

 private:
  enum class Mode {
    kUntraced,  // process outside --only-exe: runs free, children followed
    kToEntry,   // dynamic loader running free up to the entry point
    kStepping,  // single-stepped
    kFree,      // outside the filter, running until it re-enters
  };

  struct Process {
    pid_t pid = 0;
    std::string exe;
    bool traced = false;
    uint64_t entry = 0;
    long entry_original = 0;
    RangeSet filter;
    bool filter_protected = false;  // filter pages made non-executable
    std::map<std::tuple<uint64_t, uint64_t, uint64_t, std::string>, ExecMapping> mappings;
    std::unordered_map<uint64_t, InsnInfo> insns;
    uint64_t syscall_gadget = 0;
    bool vdso_captured = false;
    std::set<pid_t> threads;
  };

  struct Thread {
    pid_t tid = 0;
    pid_t pid = 0;
    Mode mode = Mode::kUntraced;
    uint64_t ip = 0;                // next instruction to run (stepping)
    int inject = 0;                 // signal to deliver on the next resume
    bool injected = false;          // the last resume delivered a signal
    bool expect_exit_trap = false;  // resumed inside a syscall: its exit traps once
    long syscall_nr = -1;           // the syscall the current step executes
    bool in_syscall = false;        // between syscall-entry and -exit stops (free mode)
    bool initial_stop_pending = false;
    bool exited = false;
    std::unique_ptr<PtEncoder> encoder;
    uint32_t queue = 0;
  };

  void Handle(pid_t tid, int status);
  void HandleEvent(Thread& t, int event);
  void HandleStep(Thread& t, int signal);
  void HandleFree(Thread& t, int signal);
  void HandleSyscallStop(Thread& t);
  void ProgramStarted(Thread& t);  // exec'd: decide traced or not
  void ReachedEntry(Thread& t);
  void NewTask(Thread& parent, pid_t child);
  void StartNewTask(Thread& t);
  bool IsFaultOnTracedCode(const Thread& t, const Process& p) const;
  void ThreadExiting(Thread& t);
  void ThreadGone(pid_t tid, int status);

  void Resume(Thread& t);
  void Step(Thread& t);
  void GoFree(Thread& t);
  bool CanRunFree(const Process& p) const;
  void SetFilterProtection(Thread& via, Process& p, bool on);
  void RefreshMappings(Thread& via, Process& p);
  void ComputeFilter(Process& p);
  const InsnInfo& Classify(Process& p, uint64_t ip);
  PtEncoder& EncoderOf(Thread& t);
  void CountTraced(const Thread& t);
  void Executed(Thread& t, const InsnInfo& insn, uint64_t next);
  Process& ProcessOf(const Thread& t) { return processes_.at(t.pid); }

  void PassOnStopSignal();

  const RecordOptions& options_;
  pid_t root_;
  std::optional<StopSignalRelay> stop_relay_;  // none without a stop request to watch
  TraceOutput output_;
  trace::TraceSink& writer_ = output_.sink();
  std::map<pid_t, Thread> threads_;
  std::map<pid_t, Process> processes_;
  std::map<pid_t, int> early_stops_;  // stops of new tasks seen before their parent's event
  std::optional<int> root_status_;
  uint32_t next_queue_ = 0;
  RecordStats stats_;
  std::set<pid_t> traced_pids_;  // selected for tracing (stats_.processes)
  std::set<pid_t> traced_tids_;
  uint64_t steps_ = 0;
  std::ofstream step_log_;
  OwnEngineNotice own_engine_{options_.log};
};

}  // namespace hwcov::collector
