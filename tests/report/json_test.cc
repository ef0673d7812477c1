// The native JSON coverage file: golden output, exact round trip, merge
// order-independence, one-line reader errors, and the merge/report commands.
#include <gtest/gtest.h>

#include <fstream>

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "profile.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::FixedProfile;
using testing::ReadFile;
using testing::RunCommand;

std::string ToJson(const mapper::Coverage& c, const fs::path& out) {
  report::MakeJsonWriter(out)->Write(c, report::Summarize(c));
  return ReadFile(out);
}

// A second, overlapping profile for merges: same file, other counts, a
// branch that now ran.
mapper::Coverage OtherProfile() {
  mapper::Coverage c;
  mapper::FileCoverage main;
  main.path = "/src/proj/main.cc";
  // in_gap() ran here, but not line 14: merged with FixedProfile's unknown
  // lines 12-14, 12 and 13 are covered and 14 stays unknown.
  main.lines = {{3, 2}, {4, 2}, {5, 1}, {7, 0}, {8, 0}, {10, 4}, {12, 1}, {13, 1}, {14, 0}};
  main.functions = {{"main", "main", 3, 2},
                    {"_Z6unusedv", "unused()", 10, 4},
                    {"_Z6in_gapi", "in_gap(int)", 12, 1}};
  main.branches = {{4, 0, 0, 1},  {4, 0, 1, 1},  {8, 0, 0, std::nullopt}, {8, 0, 1, std::nullopt},
                   {10, 0, 0, 3}, {10, 0, 1, 1}, {13, 0, 0, 1},           {13, 0, 1, 0}};
  c.files = {main};
  c.quality.trace_bytes = 50;
  c.quality.decoded_bytes = 50;
  c.quality.gaps_by_kind = {{"overflow", 1}};
  c.quality.warnings = {"another warning"};
  return c;
}

TEST(Json, MatchesGolden) {
  testing::TempDir dir("report-json");
  testing::ExpectGolden(ToJson(FixedProfile(), dir.path() / "c.json"), "coverage.json");
}

TEST(Json, RoundTripsExactly) {
  testing::TempDir dir("report-json-roundtrip");
  const std::string first = ToJson(FixedProfile(), dir.path() / "a.json");
  const mapper::Coverage back = report::ReadCoverageJson(dir.path() / "a.json");
  EXPECT_EQ(ToJson(back, dir.path() / "b.json"), first);
  ASSERT_EQ(back.files.size(), 3u);
  EXPECT_EQ(back.files[1].lines[3].count, 5000000000ull);  // above 2^32, kept exact
  EXPECT_FALSE(back.files[1].branches[4].count.has_value());
}

TEST(Json, RoundTripsFunctionsWithoutLines) {
  testing::TempDir dir("report-json-nodwarf");
  mapper::Coverage c;
  c.files = {{"/bin/stripped", {}, {{"main", "main", 0, 1}}, {}}};
  const std::string first = ToJson(c, dir.path() / "a.json");
  EXPECT_EQ(ToJson(report::ReadCoverageJson(dir.path() / "a.json"), dir.path() / "b.json"), first);
}

TEST(Json, PythonParsesIt) {
  if (!testing::HaveTool("python3")) GTEST_SKIP() << "python3 not installed";
  testing::TempDir dir("report-json-python");
  ToJson(FixedProfile(), dir.path() / "c.json");
  testing::ExpectPythonPrints(
      "import json, sys\nd = json.load(open(sys.argv[1]))\n"
      "print(d['version'], d['totals']['lines'], len(d['files']))",
      dir.path() / "c.json", "2 {'hit': 7, 'found': 9, 'unknown': 3} 3\n");
}

TEST(Json, MergeIsOrderIndependent) {
  testing::TempDir dir("report-json-merge");
  const auto ab = report::MergeCoverage({FixedProfile(), OtherProfile()});
  const auto ba = report::MergeCoverage({OtherProfile(), FixedProfile()});
  const std::string json_ab = ToJson(ab, dir.path() / "ab.json");
  EXPECT_EQ(json_ab, ToJson(ba, dir.path() / "ba.json"));
  const auto& main = ab.files[1];
  ASSERT_EQ(main.path, "/src/proj/main.cc");
  EXPECT_EQ(main.lines[0].count, 3u);
  EXPECT_EQ(main.branches[2].count, std::optional<uint64_t>(7));  // "-" + 7 = 7
  // Unknown + covered = covered; unknown + 0 = unknown.
  ASSERT_EQ(main.lines.size(), 9u);
  EXPECT_EQ(main.lines[6].line, 12u);
  EXPECT_FALSE(main.lines[6].unknown);
  EXPECT_EQ(main.lines[6].count, 1u);
  EXPECT_FALSE(main.lines[7].unknown);
  EXPECT_EQ(main.lines[8].line, 14u);
  EXPECT_TRUE(main.lines[8].unknown);
  EXPECT_FALSE(main.functions[2].unknown);
  EXPECT_EQ(ab.quality.trace_bytes, 1050u);
  testing::ExpectGolden(json_ab, "merged.json");
}

