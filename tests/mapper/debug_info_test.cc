// Where DWARF can live, and what hwcov makes of each place: one program
// (control.c, built by gcc -O0 -g) is traced once; the same trace is then
// reported with the binary swapped for variants that have identical code and
// build id but their DWARF elsewhere (objcopy leaves code and build id
// alone), and each report must equal the one from the original binary.
// Compiler options that change the build id (DWARF 4 and 5, -gz) get
// traces of their own; an always_inline header function checks inlining.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "coverage_records.h"
#include "hwcov/support.h"
#include "test_programs.h"

namespace hwcov::testing {
namespace {

namespace fs = std::filesystem;

const Program kControl{"control", {"control.c"}, {}, "", {"12"}};

class DebugInfo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("mapper-debug-info");
    if (Compilers().empty() || !Have(HWCOV_TEST_OBJCOPY)) return;
    const fs::path full =
        Build(Compilers().front(), kControl, dir_->path() / "build", {"-O0", "-g"});
    fs::create_directories(Bin().parent_path());
    fs::copy_file(full, Full());
    fs::copy_file(full, Bin());
    MustRun({HWCOV_BINARY, "record", "--backend", "soft", "-o", Trace().string(), "--",
             Bin().string(), "12"},
            Bin().parent_path());
    // The separate debug file and the stripped binary, as distributions make them.
    MustRun({HWCOV_TEST_OBJCOPY, "--only-keep-debug", Full().string(), DebugFile().string()});
    MustRun({HWCOV_TEST_OBJCOPY, "--strip-debug", Full().string(), Stripped().string()});
    reference_ = new CoverageRecords(ReadLcov(Report({}, "reference").info));
  }
  static void TearDownTestSuite() {
    delete reference_;
    delete dir_;
  }

  void SetUp() override {
    if (!reference_) GTEST_SKIP() << "needs gcc or clang, and objcopy";
    fs::remove_all(dir_->path() / "debug");
    fs::remove_all(Bin().parent_path() / ".debug");
    fs::remove(Bin().parent_path() / "control.debug");
  }

  static fs::path Bin() { return dir_->path() / "bin" / "control"; }  // the traced path
  static fs::path Full() { return dir_->path() / "full"; }
  static fs::path Stripped() { return dir_->path() / "stripped"; }
  static fs::path DebugFile() { return dir_->path() / "control.debug.orig"; }
  static fs::path Trace() { return dir_->path() / "control.data"; }

  // Puts |variant| where the trace says the binary is.
  static void Install(const fs::path& variant) {
    fs::copy_file(variant, Bin(), fs::copy_options::overwrite_existing);
  }

  struct Output {
    fs::path info;
    std::string err, out;
  };
  static Output Report(const std::vector<std::string>& options, const std::string& name) {
    Output o{dir_->path() / (name + ".info"), "", ""};
    std::vector<std::string> argv = {HWCOV_BINARY, "report", Trace().string(), "--lcov",
                                     o.info.string()};
    argv.insert(argv.end(), options.begin(), options.end());
    CommandResult r = MustRun(argv);
    o.err = r.err;
    o.out = r.out;
    return o;
  }

  static std::string BuildIdHex(const fs::path& binary) {
    auto id = ReadElfBuildId(binary);
    return id ? id->Hex() : "";
  }

  static void ExpectSameAsReference(const Output& o) {
    CoverageRecords got = ReadLcov(o.info);
    ASSERT_EQ(got.size(), reference_->size()) << o.out << o.err;
    for (const auto& [path, record] : *reference_) {
      ASSERT_TRUE(got.count(path)) << path;
      EXPECT_EQ(got[path].lines, record.lines) << path;
      EXPECT_EQ(got[path].functions, record.functions) << path;
      EXPECT_EQ(got[path].branches, record.branches) << path;
    }
    EXPECT_EQ(o.out.find("no DWARF"), std::string::npos) << o.out;
  }

  static TempDir* dir_;
  static CoverageRecords* reference_;
};
TempDir* DebugInfo::dir_ = nullptr;
CoverageRecords* DebugInfo::reference_ = nullptr;

TEST_F(DebugInfo, InTheBinary) {
  const std::string source = (ProgramSourceDir() / "control.c").string();
  ASSERT_TRUE(reference_->count(source));
  EXPECT_GT(reference_->at(source).lines.size(), 40u);
  EXPECT_GT(reference_->at(source).branches.size(), 10u);
  // DWARF 5 line tables start with the header's rows (libdwarf 20210528 put
  // them in control.c): they must land in control_util.h.
  const std::string header = (ProgramSourceDir() / "control_util.h").string();
  ASSERT_TRUE(reference_->count(header));
  EXPECT_EQ(reference_->at(header).functions.count("clamp"), 1u);
}

TEST_F(DebugInfo, StrippedWithoutDebugInfoGivesFunctionsFromSymbolsAndAWarning) {
  Install(Stripped());
  Output o = Report({}, "stripped");
  EXPECT_NE(o.out.find("no DWARF"), std::string::npos) << o.out;
  CoverageRecords got = ReadLcov(o.info);
  ASSERT_TRUE(got.count(Bin().string())) << o.out;  // functions under the binary's own name
  const FileRecord& f = got[Bin().string()];
  EXPECT_GT(f.functions.at("main"), 0u);
  EXPECT_EQ(f.functions.at("never_called"), 0u);
}

TEST_F(DebugInfo, BuildIdDirectoryGivenWithDebugDir) {
  Install(Stripped());
  const std::string hex = BuildIdHex(Full());
  ASSERT_GT(hex.size(), 2u);
  const fs::path tree = dir_->path() / "debug";
  fs::create_directories(tree / ".build-id" / hex.substr(0, 2));
  fs::copy_file(DebugFile(), tree / ".build-id" / hex.substr(0, 2) / (hex.substr(2) + ".debug"));
  ExpectSameAsReference(Report({"--debug-dir", tree.string()}, "build-id"));
}

