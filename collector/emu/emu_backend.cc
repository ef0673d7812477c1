// The emulator backend: the command runs under QEMU user mode with hwcov's
// TCG plugin (emu_plugin.c); what the plugin recorded becomes the same
// Intel PT perf.data as the other backends write. See docs/emu-backend.md.
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
#include "emu_launcher.h"
#include "emu_stream.h"
#include "hwcov/support.h"
#include "process.h"
#include "software_pt.h"
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
    if (const char* dir = std::getenv("HWCOV_EMU_DIR"); dir && *dir)
      base = dir;
    else if (access(base.c_str(), W_OK) != 0)
      base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    std::string pattern = (fs::path(base) / "hwcov-emu-XXXXXX").string();
    // The directory is passed in QEMU's comma-separated plugin arguments.
    if (pattern.find(',') != std::string::npos) pattern = "/tmp/hwcov-emu-XXXXXX";
    RemoveStale(base);
    if (!mkdtemp(pattern.data())) ThrowFileError(pattern, "cannot create a directory");
    path_ = pattern;
    // Whose it is: a run killed with SIGKILL cannot remove its directory, so
    // the next run removes those whose hwcov is gone.
    std::ofstream(path_ / "owner") << getpid() << "\n";
  }
  ~RecordingDir() {
    std::error_code ec;
    if (!std::getenv("HWCOV_KEEP_EMU_DIR")) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  // Removes the hwcov-emu-* directories in |base| whose owning hwcov process
  // no longer exists (a live or reused pid keeps its directory).
  static void RemoveStale(const fs::path& base) {
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(base, ec)) {
      if (entry.path().filename().string().rfind("hwcov-emu-", 0) != 0) continue;
      pid_t owner = 0;
      std::ifstream(entry.path() / "owner") >> owner;
      if (owner <= 0 || kill(owner, 0) == 0 || errno != ESRCH) continue;
      fs::remove_all(entry.path(), ec);
    }
  }

  fs::path path_;
};

class EmuBackend : public TraceBackend {
 public:
  RecordResult Record(const RecordOptions& options) override {
    if (options.attach_pid) throw Error("-p (attach) needs --backend intel-pt");
    const EmuTools& tools = FindEmuTools();
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
      // Ctrl-C and SIGTERM must interrupt the launcher's waitpid, not this.
      sigset_t stop;
      sigemptyset(&stop);
      for (int sig : {SIGINT, SIGTERM, SIGQUIT}) sigaddset(&stop, sig);
      pthread_sigmask(SIG_BLOCK, &stop, nullptr);
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
    result.stats.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
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
