// The "unknown" line state (docs/accuracy.md, "Trace gaps"): a gap with a
// location makes the zero-count lines of the function around it unknown, on
// a real binary (tests/programs_mapper/control.c, gcc -O0 -g) with profiles
// built by hand from its symbols; Merge()'s rules for the state; and the
// lcov tracefile of such coverage, read by lcov and genhtml themselves.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "elf_file.h"
#include "hwcov/mapper.h"
#include "hwcov/report.h"
#include "test_programs.h"

namespace hwcov::testing {
namespace {

namespace fs = std::filesystem;

const Program kControl{"control", {"control.c"}, {}, "", {"12"}};

// Lines of control.c (tests/programs_mapper/README.md: keep in step).
constexpr uint32_t kNeverCalledDecl = 85, kNeverCalledIf = 87, kNeverCalledLast = 89;
constexpr uint32_t kReportDecl = 50, kReportIf = 52;
constexpr uint32_t kMainFor = 99;

std::optional<Compiler> Gcc() {
  for (const Compiler& c : Compilers())
    if (c.name == "gcc") return c;
  return std::nullopt;
}

const mapper::FileCoverage& ControlFile(const mapper::Coverage& c) {
  const std::string path = (ProgramSourceDir() / "control.c").string();
  for (const auto& f : c.files)
    if (f.path == path) return f;
  throw std::runtime_error("no coverage for " + path);
}

const mapper::LineCount* Line(const mapper::FileCoverage& f, uint32_t line) {
  for (const auto& l : f.lines)
    if (l.line == line) return &l;
  return nullptr;
}

const mapper::FunctionCount* Function(const mapper::FileCoverage& f, const std::string& name) {
  for (const auto& fn : f.functions)
    if (fn.name == name) return &fn;
  return nullptr;
}

class UnknownLines : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("mapper-unknown");
    if (auto gcc = Gcc())
      binary_ = new fs::path(Build(*gcc, kControl, dir_->path() / "control", {"-O0", "-g"}));
  }
  static void TearDownTestSuite() {
    delete binary_;
    binary_ = nullptr;
    delete dir_;
  }
  void SetUp() override {
    if (!binary_) GTEST_SKIP() << "needs gcc";
  }

  static const mapper::Symbol& Symbol(const fs::path& binary, const std::string& name) {
    static std::map<std::string, mapper::ElfFile> elves;
    auto [it, inserted] = elves.try_emplace(binary.string());
    if (inserted) it->second = mapper::ReadElfFile(binary.string());
    for (const mapper::Symbol& s : it->second.functions)
      if (s.name == name) return s;
    throw std::runtime_error("no symbol " + name + " in " + binary.string());
  }

  // Each function in |runs| ran from its first byte to its last |count|
  // times (conditional jumps both ways, as far as the blocks say: none
  // recorded here); one overflow gap resumed |into| bytes into each function
  // of |gaps|.
  static profile::ExecutionProfile Profile(const fs::path& binary,
                                           const std::map<std::string, uint64_t>& runs,
                                           const std::vector<std::string>& gaps,
                                           uint64_t into = 4) {
    const mapper::ElfFile elf = mapper::ReadElfFile(binary.string());
    profile::ExecutionProfile p;
    p.modules.push_back({binary.string(), binary.string(), *elf.build_id});
    for (const auto& [name, count] : runs) {
      const mapper::Symbol& s = Symbol(binary, name);
      p.blocks.push_back(
          {0, *elf.OffsetOf(s.address), *elf.OffsetOf(s.address + s.size - 1), 1, count});
    }
    std::sort(p.blocks.begin(), p.blocks.end(),
              [](const auto& a, const auto& b) { return a.begin < b.begin; });
    for (const std::string& name : gaps) {
      const mapper::Symbol& s = Symbol(binary, name);
      profile::Gap gap;
      gap.kind = profile::GapKind::kOverflow;
      gap.ip = s.address + into;
      gap.location = profile::CodeLocation{0, *elf.OffsetOf(s.address + into)};
      gap.detail = "overflow";
      p.gaps.push_back(gap);
    }
    return p;
  }

  static TempDir* dir_;
  static fs::path* binary_;
};
TempDir* UnknownLines::dir_ = nullptr;
fs::path* UnknownLines::binary_ = nullptr;

