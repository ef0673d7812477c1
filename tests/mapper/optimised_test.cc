// Optimised builds against the compiler's own coverage tool at the same
// flags: tests/programs_mapper/optimised.c (inlined helpers, a folded check,
// loops) built by gcc and clang at -O2 and -O3 with DWARF 4 and 5, once with
// --coverage (run, then gcov or `llvm-cov gcov`: the reference) and once
// plain, traced by `hwcov run --backend soft`, with the same input.
//
//   precision  no line hwcov reports as run is unrun for the reference
//              (docs/accuracy.md: a rule that says a line ran must rest on
//              an instruction that ran);
//   agreement  of the lines both instrument, run or not alike: all of them
//              for gcc (the line of a check folded on the path that ran has
//              only gcc's statement views there: copy_name()), >= 95% for
//              clang (which emits no views: that line reads 0);
//   call lines every line that holds the call of an inlined copy
//              (DW_AT_call_line of a DW_TAG_inlined_subroutine in
//              optimised.c, read by llvm-dwarfdump) and that the reference
//              says ran, hwcov reports, as run. Without the call-site rule
//              most of these lines are missing: the copies carry the
//              callee's lines only;
//   braces     every closing brace of a function ("}" alone in column 0)
//              that both instrument agrees: `llvm-cov gcov` counts the brace
//              of odd(), which runs only inlined, and whose "}" has code only
//              in the out-of-line copy (docs/accuracy.md, rule 4); gcov does
//              not count it;
//   entries    escaped_length(), inlined into pointer_size() after a call,
//              ran as often as the reference says: clang starts its copy at
//              the loop's alignment padding, which the jump into the loop
//              passes over, and hwcov then counts the jumps into the copy;
//   first      the first statement of set_hooks() (`if (h == NULL)`), which
//              main() calls with constants, agrees with the reference: the
//              inlined copies fold it away (clang: no instruction, no view),
//              and hwcov counts their entries for it (docs/accuracy.md,
//              rule 6).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <regex>
#include <set>

#include "agreement.h"
#include "coverage_records.h"
#include "test_programs.h"

namespace hwcov::testing {
namespace {

namespace fs = std::filesystem;

const Program kOptimised{"optimised", {"optimised.c"}, {}, "", {"5"}};

struct Case {
  Compiler compiler;
  std::string opt;    // -O2, -O3
  std::string dwarf;  // 4, 5
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.compiler.name << " " << c.opt << " -gdwarf-" << c.dwarf;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (const Compiler& compiler : Compilers())
    for (const char* opt : {"-O2", "-O3"})
      for (const char* dwarf : {"4", "5"}) cases.push_back({compiler, opt, dwarf});
  return cases;
}

// The call lines of inlined copies in |source|, as llvm-dwarfdump shows them.
std::set<uint32_t> InlinedCallLines(const fs::path& exe, const std::string& source) {
  const CommandResult r = MustRun({HWCOV_TEST_LLVM_DWARFDUMP, "--debug-info", exe.string()});
  std::set<uint32_t> lines;
  static const std::regex file(R"re(DW_AT_call_file\s+\("([^"]*)"\))re");
  static const std::regex line(R"re(DW_AT_call_line\s+\((\d+)\))re");
  bool in_source = false;
  for (const std::string& text : SplitLines(r.out)) {
    std::smatch m;
    if (std::regex_search(text, m, file))
      in_source = fs::path(m[1].str()).lexically_normal() == fs::path(source);
    else if (std::regex_search(text, m, line) && in_source)
      lines.insert(static_cast<uint32_t>(std::stoul(m[1].str())));
  }
  return lines;
}

class Optimised : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!Have(HWCOV_TEST_LLVM_DWARFDUMP)) GTEST_SKIP() << "needs llvm-dwarfdump";
  }
  TempDir dir_{"mapper-optimised"};
};

