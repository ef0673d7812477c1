// report::Filter: root, include/exclude regexes, system headers and the
// lcov/gcovr exclusion markers in sources.
#include <gtest/gtest.h>

#include <fstream>

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "profile.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Paths(const mapper::Coverage& c) {
  std::vector<std::string> out;
  for (const auto& f : c.files) out.push_back(f.path);
  return out;
}

TEST(Filter, RootDropsOutsideFilesAndSystemHeaders) {
  // /src/proj sources are not on disk: no markers, reported whole.
  auto c = report::Filter(testing::FixedProfile(), {"/src/proj/", {}, {}, true});
  EXPECT_EQ(Paths(c), (std::vector<std::string>{"/src/proj/lib/a&b<c>.h", "/src/proj/main.cc"}));
  EXPECT_EQ(c.quality.trace_bytes, 1000u);  // completeness is not filtered
  auto none = report::Filter(testing::FixedProfile(), {"/elsewhere", {}, {}, true});
  EXPECT_TRUE(none.files.empty());
  // Without a root nothing is dropped by default.
  EXPECT_EQ(report::Filter(testing::FixedProfile(), {}).files.size(), 3u);
  // A root under /usr keeps its own files.
  EXPECT_EQ(Paths(report::Filter(testing::FixedProfile(), {"/usr/include", {}, {}, true})),
            (std::vector<std::string>{"/usr/include/c++/12/bits/vector.h"}));
}

TEST(Filter, IncludeThenExclude) {
  auto c = report::Filter(testing::FixedProfile(), {{}, {"/src/"}, {"\\.h$"}, true});
  EXPECT_EQ(Paths(c), (std::vector<std::string>{"/src/proj/main.cc"}));
  auto d = report::Filter(testing::FixedProfile(), {{}, {"main", "vector"}, {}, true});
  EXPECT_EQ(d.files.size(), 2u);
}

TEST(Filter, InvalidRegexIsAnError) {
  try {
    report::Filter(testing::FixedProfile(), {{}, {"("}, {}, true});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid --include regular expression '('"),
              std::string::npos)
        << e.what();
  }
}

TEST(Filter, SourceMarkers) {
  testing::TempDir dir("report-filter-markers");
  const fs::path src = dir.path() / "m.cc";
  std::ofstream(src) << "int f(int x) {\n"                            // 1
                        "  if (x) return 1;  // LCOV_EXCL_LINE\n"     // 2
                        "  if (x > 2) g();  // GCOVR_EXCL_BR_LINE\n"  // 3
                        "  // LCOV_EXCL_START\n"                      // 4
                        "  abort();\n"                                // 5
                        "  // LCOV_EXCL_STOP\n"                       // 6
                        "  return 0;\n"                               // 7
                        "}\n"                                         // 8
                        "// GCOVR_EXCL_START\n"                       // 9
                        "int unused() { return 2; }\n"                // 10
                        "// GCOVR_EXCL_STOP\n";                       // 11
  mapper::Coverage c;
  mapper::FileCoverage f;
  f.path = src.string();
  f.lines = {{1, 1}, {2, 1}, {3, 1}, {5, 0}, {7, 1}, {10, 0}};
  f.functions = {{"_Z1fi", "f(int)", 1, 1}, {"_Z6unusedv", "unused()", 10, 0}};
  f.branches = {{2, 0, 0, 1}, {2, 0, 1, 0}, {3, 0, 0, 1}, {3, 0, 1, 0}, {7, 0, 0, 1}, {7, 0, 1, 1}};
  c.files = {f};
  auto kept = report::Filter(c, {});
  ASSERT_EQ(kept.files.size(), 1u);
  const auto& k = kept.files[0];
  std::vector<uint32_t> lines, branch_lines;
  for (const auto& l : k.lines) lines.push_back(l.line);
  for (const auto& b : k.branches) branch_lines.push_back(b.line);
  EXPECT_EQ(lines, (std::vector<uint32_t>{1, 3, 7}));
  EXPECT_EQ(branch_lines, (std::vector<uint32_t>{7, 7}));
  ASSERT_EQ(k.functions.size(), 1u);
  EXPECT_EQ(k.functions[0].name, "_Z1fi");
  // Markers off: everything stays.
  EXPECT_EQ(report::Filter(c, {{}, {}, {}, false}).files[0].lines.size(), 6u);
}

TEST(Filter, EverythingExcludedDropsTheFile) {
  testing::TempDir dir("report-filter-all");
  const fs::path src = dir.path() / "x.c";
  std::ofstream(src) << "int x;  // LCOV_EXCL_LINE\n";
  mapper::Coverage c;
  c.files = {{src.string(), {{1, 0}}, {}, {}}};
  EXPECT_TRUE(report::Filter(c, {}).files.empty());
}

// A binary without DWARF gives functions from ELF symbols and no lines; the
// filter must not take that for "everything excluded".
TEST(Filter, KeepsFilesThatNeverHadLines) {
  mapper::Coverage c;
  c.files = {{"/bin/stripped", {}, {{"main", "main", 0, 1}}, {}}};
  EXPECT_EQ(report::Filter(c, {}).files.size(), 1u);
}

}  // namespace
}  // namespace hwcov
