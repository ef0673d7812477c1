#include "soft_tracer.h"

#include <elf.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <ostream>

#include "hwcov/process.h"
#include "program_selection.h"
#include "software_pt.h"
#include "test_name_of_process.h"

namespace hwcov::collector {
namespace {

constexpr int kTrapTrace = 2;  // si_code of a completed single step

bool IsAddressSpaceSyscall(long nr) {
  return nr == SYS_mmap || nr == SYS_munmap || nr == SYS_mprotect || nr == SYS_mremap ||
         nr == SYS_remap_file_pages || nr == SYS_pkey_mprotect;
}

std::string Exe(pid_t pid) {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  return ec ? std::string() : path.string();
}

std::string CommName(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

pid_t ThreadGroupOf(pid_t tid) {
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Tgid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(5)));
  return tid;
}

uint64_t EntryPoint(pid_t pid) {
  std::ifstream auxv("/proc/" + std::to_string(pid) + "/auxv", std::ios::binary);
  uint64_t pair[2];
  while (auxv.read(reinterpret_cast<char*>(pair), sizeof pair))
    if (pair[0] == AT_ENTRY) return pair[1];
  throw Error("cannot find the entry point of process " + std::to_string(pid));
}

uint64_t FindSyscallGadget(pid_t pid, const std::vector<ExecMapping>& mappings,
                           const RangeSet& filter) {
  for (const ExecMapping& m : mappings) {
    if (!m.executable || filter.Contains(m.start)) continue;
    std::vector<uint8_t> bytes(std::min<uint64_t>(m.end - m.start, 1 << 20));
    bytes.resize(ReadTraceeMemory(pid, m.start, bytes));
    for (size_t i = 0; i + 1 < bytes.size(); ++i)
      if (bytes[i] == 0x0f && bytes[i + 1] == 0x05) return m.start + i;
  }
  return 0;
}

}  // namespace

SoftTracer::SoftTracer(const RecordOptions& options, pid_t root, const StopRequest* stop)
    : options_(options), root_(root), output_(options) {
  if (stop) stop_relay_.emplace(*stop, options.log);
  if (!options.step_log.empty()) {
    step_log_.open(options.step_log);
    if (!step_log_) ThrowFileError(options.step_log, "cannot create");
    step_log_ << std::hex;
  }
}

RecordResult SoftTracer::Run() {
  const auto start = std::chrono::steady_clock::now();
  int status = WaitFor(root_);  // the exec stop of PTRACE_TRACEME
  if (WIFSTOPPED(status)) {
    long ptrace_options = PTRACE_O_EXITKILL | PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC |
                          PTRACE_O_TRACECLONE | PTRACE_O_TRACESYSGOOD;
    if (options_.inherit) ptrace_options |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
    if (ptrace(PTRACE_SETOPTIONS, root_, nullptr, ptrace_options) != 0)
      ThrowErrno("ptrace(SETOPTIONS)");
    Thread& t = threads_[root_];
    t.tid = t.pid = root_;
    processes_[root_].pid = root_;
    processes_[root_].threads.insert(root_);
    ProgramStarted(t);
    while (!threads_.empty()) {
      PassOnStopSignal();
      pid_t tid = waitpid(-1, &status, __WALL);
      if (tid < 0) {
        if (errno == EINTR) continue;
        break;  // ECHILD: nothing left
      }
      Handle(tid, status);
    }
  } else {
    root_status_ = status;
  }
  for (auto& [tid, t] : threads_)
    if (t.encoder) t.encoder->Finish();
  writer_.Finish();
  RecordResult result;
  result.exit_status = ExitCode(root_status_.value_or(0));
  result.killed_by_signal = KillingSignal(root_status_.value_or(0));
  stats_.trace_bytes = output_.aux_bytes();
  stats_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats_.steps = steps_;
  result.stats = stats_;
  return result;
}

void SoftTracer::PassOnStopSignal() {
  if (!stop_relay_) return;
  if (const int signal = stop_relay_->Poll())
    for (const auto& [pid, process] : processes_) kill(pid, signal);
}