TEST(Json, MergeCommandMatchesLibraryAndReportReadsJson) {
  testing::TempDir dir("report-json-cli");
  const fs::path a = dir.path() / "a.json", b = dir.path() / "b.json";
  ToJson(FixedProfile(), a);
  ToJson(OtherProfile(), b);
  const fs::path out1 = dir.path() / "ab.json", out2 = dir.path() / "ba.json";
  auto r1 = RunCommand({HWCOV_BINARY, "merge", "-o", out1.string(), a.string(), b.string()});
  auto r2 = RunCommand({HWCOV_BINARY, "merge", "-o", out2.string(), b.string(), a.string()});
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(ReadFile(out1), ReadFile(out2));
  EXPECT_EQ(ReadFile(out1),
            ToJson(report::MergeCoverage({FixedProfile(), OtherProfile()}), dir.path() / "x.json"));
  const fs::path lcov = dir.path() / "r.info";
  auto rep = RunCommand({HWCOV_BINARY, "report", "--root", "/src/proj", a.string(), b.string(),
                         "--lcov", lcov.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_NE(rep.out.find("TOTAL"), std::string::npos) << rep.out;
  EXPECT_NE(ReadFile(lcov).find("SF:/src/proj/main.cc"), std::string::npos);
}

// Reader errors: one line, naming the file and what is wrong.
void ExpectReadError(const std::string& content, const std::string& must_contain) {
  testing::TempDir dir("report-json-bad");
  const fs::path path = dir.path() / "bad.json";
  std::ofstream(path, std::ios::binary) << content;
  try {
    report::ReadCoverageJson(path);
    ADD_FAILURE() << "no error for: " << content;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path.string() + ": ", 0), 0u) << what;
    EXPECT_NE(what.find(must_contain), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

const char kHeader[] =
    "{\"format\": \"hwcov-coverage\", \"version\": 1, \"quality\": {\"trace_bytes\": 0, "
    "\"decoded_bytes\": 0, \"instructions\": 0, \"unmapped_instructions\": 0, "
    "\"gaps_by_kind\": {}, \"gap_details\": [], \"warnings\": []}, ";

TEST(Json, ReaderErrorsAreOneLineAndNameTheProblem) {
  ExpectReadError("", "not valid JSON: unexpected end of file at byte 0");
  ExpectReadError("{\"format\": \"hwcov-coverage\", ", "not valid JSON");
  ExpectReadError("[1, 2]", "not an hwcov coverage file");
  ExpectReadError("{\"format\": \"hwcov-coverage\", \"version\": 3}", "schema version 3");
  ExpectReadError("{\"format\": \"hwcov-coverage\", \"version\": 0}", "schema version 0");
  ExpectReadError(std::string(kHeader) + "\"files\": 3}", "the document.files has the wrong type");
  ExpectReadError(std::string(kHeader) +
                      "\"files\": [{\"path\": \"/a.c\", \"lines\": [[2, 1], [1, 1]], "
                      "\"functions\": [], \"branches\": []}]}",
                  "file /a.c: lines not sorted");
  ExpectReadError(std::string(kHeader) +
                      "\"files\": [{\"path\": \"/a.c\", \"lines\": [[1, 1]], "
                      "\"functions\": [], \"branches\": [[2, 0, 0, null]]}]}",
                  "branch on line 2 has no line count");
  ExpectReadError(std::string(kHeader) +
                      "\"files\": [{\"path\": \"/a.c\", \"lines\": [[1, -1]], "
                      "\"functions\": [], \"branches\": []}]}",
                  "unexpected character '-'");
  ExpectReadError(std::string(kHeader) +
                      "\"files\": [{\"path\": \"/a.c\", \"lines\": [[1, 1.5]], "
                      "\"functions\": [], \"branches\": []}]}",
                  "non-integer number");
  ExpectReadError(std::string(kHeader) +
                      "\"files\": [{\"path\": \"/a.c\", \"lines\": [[1, "
                      "99999999999999999999]], \"functions\": [], \"branches\": []}]}",
                  "does not fit in 64 bits");
  ExpectReadError(std::string(1000, '[') + std::string(1000, ']'), "nesting deeper");
}

TEST(Json, RefusesAbsurdSizes) {
  testing::TempDir dir("report-json-huge");
  const fs::path path = dir.path() / "huge.json";
  std::ofstream(path) << "{";
  fs::resize_file(path, (uintmax_t{1} << 30) + 1);  // sparse: no disk used
  try {
    report::ReadCoverageJson(path);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than the 1 GiB"), std::string::npos) << e.what();
  }
}

TEST(Json, MissingFileIsAnError) {
  EXPECT_THROW(report::ReadCoverageJson("/nonexistent/x.json"), Error);
}

}  // namespace
}  // namespace hwcov

namespace hwcov {
namespace {

// FixedProfile as test "a" and OtherProfile as test "b", merged: per-test
// coverage as a --per-test run of two tests gives it.
mapper::Coverage TwoTests() {
  mapper::Coverage a = FixedProfile(), b = OtherProfile();
  a.tests = {{"a", a.files}};
  b.tests = {{"b", b.files}};
  return report::MergeCoverage({b, a});
}

TEST(Json, PerTestCoverageRoundTripsExactly) {
  testing::TempDir dir("report-json-per-test");
  const mapper::Coverage c = TwoTests();
  ASSERT_EQ(c.tests.size(), 2u);
  const std::string first = ToJson(c, dir.path() / "a.json");
  const mapper::Coverage back = report::ReadCoverageJson(dir.path() / "a.json");
  EXPECT_EQ(ToJson(back, dir.path() / "b.json"), first);
  // Each test read back has its own counts: those of its input where the
  // input has the item, 0 (lines, functions) or "-" (branches) elsewhere.
  const mapper::Coverage inputs[] = {FixedProfile(), OtherProfile()};
  for (size_t t = 0; t < 2; ++t) {
    ASSERT_EQ(back.tests[t].files.size(), back.files.size());
    for (size_t i = 0; i < back.files.size(); ++i) {
      const mapper::FileCoverage& got = back.tests[t].files[i];
      const mapper::FileCoverage* in = nullptr;
      for (const mapper::FileCoverage& f : inputs[t].files)
        if (f.path == got.path) in = &f;
      for (const mapper::LineCount& l : got.lines) {
        uint64_t expected = 0;
        for (const mapper::LineCount& o : in ? in->lines : std::vector<mapper::LineCount>{})
          if (o.line == l.line) expected = o.count;
        EXPECT_EQ(l.count, expected) << got.path << ":" << l.line << " test " << t;
      }
      for (const mapper::BranchOutcome& b : got.branches) {
        std::optional<uint64_t> expected;
        for (const mapper::BranchOutcome& o :
             in ? in->branches : std::vector<mapper::BranchOutcome>{})
          if (o.line == b.line && o.block == b.block && o.branch == b.branch) expected = o.count;
        EXPECT_EQ(b.count, expected) << got.path << ":" << b.line << " test " << t;
      }
    }
  }
  // Hand-worked from the two profiles: main.cc line 4 ran in both tests
  // (FixedProfile once, OtherProfile twice), the jump on line 8 only in
  // FixedProfile (7 times not taken); OtherProfile never ran it.
  EXPECT_NE(first.find("[4, 3, [[0, 1], [1, 2]]]"), std::string::npos) << first;
  EXPECT_NE(first.find("[8, 0, 0, 7, [[0, 7]]]"), std::string::npos) << first;
}

TEST(Json, PerTestReaderErrors) {
  const std::string tests = std::string(kHeader) + "\"tests\": [\"a\", \"b\"], ";
  auto file = [&](const std::string& lines, const std::string& branches = "[]") {
    return tests + "\"files\": [{\"path\": \"/a.c\", \"lines\": " + lines +
           ", \"functions\": [], \"branches\": " + branches + "}]}";
  };
  ExpectReadError(
      file("[[1, 2, [[0, 1], [1, 1]]]]").replace(tests.find("\"a\", \"b\""), 8, "\"b\", \"a\""),
      "tests not sorted by name and unique");
  ExpectReadError(file("[[1, 1]]"), "lines[] is not an array of 3");
  ExpectReadError(file("[[1, 1, [[2, 1]]]]"), "test 2 does not exist");
  ExpectReadError(file("[[1, 3, [[0, 1], [1, 1]]]]"), "do not add up to the count");
  ExpectReadError(file("[[1, 1, [[0, 1], [1, 1]]]]"), "do not add up to the count");
  ExpectReadError(file("[[1, 2, [[1, 1], [0, 1]]]]"), "tests not ascending");
  ExpectReadError(file("[[1, 0, [[0, 0]]]]"), "do not add up to the count");
  ExpectReadError(file("[[1, 1, [[0, 1]]]]", "[[1, 0, 0, null, [[0, 1]]]]"),
                  "do not add up to the count");
  ExpectReadError(file("[[1, 1, [[0, 1]]]]", "[[1, 0, 0, 1]]"), "branches[] is not an array of 5");
}

TEST(Json, FunctionEndLinesRoundTrip) {
  testing::TempDir dir("report-json-end-lines");
  mapper::Coverage c;
  c.files = {{"/a.c", {{3, 1}, {9, 1}}, {{"main", "main", 3, 1}}, {}}};
  c.files[0].functions[0].end_line = 9;
  const std::string json = ToJson(c, dir.path() / "a.json");
  EXPECT_NE(json.find("\"line\": 3, \"end_line\": 9, \"count\": 1"), std::string::npos) << json;
  EXPECT_EQ(report::ReadCoverageJson(dir.path() / "a.json").files[0].functions[0].end_line, 9u);
}

}  // namespace
}  // namespace hwcov
