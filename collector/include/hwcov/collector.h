// Capture: runs a command under a trace source and writes its control flow as
// an Intel PT perf.data trace (see hwcov/trace.h).
//
//   RecordOptions options;
//   options.command = {"./prog", "arg"};
//   RecordResult result = Record(options);   // throws hwcov::Error
//   return result.exit_status;
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/profile.h"

namespace hwcov::trace {
class TraceSink;
}

namespace hwcov::collector {

enum class Backend { kAuto, kIntelPt, kEmu, kSoft };

Backend ParseBackend(const std::string& name);  // "auto" | "intel-pt" | "emu" | "soft"
std::string BackendName(Backend backend);

struct BackendChoice {
  Backend backend;
  std::string reason;  // why, in one sentence, for the user
};

// Resolves kAuto to a concrete backend; for an explicit choice, checks that it
// can work here and throws hwcov::Error with the reason and remedy if not.
BackendChoice ChooseBackend(Backend requested);

// The options of a recording: what every backend reads (CommonOptions),
// then one struct per backend family, each naming the backends that read
// it (kBackends). The CLI refuses an option of a struct that the chosen
// backend does not read (tools/hwcov/main.cc, CheckBackendOptions), rather
// than ignoring it. RecordOptions joins them as bases, so a field is still
// `options.psb_period`, and a backend's helpers take only their own part.
struct CommonOptions {
  std::vector<std::string> command;
  std::filesystem::path output = "perf.data";
  // Decoding while recording (every backend): every part of the trace also
  // goes here as it is produced (pipeline::LiveReport hands the decoder's
  // sink). With an empty |output| no perf.data is written at all.
  trace::TraceSink* live = nullptr;
  Backend backend = Backend::kAuto;
  std::ostream* log = nullptr;  // hwcov's own messages; nullptr = silent

  // What to trace, as Intel PT address filters would: code in binaries whose
  // path matches one of |only_paths| (glob; empty = the project's binaries:
  // every executable and library outside the system directories, as
  // IsSystemPath says; the intel-pt backend: the executable), in processes
  // whose executable matches |only_exe| (glob; empty = the soft and emu
  // backends' default: executables outside the system directories,
  // docs/user-guide.md). |inherit| follows fork/clone/exec.
  std::vector<std::string> only_paths;
  std::vector<std::string> only_exe;
  bool trace_everything = false;  // no filter: every process, libc, ld.so... too
  bool inherit = true;
  // Run the command once untraced first, to report the slowdown. It runs
  // twice, so only for commands without side effects that matter.
  bool measure_baseline = false;
};

// Intel PT hardware (perf_event_open).
struct IntelPtOptions {
  static constexpr std::array kBackends{Backend::kIntelPt};
  uint64_t buffer_size = 0;          // AUX area bytes per buffer; 0: perf's default (4 MiB when
                                     // privileged, else 128 KiB)
  int attach_pid = 0;                // -p: trace a running process instead of |command|
  double duration = 0;               // seconds to trace an attached process (0: until Ctrl-C)
  std::vector<std::string> filters;  // perf-style address filter strings
};

// The software Intel PT encoder of the soft and emu backends.
struct SoftwarePtOptions {
  static constexpr std::array kBackends{Backend::kSoft, Backend::kEmu};
  // Bytes of trace between PSB+ sync points, as intel_pt's psb_period
  // (hardware default 4 KiB). Smaller: finer-grained parallel decoding and
  // resynchronisation, slightly larger traces.
  uint64_t psb_period = 4096;
  // The packets, for decoders that support less than what hardware writes by
  // default. no_return_compression: every return a TIP (intel_pt's
  // noretcomp config bit, recorded in the trace's attr); tnt8_only: short
  // TNT packets only (6 branches each), never TNT-64.
  bool no_return_compression = false;
  bool tnt8_only = false;
};

// The ptrace single-step tracer.
struct SoftOptions {
  static constexpr std::array kBackends{Backend::kSoft};
  // Debug aid for tests: every single-stepped instruction address, one hex
  // number per line.
  std::filesystem::path step_log;
};

// The emulator (QEMU user mode with hwcov's plugin).
struct EmuOptions {
  static constexpr std::array kBackends{Backend::kEmu};
  // Counting mode (docs/emu-backend.md): the plugin counts blocks and branch
  // outcomes itself and the recording hands back an execution profile
  // (RecordResult::profile) instead of writing a trace: no Intel PT, no
  // perf.data, no conversion. Refused with an |output| or a |live| sink.
  bool count = false;
};

struct RecordOptions : CommonOptions, IntelPtOptions, SoftwarePtOptions, SoftOptions, EmuOptions {};

struct RecordStats {
  uint64_t processes = 0;
  uint64_t threads = 0;
  uint64_t instructions = 0;  // instructions traced
  uint64_t steps = 0;         // soft tracer: single steps (traced or not)
  uint64_t trace_bytes = 0;   // Intel PT bytes written
  double seconds = 0;
  double baseline_seconds = 0;  // the same command untraced, when measured
};

struct RecordResult {
  // The command's status as a shell reports it: its exit code, or 128 + the
  // number of the signal that killed it.
  int exit_status = 0;
  // The signal that killed the command (SIGSEGV...), 0 when it exited: the
  // trace holds its coverage up to then.
  int killed_by_signal = 0;
  Backend backend = Backend::kSoft;
  RecordStats stats;
  // EmuOptions::count: what ran, counted by the plugin (no trace was written),
  // and each test's share, sorted by name (a process's test as the plugin
  // recorded it, test_name.h; else "pid N").
  std::optional<profile::ExecutionProfile> profile;
  std::vector<profile::TestProfile> test_profiles;
};

// Runs options.command to completion and writes options.output (or, in the
// emu backend's counting mode, returns the profile).
// The command's stdin, stdout and stderr are hwcov's own.
RecordResult Record(const RecordOptions& options);

}  // namespace hwcov::collector