void SoftTracer::Handle(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) return ThreadGone(tid, status);
  if (!WIFSTOPPED(status)) return;
  auto it = threads_.find(tid);
  if (it == threads_.end()) {
    early_stops_[tid] = status;  // a new task whose creation event is still to come
    return;
  }
  Thread& t = it->second;
  const int signal = WSTOPSIG(status);
  if (const int event = status >> 16; event != 0) return HandleEvent(t, event);
  if (t.initial_stop_pending && signal == SIGSTOP) {
    t.initial_stop_pending = false;
    return StartNewTask(t);
  }
  if (signal == (SIGTRAP | 0x80)) return HandleSyscallStop(t);
  switch (t.mode) {
    case Mode::kStepping:
      return HandleStep(t, signal);
    case Mode::kFree:
      return HandleFree(t, signal);
    case Mode::kToEntry: {
      Process& p = ProcessOf(t);
      if (signal == SIGTRAP && Tracee(t.tid).Rip() == p.entry + 1) return ReachedEntry(t);
      t.inject = signal == SIGTRAP ? 0 : signal;
      return Resume(t);
    }
    case Mode::kUntraced:
      t.inject = signal == SIGTRAP ? 0 : signal;
      return Resume(t);
  }
}

void SoftTracer::HandleEvent(Thread& t, int event) {
  Tracee tracee(t.tid);
  switch (event) {
    case PTRACE_EVENT_CLONE:
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
      NewTask(t, static_cast<pid_t>(tracee.EventMessage()));
      break;
    case PTRACE_EVENT_EXEC:
      if (t.mode == Mode::kStepping && t.syscall_nr == SYS_execve) {
        const InsnInfo& insn = Classify(ProcessOf(t), t.ip);
        Executed(t, insn, t.ip + insn.length);
      }
      ProgramStarted(t);
      return;
    case PTRACE_EVENT_EXIT:
      ThreadExiting(t);
      tracee.Resume(PTRACE_CONT, 0);
      return;
    default:
      break;
  }
  // Resumed inside the syscall: if single-stepped, its exit traps once more
  // without running an instruction (unless that step is the syscall's own).
  if (t.mode == Mode::kStepping && t.syscall_nr < 0) t.expect_exit_trap = true;
  Resume(t);
}

void SoftTracer::ProgramStarted(Thread& t) {
  Process& p = ProcessOf(t);
  p.exe = Exe(p.pid);
  p.mappings.clear();
  p.insns.clear();
  p.filter.Clear();
  p.filter_protected = false;
  p.syscall_gadget = 0;
  p.vdso_captured = false;
  p.traced = IsSelectedExecutable(options_, p.exe);
  t.syscall_nr = -1;
  t.expect_exit_trap = false;
  if (!p.traced) own_engine_.Untraced(p.exe);
  if (!p.traced) {
    t.mode = Mode::kUntraced;
    return Resume(t);
  }
  CountTraced(t);
  writer_.AddComm(static_cast<uint32_t>(p.pid), static_cast<uint32_t>(t.tid), CommName(p.pid), true,
                  NowNs());
  writer_.AddTestName(static_cast<uint32_t>(p.pid), TestNameOfProcess(p.pid));
  // The dynamic loader runs free up to the program's entry point.
  p.entry = EntryPoint(p.pid);
  errno = 0;
  p.entry_original = ptrace(PTRACE_PEEKTEXT, p.pid, p.entry, nullptr);
  if (errno) ThrowErrno("ptrace(PEEKTEXT) at the entry point of " + p.exe);
  if (ptrace(PTRACE_POKETEXT, p.pid, p.entry, (p.entry_original & ~0xffL) | 0xcc) != 0)
    ThrowErrno("ptrace(POKETEXT) at the entry point of " + p.exe);
  t.mode = Mode::kToEntry;
  Resume(t);
}

void SoftTracer::ReachedEntry(Thread& t) {
  Process& p = ProcessOf(t);
  if (ptrace(PTRACE_POKETEXT, p.pid, p.entry, p.entry_original) != 0)
    ThrowErrno("ptrace(POKETEXT) restoring the entry point of " + p.exe);
  Tracee(t.tid).SetRip(p.entry);
  RefreshMappings(t, p);
  t.mode = Mode::kStepping;
  t.ip = p.entry;
  // RefreshMappings put a sync point between an earlier program's trace in
  // this thread's queue and this one's.
  Step(t);
}

