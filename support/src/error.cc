#include "hwcov/support.h"

namespace hwcov {

void ThrowFileError(const std::filesystem::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

}  // namespace hwcov
