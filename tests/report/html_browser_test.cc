// The HTML report in a real browser: headless Chromium renders the index and
// an annotated source page of a traced program. The DOM after scripts ran
// must show the same figures as hwcov's JSON of the same run, source text
// must stay text (a <script> in a comment does not run, markup in a string
// is not markup), uncovered lines are marked, the tables sort in the
// browser, and screenshots are kept as test artefacts (HWCOV_ARTIFACT_DIR).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "hwcov/report.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::RunCommand;

constexpr const char* kProgram = R"(#include <stdio.h>
/* <script>document.title="pwned"</script> */
int util_rare(int x);
int util_used(int x);
int main(int argc, char** argv) {
  const char* markup = "</td><b>bold?</b>";
  if (argc > 5)
    printf("%s %d\n", markup, util_rare(argc));
  printf("%d\n", util_used(argc));
  return 0;
}
)";

// Most missed lines: first in the default order, last by name.
constexpr const char* kUtil = R"(int util_rare(int x) {
  int y = x * 2;
  y += 3;
  y *= y;
  return y;
}
int util_used(int x) { return x + 1; }
)";

class HtmlInBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::HaveTool("chromium"))
        << "chromium is not installed: tools/install-deps.sh installs it (Debian package "
           "chromium); this test renders the HTML report in it";
    std::ofstream(dir_.path() / "prog.c") << kProgram;
    std::ofstream(dir_.path() / "util.c") << kUtil;
    ASSERT_EQ(
        RunCommand({"gcc", "-g", "-O0", "-o", "prog", "prog.c", "util.c"}, dir_.path()).exit_code,
        0);
    const auto r = RunCommand({HWCOV_BINARY, "run", "-q", "--backend", "soft", "--html", "html",
                               "--json", "cov.json", "--", "./prog"},
                              dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::create_directories(artifacts_);
  }

  std::vector<std::string> Chromium() const {
    return {"chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--no-first-run",
            "--user-data-dir=" + (dir_.path() / "profile").string()};
  }

  // The page's DOM after its scripts ran.
  std::string Dom(const std::string& url) const {
    std::vector<std::string> argv = Chromium();
    argv.push_back("--dump-dom");
    argv.push_back(url);
    const auto r = RunCommand(argv, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("</html>"), std::string::npos) << "no DOM from " << url << ": " << r.err;
    return r.out;
  }

  fs::path Screenshot(const std::string& url, const std::string& name) const {
    const fs::path png = artifacts_ / name;
    fs::remove(png);
    std::vector<std::string> argv = Chromium();
    argv.push_back("--window-size=1280,900");
    argv.push_back("--screenshot=" + png.string());
    argv.push_back(url);
    const auto r = RunCommand(argv, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::printf("screenshot: %s\n", png.c_str());
    return png;
  }

  std::string Url(const std::string& page) const {
    return "file://" + (dir_.path() / "html" / page).string();
  }

  testing::TempDir dir_{"html-browser"};
  const fs::path artifacts_ = HWCOV_ARTIFACT_DIR;
};

// Row order of the Files table: the file names as the DOM has them.
std::vector<std::string> FileRows(const std::string& dom) {
  const size_t files = dom.find("<h2>Files</h2>");
  std::vector<std::string> names;
  const std::regex row(R"(<tr><td class="name" data-v="[^"]*/([a-z]+\.c)\">)");
  for (std::sregex_iterator it(dom.begin() + static_cast<long>(files), dom.end(), row), end;
       it != end; ++it)
    names.push_back((*it)[1]);
  return names;
}

std::string Percent(const report::Ratio& r) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", r.Percent());
  return buf;
}

