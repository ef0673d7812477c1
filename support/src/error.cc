#include <string.h>

#include "hwcov/support.h"

namespace hwcov {

void ThrowFileError(const std::filesystem::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

std::string SignalName(int signal) {
  const char* name = sigabbrev_np(signal);
  return name ? "SIG" + std::string(name) : std::to_string(signal);
}

}  // namespace hwcov