void SoftTracer::NewTask(Thread& parent, pid_t child) {
  Process& pp = ProcessOf(parent);
  const pid_t tgid = ThreadGroupOf(child);
  const bool is_thread = tgid == parent.pid;
  Thread& c = threads_[child];
  c.tid = child;
  c.initial_stop_pending = true;
  const uint64_t now = NowNs();
  if (is_thread) {
    c.pid = parent.pid;
    pp.threads.insert(child);
    if (pp.traced) {
      writer_.AddFork(static_cast<uint32_t>(tgid), static_cast<uint32_t>(tgid),
                      static_cast<uint32_t>(child), static_cast<uint32_t>(parent.tid), now);
      // Page protection is per process: with two threads, one could run free
      // into code another is stepping through, so all threads are stepped.
      // The pages stay protected until a thread faults on them (HandleStep):
      // a syscall cannot be injected here, inside clone.
      if (parent.mode == Mode::kFree) {
        parent.mode = Mode::kStepping;
        parent.ip = Tracee(parent.tid).Rip();
        parent.syscall_nr = -1;
      }
    }
    c.mode = parent.mode;
    if (pp.traced) CountTraced(c);
  } else {
    Process& cp = processes_[child];
    cp = pp;  // a copy of the address space, its filter and instruction cache
    cp.pid = child;
    cp.threads = {child};
    c.pid = child;
    c.mode = parent.mode;
    if (!options_.inherit) {
      c.mode = Mode::kUntraced;
      cp.traced = false;
    }
    if (cp.traced) CountTraced(c);
    if (cp.traced)
      writer_.AddFork(static_cast<uint32_t>(child), static_cast<uint32_t>(parent.pid),
                      static_cast<uint32_t>(child), static_cast<uint32_t>(parent.tid), now);
  }
  auto early = early_stops_.find(child);
  if (early != early_stops_.end()) {
    early_stops_.erase(early);
    c.initial_stop_pending = false;
    StartNewTask(c);
  }
}

void SoftTracer::StartNewTask(Thread& t) {
  if (t.mode != Mode::kStepping) return Resume(t);
  t.ip = Tracee(t.tid).Rip();
  Step(t);
}

void SoftTracer::ThreadExiting(Thread& t) {
  if (t.exited) return;
  t.exited = true;
  Process& p = ProcessOf(t);
  if (t.mode == Mode::kStepping && t.syscall_nr >= 0) {
    const int status = static_cast<int>(Tracee(t.tid).EventMessage());
    if (!WIFSIGNALED(status)) {  // exit or exit_group ran
      const InsnInfo& insn = Classify(p, t.ip);
      Executed(t, insn, t.ip + insn.length);
    }
  }
  if (t.encoder) {
    t.encoder->Finish();
    writer_.AddExit(static_cast<uint32_t>(t.pid), static_cast<uint32_t>(t.pid),
                    static_cast<uint32_t>(t.tid), static_cast<uint32_t>(t.tid), NowNs());
  }
}

void SoftTracer::ThreadGone(pid_t tid, int status) {
  if (tid == root_) root_status_ = status;
  auto it = threads_.find(tid);
  if (it == threads_.end()) return;
  ThreadExiting(it->second);
  const pid_t pid = it->second.pid;
  threads_.erase(it);
  auto p = processes_.find(pid);
  if (p != processes_.end()) {
    p->second.threads.erase(tid);
    if (p->second.threads.empty()) processes_.erase(p);
  }
}

void SoftTracer::HandleSyscallStop(Thread& t) {
  // Syscall stops happen only while running free (PTRACE_SYSCALL): watch
  // for address-space changes so that late-loaded code is in the sideband.
  t.in_syscall = !t.in_syscall;
  if (!t.in_syscall && t.mode == Mode::kFree) {
    const long nr = static_cast<long>(Tracee(t.tid).Regs().orig_rax);
    if (IsAddressSpaceSyscall(nr)) RefreshMappings(t, ProcessOf(t));
  }
  Resume(t);
}

