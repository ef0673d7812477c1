#include "emu_launcher.h"

#include <sys/prctl.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <ostream>

#include "exec_supervisor.h"
#include "hwcov/process.h"
#include "hwcov/support.h"
#include "program_selection.h"
#include "stop_signals.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

constexpr char kPluginName[] = "hwcov-qemu-plugin.so";

// Said once per run: coverage is that of the emulated CPU, not this one.
constexpr char kFidelityNote[] =
    "hwcov: emu: the program runs on QEMU's emulated CPU (its own CPUID, no AVX-512, no "
    "vDSO): glibc and code with its own CPU dispatch may take other paths than on this "
    "machine, and AVX-512 code faults; --backend soft traces the real CPU\n";

fs::path FindPlugin() {
  std::error_code ec;
  if (std::optional<std::string> env = EnvironmentSetting("HWCOV_QEMU_PLUGIN")) {
    if (!fs::is_regular_file(*env, ec))
      throw Error("HWCOV_QEMU_PLUGIN=" + *env + ": not a file (hwcov's QEMU plugin, " +
                  kPluginName + ")");
    return *env;
  }
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  // Next to hwcov (the build tree), or where the install put it relative to
  // hwcov (cmake/Packaging.cmake). No build-tree path is compiled in: test
  // binaries are given HWCOV_QEMU_PLUGIN by ctest.
  for (const fs::path& candidate :
       {exe_dir / kPluginName,
        (exe_dir / HWCOV_QEMU_PLUGIN_DIR_FROM_BINDIR / kPluginName).lexically_normal()})
    if (fs::exists(candidate, ec)) return candidate;
  throw Error(std::string("hwcov's QEMU plugin (") + kPluginName +
              ") is not installed next to hwcov; set HWCOV_QEMU_PLUGIN");
}

EmuTools Probe() {
  EmuTools tools;
  const std::optional<std::string> env = EnvironmentSetting("HWCOV_QEMU");
  std::optional<fs::path> qemu = FindInPath(env.value_or("qemu-x86_64"));
  if (!qemu || !IsExecutableFile(*qemu))
    throw Error(env ? "HWCOV_QEMU=" + *env + ": no such executable"
                    : "qemu-x86_64 not found (Debian package qemu-user; tools/install-deps.sh)");
  tools.qemu = fs::absolute(*qemu);
  tools.plugin = fs::absolute(FindPlugin());
  const std::string program = IsExecutableFile("/bin/true") ? "/bin/true" : "/usr/bin/true";
  ChildProcess probe({tools.qemu, "-plugin", tools.plugin.string() + ",probe=on", program},
                     SpawnOptions{.search_path = false, .quiet = true});
  const int status = probe.Wait();
  if (IsStopSignal(KillingSignal(status)))  // Ctrl-C with hwcov ignoring it (nohup, `&`)
    throw Interrupted(KillingSignal(status), "interrupted by " + SignalName(KillingSignal(status)) +
                                                 " before the program started");
  if (ExitCode(status) != 0)
    throw Error(tools.qemu.string() + " does not run programs with " + tools.plugin.string() +
                " (status " + std::to_string(ExitCode(status)) + ")");
  return tools;
}

void WriteConfig(const RecordOptions& options, const fs::path& dir, const fs::path& config) {
  std::ofstream out(config);
  out << "out " << dir.string() << "\n"
      << "inherit " << (options.inherit ? 1 : 0) << "\n"
      << "count " << (options.count ? 1 : 0) << "\n";
  if (!out.flush()) ThrowFileError(config, "cannot write");
}

// A recording that is not whole is an error, never a program's exit status:
// the plugin leaves PID.SEQ.fatal with its reason before it exits (125), and
// a process QEMU was asked to run but never started has no PID.SEQ.tbs
// (unless it was stopped from outside first: then there is nothing to keep).
void CheckRecording(const fs::path& dir, const SuperviseResult& run) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".fatal") continue;
    std::ifstream in(entry.path());
    std::string reason;
    std::getline(in, reason);
    throw Error("the emulator's recording failed in process " + entry.path().stem().string() +
                ": " + reason);
  }
  for (const SuperviseResult::Emulated& e : run.emulated)
    if (!IsStopSignal(KillingSignal(e.status)) &&
        !fs::exists(dir / (std::to_string(e.pid) + "." + std::to_string(e.seq) + ".tbs"), ec))
      throw Error("QEMU could not run " + e.program + " (process " + std::to_string(e.pid) +
                  ", exit status " + std::to_string(ExitCode(e.status)) + ")");
}

class Subreaper {
 public:
  Subreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~Subreaper() { prctl(PR_SET_CHILD_SUBREAPER, 0); }
};

}  // namespace

const EmuTools& FindEmuTools() {
  static const EmuTools tools = Probe();  // a failed probe throws again next time
  return tools;
}

int RunUnderEmu(const EmuTools& tools, const RecordOptions& options, const fs::path& dir) {
  const fs::path config = dir / "config";
  WriteConfig(options, dir, config);
  SuperviseOptions supervise;
  supervise.first_emulated_note = kFidelityNote;
  supervise.command = options.command;
  supervise.qemu = tools.qemu;
  supervise.plugin_arg = tools.plugin.string() + ",cfg=" + config.string();
  supervise.selected = [&](const std::string& executable) {
    return IsSelectedExecutable(options, executable);
  };
  OwnEngineNotice own_engine(options.log);
  supervise.runs_natively = [&](const std::string& executable) { own_engine.Untraced(executable); };
  supervise.inherit = options.inherit;
  supervise.log = options.log;
  Subreaper subreaper;
  const SuperviseResult run = SuperviseExecs(supervise);
  CheckRecording(dir, run);
  if (run.emulated.empty() && options.log) *options.log << NothingTracedNote(options);
  return run.root_status;
}

}  // namespace hwcov::collector