TEST_F(HtmlInBrowser, IndexShowsTheSameFiguresAndSorts) {
  const std::string dom = Dom(Url("index.html"));
  EXPECT_NE(dom.find("<title>hwcov coverage report</title>"), std::string::npos);

  // The figures of hwcov's own JSON of the same run, per file.
  const report::Summary summary =
      report::Summarize(report::ReadCoverageJson(dir_.path() / "cov.json"));
  ASSERT_EQ(summary.files.size(), 2u);
  for (const report::FileSummary& f : summary.files) {
    SCOPED_TRACE(f.path);
    const size_t row = dom.find("data-v=\"" + f.path + "\"");
    ASSERT_NE(row, std::string::npos);
    const std::string cells = dom.substr(row, dom.find("</tr>", row) - row);
    EXPECT_NE(cells.find(">" + std::to_string(f.lines.found - f.lines.hit) + "</td>"),
              std::string::npos)
        << cells;
    EXPECT_NE(cells.find(std::to_string(f.lines.hit) + "/" + std::to_string(f.lines.found)),
              std::string::npos)
        << cells;
    EXPECT_NE(cells.find(Percent(f.lines)), std::string::npos) << cells;
    EXPECT_NE(cells.find(Percent(f.functions)), std::string::npos) << cells;
  }

  // Missed lines first as written; the browser re-sorts by name.
  EXPECT_EQ(FileRows(dom), (std::vector<std::string>{"util.c", "prog.c"}));
  EXPECT_EQ(FileRows(Dom(Url("index.html#sort=name"))),
            (std::vector<std::string>{"prog.c", "util.c"}));
  EXPECT_EQ(FileRows(Dom(Url("index.html#sort=missed-asc"))),
            (std::vector<std::string>{"prog.c", "util.c"}));
}

TEST_F(HtmlInBrowser, SourceIsTextAndUncoveredLinesAreMarked) {
  const std::string index = ReadFile(dir_.path() / "html" / "index.html");
  std::smatch link;
  ASSERT_TRUE(
      std::regex_search(index, link, std::regex(R"re(href="(file\d+\.html)">[^<]*prog\.c<)re")));
  const std::string dom = Dom(Url(link[1]));
  // The comment's <script> did not run: the title is still the file's path.
  EXPECT_EQ(dom.find("pwned</title>"), std::string::npos);
  EXPECT_NE(dom.find("prog.c</title>"), std::string::npos);
  // Source markup is text: escaped in the serialised DOM, never elements.
  EXPECT_NE(dom.find("&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(dom.find("&lt;/td&gt;&lt;b&gt;bold?&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(dom.find("<b>"), std::string::npos);
  // The printf under the untaken if is an uncovered line, marked as such.
  const std::regex missed(R"(<tr class="miss">.*printf\("%s %d\\n", markup)");
  EXPECT_TRUE(std::regex_search(dom, missed)) << dom;
}

// PNG: signature, then the IHDR chunk with width and height (big-endian).
std::pair<uint32_t, uint32_t> PngSize(const std::string& png) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    return (uint32_t{static_cast<uint8_t>(png[at])} << 24) |
           (uint32_t{static_cast<uint8_t>(png[at + 1])} << 16) |
           (uint32_t{static_cast<uint8_t>(png[at + 2])} << 8) | static_cast<uint8_t>(png[at + 3]);
  };
  return {be32(16), be32(20)};
}

TEST_F(HtmlInBrowser, ScreenshotsAreKept) {
  std::ofstream(dir_.path() / "blank.html") << "<!DOCTYPE html><html><body></body></html>";
  const std::string blank =
      ReadFile(Screenshot("file://" + (dir_.path() / "blank.html").string(), "blank.png"));
  const std::string index = ReadFile(Screenshot(Url("index.html"), "index.png"));
  const std::string source = ReadFile(Screenshot(Url("file0.html"), "file0.png"));
  for (const std::string* png : {&blank, &index, &source})
    EXPECT_EQ(PngSize(*png), (std::pair<uint32_t, uint32_t>{1280, 900}));
  // Text, tables and colours compress far worse than an empty page.
  EXPECT_GT(index.size(), 3 * blank.size()) << index.size() << " vs " << blank.size();
  EXPECT_GT(source.size(), 3 * blank.size()) << source.size() << " vs " << blank.size();
}

}  // namespace
}  // namespace hwcov
