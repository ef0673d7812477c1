#include "paths.h"

#include "hwcov/report.h"

namespace hwcov::report {

std::filesystem::path NormalRoot(const std::filesystem::path& root) {
  std::filesystem::path base = root.lexically_normal();
  if (!base.has_filename() && base.has_parent_path() && base != base.root_path())
    base = base.parent_path();
  return base;
}

std::string RelativeTo(const std::string& path, const std::filesystem::path& root) {
  if (root.empty()) return path;
  auto rel = std::filesystem::path(path).lexically_relative(NormalRoot(root));
  if (rel.empty() || *rel.begin() == "..") return path;
  return rel.string();
}

}  // namespace hwcov::report
