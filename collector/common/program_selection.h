// Which programs a run traces by default: the project's own, not the system's.
// `hwcov run -- ctest` (or make check, a shell script, pytest) then traces the
// test programs and leaves the driver and the tools it runs (sh, sed, cmp,
// python...) untraced. --only-exe replaces the rule. Shared by the emu
// backend (which runs only selected programs under the emulator) and the soft
// backend (which single-steps only selected programs).
#pragma once

#include <ostream>
#include <string>

#include "hwcov/collector.h"

namespace hwcov::collector {

// Whether |path| (an executable or a library; absolute, symbolic links
// resolved) lies in a system directory: /usr (with /usr/local), /bin, /sbin,
// /lib*, /opt, /etc, /snap, /nix/store and /gnu/store. Mappings with no file
// path ("[vdso]", "//anon") count as the system's too. The one rule behind
// the default scope: which programs run traced, and which binaries' code is
// traced in them (InCodeFilter).
bool IsSystemPath(const std::string& path);

// Whether a process running |executable| (resolved) is traced: every one
// with --all-code (options.trace_everything), else one matching an
// --only-exe glob (hwcov_glob_match), or, without any, one that is not a
// system executable.
bool IsSelectedExecutable(const CommonOptions& options, const std::string& executable);

// Said when a run traced no process at all: which rule left them untraced.
std::string NothingTracedNote(const CommonOptions& options);

// Whether |executable| (resolved) runs the programs it is given on an engine
// of its own, so that their code never runs as itself and no tracer can see
// it: valgrind's launcher and its tools (memcheck-amd64-linux...). Test
// drivers run tests under valgrind when it is installed (json-c's, automake's
// LOG_COMPILER = valgrind); such a run traces nothing of those tests.
bool RunsProgramsOnItsOwnEngine(const std::string& executable);

// Told of every program a run leaves untraced; says on |log| (if any), once
// per run, that one of them runs programs on its own engine.
class OwnEngineNotice {
 public:
  explicit OwnEngineNotice(std::ostream* log) : log_(log) {}
  void Untraced(const std::string& executable);

 private:
  std::ostream* log_;
  bool said_ = false;
};

}  // namespace hwcov::collector
