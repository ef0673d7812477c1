// Each writer's output for one fixed profile, compared with golden files, and
// checked by the tools that consume it (xmllint, gcovr, python) when present.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "hwcov/report.h"
#include "oracles.h"
#include "profile.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::FixedProfile;
using testing::ReadFile;
using testing::RunCommand;

std::string WriteCobertura(const mapper::Coverage& c, const fs::path& out, const fs::path& root) {
  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);  // reproducible timestamp attribute
  report::MakeCoberturaWriter(out, root)->Write(c, report::Summarize(c));
  return ReadFile(out);
}

TEST(Cobertura, MatchesGolden) {
  testing::TempDir dir("report-cobertura");
  testing::ExpectGolden(WriteCobertura(FixedProfile(), dir.path() / "c.xml", "/src/proj/"),
                        "cobertura.xml");
}

TEST(Cobertura, ClampsHitsEscapesPathsAndCarriesCompleteness) {
  testing::TempDir dir("report-cobertura-details");
  const std::string xml = WriteCobertura(FixedProfile(), dir.path() / "c.xml", "/src/proj");
  EXPECT_NE(xml.find("<line number=\"7\" hits=\"2147483647\""), std::string::npos);
  EXPECT_EQ(xml.find("5000000000"), std::string::npos);
  EXPECT_NE(xml.find("filename=\"lib/a&amp;b&lt;c&gt;.h\""), std::string::npos);
  EXPECT_NE(xml.find("condition-coverage=\"50% (1/2)\""), std::string::npos);
  EXPECT_NE(xml.find("condition-coverage=\"0% (0/2)\""), std::string::npos);  // jump never ran
  EXPECT_NE(xml.find("<source>/src/proj</source>"), std::string::npos);
  EXPECT_NE(xml.find("99.00% of 1000 PT bytes decoded"), std::string::npos);
  // Outside the root: absolute.
  EXPECT_NE(xml.find("filename=\"/usr/include/c++/12/bits/vector.h\""), std::string::npos);
  // Totals from Summarize: 9 lines, 7 hit; 10 outcomes, 5 taken.
  EXPECT_NE(xml.find("lines-covered=\"7\" lines-valid=\"9\" branches-covered=\"5\" "
                     "branches-valid=\"10\""),
            std::string::npos)
      << xml;
}

