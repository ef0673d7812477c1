// The default source root: the project the user is in.
#include <system_error>

#include "hwcov/pipeline.h"

namespace hwcov::pipeline {

std::filesystem::path ProjectRoot(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path start = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  // .git is a directory in a clone and a file in a worktree or submodule.
  for (fs::path p = start; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / ".git", ec)) return p;
    if (p == p.root_path()) break;
  }
  return start;
}

}  // namespace hwcov::pipeline
