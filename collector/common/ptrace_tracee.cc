#include "ptrace_tracee.h"

#include <sys/wait.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "hwcov/support.h"

namespace hwcov::collector {

uint64_t Tracee::Rip() const {
  errno = 0;
  long rip = ptrace(PTRACE_PEEKUSER, tid_, offsetof(user_regs_struct, rip), nullptr);
  if (errno) ThrowErrno("ptrace(PEEKUSER rip) of thread " + std::to_string(tid_));
  return static_cast<uint64_t>(rip);
}

void Tracee::SetRip(uint64_t rip) const {
  if (ptrace(PTRACE_POKEUSER, tid_, offsetof(user_regs_struct, rip), rip) != 0)
    ThrowErrno("ptrace(POKEUSER rip) of thread " + std::to_string(tid_));
}

user_regs_struct Tracee::Regs() const {
  user_regs_struct regs;
  if (ptrace(PTRACE_GETREGS, tid_, nullptr, &regs) != 0)
    ThrowErrno("ptrace(GETREGS) of thread " + std::to_string(tid_));
  return regs;
}

void Tracee::SetRegs(const user_regs_struct& regs) const {
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &regs) != 0)
    ThrowErrno("ptrace(SETREGS) of thread " + std::to_string(tid_));
}

bool Tracee::Resume(__ptrace_request how, int signal) const {
  if (ptrace(how, tid_, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) == 0)
    return true;
  if (errno == ESRCH) return false;
  ThrowErrno("ptrace resume of thread " + std::to_string(tid_));
}

siginfo_t Tracee::SigInfo() const {
  siginfo_t info{};
  ptrace(PTRACE_GETSIGINFO, tid_, nullptr, &info);
  return info;
}

unsigned long Tracee::EventMessage() const {
  unsigned long message = 0;
  ptrace(PTRACE_GETEVENTMSG, tid_, nullptr, &message);
  return message;
}

long Tracee::InjectSyscall(uint64_t gadget, long nr, long a0, long a1, long a2,
                           int* deferred_signal) const {
  const user_regs_struct saved = Regs();
  user_regs_struct regs = saved;
  regs.rip = gadget;
  regs.rax = static_cast<unsigned long long>(nr);
  regs.orig_rax = static_cast<unsigned long long>(-1);  // not restarting a syscall
  regs.rdi = static_cast<unsigned long long>(a0);
  regs.rsi = static_cast<unsigned long long>(a1);
  regs.rdx = static_cast<unsigned long long>(a2);
  SetRegs(regs);
  long result = -ENOSYS;
  for (;;) {
    if (!Resume(PTRACE_SINGLESTEP, 0)) return -ESRCH;
    int status = WaitFor(tid_);
    if (!WIFSTOPPED(status)) return -ESRCH;
    if (WSTOPSIG(status) == SIGTRAP && status >> 16 == 0) {
      user_regs_struct after = Regs();
      if (after.rip == gadget + 2) {
        result = static_cast<long>(after.rax);
        break;
      }
    } else if (WSTOPSIG(status) != SIGTRAP && deferred_signal) {
      *deferred_signal = WSTOPSIG(status);  // deliver once the thread runs its own code again
    }
  }
  SetRegs(saved);
  return result;
}

int WaitFor(pid_t tid) {
  int status = 0;
  while (waitpid(tid, &status, __WALL) < 0)
    if (errno != EINTR) ThrowErrno("waitpid");
  return status;
}

}  // namespace hwcov::collector
