#include "exec_supervisor.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "emu_exec.h"
#include "hwcov/process.h"
#include "hwcov/support.h"
#include "stop_signals.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

constexpr long kPtraceOptions = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
// The i386 system call numbers (unistd_32.h); 11 is munmap for x86-64, which
// the filter lets through, so a stop with these numbers is a 32-bit caller.
constexpr unsigned kI386Execve = 11, kI386Execveat = 358;
constexpr size_t kMaxArgs = 1 << 17;
constexpr size_t kMaxString = 1 << 21;  // the kernel's MAX_ARG_STRLEN is 128 KiB
// Entries QEMU's command line adds to the program's (hwcov_emu_exec_argv).
constexpr size_t kExtraArgs = 16;
// Below the stack pointer the rewritten arguments leave room for the red zone.
constexpr uint64_t kStackGap = 512;

// In the command's child, before its exec: execve and execveat stop for the
// supervisor, every other system call runs as it would. Inherited by every
// process the command starts. Async-signal-safe.
int InstallExecFilter() {
  // 32-bit processes' execve and execveat stop too: only to be reported.
  static sock_filter filter[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 7, 0),
      /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 6, 0),
      /* 5 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 3),
      /* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kI386Execve, 2, 0),
      /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kI386Execveat, 1, 0),
      /* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
  };
  static sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  // QEMU writes the core of a program killed by a signal as
  // qemu_PROG_DATE.core in the working directory: not for hwcov's runs.
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return errno;
  return 0;
}

// A stopped tracee's memory, through /proc/PID/mem.
class TraceeMemory {
 public:
  explicit TraceeMemory(pid_t pid)
      : fd_(open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDWR | O_CLOEXEC)) {}
  ~TraceeMemory() {
    if (fd_ >= 0) close(fd_);
  }
  TraceeMemory(const TraceeMemory&) = delete;
  TraceeMemory& operator=(const TraceeMemory&) = delete;

  bool Read(uint64_t addr, void* out, size_t n) const {
    return fd_ >= 0 && pread(fd_, out, n, static_cast<off_t>(addr)) == static_cast<ssize_t>(n);
  }
  bool Write(uint64_t addr, const void* data, size_t n) const {
    return fd_ >= 0 && pwrite(fd_, data, n, static_cast<off_t>(addr)) == static_cast<ssize_t>(n);
  }
  // A NUL-terminated string, read up to page ends so that a string ending
  // just before an unmapped page reads.
  std::optional<std::string> ReadString(uint64_t addr) const {
    std::string s;
    while (s.size() < kMaxString) {
      char chunk[256];
      const size_t n = std::min<uint64_t>(sizeof chunk, 4096 - (addr & 4095));
      const ssize_t got = fd_ >= 0 ? pread(fd_, chunk, n, static_cast<off_t>(addr)) : -1;
      if (got <= 0) return std::nullopt;
      const void* nul = memchr(chunk, 0, static_cast<size_t>(got));
      if (nul) return s.append(chunk, static_cast<const char*>(nul) - chunk);
      s.append(chunk, static_cast<size_t>(got));
      addr += static_cast<uint64_t>(got);
    }
    return std::nullopt;
  }

 private:
  int fd_;
};

// The registers of an execve or execveat entry, in execve's terms.
struct ExecCall {
  bool at = false;  // execveat
  int dirfd = AT_FDCWD;
  int flags = 0;
  uint64_t path = 0, argv = 0, envp = 0;
};

bool IsI386Exec(const user_regs_struct& r) {
  return r.orig_rax == kI386Execve || r.orig_rax == kI386Execveat;
}

ExecCall DecodeExecCall(const user_regs_struct& r) {
  ExecCall call;
  if (r.orig_rax == kI386Execve) {  // ebx, ecx, edx
    call.path = r.rbx & 0xffffffff;
  } else if (r.orig_rax == kI386Execveat) {  // ebx, ecx, edx, esi, edi
    call.at = true;
    call.dirfd = static_cast<int>(r.rbx);
    call.path = r.rcx & 0xffffffff;
    call.flags = static_cast<int>(r.rdi);
  } else if (r.orig_rax == __NR_execveat) {
    call.at = true;
    call.dirfd = static_cast<int>(r.rdi);
    call.path = r.rsi;
    call.argv = r.rdx;
    call.envp = r.r10;
    call.flags = static_cast<int>(r.r8);
  } else {
    call.path = r.rdi;
    call.argv = r.rsi;
    call.envp = r.rdx;
  }
  return call;
}

std::string ReadLink(const std::string& path) {
  std::error_code ec;
  fs::path target = fs::read_symlink(path, ec);
  return ec ? std::string() : target.string();
}

// The file the exec would open, named so that hwcov (another process) can
// open it: relative paths against the caller's working directory or dirfd,
// /proc/self as the caller's /proc/PID, fexecve's descriptor as /proc/PID/fd/N.
std::string PathFromHwcov(pid_t pid, pid_t tid, const ExecCall& call, const std::string& path) {
  const std::string proc = "/proc/" + std::to_string(pid);
  if (call.at && (call.flags & AT_EMPTY_PATH) && path.empty())
    return proc + "/fd/" + std::to_string(call.dirfd);
  if (path.starts_with("/proc/self/")) return proc + path.substr(10);
  if (path.starts_with("/proc/thread-self/"))
    return proc + "/task/" + std::to_string(tid) + path.substr(17);
  if (path.starts_with('/')) return path;
  const std::string dir = call.at && call.dirfd != AT_FDCWD
                              ? ReadLink(proc + "/fd/" + std::to_string(call.dirfd))
                              : ReadLink(proc + "/cwd");
  return dir + "/" + path;
}

std::string RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) ? std::string(resolved) : std::string();
}

bool IsElf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "\177ELF", 4) == 0;
}

pid_t ThreadGroupOf(pid_t tid) {
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("Tgid:")) return static_cast<pid_t>(std::stol(line.substr(5)));
  return tid;
}

// Whether [low, high) lies inside one mapping of |pid|.
bool InOneMapping(pid_t pid, uint64_t low, uint64_t high) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uint64_t start = 0, end = 0;
    char dash;
    std::istringstream fields(line);
    if (!(fields >> std::hex >> start >> dash >> end)) continue;
    if (start <= low && high <= end) return true;
  }
  return false;
}

class Supervisor {
 public:
  explicit Supervisor(const SuperviseOptions& options) : options_(options) {}

  SuperviseResult Run() {
    TerminalSignals signals(StopSignalMode::kRecord);
    StopSignalRelay relay(signals.request(), options_.log);
    ChildProcess root(options_.command, SpawnOptions{.hold = true, .in_child = InstallExecFilter});
    if (ptrace(PTRACE_SEIZE, root.pid(), nullptr, kPtraceOptions) != 0)
      ThrowErrno("cannot supervise " + options_.command[0] + " (ptrace)");
    root_ = root.pid();
    processes_[root_];
    known_.insert(root_);
    root.Release();
    root.MarkReaped();  // by the loop below
    try {
      Loop(relay);
    } catch (...) {
      for (const auto& [pid, process] : processes_) kill(pid, SIGKILL);
      throw;
    }
    if (const std::optional<int> error = root.ExecError())
      throw Error(options_.command[0] + ": cannot run: " + std::strerror(*error));
    return std::move(result_);
  }

 private:
  struct Process {
    bool emulated = false;               // runs under QEMU
    unsigned next_seq = 0;               // the plugin's next instance number for this pid
    std::optional<size_t> result_index;  // in result_.emulated, while it runs what it exec'd
    bool started = false;                // exec'd a program (the root: its command)
  };
  struct PendingExec {
    bool emulated;
    unsigned seq;
    std::string program;
  };

  void Loop(StopSignalRelay& relay) {
    for (;;) {
      if (const int signal = relay.Poll())
        for (const auto& [pid, process] : processes_) kill(pid, signal);
      int status = 0;
      const pid_t tid = waitpid(-1, &status, __WALL);
      if (tid < 0) {
        if (errno == EINTR) continue;
        if (errno == ECHILD) return;  // the command and everything it started have ended
        ThrowErrno("waitpid");
      }
      if (WIFEXITED(status) || WIFSIGNALED(status))
        Ended(tid, status);
      else if (WIFSTOPPED(status))
        Stopped(tid, status);
    }
  }

  void Ended(pid_t tid, int status) {
    known_.erase(tid);
    pending_.erase(tid);
    if (tid == root_) result_.root_status = status;
    auto it = processes_.find(tid);
    if (it == processes_.end()) return;
    if (it->second.result_index) result_.emulated[*it->second.result_index].status = status;
    processes_.erase(it);
  }

  void Stopped(pid_t tid, int status) {
    const int event = status >> 16;
    switch (event) {
      case 0:  // a signal for the tracee: deliver it
        return Resume(tid, WSTOPSIG(status));
      case PTRACE_EVENT_SECCOMP:
        Exec(tid);
        return Resume(tid, 0);
      case PTRACE_EVENT_FORK:
      case PTRACE_EVENT_VFORK:
      case PTRACE_EVENT_CLONE:
        NewTask(tid);
        return Resume(tid, 0);
      case PTRACE_EVENT_EXEC:
        Execed(tid);
        return Resume(tid, 0);
      case PTRACE_EVENT_STOP:
        if (!known_.contains(tid) || expect_first_stop_.erase(tid)) {
          known_.insert(tid);  // a new task's first stop
          return Resume(tid, 0);
        }
        // A group stop (SIGSTOP, SIGTSTP...): stay stopped as without hwcov.
        ptrace(PTRACE_LISTEN, tid, nullptr, nullptr);
        return;
      default:
        return Resume(tid, 0);
    }
  }

  static void Resume(pid_t tid, int signal) {
    ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<uintptr_t>(signal)));
  }

  void NewTask(pid_t tid) {
    unsigned long message = 0;
    ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message);
    const auto child = static_cast<pid_t>(message);
    if (known_.insert(child).second) expect_first_stop_.insert(child);
    if (ThreadGroupOf(child) != child) return;  // a thread
    const pid_t parent = ThreadGroupOf(tid);
    Process& p = processes_[child];
    auto it = processes_.find(parent);
    // A fork of an emulated process is QEMU's copy: the plugin records it as
    // instance 0 of the new pid.
    if (it != processes_.end() && it->second.emulated) {
      p.emulated = true;
      p.next_seq = 1;
      p.started = true;
    }
  }

  void Execed(pid_t pid) {
    unsigned long former = 0;
    ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &former);
    const auto former_tid = static_cast<pid_t>(former);
    std::optional<PendingExec> exec;
    if (auto it = pending_.find(former_tid); it != pending_.end()) {
      exec = std::move(it->second);
      pending_.erase(it);
    }
    if (former_tid != pid) known_.erase(former_tid);
    Process& p = processes_[pid];
    p.started = true;
    p.emulated = exec && exec->emulated;
    p.result_index.reset();
    if (p.emulated) {
      p.result_index = result_.emulated.size();
      result_.emulated.push_back({pid, exec->seq, exec->program, 0});
    }
  }

  void Warn(pid_t pid, const std::string& what) {
    if (options_.log) *options_.log << "hwcov: emu: process " << pid << ": " << what << "\n";
  }

  // At the entry of execve/execveat in |tid|: run the program under QEMU
  // when it is selected, else let the kernel do what it was asked.
  void Exec(pid_t tid) {
    pending_.erase(tid);
    user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;  // vanished
    const pid_t pid = ThreadGroupOf(tid);
    Process& process = processes_[pid];
    const ExecCall call = DecodeExecCall(regs);
    const TraceeMemory memory(tid);
    const std::optional<std::string> path = memory.ReadString(call.path);
    if (!path) return;  // EFAULT: the kernel says so
    const std::string seen = PathFromHwcov(pid, tid, call, *path);
    // Without --inherit only the command's own first program is a candidate.
    const bool candidate = options_.inherit || (pid == root_ && !process.started);

    // Which program would run: the file itself, or a script's interpreter.
    char* probe_argv[] = {const_cast<char*>(seen.c_str()), nullptr};
    std::vector<const char*> out(kExtraArgs + 1);
    char line[PATH_MAX + 64];
    const std::string qemu = options_.qemu.string();
    int error = hwcov_emu_exec_argv(qemu.c_str(), "", seen.c_str(), probe_argv, out.data(),
                                    out.size(), line, sizeof line);
    if (error == ENOEXEC) {
      if (candidate && IsElf(seen) && options_.selected(RealPath(seen)))
        Warn(pid, RealPath(seen) + " is not an x86-64 program: it runs natively, untraced");
      return;
    }
    if (error) return;  // would fail (ENOENT on a $PATH search...): leave it to the kernel
    if (!candidate) return;
    const std::string program = RealPath(out[5]);
    const std::string file = RealPath(seen);
    if (program.empty() || file.empty()) {
      // QEMU opens the program by name, after the exec closed the caller's
      // descriptors: a memfd or a deleted file cannot be run under it.
      const std::string target = ReadLink(seen);
      Warn(pid, "runs a program without a path (" + (target.empty() ? seen : target) +
                    ": fexecve of a memfd or a deleted file): natively, untraced");
      return;
    }
    if (!options_.selected(program)) {
      if (options_.runs_natively) options_.runs_natively(program);
      return;
    }
    if (IsI386Exec(regs)) {
      Warn(pid, "a 32-bit process starts " + program +
                    ": 32-bit processes are not followed, it runs natively, untraced");
      return;
    }

    std::vector<std::string> args;
    std::vector<uint64_t> arg_ptrs;
    for (size_t i = 0; call.argv && i < kMaxArgs; ++i) {
      uint64_t ptr = 0;
      if (!memory.Read(call.argv + i * 8, &ptr, 8)) return;  // EFAULT
      if (!ptr) break;
      std::optional<std::string> arg = memory.ReadString(ptr);
      if (!arg) return;
      args.push_back(std::move(*arg));
      arg_ptrs.push_back(ptr);
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    out.resize(args.size() + kExtraArgs);
    const unsigned seq = process.next_seq;
    const std::string plugin_arg = options_.plugin_arg + ",seq=" + std::to_string(seq);
    error = hwcov_emu_exec_argv(qemu.c_str(), plugin_arg.c_str(), file.c_str(), argv.data(),
                                out.data(), out.size(), line, sizeof line);
    if (error) {
      Warn(pid, program + ": cannot start it under QEMU (" + std::strerror(error) +
                    "): it runs natively, untraced");
      return;
    }
    if (!RewriteExec(tid, regs, memory, call, out, args, arg_ptrs)) {
      Warn(pid, program + ": no room on its stack for QEMU's arguments: it runs natively, " +
                    "untraced");
      return;
    }
    ++process.next_seq;
    pending_[tid] = {true, seq, program};
    if (!noted_ && options_.log) *options_.log << options_.first_emulated_note;
    noted_ = true;
  }

  // Turns the call into execve(QEMU, out, envp): the strings that are not the
  // program's own arguments (which stay where they are) and the new argv are
  // written below the stack pointer.
  static bool RewriteExec(pid_t tid, user_regs_struct regs, const TraceeMemory& memory,
                          const ExecCall& call, const std::vector<const char*>& out,
                          const std::vector<std::string>& args,
                          const std::vector<uint64_t>& arg_ptrs) {
    size_t n = 0;
    while (out[n]) ++n;
    std::vector<uint64_t> pointers(n + 1, 0);
    std::string strings;
    std::vector<std::pair<size_t, size_t>> placed;  // (pointer index, offset in strings)
    for (size_t k = 0; k < n; ++k) {
      bool theirs = false;
      for (size_t i = 0; i < args.size() && !theirs; ++i)
        if (out[k] == args[i].data()) pointers[k] = arg_ptrs[i], theirs = true;
      if (theirs) continue;
      placed.emplace_back(k, strings.size());
      strings.append(out[k]).push_back('\0');
    }
    const uint64_t table_bytes = pointers.size() * 8;
    const uint64_t base = (regs.rsp - kStackGap - table_bytes - strings.size()) & ~uint64_t{15};
    if (!InOneMapping(tid, base, regs.rsp)) return false;
    const uint64_t strings_at = base + table_bytes;
    for (const auto& [k, offset] : placed) pointers[k] = strings_at + offset;
    if (!memory.Write(base, pointers.data(), table_bytes) ||
        !memory.Write(strings_at, strings.data(), strings.size()))
      return false;
    regs.orig_rax = __NR_execve;
    regs.rdi = pointers[0];  // QEMU: the first string placed
    regs.rsi = base;
    regs.rdx = call.envp;
    return ptrace(PTRACE_SETREGS, tid, nullptr, &regs) == 0;
  }

  const SuperviseOptions& options_;
  pid_t root_ = 0;
  std::map<pid_t, Process> processes_;    // by pid (thread group)
  std::set<pid_t> known_;                 // every task seen
  std::set<pid_t> expect_first_stop_;     // new tasks whose first stop is still to come
  std::map<pid_t, PendingExec> pending_;  // by the exec'ing thread
  SuperviseResult result_;
  bool noted_ = false;
};

}  // namespace

SuperviseResult SuperviseExecs(const SuperviseOptions& options) {
  return Supervisor(options).Run();
}

}  // namespace hwcov::collector
