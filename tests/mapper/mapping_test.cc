// The mapper's rules on profiles built by hand (branches of functions that
// never ran, processes of one binary, the check-branch filter, the DWARF
// cache) and on real soft traces (templates, header inlining at -O2), and
// the lcov tracefile checked by lcov and genhtml themselves.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "coverage_records.h"
#include "dwarf_info.h"
#include "elf_file.h"
#include "hwcov/mapper.h"
#include "hwcov/report.h"
#include "module_data.h"
#include "test_programs.h"

namespace hwcov::testing {
namespace {

namespace fs = std::filesystem;

const Program kControl{"control", {"control.c"}, {}, "", {"12"}};
const Program kTemplates{"templates", {"templates.cc"}, {}, "", {"6"}};
const Program kInline{"inline", {"inline.c"}, {}, "", {"10"}};
const Program kCold{"cold", {"cold.c"}, {}, "", {"3", "-4", "5"}};

std::string Source(const std::string& name) { return (ProgramSourceDir() / name).string(); }

const mapper::FileCoverage* FindFile(const mapper::Coverage& c, const std::string& path) {
  for (const auto& f : c.files)
    if (f.path == path) return &f;
  return nullptr;
}

std::optional<Compiler> FindCompiler(const std::string& name) {
  for (const Compiler& c : Compilers())
    if (c.name == name) return c;
  return std::nullopt;
}

class Mapping : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("mapper-mapping");
    if (auto gcc = FindCompiler("gcc"))
      control_ = new fs::path(Build(*gcc, kControl, dir_->path() / "control", {"-O0", "-g"}));
  }
  static void TearDownTestSuite() {
    delete control_;
    control_ = nullptr;
    delete dir_;
  }
  void SetUp() override {
    if (!control_) GTEST_SKIP() << "needs gcc";
  }

  // A profile in which each named function ran |count| times from its first
  // byte to its last, and each conditional jump in it went both ways once
  // per run. |copies|: more paths of the same binary (more processes).
  static profile::ExecutionProfile Profile(const fs::path& binary,
                                           const std::map<std::string, uint64_t>& runs,
                                           const std::vector<fs::path>& copies = {}) {
    const mapper::ElfFile elf = mapper::ReadElfFile(binary.string());
    auto module = mapper::LoadModule(binary.string(), {});
    profile::ExecutionProfile p;
    std::vector<fs::path> paths = {binary};
    paths.insert(paths.end(), copies.begin(), copies.end());
    for (uint32_t m = 0; m < paths.size(); ++m) {
      p.modules.push_back({paths[m].string(), paths[m].string(), *elf.build_id});
      for (const mapper::Symbol& s : elf.functions) {
        auto it = runs.find(s.name);
        if (it == runs.end()) continue;
        p.blocks.push_back(
            {m, *elf.OffsetOf(s.address), *elf.OffsetOf(s.address + s.size - 1), 1, it->second});
        for (const mapper::BranchSite& site : module->branches.sites)
          if (site.address >= s.address && site.address < s.address + s.size)
            p.branches.push_back({m, *elf.OffsetOf(site.address), it->second, it->second});
      }
    }
    return p;
  }

  static TempDir* dir_;
  static fs::path* control_;
};
TempDir* Mapping::dir_ = nullptr;
fs::path* Mapping::control_ = nullptr;

TEST_F(Mapping, BranchesOfAFunctionThatNeverRanAreNotEvaluated) {
  const mapper::Coverage c = mapper::MapProfile(Profile(*control_, {{"main", 1}}));
  const mapper::FileCoverage* f = FindFile(c, Source("control.c"));
  ASSERT_NE(f, nullptr);
  size_t main_outcomes = 0, never_outcomes = 0;
  for (const mapper::BranchOutcome& b : f->branches) {
    if (b.line == 87) {  // never_called: if (x > 3)
      EXPECT_FALSE(b.count.has_value()) << "block " << b.block;
      ++never_outcomes;
    }
    if (b.line == 99) {  // main: for (int i = -2; i < 3; i++)
      EXPECT_EQ(b.count, std::optional<uint64_t>(1)) << "block " << b.block;
      ++main_outcomes;
    }
  }
  EXPECT_EQ(never_outcomes, 2u);  // one jump: not taken, taken
  EXPECT_EQ(main_outcomes, 2u);
  // Every branch line has a line count, and blocks are numbered from 0 per line.
  std::set<uint32_t> lines;
  for (const auto& l : f->lines) lines.insert(l.line);
  std::map<uint32_t, std::set<uint32_t>> blocks;
  for (const auto& b : f->branches) {
    EXPECT_TRUE(lines.count(b.line)) << b.line;
    blocks[b.line].insert(b.block);
  }
  for (const auto& [line, set] : blocks) EXPECT_EQ(*set.rbegin() + 1, set.size()) << line;
  const report::Summary s = report::Summarize(c);
  EXPECT_GT(s.total.branches.found, s.total.branches.hit);
}

