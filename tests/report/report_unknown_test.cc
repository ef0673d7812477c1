// Unknown lines (in a trace gap's function, mapper.h) in every format: left
// out of the totals' denominators and counted apart by Summarize(), shown by
// the text summary, HTML and JSON, left out of lcov and Cobertura records
// (Cobertura: counted in a comment), read back from JSON exactly, and old
// (version 1) JSON still read. FixedProfile's main.cc has unknown lines 12-14,
// the unknown function in_gap() on line 12 and an unknown jump on line 13.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "profile.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::FixedProfile;
using testing::ReadFile;
using testing::SplitLines;

const mapper::FileCoverage& MainFile(const mapper::Coverage& c) {
  for (const auto& f : c.files)
    if (f.path == "/src/proj/main.cc") return f;
  throw std::runtime_error("no main.cc");
}

TEST(ReportUnknown, SummaryCountsThemApart) {
  const report::Summary s = report::Summarize(FixedProfile());
  const report::FileSummary& main = s.files[1];
  ASSERT_EQ(main.path, "/src/proj/main.cc");
  EXPECT_EQ(main.lines.found, 6u);  // 9 lines, 3 unknown
  EXPECT_EQ(main.lines.hit, 4u);
  EXPECT_EQ(main.lines.unknown, 3u);
  EXPECT_EQ(main.functions.found, 2u);
  EXPECT_EQ(main.functions.unknown, 1u);
  EXPECT_EQ(main.branches.found, 6u);
  EXPECT_EQ(main.branches.unknown, 2u);
  EXPECT_EQ(s.total.lines.unknown, 3u);
  EXPECT_EQ(s.total.lines.found, 9u);
  EXPECT_EQ(s.files[0].lines.unknown, 0u);
  // Gates see the known lines only: 7 of 9.
  EXPECT_FALSE(report::CheckThresholds(s, {77.0, {}, {}}).has_value());
  EXPECT_TRUE(report::CheckThresholds(s, {78.0, {}, {}}).has_value());
}

TEST(ReportUnknown, TextSummarySaysHowMany) {
  const mapper::Coverage c = FixedProfile();
  std::ostringstream out;
  report::MakeTextWriter(out)->Write(c, report::Summarize(c));
  EXPECT_NE(out.str().find("Trace: unknown: 3 lines (trace gaps), 1 functions, 2 branches; not "
                           "counted as missed\n"),
            std::string::npos)
      << out.str();
  // The table's Lines column has the known lines only.
  bool total = false;
  for (const std::string& line : SplitLines(out.str()))
    if (line.rfind("TOTAL", 0) == 0) {
      total = true;
      std::istringstream words(line);
      std::string name, found, missed;
      words >> name >> found >> missed;
      EXPECT_EQ(found, "9") << line;
      EXPECT_EQ(missed, "2") << line;
    }
  EXPECT_TRUE(total) << out.str();
}

TEST(ReportUnknown, TextSummaryWithoutGapsSaysNothing) {
  mapper::Coverage c;
  c.files = {{"/a.c", {{1, 1}, {2, 0}}, {}, {}}};
  std::ostringstream out;
  report::MakeTextWriter(out)->Write(c, report::Summarize(c));
  EXPECT_EQ(out.str().find("unknown"), std::string::npos) << out.str();
}

TEST(ReportUnknown, LcovLeavesThemOut) {
  testing::TempDir dir("report-unknown-lcov");
  const mapper::Coverage c = FixedProfile();
  report::MakeLcovWriter(dir.path() / "c.info")->Write(c, report::Summarize(c));
  const std::string info = ReadFile(dir.path() / "c.info");
  const size_t begin = info.find("SF:/src/proj/main.cc\n");
  ASSERT_NE(begin, std::string::npos) << info;
  const std::string main = info.substr(begin, info.find("end_of_record", begin) - begin);
  EXPECT_EQ(main,
            "SF:/src/proj/main.cc\n"
            "FN:3,main\n"
            "FN:10,_Z6unusedv\n"
            "FNDA:1,main\n"
            "FNDA:0,_Z6unusedv\n"
            "FNF:2\n"
            "FNH:1\n"
            "DA:3,1\n"
            "DA:4,1\n"
            "BRDA:4,0,0,1\n"
            "BRDA:4,0,1,0\n"
            "DA:5,0\n"
            "DA:7,5000000000\n"
            "DA:8,12\n"
            "BRDA:8,0,0,7\n"
            "BRDA:8,0,1,5\n"
            "DA:10,0\n"
            "BRDA:10,0,0,-\n"
            "BRDA:10,0,1,-\n"
            "BRF:6\n"
            "BRH:3\n"
            "LF:6\n"
            "LH:4\n");
}

TEST(ReportUnknown, LcovRefusesAFunctionOnAnUnknownLineThatIsNotUnknown) {
  testing::TempDir dir("report-unknown-lcov-bad");
  mapper::Coverage c;
  c.files = {{"/a.c", {{1, 0, true}}, {{"f", "f", 1, 0, false}}, {}}};
  EXPECT_THROW(report::MakeLcovWriter(dir.path() / "c.info")->Write(c, report::Summarize(c)),
               Error);
}

