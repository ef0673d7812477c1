#include "code_filter.h"

#include "glob_match.h"

namespace hwcov::collector {

bool MatchesGlob(const std::string& pattern, const std::string& path) {
  return hwcov_glob_match(pattern.c_str(), path.c_str()) != 0;
}

bool MatchesAny(const std::vector<std::string>& patterns, const std::string& path) {
  for (const std::string& p : patterns)
    if (MatchesGlob(p, path)) return true;
  return false;
}

}  // namespace hwcov::collector
