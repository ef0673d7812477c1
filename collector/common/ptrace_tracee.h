// One ptrace-stopped thread: registers, resumption, signal info, and running a
// system call inside it (how the soft tracer changes page protections).
#pragma once

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <string>

#include "hwcov/process.h"  // ThrowErrno

namespace hwcov::collector {

class Tracee {
 public:
  explicit Tracee(pid_t tid) : tid_(tid) {}
  pid_t tid() const { return tid_; }

  uint64_t Rip() const;
  void SetRip(uint64_t rip) const;
  user_regs_struct Regs() const;
  void SetRegs(const user_regs_struct& regs) const;
  // Resumes with PTRACE_SINGLESTEP, PTRACE_CONT or PTRACE_SYSCALL. Returns
  // false when the thread has vanished (killed meanwhile).
  bool Resume(__ptrace_request how, int signal) const;
  siginfo_t SigInfo() const;
  unsigned long EventMessage() const;

  // Runs syscall |nr| in the stopped thread by pointing it at a `syscall`
  // instruction at |gadget| (any executable 0f 05 in its address space), and
  // restores every register afterwards. Signals that arrive meanwhile are
  // returned through |deferred_signal| for the caller to deliver later.
  long InjectSyscall(uint64_t gadget, long nr, long a0, long a1, long a2,
                     int* deferred_signal) const;

 private:
  pid_t tid_;
};

// waitpid(tid, __WALL), retrying on EINTR.
int WaitFor(pid_t tid);

}  // namespace hwcov::collector