TEST_P(Optimised, AgreesWithTheReferenceAtTheSameFlags) {
  const Case& c = GetParam();
  const std::vector<std::string> flags = {c.opt, "-g", "-gdwarf-" + c.dwarf};
  std::vector<std::string> coverage_flags = flags;
  coverage_flags.push_back("--coverage");
  const fs::path coverage_exe =
      Build(c.compiler, kOptimised, dir_.path() / "coverage", coverage_flags);
  RunReference(c.compiler, kOptimised, coverage_exe, dir_.path() / "gcov");
  const CoverageRecords reference = ReadGcovDir(dir_.path() / "gcov");
  const fs::path exe = Build(c.compiler, kOptimised, dir_.path() / "plain", flags);
  const CoverageRecords hwcov = ReadLcov(RunHwcov(kOptimised, exe));

  const std::string source = (ProgramSourceDir() / "optimised.c").string();
  const Agreement a =
      Compare(reference, hwcov, [&](const std::string& path) { return path == source; });
  Print(std::cout, c.compiler.name + " " + c.opt + " -gdwarf-" + c.dwarf + " optimised", a);

  ASSERT_TRUE(reference.count(source));
  ASSERT_GT(a.lines.total, 25u);
  EXPECT_TRUE(a.ran_only_in_hwcov.empty()) << "hwcov says these ran, the reference does not";
  EXPECT_GE(a.lines.Share(), c.compiler.name == "gcc" ? 1.0 : 0.95) << "line state agreement";

  const std::set<uint32_t> calls = InlinedCallLines(exe, source);
  ASSERT_FALSE(calls.empty()) << "no inlined copy in optimised.c: the test tests nothing";
  const FileRecord& ref = reference.at(source);
  const FileRecord* hw = hwcov.count(source) ? &hwcov.at(source) : nullptr;
  ASSERT_TRUE(hw);
  int checked = 0;
  for (uint32_t line : calls) {
    auto r = ref.lines.find(line);
    if (r == ref.lines.end() || r->second == 0) continue;
    ++checked;
    auto h = hw->lines.find(line);
    EXPECT_TRUE(h != hw->lines.end() && h->second > 0)
        << "optimised.c:" << line << " holds an inlined call that ran (reference " << r->second
        << "), hwcov: " << (h == hw->lines.end() ? "no line" : "0");
  }
  EXPECT_GT(checked, 0) << "no inlined call line ran";

  const std::vector<std::string> text = SplitLines(ReadFile(source));
  int braces = 0;
  for (const auto& [line, count] : ref.lines) {
    if (line == 0 || line > text.size() || text[line - 1] != "}") continue;
    auto h = hw->lines.find(line);
    if (h == hw->lines.end()) continue;
    ++braces;
    EXPECT_EQ(count > 0, h->second > 0)
        << "optimised.c:" << line << " (a function's closing brace): "
        << "reference " << count << ", hwcov " << h->second;
  }
  // gcc's gcov has no escaped_length() when gcc inlined it before
  // instrumenting (-O3).
  auto entries = ref.functions.find("escaped_length");
  if (entries != ref.functions.end() && entries->second > 0) {
    auto h = hw->functions.find("escaped_length");
    ASSERT_NE(h, hw->functions.end()) << "hwcov has no escaped_length()";
    EXPECT_EQ(h->second, entries->second) << "escaped_length()'s calls";
  }
  const auto first = std::find(text.begin(), text.end(), "  if (h == NULL) {");
  ASSERT_NE(first, text.end()) << "optimised.c has no set_hooks()";
  const uint32_t first_line = static_cast<uint32_t>(first - text.begin()) + 1;
  if (auto r = ref.lines.find(first_line); r != ref.lines.end()) {
    auto h = hw->lines.find(first_line);
    EXPECT_TRUE(h != hw->lines.end() && (h->second > 0) == (r->second > 0))
        << "optimised.c:" << first_line << " (set_hooks()'s first statement): reference "
        << r->second << ", hwcov "
        << (h == hw->lines.end() ? "no line" : std::to_string(h->second));
  }
  // gcc's gcov counts no brace of optimised.c's functions that hwcov has.
  if (c.compiler.name == "clang") {
    EXPECT_GT(braces, 0) << "no closing brace both instrument";
  }
}

INSTANTIATE_TEST_SUITE_P(Builds, Optimised, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           const Case& c = param.param;
                           return c.compiler.name + "_" + c.opt.substr(1) + "_dwarf" + c.dwarf;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Optimised);

}  // namespace
}  // namespace hwcov::testing