TEST_F(DebugInfo, BuildIdDirectoryRefusesADebugFileOfAnotherBuild) {
  Install(Stripped());
  const std::string hex = BuildIdHex(Full());
  const fs::path slot = dir_->path() / "debug" / ".build-id" / hex.substr(0, 2);
  fs::create_directories(slot);
  // A debug file from another build: a -O2 compile of the same source.
  const fs::path other =
      Build(Compilers().front(), kControl, dir_->path() / "other", {"-O2", "-g"});
  fs::copy_file(other, slot / (hex.substr(2) + ".debug"));
  Output o = Report({"--debug-dir", (dir_->path() / "debug").string()}, "wrong-build-id");
  EXPECT_NE(o.out.find("build id differs"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("no DWARF"), std::string::npos) << o.out;
}

TEST_F(DebugInfo, GnuDebuglinkBesideTheBinaryInDotDebugAndInDebugDir) {
  // objcopy records the CRC of the file named by --add-gnu-debuglink.
  const fs::path named = dir_->path() / "control.debug";
  fs::copy_file(DebugFile(), named, fs::copy_options::overwrite_existing);
  const fs::path linked = dir_->path() / "linked";
  MustRun({HWCOV_TEST_OBJCOPY, "--add-gnu-debuglink=" + named.string(), Stripped().string(),
           linked.string()});
  Install(linked);

  fs::copy_file(named, Bin().parent_path() / "control.debug");
  ExpectSameAsReference(Report({}, "debuglink-beside"));
  fs::remove(Bin().parent_path() / "control.debug");

  fs::create_directories(Bin().parent_path() / ".debug");
  fs::copy_file(named, Bin().parent_path() / ".debug" / "control.debug");
  ExpectSameAsReference(Report({}, "debuglink-dot-debug"));
  fs::remove_all(Bin().parent_path() / ".debug");

  fs::create_directories(dir_->path() / "debug");
  fs::copy_file(named, dir_->path() / "debug" / "control.debug");
  ExpectSameAsReference(
      Report({"--debug-dir", (dir_->path() / "debug").string()}, "debuglink-dir"));
}

TEST_F(DebugInfo, GnuDebuglinkWithWrongCrcIsRefused) {
  const fs::path named = dir_->path() / "control.debug";
  fs::copy_file(DebugFile(), named, fs::copy_options::overwrite_existing);
  const fs::path linked = dir_->path() / "linked-crc";
  MustRun({HWCOV_TEST_OBJCOPY, "--add-gnu-debuglink=" + named.string(), Stripped().string(),
           linked.string()});
  Install(linked);
  std::ofstream(Bin().parent_path() / "control.debug") << "not the debug file\n";
  Output o = Report({}, "debuglink-crc");
  EXPECT_NE(o.out.find("CRC does not match"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("no DWARF"), std::string::npos) << o.out;
}

TEST_F(DebugInfo, CompressedSectionsInTheBinaryAndInTheDebugFile) {
  for (const char* style : {"zlib", "zlib-gnu"}) {
    const fs::path compressed = dir_->path() / (std::string("compressed-") + style);
    MustRun({HWCOV_TEST_OBJCOPY, std::string("--compress-debug-sections=") + style, Full().string(),
             compressed.string()});
    Install(compressed);
    ExpectSameAsReference(Report({}, std::string("compressed-") + style));
  }
  // A stripped binary whose build-id debug file is compressed.
  Install(Stripped());
  const std::string hex = BuildIdHex(Full());
  const fs::path slot = dir_->path() / "debug" / ".build-id" / hex.substr(0, 2);
  fs::create_directories(slot);
  MustRun({HWCOV_TEST_OBJCOPY, "--compress-debug-sections", DebugFile().string(),
           (slot / (hex.substr(2) + ".debug")).string()});
  ExpectSameAsReference(
      Report({"--debug-dir", (dir_->path() / "debug").string()}, "compressed-debug-file"));
}

// Options that change the binary's build id: traced anew, and the coverage
// must equal the default build's (same code, same input).
class DebugFormats : public ::testing::TestWithParam<std::string> {};

TEST_P(DebugFormats, Dwarf4Dwarf5AndGzAgreeWithEachOther) {
  std::vector<Compiler> compilers = Compilers();
  auto it = std::find_if(compilers.begin(), compilers.end(),
                         [](const Compiler& c) { return c.name == GetParam(); });
  if (it == compilers.end()) GTEST_SKIP() << GetParam() << " not installed";
  TempDir dir("mapper-formats-" + GetParam());
  std::map<std::string, CoverageRecords> results;
  for (const std::string flag : {"-gdwarf-5", "-gdwarf-4", "-gz"}) {
    const fs::path exe = Build(*it, kControl, dir.path() / flag.substr(1), {"-O0", "-g", flag});
    results[flag] = ReadLcov(RunHwcov(kControl, exe));
    const std::string source = (ProgramSourceDir() / "control.c").string();
    ASSERT_TRUE(results[flag].count(source)) << flag;
    EXPECT_GT(results[flag][source].lines.size(), 40u) << flag;
  }
  EXPECT_EQ(results["-gdwarf-4"], results["-gdwarf-5"]);
  EXPECT_EQ(results["-gz"], results["-gdwarf-5"]);
}

INSTANTIATE_TEST_SUITE_P(Compilers, DebugFormats, ::testing::Values("gcc", "clang"));

}  // namespace
}  // namespace hwcov::testing
