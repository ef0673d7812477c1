#include "fuzz_input.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace hwcov::fuzz {
namespace {

// A fresh directory under $TMPDIR (or /tmp), removed when the process exits.
// Its destructor removes it: an atexit() handler registered while the
// static was being built ran after the static was gone, and removed nothing.
struct PrivateDirectory {
  PrivateDirectory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/hwcov-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("hwcov fuzz: mkdtemp");
      std::abort();
    }
    path = pattern;
  }
  ~PrivateDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::filesystem::path path;
};

const std::filesystem::path& PrivateDir() {
  static const PrivateDirectory dir;
  return dir.path;
}

}  // namespace

ScratchFile::ScratchFile(const std::string& name) : path_(PrivateDir() / name) {}

const std::filesystem::path& ScratchFile::Write(const uint8_t* data, size_t size) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  for (size_t done = 0; ok && done < size;) {
    ssize_t n = write(fd, data + done, size - done);
    ok = n > 0;
    done += ok ? static_cast<size_t>(n) : 0;
  }
  if (fd >= 0) close(fd);
  if (!ok) {
    std::perror(("hwcov fuzz: cannot write " + path_.string()).c_str());
    std::abort();
  }
  return path_;
}

void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "hwcov fuzz: invariant broken: %s\n", what);
  std::abort();
}

void Refused(const char* what) {
  static const bool verbose = std::getenv("HWCOV_FUZZ_VERBOSE");
  if (verbose) std::fprintf(stderr, "refused: %s\n", what);
}

void Accepted(const std::string& summary) {
  static const bool verbose = std::getenv("HWCOV_FUZZ_VERBOSE");
  if (verbose) std::fprintf(stderr, "accepted: %s\n", summary.c_str());
}

}  // namespace hwcov::fuzz
