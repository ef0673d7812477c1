// Accuracy against the compilers' own coverage tools: each program of
// tests/programs_mapper is built by gcc and by clang, once with --coverage
// (run, then gcov or `llvm-cov gcov`: the reference) and once plain (traced
// with `hwcov run --backend soft`), with the same input.
//
//   -O0: line state agreement >= 99.5% over the lines both tools consider
//        instrumentable, and every function of the reference executed or
//        not alike (100%). Branch-line agreement is printed.
//   -O2: the optimised binary's coverage against the -O0 reference, printed
//        only: docs/accuracy.md lists these numbers and why they differ.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <mutex>

#include "agreement.h"
#include "coverage_records.h"
#include "test_programs.h"

namespace hwcov::testing {
namespace {

namespace fs = std::filesystem;

const std::vector<Program>& Programs() {
  static const std::vector<Program> programs = {
      {"control", {"control.c"}, {}, "", {"12"}},
      {"templates", {"templates.cc"}, {}, "", {"6"}},
      {"calls", {"calls.c"}, {"mlib.c"}, "mlib", {"10"}},
  };
  return programs;
}

struct Case {
  Compiler compiler;
  Program program;
  std::string opt;  // "-O0" or "-O2"
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.compiler.name << " " << c.opt << " " << c.program.name;
}

std::string Name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.compiler.name + "_" + info.param.program.name + "_" + info.param.opt.substr(1);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (const Compiler& compiler : Compilers())
    for (const Program& program : Programs())
      for (const char* opt : {"-O0", "-O2"}) cases.push_back({compiler, program, opt});
  return cases;
}

class Accuracy : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { dir_ = new TempDir("mapper-accuracy"); }
  static void TearDownTestSuite() {
    delete dir_;
    references_.clear();
  }

  // The -O0 --coverage reference of a program, computed once per compiler.
  static const CoverageRecords& Reference(const Case& c) {
    const std::string key = c.compiler.name + "/" + c.program.name;
    auto it = references_.find(key);
    if (it != references_.end()) return it->second;
    const fs::path dir = dir_->path() / key / "coverage";
    const fs::path exe = Build(c.compiler, c.program, dir, {"-O0", "-g", "--coverage"});
    RunReference(c.compiler, c.program, exe, dir / "gcov");
    return references_[key] = ReadGcovDir(dir / "gcov");
  }

  static TempDir* dir_;
  static std::map<std::string, CoverageRecords> references_;
};
TempDir* Accuracy::dir_ = nullptr;
std::map<std::string, CoverageRecords> Accuracy::references_;

TEST_P(Accuracy, AgreesWithTheCompilersCoverageTool) {
  const Case& c = GetParam();
  const CoverageRecords& reference = Reference(c);
  ASSERT_FALSE(reference.empty());
  const fs::path exe = Build(
      c.compiler, c.program,
      dir_->path() / (c.compiler.name + "/" + c.program.name) / c.opt.substr(1), {c.opt, "-g"});
  const CoverageRecords hwcov = ReadLcov(RunHwcov(c.program, exe));
  const std::string sources = ProgramSourceDir().string() + "/";
  const Agreement a = Compare(reference, hwcov,
                              [&](const std::string& path) { return path.rfind(sources, 0) == 0; });
  const std::string reference_tool = c.compiler.name == "gcc" ? "gcov" : "llvm-cov gcov";
  Print(std::cout,
        c.compiler.name + " " + c.opt + " " + c.program.name + " vs " + reference_tool + " -O0", a);

  ASSERT_GT(a.lines.total, 20u);
  if (c.opt != "-O0") return;  // -O2: reported, not judged
  EXPECT_GE(a.lines.Share(), 0.995) << "line state agreement";
  EXPECT_EQ(a.functions.agree, a.functions.total) << "function hit agreement";
}

INSTANTIATE_TEST_SUITE_P(Programs, Accuracy, ::testing::ValuesIn(Cases()), Name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Accuracy);

}  // namespace
}  // namespace hwcov::testing
