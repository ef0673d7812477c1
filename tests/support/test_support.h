// Helpers shared by hwcov's tests: running commands and reading files.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace hwcov::testing {

// hwcov's exit status for its own failures (tools/hwcov/main.cc, docs/user-guide.md).
inline constexpr int kHwcovFailure = 70;

struct CommandResult {
  int exit_code = -1;  // shell convention: 128+N when killed by signal N
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs |argv| (no shell), capturing stdout and stderr, in |cwd| if given.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::filesystem::path& cwd = {});

// Runs a shell command line with /bin/sh -c.
CommandResult RunShell(const std::string& command_line, const std::filesystem::path& cwd = {});

std::string ReadFile(const std::filesystem::path& path);
std::vector<std::string> SplitLines(const std::string& text);

// A fresh empty directory under the test's temporary directory, removed on
// destruction unless HWCOV_KEEP_TEST_FILES is set.
class TempDir {
 public:
  explicit TempDir(const std::string& name);
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The records of an lcov tracefile by test: TN -> "SF ; DA:line" -> count,
// "SF ; FNDA:name" -> count and "SF ; BRDA:line,block,branch" -> count or "-".
using LcovRecords = std::map<std::string, std::string>;
std::map<std::string, LcovRecords> LcovSections(const std::filesystem::path& info);

// Whether |tool| is on PATH.
bool HaveTool(const std::string& tool);

}  // namespace hwcov::testing