TEST_F(Mapping, ProcessesOfOneBinaryAddUp) {
  const fs::path copy = dir_->path() / "control-copy";  // the same build id at another path
  fs::copy_file(*control_, copy, fs::copy_options::overwrite_existing);
  const std::map<std::string, uint64_t> runs = {{"main", 1}, {"sign", 5}};
  const mapper::Coverage one = mapper::MapProfile(Profile(*control_, runs));
  const mapper::Coverage two = mapper::MapProfile(Profile(*control_, runs, {copy}));
  ASSERT_EQ(one.files.size(), two.files.size());
  for (size_t i = 0; i < one.files.size(); ++i) {
    ASSERT_EQ(one.files[i].path, two.files[i].path);
    ASSERT_EQ(one.files[i].lines.size(), two.files[i].lines.size());
    for (size_t k = 0; k < one.files[i].lines.size(); ++k)
      EXPECT_EQ(2 * one.files[i].lines[k].count, two.files[i].lines[k].count)
          << one.files[i].lines[k].line;
    for (size_t k = 0; k < one.files[i].functions.size(); ++k)
      EXPECT_EQ(2 * one.files[i].functions[k].entry_count, two.files[i].functions[k].entry_count);
  }
  const mapper::FileCoverage* f = FindFile(two, Source("control.c"));
  ASSERT_NE(f, nullptr);
  auto sign = std::find_if(f->functions.begin(), f->functions.end(),
                           [](const mapper::FunctionCount& fn) { return fn.name == "sign"; });
  ASSERT_NE(sign, f->functions.end());
  EXPECT_EQ(sign->entry_count, 10u);
}

TEST_F(Mapping, MergeAddsCountsAndKeepsUnevaluatedBranches) {
  const mapper::Coverage ran =
      mapper::MapProfile(Profile(*control_, {{"main", 1}, {"never_called", 2}}));
  mapper::Coverage merged = mapper::MapProfile(Profile(*control_, {{"main", 1}}));
  mapper::Merge(merged, ran);
  const mapper::FileCoverage* f = FindFile(merged, Source("control.c"));
  ASSERT_NE(f, nullptr);
  std::map<uint32_t, std::vector<std::optional<uint64_t>>> by_line;
  for (const mapper::BranchOutcome& b : f->branches) by_line[b.line].push_back(b.count);
  using Counts = std::vector<std::optional<uint64_t>>;
  EXPECT_EQ(by_line[87], (Counts{2, 2}));                        // "-" + 2
  EXPECT_EQ(by_line[99], (Counts{2, 2}));                        // 1 + 1
  EXPECT_EQ(by_line[52], (Counts{std::nullopt, std::nullopt}));  // report(): never ran
  EXPECT_EQ(merged.quality.instructions, 0u);
}

TEST_F(Mapping, DwarfIsLoadedOncePerBuildId) {
  const fs::path copy = dir_->path() / "control-cache";
  fs::copy_file(*control_, copy, fs::copy_options::overwrite_existing);
  auto a = mapper::LoadModule(control_->string(), {});
  EXPECT_EQ(a, mapper::LoadModule(control_->string(), {}));
  EXPECT_EQ(a, mapper::LoadModule(copy.string(), {}));
}

// hwcov decodes line programs itself (libdwarf 20210528 misreads DWARF 5's
// default file); binutils' decoder must see the same rows.
TEST_F(Mapping, LineTablesMatchObjdump) {
  if (!Have(HWCOV_TEST_OBJDUMP)) GTEST_SKIP() << "objdump not installed";
  for (const Compiler& compiler : Compilers()) {
    for (const std::string version : {"-gdwarf-4", "-gdwarf-5"}) {
      const fs::path exe =
          Build(compiler, kTemplates, dir_->path() / ("lines-" + compiler.name + version),
                {"-O2", version});
      // (address, line, is_stmt, file name as objdump shortens it)
      std::multiset<std::tuple<uint64_t, uint32_t, bool, std::string>> theirs, ours;
      // Rows: "<file> <line> 0x<address> [<view>] [x]".
      for (const std::string& line :
           SplitLines(MustRun({HWCOV_TEST_OBJDUMP, "--dwarf=decodedline", exe.string()}).out)) {
        const std::vector<std::string> w = Words(line);
        if (w.size() < 3 || w.size() > 5 || !IsNumber(w[1]) || w[2].rfind("0x", 0) != 0) continue;
        theirs.insert({std::stoull(w[2], nullptr, 16), static_cast<uint32_t>(std::stoul(w[1])),
                       w.back() == "x", w[0]});
      }
      const mapper::DebugInfo debug = mapper::ReadDebugInfo(exe.string());
      for (const auto* rows : {&debug.rows, &debug.views})
        for (const mapper::LineRow& r : *rows) {
          if (r.line == 0) continue;  // objdump prints line 0 rows differently
          const std::string& path = debug.files[r.file];
          // objdump prints the base name, or the path's tail when it is long.
          std::string shown = fs::path(path).filename().string();
          for (const auto& t : theirs)
            if (std::get<0>(t) == r.begin && path.size() >= std::get<3>(t).size() &&
                path.compare(path.size() - std::get<3>(t).size(), std::string::npos,
                             std::get<3>(t)) == 0)
              shown = std::get<3>(t);
          ours.insert({r.begin, r.line, r.is_stmt, shown});
        }
      std::erase_if(theirs, [](const auto& t) { return std::get<1>(t) == 0; });
      EXPECT_GT(theirs.size(), 50u) << compiler.name << " " << version;
      EXPECT_EQ(ours, theirs) << compiler.name << " " << version;
    }
  }
}