// Well-formed, and valid against coverage-04.dtd: no attribute the DTD lacks
// (Jenkins and gcovr 8 reject those), every required one present.
TEST(Cobertura, ValidForXmllintAgainstTheDtd) {
  if (!testing::HaveTool("xmllint")) GTEST_SKIP() << "xmllint not installed (libxml2-utils)";
  testing::TempDir dir("report-cobertura-xmllint");
  WriteCobertura(FixedProfile(), dir.path() / "c.xml", "/src/proj");
  auto r = RunCommand({"xmllint", "--noout", "--nonet", "--dtdvalid",
                       std::string(HWCOV_SOURCE_DIR) + "/tests/report/coverage-04.dtd",
                       (dir.path() / "c.xml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;  // (stderr has a warning: --nonet skips the DOCTYPE URL)
  EXPECT_EQ(r.err.find("validity error"), std::string::npos) << r.err;
}

TEST(Cobertura, PythonReadsTotals) {
  if (!testing::HaveTool("python3")) GTEST_SKIP() << "python3 not installed";
  testing::TempDir dir("report-cobertura-python");
  WriteCobertura(FixedProfile(), dir.path() / "c.xml", "/src/proj");
  testing::ExpectPythonPrints(
      "import sys, xml.etree.ElementTree as ET\n"
      "root = ET.parse(sys.argv[1]).getroot()\n"
      "lines = root.findall('.//class/lines/line')\n"
      "print(len(lines), sum(int(l.get('hits')) > 0 for l in lines), root.get('line-rate'))\n",
      dir.path() / "c.xml", "9 7 0.7778\n");
}

// gcovr merges Cobertura reports it did not write; reading ours back and
// getting our totals is the compatibility check closest to what CI tools do.
// gcovr 8.6 from ../shared/oracles, else a gcovr >= 8 on PATH (Debian 12's
// 5.2 cannot read Cobertura). --filter /: by default gcovr reports only files
// below the current directory; the profile's are in /src and /usr. (gcovr
// reads no functions from Cobertura: it says 0 of 0.)
TEST(Cobertura, GcovrReadsItBack) {
  std::vector<std::string> gcovr = testing::Gcovr8().value_or(std::vector<std::string>{"gcovr"});
  if (!testing::Gcovr8() && !testing::HaveTool("gcovr"))
    GTEST_SKIP() << testing::NoOracle("gcovr 8.6") << "; no gcovr installed";
  testing::TempDir dir("report-cobertura-gcovr");
  WriteCobertura(FixedProfile(), dir.path() / "c.xml", "/src/proj");
  auto help = RunCommand(testing::With(gcovr, {"--help"}));
  const bool reads_cobertura = help.out.find("--cobertura-add-tracefile") != std::string::npos;
  if (testing::Gcovr8()) {
    ASSERT_TRUE(reads_cobertura) << help.out << help.err;
  }
  if (!reads_cobertura)
    GTEST_SKIP() << testing::NoOracle("gcovr 8.6") << "; the gcovr on PATH cannot read Cobertura "
                 << "(needs gcovr >= 8)";
  auto r = RunCommand(testing::With(
      gcovr, {"--cobertura-add-tracefile", (dir.path() / "c.xml").string(), "--filter", "/",
              "--txt-summary", "-o", (dir.path() / "out.txt").string()}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("lines: 77.8% (7 out of 9)"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("branches: 50.0% (5 out of 10)"), std::string::npos) << r.out << r.err;
}

std::string WriteHtml(const mapper::Coverage& c, const fs::path& dir) {
  report::MakeHtmlWriter(dir, "/src/proj")->Write(c, report::Summarize(c));
  return ReadFile(dir / "index.html");
}

TEST(Html, IndexAndPagesMatchGolden) {
  testing::TempDir dir("report-html");
  testing::ExpectGolden(WriteHtml(FixedProfile(), dir.path()), "html_index.html");
  // Sources under /src/proj are not on disk: the page lists counted lines only.
  testing::ExpectGolden(ReadFile(dir.path() / "file1.html"), "html_main.html");
  EXPECT_TRUE(fs::exists(dir.path() / "file0.html"));
  EXPECT_TRUE(fs::exists(dir.path() / "file2.html"));
}

TEST(Html, AnnotatesAndEscapesReadableSource) {
  testing::TempDir dir("report-html-source");
  const fs::path src = dir.path() / "t<1>.cc";
  std::ofstream(src) << "// a & b <script>alert(1)</script>\n"
                        "int main() { return 0; }\n";
  mapper::Coverage c;
  // Line 5 is past the end of the (since edited) source: still listed.
  c.files = {{src.string(), {{2, 1}, {5, 0}}, {{"main", "main", 2, 1}}, {}}};
  const std::string index = WriteHtml(c, dir.path() / "html");
  EXPECT_NE(index.find("t&lt;1&gt;.cc"), std::string::npos) << index;
  const std::string page = ReadFile(dir.path() / "html" / "file0.html");
  EXPECT_NE(page.find("a &amp; b &lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos)
      << page;
  // Only the page's own two scripts (sorting, navigation): the source's is text.
  size_t scripts = 0;
  for (size_t at = page.find("<script>"); at != std::string::npos;
       at = page.find("<script>", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 2u);
  EXPECT_NE(page.find("<tr id=\"L2\" class=\"hit\"><td>2</td><td>1</td>"), std::string::npos)
      << page;
  EXPECT_NE(page.find("<tr id=\"L5\" class=\"miss region\"><td>5</td><td>0</td><td></td><td "
                      "class=\"src\"></td>"),
            std::string::npos)
      << page;
  if (testing::HaveTool("xmllint")) {
    auto r =
        RunCommand({"xmllint", "--html", "--noout", (dir.path() / "html" / "file0.html").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

}  // namespace
}  // namespace hwcov
