#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hwcov/support.h"

namespace hwcov {
namespace {

// Why writing into |dir| failed. A stream keeps no errno of its own, and
// errno may have been overwritten since the failing write(), so a full file
// system is also recognised by its free blocks.
std::string WriteFailure(int err, const std::filesystem::path& dir) {
  struct statvfs fs;
  if (err != ENOSPC && err != EDQUOT && statvfs(dir.c_str(), &fs) == 0 && fs.f_bavail == 0)
    err = ENOSPC;
  if (err == 0) return "write failed (I/O error)";
  return std::string("write failed: ") + std::strerror(err);
}

}  // namespace

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
  errno = 0;
  out_.flush();
  if (out_) out_.close();
  if (!out_) {
    const int err = errno;
    const std::filesystem::path dir = tmp_.has_parent_path() ? tmp_.parent_path() : ".";
    ThrowFileError(path_, WriteFailure(err, dir));
  }
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) ThrowFileError(path_, "cannot rename into place: " + ec.message());
  committed_ = true;
}

}  // namespace hwcov
