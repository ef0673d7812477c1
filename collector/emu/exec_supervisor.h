// Native where untraced: the command and everything it starts run on the real
// CPU under a supervisor that stops them only at execve/execveat (a seccomp
// filter returning SECCOMP_RET_TRACE, under ptrace with fork, vfork and clone
// followed, so native code pays nothing else). At the exec of a selected
// program the supervisor rewrites the call into an exec of QEMU with hwcov's
// plugin; QEMU's own host execve of a guest exec is trapped by the same
// (inherited) filter, so this is the one place that decides. See
// docs/emu-backend.md.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace hwcov::collector {

struct SuperviseOptions {
  std::vector<std::string> command;
  std::filesystem::path qemu;
  // The plugin argument without its seq: "PLUGIN,cfg=CONFIG".
  std::string plugin_arg;
  // Whether a program (its resolved path; the interpreter of a #! script)
  // runs under QEMU.
  std::function<bool(const std::string& executable)> selected;
  // Told of each program the command's processes start natively, not
  // selected (optional).
  std::function<void(const std::string& executable)> runs_natively;
  bool inherit = true;  // false: only the command itself, not its children's programs
  std::ostream* log = nullptr;
  std::string first_emulated_note;  // said on |log| when the first program goes under QEMU
};

struct SuperviseResult {
  int root_status = 0;  // the command's wait status
  // Processes started under QEMU (pid, plugin seq, program): hwcov checks
  // that each left a recording, else QEMU failed to start it.
  struct Emulated {
    pid_t pid;
    unsigned seq;
    std::string program;
    int status;  // its wait status, when it ended as that program
  };
  std::vector<Emulated> emulated;
};

// Runs the command until it and every process it started have ended (hwcov
// is their subreaper). Ctrl-C, SIGTERM and SIGQUIT are passed on (a second
// one kills). Throws hwcov::Error when the command cannot run.
SuperviseResult SuperviseExecs(const SuperviseOptions& options);

}  // namespace hwcov::collector
