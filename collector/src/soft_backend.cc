// The soft trace source: runs the command under ptrace, single-steps it from
// its ELF entry point (the dynamic loader's start-up runs free, as it does
// not belong to the program) and encodes every step as Intel PT.
// See docs/soft-tracer.md.
#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <ostream>
#include <set>
#include <unordered_map>

#include "backend.h"
#include "hwcov/trace.h"
#include "process_maps.h"
#include "pt_encoder.h"

namespace hwcov::collector {
namespace {

constexpr uint32_t kSoftPmuType = 10;  // perf only requires attr.type == priv[0]
// pt | branch: branch tracing with return compression, no timing packets.
constexpr uint64_t kSoftPtConfig = 0x2001;
constexpr int kStepTrap = 2;  // TRAP_TRACE: a completed single step

std::vector<uint64_t> SoftAuxtracePriv() {
  // AUXTRACE_INFO priv[] as perf's intel_pt_info_fill writes it; time
  // conversion zero and CAP_USER_TIME_ZERO 0 make decoders run timeless.
  return {kSoftPmuType, 0, 0,       0,       0, 0x400, 0x800, 0, 0,
          0,            0x200, 0x3c000, 0,       0, 0x2,   0,     0, 0};
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

[[noreturn]] void ThrowErrno(const std::string& what) {
  throw Error(what + ": " + std::strerror(errno));
}

// hwcov ignores Ctrl-C and SIGTERM while the traced program runs, so that the
// program (which receives them too) ends first and the trace is written.
class IgnoreTerminalSignals {
 public:
  IgnoreTerminalSignals() {
    for (int i = 0; i < 3; ++i) old_[i] = signal(kSignals[i], SIG_IGN);
  }
  ~IgnoreTerminalSignals() {
    for (int i = 0; i < 3; ++i) signal(kSignals[i], old_[i]);
  }

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGQUIT};
  sighandler_t old_[3];
};

class Tracee {
 public:
  explicit Tracee(pid_t pid) : pid_(pid) {}
  pid_t pid() const { return pid_; }

  uint64_t Rip() const {
    errno = 0;
    long rip = ptrace(PTRACE_PEEKUSER, pid_, offsetof(user_regs_struct, rip), nullptr);
    if (errno) ThrowErrno("ptrace(PEEKUSER rip) of " + std::to_string(pid_));
    return static_cast<uint64_t>(rip);
  }
  void SetRip(uint64_t rip) const {
    if (ptrace(PTRACE_POKEUSER, pid_, offsetof(user_regs_struct, rip), rip) != 0)
      ThrowErrno("ptrace(POKEUSER rip)");
  }
  int Wait() const {
    int status = 0;
    while (waitpid(pid_, &status, __WALL) < 0)
      if (errno != EINTR) ThrowErrno("waitpid");
    return status;
  }
  void Resume(__ptrace_request how, int signal) const {
    if (ptrace(how, pid_, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) != 0)
      ThrowErrno("ptrace resume of " + std::to_string(pid_));
  }
  int SiCode() const {
    siginfo_t info{};
    if (ptrace(PTRACE_GETSIGINFO, pid_, nullptr, &info) != 0) return 0;
    return info.si_code;
  }