TEST_F(Mapping, StackProtectorChecksAreNotBranches) {
  for (const Compiler& compiler : Compilers()) {
    const fs::path plain = Build(compiler, kControl, dir_->path() / ("ssp-off-" + compiler.name),
                                 {"-O0", "-g", "-fno-stack-protector"});
    const fs::path guarded = Build(compiler, kControl, dir_->path() / ("ssp-on-" + compiler.name),
                                   {"-O0", "-g", "-fstack-protector-all"});
    auto p = mapper::LoadModule(plain.string(), {});
    auto g = mapper::LoadModule(guarded.string(), {});
    EXPECT_EQ(p->branches.check_jumps, 0u) << compiler.name;
    EXPECT_GE(g->branches.check_jumps, 8u) << compiler.name;  // one per function
    EXPECT_EQ(g->branches.sites.size(), p->branches.sites.size()) << compiler.name;
  }
}

TEST_F(Mapping, TemplateInstancesShareTheirLines) {
  const fs::path exe =
      Build(*FindCompiler("gcc"), kTemplates, dir_->path() / "templates", {"-O0", "-g"});
  CoverageRecords r = ReadLcov(RunHwcov(kTemplates, exe));
  const FileRecord& f = r[Source("templates.cc")];
  // largest<int> (4 values) and largest<double> (3 values): one line, the
  // loop test ran 4 + 3 times; two functions declared on line 14.
  EXPECT_EQ(f.lines.at(17), 7u);
  EXPECT_EQ(f.functions.at("_ZN3geo7largestIiEET_PKS1_i"), 1u);
  EXPECT_EQ(f.functions.at("_ZN3geo7largestIdEET_PKS1_i"), 1u);
  EXPECT_EQ(f.lines.at(14), 2u);
  EXPECT_EQ(f.functions.at("_ZZ4mainENKUliE_clEi"), 6u);  // a lambda
  EXPECT_EQ(f.branches.at(18).size(), 4u);  // if (values[i] > best): one jump per instance
}

TEST_F(Mapping, HeaderFunctionInlinedAtO2CountsForTheHeader) {
  for (const Compiler& compiler : Compilers()) {
    const fs::path exe =
        Build(compiler, kInline, dir_->path() / ("inline-" + compiler.name), {"-O2", "-g"});
    CoverageRecords r = ReadLcov(RunHwcov(kInline, exe));
    ASSERT_TRUE(r.count(Source("inline_hdr.h"))) << compiler.name;
    const FileRecord& header = r[Source("inline_hdr.h")];
    // saturate() has no out-of-line copy: it is reported from its inlined
    // copies, on its declaration line, with their entries.
    ASSERT_TRUE(header.functions.count("saturate")) << compiler.name;
    EXPECT_GT(header.functions.at("saturate"), 0u) << compiler.name;
    ASSERT_TRUE(header.lines.count(6)) << compiler.name;
    ASSERT_TRUE(header.lines.count(8)) << compiler.name;  // if (value > limit)
    EXPECT_GT(header.lines.at(8), 0u) << compiler.name;
    const FileRecord& caller = r[Source("inline.c")];
    EXPECT_FALSE(caller.functions.count("saturate")) << compiler.name;
    EXPECT_GT(caller.functions.at("clip_all"), 0u) << compiler.name;
    EXPECT_GT(caller.lines.at(13), 0u) << compiler.name;  // total += saturate(...)
  }
}

