#include <signal.h>

#include <cctype>
#include <cerrno>
#include <string>

#include "hwcov/support.h"

namespace hwcov {
namespace {

// The pid that "<prefix><digits>..." names, or 0.
pid_t OwnerOf(const std::string& name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  pid_t pid = 0;
  for (size_t i = prefix.size(); i < name.size() && std::isdigit(name[i]); ++i) {
    if (pid > 100'000'000) return 0;  // not a pid
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

}  // namespace

void RemoveStaleOwnedEntries(const std::filesystem::path& dir, std::string_view prefix) {
  std::error_code ec;
  for (const std::filesystem::directory_entry& entry :
       std::filesystem::directory_iterator(dir, ec)) {
    const pid_t owner = OwnerOf(entry.path().filename().string(), prefix);
    if (owner <= 0 || kill(owner, 0) == 0 || errno != ESRCH) continue;
    std::error_code ignored;
    std::filesystem::remove_all(entry.path(), ignored);
  }
}

}  // namespace hwcov
