#include "program_selection.h"

#include <filesystem>
#include <string_view>

#include "code_filter.h"  // MatchesAny

namespace hwcov::collector {

bool IsSystemPath(const std::string& executable) {
  static constexpr std::string_view kSystemDirs[] = {"usr", "bin",  "sbin", "opt",
                                                     "etc", "snap", "nix",  "gnu"};
  if (!executable.starts_with('/') || executable.starts_with("//")) return true;
  const size_t end = executable.find('/', 1);
  if (end == std::string::npos) return false;
  const std::string_view top = std::string_view(executable).substr(1, end - 1);
  if (top.starts_with("lib")) return true;  // /lib, /lib64, /libx32...
  if (top == "nix" || top == "gnu") return executable.compare(end, 7, "/store/") == 0;
  for (std::string_view dir : kSystemDirs)
    if (top == dir) return true;
  return false;
}

bool IsSelectedExecutable(const CommonOptions& options, const std::string& executable) {
  if (options.trace_everything) return true;
  if (!options.only_exe.empty()) return MatchesAny(options.only_exe, executable);
  return !IsSystemPath(executable);
}

std::string NothingTracedNote(const CommonOptions& options) {
  if (!options.only_exe.empty())
    return "hwcov: no program of the run matched --only-exe: nothing was traced\n";
  return "hwcov: no program of the run was traced: those in system directories (/usr, /bin, "
         "/lib*, /opt...) run untraced; --only-exe GLOB selects programs\n";
}

bool RunsProgramsOnItsOwnEngine(const std::string& executable) {
  const std::filesystem::path path(executable);
  return path.filename().string().starts_with("valgrind") ||
         path.parent_path().filename() == "valgrind";
}

void OwnEngineNotice::Untraced(const std::string& executable) {
  if (said_ || !log_ || !RunsProgramsOnItsOwnEngine(executable)) return;
  *log_ << "hwcov: " << executable
        << " ran: valgrind runs programs on its own JIT, where no tracer sees them, so the "
           "programs it ran are not in the trace; run them without valgrind to cover them\n";
  said_ = true;
}

}  // namespace hwcov::collector
