#include <unistd.h>

#include <string>

#include "hwcov/pipeline.h"
#include "hwcov/support.h"

namespace hwcov::pipeline {
namespace fs = std::filesystem;
namespace {

constexpr char kRunPrefix[] = "hwcov-run-";

}  // namespace

fs::path TemporaryTracePath() {
  const fs::path dir = fs::temp_directory_path();
  RemoveStaleOwnedEntries(dir, kRunPrefix);
  return dir / (kRunPrefix + std::to_string(getpid()) + ".data");
}

fs::path KeepTemporaryTrace(const fs::path& trace) {
  const fs::path kept = trace.parent_path() / ("hwcov-" + std::to_string(getpid()) + ".data");
  std::error_code ec;
  fs::rename(trace, kept, ec);
  return ec ? trace : kept;
}

}  // namespace hwcov::pipeline
