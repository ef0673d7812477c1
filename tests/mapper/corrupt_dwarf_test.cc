// Corrupt DWARF is reported, never read as "absent" (dwarf_handle.h): one
// program (control.c, gcc -O0 -g, DWARF 4 and 5) is traced once, then
// reported with the binary swapped for a copy whose DWARF objcopy damaged
// (code and build id unchanged):
//   - .debug_str cut to 8 bytes: every DW_FORM_strp name points past it.
//     libdwarf reports DW_DLV_ERROR for each (DW_AT_comp_dir, DW_AT_name);
//     hwcov must say so in the report's warnings, with the count, and keep
//     the line coverage, which
//     does not depend on those strings (DWARF 4 line tables hold their own
//     file names, DWARF 5 ones use .debug_line_str). Before the fix the
//     names were silently empty and the functions silently gone.
//   - every abbreviation's first attribute given an unknown form: no DIE can
//     be read; hwcov must fail with one line naming the file and write
//     no report.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include "coverage_records.h"
#include "test_programs.h"

namespace hwcov::testing {
namespace {

namespace fs = std::filesystem;

const Program kControl{"control", {"control.c"}, {}, "", {"12"}};

class CorruptDwarf : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (Compilers().empty() || !Have(HWCOV_TEST_OBJCOPY)) GTEST_SKIP() << "needs gcc, objcopy";
    const fs::path built = Build(Compilers().front(), kControl, dir_.path() / "build",
                                 {"-O0", "-g", std::string("-gdwarf-") + GetParam()});
    fs::copy_file(built, Original());
    fs::copy_file(built, Bin());
    MustRun({HWCOV_BINARY, "record", "--backend", "soft", "-o", Trace().string(), "--",
             Bin().string(), "12"},
            dir_.path());
  }

  fs::path Bin() const { return dir_.path() / "control"; }  // the traced path
  fs::path Original() const { return dir_.path() / "control.orig"; }
  fs::path Trace() const { return dir_.path() / "control.data"; }

  // The binary with |section| replaced by |bytes| of what it held, and
  // |patch| applied to them.
  void Damage(const std::string& section, size_t bytes,
              const std::function<void(std::string&)>& patch = {}) {
    const fs::path dump = dir_.path() / "section.bin";
    MustRun({HWCOV_TEST_OBJCOPY, "--dump-section", section + "=" + dump.string(),
             Original().string(), (dir_.path() / "scratch").string()});
    std::string data = ReadFile(dump).substr(0, bytes);
    if (patch) patch(data);
    std::ofstream(dump, std::ios::binary | std::ios::trunc) << data;
    fs::remove(Bin());
    MustRun({HWCOV_TEST_OBJCOPY, "--update-section", section + "=" + dump.string(),
             Original().string(), Bin().string()});
  }

  CommandResult Report(const fs::path& info) {
    return RunCommand({HWCOV_BINARY, "report", "--lcov", info.string(), Trace().string()},
                      dir_.path());
  }

  TempDir dir_{"mapper-corrupt-dwarf"};
};

TEST_P(CorruptDwarf, UnreadableNamesAreCountedWarningsAndLinesStay) {
  const fs::path good = dir_.path() / "good.info", bad = dir_.path() / "bad.info";
  const CommandResult reference = Report(good);
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  EXPECT_EQ(reference.out.find("unreadable DWARF"), std::string::npos) << reference.out;

  Damage(".debug_str", 8);
  const CommandResult r = Report(bad);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // "FILE: N unreadable DWARF string DW_AT_x (first at DIE X: message); left out"
  const std::string kind = " unreadable DWARF string DW_AT_";
  const size_t at = r.out.find(kind);
  ASSERT_NE(at, std::string::npos) << r.out;
  const size_t begin = r.out.rfind('\n', at) + 1;
  const std::string line = r.out.substr(begin, r.out.find('\n', at) - begin);
  const std::string file = "warning: " + Bin().string() + ": ";
  ASSERT_NE(line.find(file), std::string::npos) << line;
  EXPECT_GT(std::stoul(line.substr(line.find(file) + file.size())), 0u) << line;
  // libdwarf's own reason: an offset past the cut, or (when a string began
  // in the 8 bytes kept, which depends on the build path's length) one cut
  // off before its terminator.
  EXPECT_TRUE(line.find("DW_DLE_STRING_OFFSET_BAD") != std::string::npos ||
              line.find("DW_DLE_STRING_NOT_TERMINATED") != std::string::npos)
      << line;

  const CoverageRecords before = ReadLcov(good), after = ReadLcov(bad);
  const std::string source = (ProgramSourceDir() / "control.c").string();
  ASSERT_TRUE(before.count(source));
  ASSERT_TRUE(after.count(source)) << "line coverage lost with the names";
  EXPECT_EQ(after.at(source).lines, before.at(source).lines);
  // Functions whose names were in .debug_str are gone (DWARF 5 puts every
  // name there, DWARF 4 only long ones): no other name may appear.
  for (const auto& [name, count] : after.at(source).functions)
    EXPECT_EQ(before.at(source).functions.count(name), 1u) << name;
}

TEST_P(CorruptDwarf, UnreadableAbbreviationsFailNamingTheFile) {
  // Every abbreviation's first attribute gets form 0x7f (none such).
  Damage(".debug_abbrev", SIZE_MAX, [](std::string& data) {
    size_t i = 0;
    auto uleb = [&] {
      uint64_t v = 0;
      for (int shift = 0; i < data.size(); shift += 7) {
        const uint8_t b = static_cast<uint8_t>(data[i++]);
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
      }
      return v;
    };
    while (i < data.size()) {
      if (uleb() == 0) continue;  // the end of one unit's table
      uleb();                     // tag
      ++i;                        // children flag
      for (bool first = true;; first = false) {
        const uint64_t attr = uleb();
        const size_t form_at = i;
        const uint64_t form = uleb();
        if (attr == 0 && form == 0) break;
        if (form == 0x21) uleb();  // DW_FORM_implicit_const's value (SLEB: same length rule)
        if (first) data[form_at] = '\x7f';
      }
    }
  });
  const fs::path info = dir_.path() / "bad.info";
  const CommandResult r = Report(info);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.rfind("hwcov: " + Bin().string() + ": DWARF error", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(info)) << "a report was written";
}

INSTANTIATE_TEST_SUITE_P(Versions, CorruptDwarf, ::testing::Values("4", "5"),
                         [](const auto& param) { return std::string("dwarf") + param.param; });

}  // namespace
}  // namespace hwcov::testing
