#include "intel_pt_workload.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "hwcov/support.h"

namespace hwcov::collector {
namespace fs = std::filesystem;

std::vector<pid_t> ThreadsOf(pid_t pid) {
  std::vector<pid_t> tids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") == std::string::npos)
      tids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  if (tids.empty()) throw Error("process " + std::to_string(pid) + " does not exist");
  std::sort(tids.begin(), tids.end());
  return tids;
}

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

std::string ExecutableOf(pid_t pid) {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  if (ec)
    throw Error("cannot read the executable of process " + std::to_string(pid) + ": " +
                ec.message());
  return exe.string();
}

}  // namespace hwcov::collector
