#include "glob_match.h"

#include <fnmatch.h>
#include <string.h>

int hwcov_glob_match(const char* pattern, const char* path) {
  if (strchr(pattern, '/')) return fnmatch(pattern, path, 0) == 0;
  const char* slash = strrchr(path, '/');
  return fnmatch(pattern, slash ? slash + 1 : path, 0) == 0;
}
