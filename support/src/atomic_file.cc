#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hwcov/support.h"

namespace hwcov {

AtomicFile::AtomicFile(std::filesystem::path path)
    : path_(std::move(path)), tmp_(path_.string() + ".tmp." + std::to_string(getpid())) {
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) ThrowFileError(path_, std::string("cannot create: ") + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ignored;
    std::filesystem::remove(tmp_, ignored);
  }
}

void AtomicFile::Commit() {
  out_.flush();
  if (!out_) ThrowFileError(path_, "write failed");
  out_.close();
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) ThrowFileError(path_, "cannot rename into place: " + ec.message());
  committed_ = true;
}

}  // namespace hwcov