TEST(ReportUnknown, CoberturaLeavesThemOutAndCountsThemInAComment) {
  testing::TempDir dir("report-unknown-cobertura");
  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  const mapper::Coverage c = FixedProfile();
  report::MakeCoberturaWriter(dir.path() / "c.xml", "/src/proj")->Write(c, report::Summarize(c));
  const std::string xml = ReadFile(dir.path() / "c.xml");
  EXPECT_NE(xml.find("<!-- hwcov unknown (in a trace gap, left out of lines and rates): 3 lines, "
                     "1 functions, 2 branches -->"),
            std::string::npos)
      << xml;
  for (const char* absent :
       {"<line number=\"12\"", "<line number=\"13\"", "<line number=\"14\"", "in_gap"})
    EXPECT_EQ(xml.find(absent), std::string::npos) << absent;
  EXPECT_NE(xml.find("lines-covered=\"7\" lines-valid=\"9\""), std::string::npos);
  EXPECT_NE(xml.find("<line number=\"10\" hits=\"0\""), std::string::npos);
}

TEST(ReportUnknown, HtmlMarksThemWithALegend) {
  testing::TempDir dir("report-unknown-html");
  const mapper::Coverage c = FixedProfile();
  report::MakeHtmlWriter(dir.path(), "/src/proj")->Write(c, report::Summarize(c));
  const std::string page = ReadFile(dir.path() / "file1.html");
  EXPECT_NE(page.find(".unknown{background:"), std::string::npos);
  EXPECT_NE(page.find("<span class=\"unknown\">unknown: in a trace gap</span>"), std::string::npos)
      << page;
  EXPECT_NE(page.find("<tr id=\"L13\" class=\"unknown\"><td>13</td><td>?</td><td></td>"),
            std::string::npos)
      << page;
  EXPECT_NE(
      page.find("<tr class=\"unknown\"><td data-v=\"12\"><a href=\"#L12\">12</a></td>"
                "<td data-v=\"-1\">?</td><td class=\"name\" data-v=\"in_gap(int)\">in_gap(int)"),
      std::string::npos)
      << page;
  EXPECT_NE(page.find("<tr id=\"L10\" class=\"miss region\"><td>10</td><td>0</td>"),
            std::string::npos)
      << page;
  const std::string index = ReadFile(dir.path() / "index.html");
  EXPECT_NE(
      index.find(
          "Unknown (in a trace gap, not counted as missed): 3 lines, 1 functions, 2 branches"),
      std::string::npos)
      << index;
  EXPECT_NE(index.find("<td>4/6 (3 unknown)</td>"), std::string::npos) << index;
  // A file without unknown lines has no "unknown" legend.
  EXPECT_EQ(ReadFile(dir.path() / "file0.html").find("unknown: in a trace gap"), std::string::npos);
}

TEST(ReportUnknown, JsonCarriesThemAndReadsThemBack) {
  testing::TempDir dir("report-unknown-json");
  const mapper::Coverage c = FixedProfile();
  report::MakeJsonWriter(dir.path() / "a.json")->Write(c, report::Summarize(c));
  const std::string json = ReadFile(dir.path() / "a.json");
  EXPECT_NE(json.find("\"version\": 2,"), std::string::npos);
  EXPECT_NE(json.find("[12, null],\n        [13, null],\n        [14, null]"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"name\": \"_Z6in_gapi\", \"demangled\": \"in_gap(int)\", \"line\": 12, "
                      "\"count\": null"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"lines\": {\"hit\": 4, \"found\": 6, \"unknown\": 3}"), std::string::npos)
      << json;
  const mapper::Coverage back = report::ReadCoverageJson(dir.path() / "a.json");
  const mapper::FileCoverage& main = MainFile(back);
  ASSERT_EQ(main.lines.size(), 9u);
  for (size_t i = 0; i < main.lines.size(); ++i) {
    EXPECT_EQ(main.lines[i].unknown, main.lines[i].line >= 12) << main.lines[i].line;
    EXPECT_EQ(main.lines[i].count, MainFile(c).lines[i].count);
  }
  EXPECT_TRUE(main.functions[2].unknown);
  EXPECT_EQ(main.functions[2].entry_count, 0u);
  EXPECT_FALSE(main.functions[1].unknown);
  report::MakeJsonWriter(dir.path() / "b.json")->Write(back, report::Summarize(back));
  EXPECT_EQ(ReadFile(dir.path() / "b.json"), json);
}