void SoftTracer::HandleStep(Thread& t, int signal) {
  Process& p = ProcessOf(t);
  Tracee tracee(t.tid);
  if (signal == SIGSEGV && p.filter_protected && IsFaultOnTracedCode(t, p)) {
    SetFilterProtection(t, p, false);  // another thread left it protected
    return Step(t);
  }
  if (signal != SIGTRAP) {  // signal-delivery stop: the instruction at ip has not run
    t.inject = signal;
    return Resume(t);
  }
  const uint64_t next = tracee.Rip();
  if (t.expect_exit_trap) {
    t.expect_exit_trap = false;
    if (next == t.ip) return Step(t);
  }
  const InsnInfo& insn = Classify(p, t.ip);
  if (t.injected) {
    std::optional<bool> successor = IsSuccessor(t.ip, insn, next, AfterFarTransfer::kFallThrough);
    const bool ran = successor ? *successor : tracee.SigInfo().si_code == kTrapTrace;
    if (!ran) {  // stopped at a signal handler's first instruction
      if (p.filter.Contains(t.ip) && t.encoder) t.encoder->Interrupted(t.ip);
      t.ip = next;
      t.syscall_nr = -1;
      return Step(t);
    }
  }
  if (insn.has_rep && next == t.ip) return Step(t);  // one more string iteration
  Executed(t, insn, next);
  if (IsAddressSpaceSyscall(t.syscall_nr)) RefreshMappings(t, p);
  t.ip = next;
  if (!p.filter.Contains(next) && CanRunFree(p)) return GoFree(t);
  Step(t);
}

void SoftTracer::Executed(Thread& t, const InsnInfo& insn, uint64_t next) {
  Process& p = ProcessOf(t);
  ++steps_;
  if (!p.filter.Contains(t.ip)) return;
  EncodeInFilter(EncoderOf(t), t.ip, insn, next, p.filter.Contains(next));
  ++stats_.instructions;
  if (step_log_.is_open()) step_log_ << t.ip << '\n';
}

void SoftTracer::HandleFree(Thread& t, int signal) {
  Process& p = ProcessOf(t);
  Tracee tracee(t.tid);
  if (signal == SIGSEGV && p.filter_protected && IsFaultOnTracedCode(t, p)) {
    // The program jumped back into traced code (a return, a callback, a
    // signal handler): trace it from here.
    SetFilterProtection(t, p, false);
    t.mode = Mode::kStepping;
    t.ip = tracee.Rip();
    return Step(t);
  }
  t.inject = signal == SIGTRAP ? 0 : signal;
  Resume(t);
}

bool SoftTracer::IsFaultOnTracedCode(const Thread& t, const Process& p) const {
  Tracee tracee(t.tid);
  const siginfo_t info = tracee.SigInfo();
  const uint64_t rip = tracee.Rip();
  return info.si_code == SEGV_ACCERR && reinterpret_cast<uint64_t>(info.si_addr) == rip &&
         p.filter.Contains(rip);
}

// An empty filter (a selected program with none of the project's code
// mapped yet, e.g. a system shell under --only-exe '*') runs free too: its
// protection is vacuous until a mapping brings code to trace, and
// RefreshMappings protects that code at the mmap that maps it.
bool SoftTracer::CanRunFree(const Process& p) const {
  return !options_.trace_everything && p.threads.size() == 1 && p.syscall_gadget != 0;
}

void SoftTracer::GoFree(Thread& t) {
  Process& p = ProcessOf(t);
  SetFilterProtection(t, p, true);
  t.mode = Mode::kFree;
  t.in_syscall = false;
  Resume(t);
}

void SoftTracer::SetFilterProtection(Thread& via, Process& p, bool on) {
  const int prot = on ? PROT_READ : PROT_READ | PROT_EXEC;
  for (const AddressRange& r : p.filter.ranges()) {
    int deferred = 0;
    long rc =
        Tracee(via.tid).InjectSyscall(p.syscall_gadget, SYS_mprotect, static_cast<long>(r.start),
                                      static_cast<long>(r.end - r.start), prot, &deferred);
    if (deferred && !via.inject) via.inject = deferred;
    if (rc == -ENOMEM) continue;  // unmapped meanwhile (dlclose): nothing to protect
    if (rc != 0)
      throw Error("cannot change the protection of traced code in process " +
                  std::to_string(p.pid) + ": mprotect returned " + std::to_string(rc));
  }
  p.filter_protected = on;
}

void SoftTracer::ComputeFilter(Process& p) {
  p.filter.Clear();
  for (const auto& [key, m] : p.mappings)
    if (InCodeFilter(options_, m.path)) p.filter.Add(m.start, m.end);
}

