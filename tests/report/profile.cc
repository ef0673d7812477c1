#include "profile.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "hwcov/version.h"
#include "test_support.h"

namespace hwcov::testing {

mapper::Coverage FixedProfile() {
  mapper::Coverage c;
  mapper::FileCoverage main;
  main.path = "/src/proj/main.cc";
  // Lines 12-14: in_gap(), around a trace gap and never seen to run: unknown.
  main.lines = {{3, 1},  {4, 1},        {5, 0},        {7, 5000000000ull}, {8, 12},
                {10, 0}, {12, 0, true}, {13, 0, true}, {14, 0, true}};
  main.functions = {{"main", "main", 3, 1},
                    {"_Z6unusedv", "unused()", 10, 0},
                    {"_Z6in_gapi", "in_gap(int)", 12, 0, true}};
  main.branches = {{4, 0, 0, 1},
                   {4, 0, 1, 0},
                   {8, 0, 0, 7},
                   {8, 0, 1, 5},
                   {10, 0, 0, std::nullopt},
                   {10, 0, 1, std::nullopt},
                   {13, 0, 0, std::nullopt},
                   {13, 0, 1, std::nullopt}};
  mapper::FileCoverage util;
  util.path = "/src/proj/lib/a&b<c>.h";
  util.lines = {{1, 2}, {2, 2}};
  util.functions = {{"_ZN4Pair3maxIiEET_v", "Pair::max<int>()", 1, 2}};
  util.branches = {{2, 0, 0, 2}, {2, 0, 1, 0}, {2, 1, 0, 0}, {2, 1, 1, 2}};
  mapper::FileCoverage header;
  header.path = "/usr/include/c++/12/bits/vector.h";
  header.lines = {{100, 3}};
  header.functions = {{"_ZNSt6vectorIiE4sizeEv", "std::vector<int>::size()", 100, 3}};
  c.files = {util, main, header};
  std::sort(c.files.begin(), c.files.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  c.quality.trace_bytes = 1000;
  c.quality.decoded_bytes = 990;
  c.quality.instructions = 123456;
  c.quality.unmapped_instructions = 7;
  c.quality.gaps_by_kind = {{"overflow", 2}, {"no-image", 1}};
  c.quality.gap_details = {"offset 10: overflow", "offset 500: overflow",
                           "offset 700: no image at 0x401000"};
  c.quality.warnings = {"libfoo.so has no DWARF"};
  return c;
}

// Golden files name the producer as "hwcov @VERSION@": a release changes
// project(VERSION), not the golden files.
static std::string WithoutVersion(std::string text) {
  const std::string version = kVersionString, placeholder = "hwcov @VERSION@";
  for (size_t at = text.find(version); at != std::string::npos;
       at = text.find(version, at + placeholder.size()))
    text.replace(at, version.size(), placeholder);
  return text;
}

void ExpectGolden(const std::string& versioned, const std::string& name) {
  const std::string actual = WithoutVersion(versioned);
  const std::filesystem::path golden = std::filesystem::path(HWCOV_GOLDEN_DIR) / name;
  if (const char* update = std::getenv("HWCOV_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(golden))
      << golden << " missing; run with HWCOV_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(actual, ReadFile(golden))
      << "output differs from " << golden
      << "; if the change is intended, rerun with HWCOV_UPDATE_GOLDEN=1 and review the diff";
}

void ExpectPythonPrints(const std::string& script, const std::filesystem::path& file,
                        const std::string& expected) {
  auto r = RunCommand({"python3", "-c", script, file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
}

}  // namespace hwcov::testing
