// The emulator backend: the command runs under QEMU user mode with hwcov's
// TCG plugin (emu_plugin.c); what the plugin recorded becomes the same
// Intel PT perf.data as the other backends write, or, in counting mode, an
// execution profile. See docs/emu-backend.md.
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <thread>

#include "backend.h"
#include "emu_converter.h"
#include "emu_counter.h"
#include "emu_launcher.h"
#include "emu_stream.h"
#include "hwcov/process.h"
#include "hwcov/support.h"
#include "software_pt.h"
#include "stop_signals.h"
#include "trace_output.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

// The plugin's files, removed afterwards unless HWCOV_KEEP_EMU_DIR is set.
class RecordingDir {
 public:
  RecordingDir() {
    // Memory-backed when possible: the plugin writes its streams through
    // shared mappings, and on a disk the kernel's dirty-page throttling
    // stalls the program (3 s of 7 in a 2.6 G-instruction run).
    std::string base = "/dev/shm";
    if (const std::optional<std::string> dir = EnvironmentSetting("HWCOV_EMU_DIR"))
      base = *dir;
    else if (access(base.c_str(), W_OK) != 0)
      base = EnvironmentSetting("TMPDIR").value_or("/tmp");
    // Named after this process: a run killed with SIGKILL cannot remove its
    // directory, so the next run removes those whose hwcov is gone.
    const std::string prefix = "hwcov-emu-";
    std::string pattern =
        (fs::path(base) / (prefix + std::to_string(getpid()) + "-XXXXXX")).string();
    // The directory is passed in QEMU's comma-separated plugin arguments.
    if (pattern.find(',') != std::string::npos)
      pattern = "/tmp/" + prefix + std::to_string(getpid()) + "-XXXXXX";
    RemoveStaleOwnedEntries(fs::path(pattern).parent_path(), prefix);
    if (!mkdtemp(pattern.data())) ThrowFileError(pattern, "cannot create a directory");
    path_ = pattern;
  }
  ~RecordingDir() {
    std::error_code ec;
    if (!std::getenv("HWCOV_KEEP_EMU_DIR")) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class EmuBackend : public TraceBackend {
 public:
  RecordResult Record(const RecordOptions& options) override {
    if (options.attach_pid) throw Error("-p (attach) needs --backend intel-pt");
    const EmuTools& tools = FindEmuTools();
    if (options.count) return Count(tools, options);
    const auto start = std::chrono::steady_clock::now();
    TraceOutput output(options);
    trace::TraceSink& writer = output.sink();
    RecordingDir dir;
    RecordResult result;
    // The trace is converted while the programs run, on another core: the
    // conversion costs about as much as the emulation.
    std::atomic<bool> finished = false;
    std::exception_ptr failure;
    EmuRecording recording(dir.path());
    std::thread converter([&] {
      BlockStopSignalsInThisThread();  // Ctrl-C must interrupt the launcher's waitpid
      try {
        result.stats =
            ConvertEmuRecording(recording, options, writer, [&] { return finished.load(); });
      } catch (...) {
        failure = std::current_exception();
      }
    });
    try {
      const int status = RunUnderEmu(tools, options, dir.path());
      result.exit_status = ExitCode(status);
      result.killed_by_signal = KillingSignal(status);
    } catch (...) {
      finished = true;
      converter.join();
      throw;
    }
    finished = true;
    converter.join();
    if (failure) std::rethrow_exception(failure);
    writer.Finish();
    result.stats.trace_bytes = output.aux_bytes();
    result.stats.seconds = SecondsSince(start);
    return result;
  }

 private:
  // Counting mode: nothing to convert while the programs run; their counts
  // become the profile once they have ended.
  static RecordResult Count(const EmuTools& tools, const RecordOptions& options) {
    if (!options.output.empty() || options.live)
      throw Error("the emu backend's counting mode writes no trace (drop -o, or record a trace)");
    const auto start = std::chrono::steady_clock::now();
    RecordingDir dir;
    EmuRecording recording(dir.path());
    RecordResult result;
    const int status = RunUnderEmu(tools, options, dir.path());
    result.exit_status = ExitCode(status);
    result.killed_by_signal = KillingSignal(status);
    EmuCounts counts = CountEmuRecording(recording, options, result.stats);
    result.profile = std::move(counts.total);
    result.test_profiles = std::move(counts.tests);
    result.stats.seconds = SecondsSince(start);
    return result;
  }

  static double SecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

}  // namespace

std::string EmuUnavailableReason() {
  try {
    FindEmuTools();
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

std::unique_ptr<TraceBackend> MakeEmuBackend() { return std::make_unique<EmuBackend>(); }

}  // namespace hwcov::collector
