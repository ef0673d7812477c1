#include "emu_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <ostream>
#include <set>
#include <vector>

#include "emu_exec.h"
#include "hwcov/support.h"
#include "ptrace_tracee.h"  // ThrowErrno
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

bool IsExecutableFile(const fs::path& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// execvp's search: |name| itself when it has a '/', else the first
// executable file of that name on $PATH.
std::optional<fs::path> SearchPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return fs::path(name);
  const char* env = std::getenv("PATH");
  const std::string path = env ? env : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    const fs::path dir = end > begin ? fs::path(path.substr(begin, end - begin)) : fs::path(".");
    if (IsExecutableFile(dir / name)) return dir / name;
    begin = end + 1;
  }
  return std::nullopt;
}

fs::path FindPlugin() {
  if (const char* env = std::getenv("HWCOV_QEMU_PLUGIN")) return env;
  std::error_code ec;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  // Next to hwcov (the build tree), where the install put it relative to
  // hwcov (cmake/Packaging.cmake), then the build tree's for test binaries.
  for (const fs::path& candidate :
       {exe_dir / kPluginName,
        (exe_dir / HWCOV_QEMU_PLUGIN_DIR_FROM_BINDIR / kPluginName).lexically_normal(),
        fs::path(HWCOV_QEMU_PLUGIN_BUILD_PATH)})
    if (fs::exists(candidate, ec)) return candidate;
  throw Error(std::string("hwcov's QEMU plugin (") + kPluginName +
              ") is not installed next to hwcov; set HWCOV_QEMU_PLUGIN");
}

// Runs |argv| with no input or output; returns its wait status.
int RunQuietly(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    for (int fd : {0, 1, 2}) dup2(null, fd);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

EmuTools Probe() {
  EmuTools tools;
  const char* env = std::getenv("HWCOV_QEMU");
  std::optional<fs::path> qemu = SearchPath(env ? env : "qemu-x86_64");
  if (!qemu || !IsExecutableFile(*qemu))
    throw Error("qemu-x86_64 not found (Debian package qemu-user; tools/install-deps.sh)");
  tools.qemu = fs::absolute(*qemu);
  tools.plugin = fs::absolute(FindPlugin());
  const std::string program = IsExecutableFile("/bin/true") ? "/bin/true" : "/usr/bin/true";
  const int status =
      RunQuietly({tools.qemu, "-plugin", tools.plugin.string() + ",probe=on", program});
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(tools.qemu.string() + " does not run programs with " + tools.plugin.string() +
                " (status " + std::to_string(status) + ")");
  return tools;
}

void WriteConfig(const EmuTools& tools, const RecordOptions& options, const fs::path& dir,
                 const fs::path& config) {
  std::ofstream out(config);
  out << "out " << dir.string() << "\n"
      << "qemu " << tools.qemu.string() << "\n"
      << "plugin " << tools.plugin.string() << "\n"
      << "inherit " << (options.inherit ? 1 : 0) << "\n";
  for (const std::string& glob : options.only_exe) out << "only-exe " << glob << "\n";
  if (!out.flush()) ThrowFileError(config, "cannot write");
}

// The processes of the run still alive: every instance file names its pid,
// and an emulated process's executable is QEMU (never signal anything else).
std::set<pid_t> LiveProcesses(const fs::path& dir, const fs::path& qemu) {
  std::set<pid_t> pids;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".tbs") continue;
    const pid_t pid = std::atoi(entry.path().filename().c_str());
    if (pid <= 0) continue;
    const fs::path exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
    if (!ec && exe == qemu) pids.insert(pid);
  }
  return pids;
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
  const std::string& name = options.command.at(0);
  const std::optional<fs::path> program = SearchPath(name);
  if (!program) throw Error(name + ": cannot run: " + std::strerror(ENOENT));
  const fs::path config = dir / "config";
  WriteConfig(tools, options, dir, config);

  const std::string plugin_arg = tools.plugin.string() + ",cfg=" + config.string() + ",seq=0";
  std::vector<char*> guest_argv;
  for (const std::string& arg : options.command)
    guest_argv.push_back(const_cast<char*>(arg.c_str()));
  guest_argv.push_back(nullptr);
  std::vector<const char*> argv(options.command.size() + 16);
  char line[4096];
  const std::string qemu = tools.qemu.string();
  if (int error =
          hwcov_emu_exec_argv(qemu.c_str(), plugin_arg.c_str(), program->c_str(), guest_argv.data(),
                              argv.data(), argv.size(), line, sizeof line))
    throw Error(name + ": cannot run" +
                (error == ENOEXEC ? " under the emulator: not an x86-64 program"
                                  : std::string(": ") + std::strerror(error)));

  if (options.log) *options.log << kFidelityNote;
  Subreaper subreaper;
  CatchTerminalSignals catch_signals;
  const StopRequest& stop = catch_signals.request();
  const pid_t root = fork();
  if (root < 0) ThrowErrno("fork");
  if (root == 0) {
    for (int sig : {SIGINT, SIGTERM, SIGQUIT}) signal(sig, SIG_DFL);
    // QEMU writes the core of a program killed by a signal as
    // qemu_PROG_DATE.core in the working directory: not for hwcov's runs.
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    // If hwcov dies, so does the command (as the soft backend's tracees do).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execv(argv[0], const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  std::optional<int> root_status;
  int handled = 0;
  for (;;) {
    if (stop.count != handled) {
      // As the soft backend: the first request passes the signal on so that
      // the programs end as they would have; another one kills them.
      const int signal = handled == 0 ? stop.signal : SIGKILL;
      handled = stop.count;
      std::set<pid_t> pids = LiveProcesses(dir, tools.qemu);
      pids.insert(root);
      for (pid_t pid : pids) kill(pid, signal);
      if (options.log && signal != SIGKILL)
        *options.log << "hwcov: stopping: signal " << signal
                     << " passed on to the traced programs (send another to kill them)\n";
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: the command and everything it started have ended
    }
    if (pid == root && (WIFEXITED(status) || WIFSIGNALED(status))) root_status = status;
  }
  const int s = root_status.value_or(0);
  return WIFEXITED(s) ? WEXITSTATUS(s) : WIFSIGNALED(s) ? 128 + WTERMSIG(s) : 1;
}

}  // namespace hwcov::collector