TEST_F(Mapping, HotColdSplitFunctionIsOneFunction) {
  const fs::path exe = Build(*FindCompiler("gcc"), kCold, dir_->path() / "cold", {"-O2", "-g"});
  ASSERT_NE(ReadFile(exe).find("check.cold"), std::string::npos) << "gcc did not split check()";
  CoverageRecords r = ReadLcov(RunHwcov(kCold, exe));
  const FileRecord& f = r[Source("cold.c")];
  for (const auto& [name, count] : f.functions)
    EXPECT_EQ(name.find(".cold"), std::string::npos) << name;
  EXPECT_EQ(f.functions.at("check"), 3u);
  EXPECT_EQ(f.lines.at(16), 1u);  // complain(value): in check.cold, ran for -4
  EXPECT_EQ(f.lines.at(19), 2u);  // return value * 2: the hot part
}

// The tracefile of a real run: lcov 2.x's consistency rules hold, and lcov
// 1.16's own tools read it without a complaint.
TEST_F(Mapping, LcovTracefileIsValid) {
  const fs::path info = RunHwcov(kControl, *control_);
  std::map<std::string, std::set<uint32_t>> da;
  std::string sf;
  uint64_t brda = 0, brda_hit = 0, brf = 0, brh = 0;
  std::set<std::string> brda_keys;
  for (const std::string& line : SplitLines(ReadFile(info))) {
    if (line.rfind("SF:", 0) == 0) sf = line.substr(3);
    if (line.rfind("DA:", 0) == 0) da[sf].insert(static_cast<uint32_t>(std::stoul(line.substr(3))));
    if (line.rfind("BRDA:", 0) == 0) {
      const uint32_t l = static_cast<uint32_t>(std::stoul(line.substr(5)));
      EXPECT_TRUE(da[sf].count(l)) << "BRDA before or without its DA: " << line;
      EXPECT_TRUE(brda_keys.insert(sf + line.substr(0, line.rfind(','))).second)
          << "duplicate " << line;
      ++brda;
      const std::string taken = line.substr(line.rfind(',') + 1);
      if (taken != "-" && taken != "0") ++brda_hit;
    }
    if (line.rfind("BRF:", 0) == 0) brf += std::stoull(line.substr(4));
    if (line.rfind("BRH:", 0) == 0) brh += std::stoull(line.substr(4));
  }
  EXPECT_GT(brda, 20u);
  EXPECT_EQ(brf, brda);
  EXPECT_EQ(brh, brda_hit);
  // FN lines have a DA (checked after reading: FN records come first).
  std::string file;
  for (const std::string& line : SplitLines(ReadFile(info))) {
    if (line.rfind("SF:", 0) == 0) file = line.substr(3);
    if (line.rfind("FN:", 0) == 0) {
      EXPECT_TRUE(da[file].count(static_cast<uint32_t>(std::stoul(line.substr(3))))) << line;
    }
  }

  if (!Have(HWCOV_TEST_LCOV) || !Have(HWCOV_TEST_GENHTML)) GTEST_SKIP() << "lcov not installed";
  CommandResult summary =
      MustRun({HWCOV_TEST_LCOV, "--summary", info.string(), "--rc", "lcov_branch_coverage=1"});
  const std::string text = summary.out + summary.err;
  std::ostringstream expected;
  expected << "(" << brh << " of " << brf << " branches)";
  EXPECT_NE(text.find(expected.str()), std::string::npos) << text;
  EXPECT_EQ(text.find("WARNING"), std::string::npos) << text;
  CommandResult html = MustRun({HWCOV_TEST_GENHTML, "--branch-coverage", "--quiet", "-o",
                                (dir_->path() / "html").string(), info.string()});
  EXPECT_EQ((html.out + html.err).find("WARNING"), std::string::npos) << html.out << html.err;
  EXPECT_TRUE(fs::exists(dir_->path() / "html" / "index.html"));
}

TEST_F(Mapping, TextSummaryHasBranchColumns) {
  CommandResult r =
      MustRun({HWCOV_BINARY, "run", "--backend", "soft", "--", control_->string(), "12"});
  const std::vector<std::string> lines = SplitLines(r.err);  // run's summary: on stderr
  auto header = std::find_if(lines.begin(), lines.end(),
                             [](const std::string& l) { return l.rfind("Filename", 0) == 0; });
  ASSERT_NE(header, lines.end()) << r.err;
  const std::vector<std::string> columns = Words(*header);
  ASSERT_GE(columns.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(columns.end() - 4, columns.end()),
            (std::vector<std::string>{"Executed", "Branches", "Missed", "Cover"}))
      << *header;
  auto total = std::find_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.rfind("TOTAL", 0) == 0; });
  ASSERT_NE(total, lines.end());
  const std::vector<std::string> values = Words(*total);
  ASSERT_GE(values.size(), 3u);
  EXPECT_TRUE(IsNumber(values[values.size() - 3]) && IsNumber(values[values.size() - 2])) << *total;
  EXPECT_EQ(values.back().back(), '%') << *total;
}

}  // namespace
}  // namespace hwcov::testing