void SoftTracer::RefreshMappings(Thread& via, Process& p) {
  std::vector<ExecMapping> all = ReadAllMappings(p.pid);
  std::vector<ExecMapping> now;
  for (const ExecMapping& m : all)
    if (m.executable) now.push_back(m);
  if (p.filter_protected) {
    // Traced code this tracer made read-only shows as r--p, often merged by
    // the kernel with the file's neighbouring read-only segments: keep the
    // mappings as they were while their pages are still mapped.
    for (const auto& [key, known] : p.mappings) {
      if (!p.filter.Contains(known.start)) continue;
      for (const ExecMapping& m : all)
        if (!m.executable && m.path == known.path && m.start <= known.start && known.end <= m.end)
          now.push_back(known);
    }
  }
  std::map<std::tuple<uint64_t, uint64_t, uint64_t, std::string>, ExecMapping> current;
  bool changed = false;
  for (ExecMapping& m : now) {
    m.executable = true;
    auto key = m.key();
    if (!p.mappings.contains(key)) {
      changed = true;
      writer_.AddMmap(ToMmapEvent(p.pid, m), NowNs());
      if (m.path == "[vdso]" && !p.vdso_captured) {
        trace::CodeSnapshot snapshot;
        snapshot.pid = static_cast<uint32_t>(p.pid);
        snapshot.start = m.start;
        snapshot.name = m.path;
        snapshot.bytes.resize(m.end - m.start);
        snapshot.bytes.resize(ReadTraceeMemory(p.pid, m.start, snapshot.bytes));
        writer_.AddSnapshot(snapshot);
        p.vdso_captured = true;
      }
    }
    current.emplace(key, m);
  }
  if (current.size() != p.mappings.size()) changed = true;
  if (!changed) return;
  const bool was_protected = p.filter_protected;
  if (was_protected) SetFilterProtection(via, p, false);
  p.mappings = std::move(current);
  p.insns.clear();
  ComputeFilter(p);
  if (!p.syscall_gadget) p.syscall_gadget = FindSyscallGadget(p.pid, now, p.filter);
  if (was_protected) SetFilterProtection(via, p, true);
  // A sync point in every thread's trace: decoders switch images there.
  for (pid_t tid : p.threads) {
    Thread& t = threads_.at(tid);
    if (t.encoder) t.encoder->Sync();
  }
}

const InsnInfo& SoftTracer::Classify(Process& p, uint64_t ip) {
  auto it = p.insns.find(ip);
  if (it != p.insns.end()) return it->second;
  uint8_t bytes[16];
  size_t n = ReadTraceeMemory(p.pid, ip, bytes);
  return p.insns.emplace(ip, ClassifyInsn({bytes, n}, ip)).first->second;
}

PtEncoder& SoftTracer::EncoderOf(Thread& t) {
  if (!t.encoder) {
    t.queue = next_queue_++;
    t.encoder = StartThreadTrace(writer_, t.queue, static_cast<uint32_t>(t.pid),
                                 static_cast<uint32_t>(t.tid), options_, NowNs);
  }
  return *t.encoder;
}

// The statistics count what was selected for tracing, whether or not it
// reached the project's code before it ended (or was interrupted): the
// single steps it took are then still accounted to a process.
void SoftTracer::CountTraced(const Thread& t) {
  if (traced_tids_.insert(t.tid).second) ++stats_.threads;
  if (traced_pids_.insert(t.pid).second) ++stats_.processes;
}

void SoftTracer::Step(Thread& t) {
  Process& p = ProcessOf(t);
  const InsnInfo& insn = Classify(p, t.ip);
  t.syscall_nr = -1;
  if (insn.kind == InsnKind::kFarTransfer) {  // which syscall this step runs
    errno = 0;
    long rax = ptrace(PTRACE_PEEKUSER, t.tid, offsetof(user_regs_struct, rax), nullptr);
    if (!errno) t.syscall_nr = rax;
  }
  Resume(t);
}

void SoftTracer::Resume(Thread& t) {
  __ptrace_request how = PTRACE_CONT;
  if (t.mode == Mode::kStepping) how = PTRACE_SINGLESTEP;
  if (t.mode == Mode::kFree) how = PTRACE_SYSCALL;
  t.injected = t.inject != 0;
  Tracee(t.tid).Resume(how, t.inject);
  t.inject = 0;
}

}  // namespace hwcov::collector
