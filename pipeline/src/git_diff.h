// The change a diff-coverage report is about, from git or a diff file.
#pragma once

#include <filesystem>
#include <string>

#include "hwcov/report.h"

namespace hwcov::pipeline {

// `git diff BASE` in |dir|'s repository (the working tree, staged or not,
// against BASE), parsed. Throws hwcov::Error with git's own message when
// |dir| is not in a repository or BASE is not a revision.
report::ChangedLines GitChanges(const std::string& base, const std::filesystem::path& dir);

// A unified diff file whose paths are relative to |base_dir|.
report::ChangedLines DiffFileChanges(const std::filesystem::path& file,
                                     const std::filesystem::path& base_dir);

}  // namespace hwcov::pipeline
