// Coverage as the reference tools and hwcov's lcov tracefile state it, in
// one shape for comparison: gcov text (gcc's gcov and `llvm-cov gcov`, which
// write the same format) and lcov tracefiles.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hwcov::testing {

struct FileRecord {
  std::map<uint32_t, uint64_t> lines;         // instrumentable line -> count
  std::map<std::string, uint64_t> functions;  // linkage name -> entry count
  // line -> outcome counts in the tool's order; nullopt: never executed.
  std::map<uint32_t, std::vector<std::optional<uint64_t>>> branches;
  friend bool operator==(const FileRecord&, const FileRecord&) = default;
};

using CoverageRecords = std::map<std::string, FileRecord>;  // by normalised source path

// Every *.gcov file in |dir|. Branch arcs gcov marks "(throw)" are dropped
// together with the normal-return arc of the same call, as gcovr's
// --exclude-throw-branches and lcov's exception+orphan filters do: they are
// exception edges of calls, not conditions (docs/branches.md).
CoverageRecords ReadGcovDir(const std::filesystem::path& dir);

// The whitespace-separated words of |text|; whether |s| is all digits.
std::vector<std::string> Words(const std::string& text);
bool IsNumber(const std::string& s);

// An lcov tracefile (SF, DA, FN/FNDA, BRDA).
CoverageRecords ReadLcov(const std::filesystem::path& path);

}  // namespace hwcov::testing
