// Outputs are written to "<path>.tmp.<pid>" and renamed into place: an output
// that cannot be renamed there (a directory of that name) is an error that
// leaves neither a half-written file nor the temporary behind.
#include <gtest/gtest.h>

#include <algorithm>

#include "corrupt_trace.h"
#include "test_support.h"

namespace hwcov::robustness {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void ExpectOneLineError(const testing::CommandResult& r, const std::string& start) {
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure);
  EXPECT_EQ(r.err.rfind(start, 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(robustness, OutputsOntoADirectoryLeaveNothing) {
  testing::TempDir dir("robust-writes");
  const fs::path trace = dir.path() / "t.data";
  WriteFile(trace, Recording(HWCOV_TEST_PROGRAMS_DIR "/loops", {"5"}));
  const fs::path taken = dir.path() / "taken";
  fs::create_directory(taken);

  auto r = testing::RunCommand({HWCOV_BINARY, "report", "--lcov", taken.string(), trace.string()});
  ExpectOneLineError(r, "hwcov: " + taken.string() + ": is a directory, not a file");
  r = testing::RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "-o", taken.string(), "--",
                           HWCOV_TEST_PROGRAMS_DIR "/loops", "3"});
  ExpectOneLineError(r, "hwcov: " + taken.string() + ": is a directory, not a file");
  EXPECT_TRUE(fs::is_empty(taken));
  EXPECT_EQ(Entries(dir.path()), (std::vector<std::string>{"t.data", "taken"}));
}

}  // namespace
}  // namespace hwcov::robustness