TEST_F(UnknownLines, ZeroCountLinesOfTheGapsFunctionAreUnknown) {
  const mapper::Coverage c =
      mapper::MapProfile(Profile(*binary_, {{"main", 1}, {"sign", 5}}, {"never_called"}));
  const mapper::FileCoverage& f = ControlFile(c);
  // never_called (lines 85-90), where the gap resumed: every line unknown.
  size_t unknown = 0;
  for (const mapper::LineCount& l : f.lines) {
    EXPECT_TRUE(!l.unknown || l.count == 0) << "line " << l.line << " counted and unknown";
    if (l.line >= kNeverCalledDecl && l.line <= kNeverCalledLast + 1) {
      EXPECT_TRUE(l.unknown) << "line " << l.line;
      ++unknown;
    } else {
      EXPECT_FALSE(l.unknown) << "line " << l.line << " is outside the gap's function";
    }
  }
  EXPECT_GE(unknown, 4u);
  const mapper::FunctionCount* never = Function(f, "never_called");
  ASSERT_NE(never, nullptr);
  EXPECT_TRUE(never->unknown);
  // report() never ran either but is not around the gap: uncovered.
  ASSERT_NE(Line(f, kReportIf), nullptr);
  EXPECT_EQ(Line(f, kReportIf)->count, 0u);
  EXPECT_FALSE(Line(f, kReportIf)->unknown);
  ASSERT_NE(Function(f, "report"), nullptr);
  EXPECT_FALSE(Function(f, "report")->unknown);
  EXPECT_EQ(Function(f, "report")->entry_count, 0u);
  // Executed lines stay covered.
  ASSERT_NE(Line(f, kMainFor), nullptr);
  EXPECT_GT(Line(f, kMainFor)->count, 0u);
  EXPECT_FALSE(Line(f, kMainFor)->unknown);
  EXPECT_EQ(Function(f, "sign")->entry_count, 5u);

  // The summary leaves them out of the totals and counts them apart: the
  // line and its jump (two outcomes) on line 87, the function.
  const report::Summary s = report::Summarize(c);
  const mapper::Coverage no_gap =
      mapper::MapProfile(Profile(*binary_, {{"main", 1}, {"sign", 5}}, {}));
  const report::Summary s0 = report::Summarize(no_gap);
  EXPECT_EQ(s.total.lines.unknown, unknown);
  EXPECT_EQ(s.total.lines.found + unknown, s0.total.lines.found);
  EXPECT_EQ(s.total.lines.hit, s0.total.lines.hit);
  EXPECT_EQ(s.total.functions.unknown, 1u);
  EXPECT_EQ(s.total.functions.found + 1, s0.total.functions.found);
  EXPECT_EQ(s.total.branches.unknown, 2u);
  EXPECT_EQ(s.total.branches.found + 2, s0.total.branches.found);
  EXPECT_EQ(s0.total.lines.unknown + s0.total.functions.unknown + s0.total.branches.unknown, 0u);
}

TEST_F(UnknownLines, ALineThatRanIsNeverUnknown) {
  // The gap resumed inside main, which ran: none of its lines is unknown.
  const mapper::Coverage c = mapper::MapProfile(Profile(*binary_, {{"main", 1}}, {"main"}, 8));
  const mapper::FileCoverage& f = ControlFile(c);
  for (const mapper::LineCount& l : f.lines) EXPECT_FALSE(l.unknown) << "line " << l.line;
  for (const mapper::FunctionCount& fn : f.functions) EXPECT_FALSE(fn.unknown) << fn.name;
}

TEST_F(UnknownLines, ABinaryThatRanOnlyInAGapIsReported) {
  const mapper::Coverage c = mapper::MapProfile(Profile(*binary_, {}, {"collatz_steps"}));
  const mapper::FileCoverage& f = ControlFile(c);
  const report::Summary s = report::Summarize(c);
  EXPECT_GT(s.total.lines.unknown, 3u);
  EXPECT_EQ(s.total.lines.hit, 0u);
  ASSERT_NE(Function(f, "collatz_steps"), nullptr);
  EXPECT_TRUE(Function(f, "collatz_steps")->unknown);
  EXPECT_FALSE(Function(f, "main")->unknown);
}

TEST_F(UnknownLines, MergeCoveredWinsUnknownStaysUnknown) {
  const mapper::Coverage gap =
      mapper::MapProfile(Profile(*binary_, {{"main", 1}}, {"never_called"}));
  const mapper::Coverage plain = mapper::MapProfile(Profile(*binary_, {{"main", 1}}, {}));
  const mapper::Coverage ran =
      mapper::MapProfile(Profile(*binary_, {{"main", 1}, {"never_called", 2}}, {}));
  ASSERT_TRUE(Line(ControlFile(gap), kNeverCalledIf)->unknown);
  ASSERT_FALSE(Line(ControlFile(plain), kNeverCalledIf)->unknown);

  // Unknown in one, 0 in the other: unknown, in either order.
  for (bool gap_first : {true, false}) {
    mapper::Coverage merged = gap_first ? gap : plain;
    mapper::Merge(merged, gap_first ? plain : gap);
    const mapper::FileCoverage& f = ControlFile(merged);
    EXPECT_TRUE(Line(f, kNeverCalledIf)->unknown);
    EXPECT_TRUE(Line(f, kNeverCalledDecl)->unknown);
    EXPECT_TRUE(Function(f, "never_called")->unknown);
    EXPECT_FALSE(Line(f, kReportDecl)->unknown);
    EXPECT_GT(Line(f, kMainFor)->count, 0u);
  }
  // Covered anywhere wins.
  for (bool gap_first : {true, false}) {
    mapper::Coverage merged = gap_first ? gap : ran;
    mapper::Merge(merged, gap_first ? ran : gap);
    const mapper::FileCoverage& f = ControlFile(merged);
    for (const mapper::LineCount& l : f.lines) EXPECT_FALSE(l.unknown) << "line " << l.line;
    EXPECT_EQ(Function(f, "never_called")->entry_count, 2u);
    EXPECT_FALSE(Function(f, "never_called")->unknown);
  }
  // Unknown and unknown: unknown; the state survives a merge with nothing.
  mapper::Coverage twice = gap;
  mapper::Merge(twice, gap);
  EXPECT_TRUE(Line(ControlFile(twice), kNeverCalledIf)->unknown);
  mapper::Coverage empty;
  mapper::Merge(empty, gap);
  EXPECT_TRUE(Function(ControlFile(empty), "never_called")->unknown);
}

