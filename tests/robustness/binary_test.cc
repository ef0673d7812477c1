// The binaries behind a trace changed after recording: rebuilt (another
// build id), deleted, or damaged (a compressed debug section whose header
// claims an absurd size). A rebuilt or missing binary's code is not decoded
// (perf would decode the wrong code silently): the report says which binary
// and why, counts the trace it could not decode as no-image gaps and shows
// no coverage for that source rather than wrong coverage.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>

#include "corrupt_trace.h"
#include "test_support.h"

namespace hwcov::robustness {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunCommand;

const char kSource[] = R"(
#include <stdlib.h>
static int work(int n) {
  int s = 0;
  for (int i = 0; i < n; i++)
    s += i % 3 ? i : -i;
  return s;
}
#ifdef REBUILT
int extra(int x) { return x * 7; }
#endif
int main(int argc, char **argv) {
  return work(argc * 300) > 0 ? 0 : 1;
}
)";

struct Program {
  fs::path source, binary, trace;
};

void Compile(const Program& p, const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {"gcc", "-O0", "-g"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {p.source.string(), "-o", p.binary.string()});
  const CommandResult r = RunCommand(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

Program Record(const fs::path& dir, const std::vector<std::string>& flags = {}) {
  Program p{dir / "prog.c", dir / "prog", dir / "prog.data"};
  std::ofstream(p.source) << kSource;
  Compile(p, flags);
  const CommandResult r = RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "-o",
                                      p.trace.string(), "--", p.binary.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return p;
}

// `hwcov report` with no build-id cache to fall back on.
CommandResult ReportCli(const Program& p, const fs::path& lcov) {
  return testing::RunShell("PERF_BUILDID_DIR=" + (p.trace.parent_path() / "no-cache").string() +
                           " " + HWCOV_BINARY + " report --lcov " + lcov.string() + " " +
                           p.trace.string());
}

TEST(robustness, RebuiltBinaryIsNotDecoded) {
  testing::TempDir dir("robust-rebuilt");
  const Program p = Record(dir.path());
  const fs::path lcov = dir.path() / "cov.info";
  CommandResult before = ReportCli(p, lcov);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(testing::ReadFile(lcov).find("SF:" + p.source.string()), std::string::npos);
  EXPECT_NE(before.out.find("Trace: 100.00% of"), std::string::npos) << before.out;

  Compile(p, {"-DREBUILT"});
  fs::remove(lcov);
  // Nothing of the trace decodes: an error naming the rebuilt binary, no
  // report claiming any line of it, covered or not.
  const CommandResult r = ReportCli(p, lcov);
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.err;
  EXPECT_NE(r.err.find(p.binary.string() + ": build id differs from the recorded"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(rebuilt since?)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no-image"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(lcov));
}

TEST(robustness, DeletedBinaryIsNotDecoded) {
  testing::TempDir dir("robust-deleted");
  const Program p = Record(dir.path());
  fs::remove(p.binary);
  const fs::path lcov = dir.path() / "cov.info";
  const CommandResult r = ReportCli(p, lcov);
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.err;
  EXPECT_NE(r.err.find(p.binary.string() + ": binary not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no-image"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(lcov));
}

// The ELF compression header of |section| (64-bit little-endian ELF).
uint64_t CompressionHeaderOffset(const std::string& elf, const std::string& section) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, elf.data(), sizeof eh);
  Elf64_Shdr names;
  std::memcpy(&names, elf.data() + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof names);
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, elf.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
    if (section == elf.c_str() + names.sh_offset + sh.sh_name && (sh.sh_flags & SHF_COMPRESSED))
      return sh.sh_offset;
  }
  return 0;
}

TEST(robustness, CompressedDebugSectionOfAbsurdSize) {
  testing::TempDir dir("robust-zdebug");
  const Program p = Record(dir.path(), {"-gz=zlib"});
  std::string elf = testing::ReadFile(p.binary);
  const uint64_t chdr = CompressionHeaderOffset(elf, ".debug_str");
  ASSERT_NE(chdr, 0u) << "gcc -gz did not compress .debug_str";
  Patch<uint64_t>(elf, chdr + offsetof(Elf64_Chdr, ch_size), uint64_t{1} << 60);
  WriteFile(p.binary, elf);  // the build id note is untouched
  const fs::path lcov = dir.path() / "cov.info";
  const CommandResult r = ReportCli(p, lcov);
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.out;
  const std::string expected =
      "hwcov: " + p.binary.string() +
      ": compressed section .debug_str claims 1152921504606846976 bytes from ";
  EXPECT_EQ(r.err.rfind(expected, 0), 0u) << r.err;
  EXPECT_TRUE(r.err.ends_with(": corrupt\n") && std::count(r.err.begin(), r.err.end(), '\n') == 1)
      << r.err;
  EXPECT_FALSE(fs::exists(lcov));
}

// DWARF nested deeper than any real code (each block with a variable is a
// DW_TAG_lexical_block inside the one before): an error naming the binary,
// not a stack overflow.
TEST(robustness, DeeplyNestedDwarf) {
  testing::TempDir dir("robust-nesting");
  Program p{dir.path() / "deep.c", dir.path() / "deep", dir.path() / "deep.data"};
  {
    std::ofstream src(p.source);
    constexpr int kBlocks = 2500;
    src << "int f(int a) {\n";
    for (int i = 0; i < kBlocks; ++i)
      src << "{ volatile int v" << i << " = a; a += v" << i << ";\n";
    src << std::string(kBlocks, '}')
        << "\nreturn a; }\nint main(int c, char **v) { f(c); return 0; }\n";
  }
  Compile(p, {});
  const CommandResult rec = RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "-o",
                                        p.trace.string(), "--", p.binary.string()});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const CommandResult r = ReportCli(p, dir.path() / "cov.info");
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure);
  EXPECT_EQ(
      r.err.rfind("hwcov: " + p.binary.string() + ": DWARF DIEs nested more than 2000 deep at DIE ",
                  0),
      0u)
      << r.err;
}

}  // namespace
}  // namespace hwcov::robustness
