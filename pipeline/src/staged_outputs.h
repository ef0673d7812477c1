// Report outputs written beside their final names and renamed into place
// together, so that a failure in any writer changes none of them.
#pragma once

#include <filesystem>
#include <vector>

namespace hwcov::pipeline {

class StagedOutputs {
 public:
  StagedOutputs() = default;
  StagedOutputs(const StagedOutputs&) = delete;
  StagedOutputs& operator=(const StagedOutputs&) = delete;
  ~StagedOutputs();  // removes what was not committed

  // The temporary path to write |final_path| to (a file or a directory).
  std::filesystem::path Stage(const std::filesystem::path& final_path);
  // Renames every staged output onto its final path.
  void Commit();

 private:
  struct Entry {
    std::filesystem::path staged, final_path;
  };
  std::vector<Entry> entries_;
  bool committed_ = false;
};

// "<path>.hwcov-<pid>": the temporary name of an output, in its directory.
std::filesystem::path StagingPath(const std::filesystem::path& path);

}  // namespace hwcov::pipeline
