#include "code_filter.h"

#include <fnmatch.h>

namespace hwcov::collector {

bool MatchesGlob(const std::string& pattern, const std::string& path) {
  if (pattern.find('/') != std::string::npos) return fnmatch(pattern.c_str(), path.c_str(), 0) == 0;
  const size_t slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

bool MatchesAny(const std::vector<std::string>& patterns, const std::string& path) {
  for (const std::string& p : patterns)
    if (MatchesGlob(p, path)) return true;
  return false;
}

}  // namespace hwcov::collector
