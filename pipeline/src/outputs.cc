// Output paths checked before a recording and written all-or-nothing after.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hwcov/pipeline.h"
#include "hwcov/support.h"
#include "staged_outputs.h"

namespace hwcov::pipeline {
namespace fs = std::filesystem;

fs::path StagingPath(const fs::path& path) {
  fs::path clean = path.lexically_normal();
  if (!clean.has_filename()) clean = clean.parent_path();  // "dir/" names a directory
  return clean.string() + ".hwcov-" + std::to_string(getpid());
}

namespace {

// Creates and removes the staging file or directory of |path|: the one test
// that also catches read-only mounts, /proc and root's bypass of access(2).
void Probe(const fs::path& path, bool directory) {
  std::error_code ec;
  if (directory) {
    if (fs::exists(path, ec) && !fs::is_directory(path, ec))
      ThrowFileError(path, "exists and is not a directory (wanted for --html)");
  } else if (fs::is_directory(path, ec)) {
    ThrowFileError(path, "is a directory, not a file");
  }
  const fs::path staged = StagingPath(path);
  const int rc = directory ? mkdir(staged.c_str(), 0755)
                           : open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (rc < 0) {
    const int err = errno;
    const fs::path dir = staged.has_parent_path() ? staged.parent_path() : fs::path(".");
    std::error_code dir_ec;
    if (err == ENOENT && !fs::exists(dir, dir_ec))
      ThrowFileError(path, "cannot be written: directory " + dir.string() + " does not exist");
    if (err == ENOENT)  // /proc's way of refusing a new file
      ThrowFileError(path, "cannot be written: directory " + dir.string() +
                               " does not accept new files (" + std::strerror(err) + ")");
    ThrowFileError(path, std::string("cannot be written: ") + std::strerror(err));
  }
  if (directory) {
    rmdir(staged.c_str());
  } else {
    close(rc);
    unlink(staged.c_str());
  }
}

}  // namespace

void CheckOutputFile(const fs::path& path) { Probe(path, false); }

void CheckOutputs(const Outputs& outputs) {
  for (const fs::path* file : {&outputs.lcov, &outputs.cobertura, &outputs.json})
    if (!file->empty()) Probe(*file, false);
  if (!outputs.html.empty()) Probe(outputs.html, true);
}

fs::path StagedOutputs::Stage(const fs::path& final_path) {
  // What runs killed with SIGKILL left beside the same output.
  const fs::path staged = StagingPath(final_path);
  const std::string name = staged.filename().string();
  const std::string base = name.substr(0, name.rfind('-') + 1);  // "<name>.hwcov-"
  const fs::path dir = staged.has_parent_path() ? staged.parent_path() : fs::path(".");
  RemoveStaleOwnedEntries(dir, base);
  RemoveStaleOwnedEntries(dir, base + "old-");
  entries_.push_back({StagingPath(final_path), final_path.lexically_normal()});
  return entries_.back().staged;
}

void StagedOutputs::Commit() {
  for (const Entry& e : entries_) {
    std::error_code ec;
    fs::path target = e.final_path;
    if (!target.has_filename()) target = target.parent_path();
    // A directory cannot be renamed over a non-empty one: the old report
    // goes aside first and is removed once the new one is in place.
    fs::path old;
    if (fs::is_directory(e.staged, ec) && fs::exists(target, ec)) {
      old = target.string() + ".hwcov-old-" + std::to_string(getpid());  // see Stage()
      fs::rename(target, old, ec);
      if (ec) ThrowFileError(target, "cannot replace the old report: " + ec.message());
    }
    fs::rename(e.staged, target, ec);
    if (ec) ThrowFileError(target, "cannot rename into place: " + ec.message());
    if (!old.empty()) fs::remove_all(old, ec);
  }
  committed_ = true;
}

StagedOutputs::~StagedOutputs() {
  if (committed_) return;
  for (const Entry& e : entries_) {
    std::error_code ignored;
    fs::remove_all(e.staged, ignored);
  }
}

}  // namespace hwcov::pipeline
