#include "system_paths.h"

#include <string_view>

namespace hwcov::collector {

bool IsSystemPath(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.rfind("//", 0) == 0) return true;
  static constexpr std::string_view kSystemDirs[] = {
      "/usr/",   "/bin/",    "/sbin/", "/lib/",       "/lib32/",
      "/lib64/", "/libx32/", "/snap/", "/nix/store/", "/gnu/store/"};
  for (std::string_view dir : kSystemDirs)
    if (std::string_view(path).substr(0, dir.size()) == dir) return true;
  return false;
}

}  // namespace hwcov::collector