TEST_F(UnknownLines, FunctionFromElfSymbolsWithoutDwarf) {
  // Built without -g (not stripped: the DWARF cache knows the build id).
  const fs::path stripped = Build(*Gcc(), kControl, dir_->path() / "nodwarf", {"-O0"});
  const mapper::Coverage c = mapper::MapProfile(Profile(stripped, {{"main", 1}}, {"never_called"}));
  ASSERT_EQ(c.files.size(), 1u);
  const mapper::FileCoverage& f = c.files[0];
  EXPECT_TRUE(f.lines.empty());
  ASSERT_NE(Function(f, "never_called"), nullptr);
  EXPECT_TRUE(Function(f, "never_called")->unknown);
  EXPECT_FALSE(Function(f, "report")->unknown);
  EXPECT_FALSE(Function(f, "main")->unknown);
  EXPECT_EQ(report::Summarize(c).total.functions.unknown, 1u);
}

// lcov has no unknown state: no DA, FN or BRDA for what is unknown, every
// BRDA and FN still on a DA line, summary records as Summarize() counts; lcov
// and genhtml read the file without a warning.
TEST_F(UnknownLines, LcovTracefileLeavesUnknownOutAndStaysValid) {
  const mapper::Coverage c =
      mapper::MapProfile(Profile(*binary_, {{"main", 1}, {"sign", 5}}, {"never_called"}));
  const fs::path info = dir_->path() / "unknown.info";
  const report::Summary s = report::Summarize(c);
  report::MakeLcovWriter(info)->Write(c, s);
  const std::string control = (ProgramSourceDir() / "control.c").string();
  std::set<uint32_t> da;
  std::string sf;
  uint64_t lf = 0, brf = 0, fnf = 0, brda = 0;
  std::vector<std::string> lines = SplitLines(ReadFile(info));
  for (const std::string& line : lines) {
    if (line.rfind("SF:", 0) == 0) sf = line.substr(3);
    if (line.rfind("LF:", 0) == 0) lf += std::stoull(line.substr(3));
    if (line.rfind("BRF:", 0) == 0) brf += std::stoull(line.substr(4));
    if (line.rfind("FNF:", 0) == 0) fnf += std::stoull(line.substr(4));
    if (sf != control) continue;
    EXPECT_EQ(line.find("never_called"), std::string::npos) << line;
    if (line.rfind("DA:", 0) == 0) {
      const uint32_t n = static_cast<uint32_t>(std::stoul(line.substr(3)));
      EXPECT_FALSE(n >= kNeverCalledDecl && n <= kNeverCalledLast) << line;
      da.insert(n);
    }
    if (line.rfind("BRDA:", 0) == 0) {
      ++brda;
      EXPECT_TRUE(da.count(static_cast<uint32_t>(std::stoul(line.substr(5))))) << line;
    }
  }
  EXPECT_GT(brda, 10u);
  EXPECT_TRUE(da.count(kReportIf));  // uncovered, not unknown: still a DA
  for (const std::string& line : lines) {
    if (line.rfind("SF:", 0) == 0) sf = line.substr(3);
    if (line.rfind("FN:", 0) == 0 && sf == control) {
      EXPECT_TRUE(da.count(static_cast<uint32_t>(std::stoul(line.substr(3))))) << line;
    }
  }
  EXPECT_EQ(lf, s.total.lines.found);
  EXPECT_EQ(brf, s.total.branches.found);
  EXPECT_EQ(fnf, s.total.functions.found);

  if (!Have(HWCOV_TEST_LCOV) || !Have(HWCOV_TEST_GENHTML)) GTEST_SKIP() << "lcov not installed";
  CommandResult summary =
      MustRun({HWCOV_TEST_LCOV, "--summary", info.string(), "--rc", "lcov_branch_coverage=1"});
  const std::string text = summary.out + summary.err;
  EXPECT_NE(text.find("of " + std::to_string(s.total.lines.found) + " lines"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("WARNING"), std::string::npos) << text;
  CommandResult html = MustRun({HWCOV_TEST_GENHTML, "--branch-coverage", "--quiet", "-o",
                                (dir_->path() / "html").string(), info.string()});
  EXPECT_EQ((html.out + html.err).find("WARNING"), std::string::npos) << html.out << html.err;
}

}  // namespace
}  // namespace hwcov::testing