 private:
  pid_t pid_;
};

bool IsEvent(int status, int event) { return status >> 8 == (SIGTRAP | (event << 8)); }

int ShellStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

uint64_t EntryPoint(pid_t pid) {
  std::ifstream auxv("/proc/" + std::to_string(pid) + "/auxv", std::ios::binary);
  uint64_t pair[2];
  while (auxv.read(reinterpret_cast<char*>(pair), sizeof pair))
    if (pair[0] == AT_ENTRY) return pair[1];
  throw Error("cannot find the entry point of process " + std::to_string(pid));
}

std::string CommName(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// Launches |argv| stopped at its exec, or throws with the reason exec failed.
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

class SoftTracer {
 public:
  SoftTracer(const RecordOptions& options, pid_t pid)
      : options_(options),
        tracee_(pid),
        writer_(options.output, {kSoftPmuType, kSoftPtConfig, SoftAuxtracePriv()}),
        encoder_([this](std::span<const uint8_t> bytes) {
          writer_.AddAux(0, static_cast<uint32_t>(tracee_.pid()), bytes, NowNs());
        }) {
    if (!options.step_log.empty()) {
      step_log_.open(options.step_log);
      if (!step_log_) ThrowFileError(options.step_log, "cannot create");
      step_log_ << std::hex;
    }
  }

  RecordResult Run() {
    const auto start = std::chrono::steady_clock::now();
    int status = tracee_.Wait();  // the exec stop
    if (!WIFSTOPPED(status)) return Finish(status, start);
    if (ptrace(PTRACE_SETOPTIONS, tracee_.pid(), nullptr,
               PTRACE_O_EXITKILL | PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC) != 0)
      ThrowErrno("ptrace(SETOPTIONS)");

    std::optional<int> exit_status = RunToEntry();
    if (exit_status) return Finish(*exit_status, start);
    const uint32_t pid = static_cast<uint32_t>(tracee_.pid());
    writer_.AddComm(pid, pid, CommName(tracee_.pid()), true, NowNs());
    RecordMappings();
    writer_.AddItraceStart(pid, pid, NowNs());
    return Finish(StepToExit(), start);
  }

 private:
  // Lets the dynamic loader run free up to the program's entry point.
  std::optional<int> RunToEntry() {
    const uint64_t entry = EntryPoint(tracee_.pid());
    errno = 0;
    const long original = ptrace(PTRACE_PEEKTEXT, tracee_.pid(), entry, nullptr);
    if (errno) ThrowErrno("ptrace(PEEKTEXT) at the entry point");
    const long with_int3 = (original & ~0xffL) | 0xcc;
    if (ptrace(PTRACE_POKETEXT, tracee_.pid(), entry, with_int3) != 0)
      ThrowErrno("ptrace(POKETEXT) at the entry point");
    int signal = 0;
    for (;;) {
      tracee_.Resume(PTRACE_CONT, signal);
      int status = tracee_.Wait();
      if (WIFEXITED(status) || WIFSIGNALED(status)) return status;
      signal = 0;
      if (IsEvent(status, PTRACE_EVENT_EXIT) || IsEvent(status, PTRACE_EVENT_EXEC)) continue;
      if (WSTOPSIG(status) == SIGTRAP && tracee_.Rip() == entry + 1) break;
      signal = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
    }
    if (ptrace(PTRACE_POKETEXT, tracee_.pid(), entry, original) != 0)
      ThrowErrno("ptrace(POKETEXT) restoring the entry point");
    tracee_.SetRip(entry);
    return std::nullopt;
  }

  void RecordMappings() {
    for (const ExecMapping& m : ReadExecMappings(tracee_.pid())) {
      if (!known_mappings_.insert({m.start, m.end, m.path}).second) continue;
      writer_.AddMmap(ToMmapEvent(tracee_.pid(), m), NowNs());
      if (m.anonymous()) {
        trace::CodeSnapshot snapshot;
        snapshot.pid = static_cast<uint32_t>(tracee_.pid());
        snapshot.start = m.start;
        snapshot.name = m.path;
        snapshot.bytes.resize(m.end - m.start);
        snapshot.bytes.resize(ReadTraceeMemory(tracee_.pid(), m.start, snapshot.bytes));
        writer_.AddSnapshot(snapshot);
      }
    }
  }

  const InsnInfo& Classify(uint64_t ip) {
    auto it = insn_cache_.find(ip);
    if (it != insn_cache_.end()) return it->second;
    uint8_t bytes[16];
    size_t n = ReadTraceeMemory(tracee_.pid(), ip, bytes);
    return insn_cache_.emplace(ip, ClassifyInsn({bytes, n}, ip)).first->second;
  }

  // Whether |next| can follow the instruction at |ip| without an interrupt.
  static std::optional<bool> IsSuccessor(uint64_t ip, const InsnInfo& insn, uint64_t next) {
    switch (insn.kind) {
      case InsnKind::kOther:
        return next == ip + insn.length;
      case InsnKind::kCondJump:
        return next == ip + insn.length || next == insn.target;
      case InsnKind::kDirectJump:
      case InsnKind::kDirectCall:
        return next == insn.target;
      default:
        return std::nullopt;  // indirect: only the trap kind tells
    }
  }

  void Executed(uint64_t ip, const InsnInfo& insn, uint64_t next) {
    encoder_.Executed(ip, insn, next);
    ++instructions_;
    if (step_log_.is_open()) step_log_ << ip << '\n';
  }

  int StepToExit() {
    uint64_t ip = tracee_.Rip();
    int inject = 0;
    for (;;) {
      const InsnInfo& insn = Classify(ip);
      const bool injected = inject != 0;
      tracee_.Resume(PTRACE_SINGLESTEP, inject);
      inject = 0;
      int status = tracee_.Wait();
      if (WIFEXITED(status) || WIFSIGNALED(status)) return status;
      if (IsEvent(status, PTRACE_EVENT_EXIT)) return AtExit(ip, insn);
      if (IsEvent(status, PTRACE_EVENT_EXEC)) return AfterExec();
      const int sig = WSTOPSIG(status);
      if (sig != SIGTRAP) {  // signal-delivery stop: the instruction at ip has not run
        inject = sig;
        continue;
      }
      const uint64_t next = tracee_.Rip();
      if (injected) {
        auto successor = IsSuccessor(ip, insn, next);
        bool ran = successor ? *successor : tracee_.SiCode() == kStepTrap;
        if (insn.kind == InsnKind::kFarTransfer) ran = next == ip + insn.length;
        if (!ran) {  // stopped at a signal handler's first instruction
          encoder_.Interrupted(ip);
          ip = next;
          continue;
        }
      }
      if (insn.has_rep && next == ip) continue;  // one more string iteration
      Executed(ip, insn, next);
      ip = next;
    }
  }

  int AtExit(uint64_t ip, const InsnInfo& insn) {
    unsigned long exit_code = 0;
    ptrace(PTRACE_GETEVENTMSG, tracee_.pid(), nullptr, &exit_code);
    const int status = static_cast<int>(exit_code);
    if (!WIFSIGNALED(status)) Executed(ip, insn, ip + insn.length);  // exit_group ran
    RecordMappings();  // libraries loaded after start-up
    tracee_.Resume(PTRACE_CONT, 0);
    return tracee_.Wait();
  }

  int AfterExec() {
    if (options_.log)
      *options_.log << "hwcov: the traced program called execve; following exec is not "
                       "supported by the soft tracer yet, the new program runs untraced\n";
    ptrace(PTRACE_DETACH, tracee_.pid(), nullptr, nullptr);
    return tracee_.Wait();
  }

  RecordResult Finish(int status, std::chrono::steady_clock::time_point start) {
    encoder_.Finish();
    const uint32_t pid = static_cast<uint32_t>(tracee_.pid());
    writer_.AddExit(pid, pid, pid, pid, NowNs());
    writer_.Finish();
    RecordResult result;
    result.exit_status = ShellStatus(status);
    result.stats.processes = 1;
    result.stats.threads = 1;
    result.stats.instructions = instructions_;
    result.stats.trace_bytes = writer_.aux_bytes();
    result.stats.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

  const RecordOptions& options_;
  Tracee tracee_;
  trace::PerfDataWriter writer_;
  PtEncoder encoder_;
  std::ofstream step_log_;
  std::unordered_map<uint64_t, InsnInfo> insn_cache_;
  std::set<std::tuple<uint64_t, uint64_t, std::string>> known_mappings_;
  uint64_t instructions_ = 0;
};

// Tracer and tracee on one CPU: each single step is a cross-process wake-up,
// about 3x cheaper when both sides share a core.
void PinToCurrentCpu() {
  int cpu = sched_getcpu();
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

class SoftBackend : public TraceBackend {
 public:
  RecordResult Record(const RecordOptions& options) override {
    cpu_set_t saved;
    const bool have_saved = sched_getaffinity(0, sizeof saved, &saved) == 0;
    PinToCurrentCpu();
    IgnoreTerminalSignals ignore;
    RecordResult result;
    try {
      pid_t pid = Launch(options.command);
      SoftTracer tracer(options, pid);
      result = tracer.Run();
    } catch (...) {
      if (have_saved) sched_setaffinity(0, sizeof saved, &saved);
      throw;
    }
    if (have_saved) sched_setaffinity(0, sizeof saved, &saved);
    return result;
  }
};

}  // namespace

std::unique_ptr<TraceBackend> MakeSoftBackend() { return std::make_unique<SoftBackend>(); }

}  // namespace hwcov::collector