// A version 1 file (hwcov before the unknown state) reads as before: no
// line is unknown, and writing it again gives version 2 with the same counts.
TEST(ReportUnknown, VersionOneJsonStillReads) {
  testing::TempDir dir("report-unknown-json-v1");
  const fs::path v1 = dir.path() / "v1.json";
  std::ofstream(v1) << R"({
  "format": "hwcov-coverage",
  "version": 1,
  "quality": {"trace_bytes": 10, "decoded_bytes": 10, "instructions": 5, "unmapped_instructions": 0,
              "gaps_by_kind": {}, "gap_details": [], "warnings": []},
  "totals": {"lines": {"hit": 1, "found": 2}, "functions": {"hit": 1, "found": 1},
             "branches": {"hit": 1, "found": 2}},
  "files": [
    {"path": "/a.c",
     "totals": {"lines": {"hit": 1, "found": 2}, "functions": {"hit": 1, "found": 1},
                "branches": {"hit": 1, "found": 2}},
     "lines": [[1, 1], [2, 0]],
     "functions": [{"name": "f", "demangled": "f", "line": 1, "count": 1}],
     "branches": [[1, 0, 0, 1], [1, 0, 1, 0]]}
  ]
})";
  const mapper::Coverage c = report::ReadCoverageJson(v1);
  ASSERT_EQ(c.files.size(), 1u);
  ASSERT_EQ(c.files[0].lines.size(), 2u);
  EXPECT_FALSE(c.files[0].lines[1].unknown);
  EXPECT_EQ(c.files[0].lines[1].count, 0u);
  EXPECT_FALSE(c.files[0].functions[0].unknown);
  const report::Summary s = report::Summarize(c);
  EXPECT_EQ(s.total.lines.found, 2u);
  EXPECT_EQ(s.total.lines.unknown, 0u);
  // null is version 2's: a version 1 file with it is refused.
  const fs::path bad = dir.path() / "bad.json";
  std::string text = ReadFile(v1);
  text.replace(text.find("[2, 0]"), 6, "[2, null]");
  std::ofstream(bad) << text;
  EXPECT_THROW(report::ReadCoverageJson(bad), Error);
}

void ExpectReadError(const std::string& files, const std::string& must_contain) {
  testing::TempDir dir("report-unknown-json-bad");
  const fs::path path = dir.path() / "bad.json";
  std::ofstream(path)
      << "{\"format\": \"hwcov-coverage\", \"version\": 2, \"quality\": {\"trace_bytes\": 0, "
         "\"decoded_bytes\": 0, \"instructions\": 0, \"unmapped_instructions\": 0, "
         "\"gaps_by_kind\": {}, \"gap_details\": [], \"warnings\": []}, \"files\": "
      << files << "}";
  try {
    report::ReadCoverageJson(path);
    ADD_FAILURE() << "no error for " << files;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(must_contain), std::string::npos) << e.what();
  }
}

TEST(ReportUnknown, JsonReaderRefusesWhatRanOnAnUnknownLine) {
  ExpectReadError(
      "[{\"path\": \"/a.c\", \"lines\": [[1, null]], \"functions\": [], "
      "\"branches\": [[1, 0, 0, 1], [1, 0, 1, 0]]}]",
      "file /a.c: branch on unknown line 1 has a count");
  ExpectReadError(
      "[{\"path\": \"/a.c\", \"lines\": [[1, null]], \"functions\": "
      "[{\"name\": \"f\", \"demangled\": \"f\", \"line\": 1, \"count\": 0}], \"branches\": []}]",
      "file /a.c: function f on unknown line 1 is not unknown");
  ExpectReadError(
      "[{\"path\": \"/a.c\", \"lines\": [[1, true]], \"functions\": [], \"branches\": []}]",
      "line count is not a non-negative integer");
}

TEST(ReportUnknown, MergeOfJsonInputsKeepsTheRules) {
  mapper::Coverage unknown;
  unknown.files = {{"/a.c", {{1, 0, true}, {2, 0, true}}, {{"f", "f", 1, 0, true}}, {}}};
  mapper::Coverage uncovered;
  uncovered.files = {{"/a.c", {{1, 0}, {2, 3}}, {{"f", "f", 1, 0}}, {}}};
  for (const auto& merged :
       {report::MergeCoverage({unknown, uncovered}), report::MergeCoverage({uncovered, unknown})}) {
    const mapper::FileCoverage& f = merged.files[0];
    EXPECT_TRUE(f.lines[0].unknown);   // unknown + 0
    EXPECT_FALSE(f.lines[1].unknown);  // unknown + 3
    EXPECT_EQ(f.lines[1].count, 3u);
    EXPECT_TRUE(f.functions[0].unknown);
  }
}

TEST(ReportUnknown, ExclusionMarkersStillApply) {
  testing::TempDir dir("report-unknown-filter");
  const fs::path src = dir.path() / "a.c";
  std::ofstream(src) << "int a;\nint b; // LCOV_EXCL_LINE\nint c;\n";
  mapper::Coverage c;
  c.files = {{src.string(), {{1, 1}, {2, 0, true}, {3, 0, true}}, {{"g", "g", 2, 0, true}}, {}}};
  const mapper::Coverage filtered = report::Filter(c, {});
  ASSERT_EQ(filtered.files.size(), 1u);
  const mapper::FileCoverage& f = filtered.files[0];
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[1].line, 3u);
  EXPECT_TRUE(f.lines[1].unknown);
  EXPECT_TRUE(f.functions.empty());
  EXPECT_EQ(report::Summarize(filtered).total.lines.unknown, 1u);
  EXPECT_TRUE(report::Filter(c, {.root = {}, .include = {}, .exclude = {"a\\.c"}}).files.empty());
}

}  // namespace
}  // namespace hwcov
