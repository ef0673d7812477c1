// The HTML report in a real browser: headless Chromium renders the index and
// an annotated source page of a traced program. The DOM after scripts ran
// must show the same figures as hwcov's JSON of the same run, source text
// must stay text (a <script> in a comment does not run, markup in a string
// is not markup), uncovered lines are marked, the tables sort in the browser
// (by #sort=KEY on load, and by clicks on the headers, driven through
// chromedriver's WebDriver HTTP API), a source page shows each branch's
// outcome, sorts its function list and walks its uncovered regions with the
// keys n and p, per-test reports name the tests of each line, and screenshots
// are kept as test artefacts (HWCOV_ARTIFACT_DIR,
// printed in the log).
//
// Chromium and chromedriver are installed by tools/install-deps.sh; when
// missing, the tests fail rather than skip. Every browser run has its own time
// limit (kBrowserSeconds) well inside ctest's TIMEOUT, so a hung browser gives
// a message, not a killed test.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <thread>

#include "hwcov/report.h"
#include "test_support.h"

extern char** environ;

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::RunCommand;

// Generous: the CI machine is shared and the ASan build runs alongside.
constexpr int kBrowserSeconds = 180;

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

// In util/, so that the index has two directories. Most missed lines: first in
// the default order, last by name.
constexpr const char* kUtil = R"(int util_rare(int x) {
  int y = x * 2;
  y += 3;
  y *= y;
  return y;
}
int util_used(int x) { return x + 1; }
)";

std::vector<std::string> ChromiumFlags(const fs::path& profile) {
  return {"--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--disable-background-networking",
          "--no-first-run",
          "--user-data-dir=" + profile.string()};
}

// The body of the JSON string after "value": in a WebDriver answer.
std::string JsonStringValue(const std::string& json) {
  const size_t start = json.find("\"value\":\"");
  if (start == std::string::npos) return "<no string value in " + json + ">";
  std::string out;
  for (size_t i = start + 9; i < json.size() && json[i] != '"'; ++i) {
    if (json[i] != '\\' || i + 1 >= json.size()) {
      out += json[i];
      continue;
    }
    const char c = json[++i];
    if (c == 'n') {
      out += '\n';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 'u' && i + 4 < json.size()) {
      const unsigned long code = std::stoul(json.substr(i + 1, 4), nullptr, 16);
      out += code < 0x80 ? static_cast<char>(code) : '?';  // enough for these pages
      i += 4;
    } else {
      out += c;  // \" \\ \/
    }
  }
  return out;
}

std::string Base64Decode(const std::string& in) {
  std::string out;
  uint32_t bits = 0;
  int n = 0;
  for (const char c : in) {
    const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* p = c ? std::strchr(digits, c) : nullptr;
    if (!p) continue;  // '=', line breaks
    bits = (bits << 6) | static_cast<uint32_t>(p - digits);
    if ((n += 6) >= 8) out += static_cast<char>((bits >> (n -= 8)) & 0xff);
  }
  return out;
}

// chromedriver on a free port, one browser session, driven over its WebDriver
// HTTP API with curl. Stopped (session closed, process ended) on destruction.
class WebDriver {
 public:
  WebDriver(const fs::path& dir) : log_(dir / "chromedriver.log") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const char* argv[] = {"chromedriver", "--port=0", nullptr};
    const int rc = posix_spawnp(&pid_, "chromedriver", &actions, nullptr,
                                const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      ADD_FAILURE() << "cannot start chromedriver: " << std::strerror(rc);
      return;
    }
    // "ChromeDriver was started successfully on port 40123."
    const std::regex started(R"(started successfully on port ([0-9]+))");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::smatch m;
    std::string text;
    while (!std::regex_search(text = ReadFile(log_), m, started)) {
      if (std::chrono::steady_clock::now() > deadline || waitpid(pid_, nullptr, WNOHANG) != 0) {
        ADD_FAILURE() << "chromedriver did not start within 60 s: " << text;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    base_ = "http://127.0.0.1:" + m[1].str();
    std::string args;
    for (const std::string& flag : ChromiumFlags(dir / "webdriver-profile"))
      args += (args.empty() ? "\"" : ",\"") + flag + "\"";
    args += ",\"--window-size=1280,900\"";
    const std::string answer =
        Call("POST", "/session",
             R"({"capabilities":{"alwaysMatch":{"goog:chromeOptions":{"args":[)" + args + "]}}}}");
    std::smatch id;
    if (std::regex_search(answer, id, std::regex(R"re("sessionId":"([0-9a-f]+)")re")))
      session_ = "/session/" + id[1].str();
    else
      ADD_FAILURE() << "no WebDriver session: " << answer << "\n" << ReadFile(log_);
  }

  ~WebDriver() {
    if (!session_.empty()) Call("DELETE", session_);
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool ok() const { return !session_.empty(); }
  const std::string& Session() const { return session_; }

  // One WebDriver command; an answer with "error" fails the test.
  std::string Call(const std::string& method, const std::string& path,
                   const std::string& body = "") const {
    std::vector<std::string> argv = {"curl",      "-sS",  "-m", std::to_string(kBrowserSeconds),
                                     "-X",        method, "-H", "Content-Type: application/json",
                                     base_ + path};
    if (!body.empty()) {
      argv.push_back("--data-binary");
      argv.push_back(body);
    }
    const auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << method << " " << path << ": " << r.err;
    EXPECT_EQ(r.out.find("\"error\":"), std::string::npos)
        << method << " " << path << ": " << r.out.substr(0, 2000);
    return r.out;
  }

  void Open(const std::string& url) const {
    Call("POST", session_ + "/url", "{\"url\":\"" + url + "\"}");
  }

  // The WebDriver ids of the elements |css| selects, in document order.
  std::vector<std::string> Find(const std::string& css) const {
    std::string quoted;
    for (const char c : css) quoted += c == '"' ? std::string("\\\"") : std::string(1, c);
    const std::string answer = Call("POST", session_ + "/elements",
                                    "{\"using\":\"css selector\",\"value\":\"" + quoted + "\"}");
    std::vector<std::string> ids;
    const std::regex element(R"re("element-6066-11e4-a52e-4f735466cecf":"([^"]+)")re");
    for (std::sregex_iterator it(answer.begin(), answer.end(), element), end; it != end; ++it)
      ids.push_back((*it)[1]);
    return ids;
  }

  // A real click: the browser dispatches the mouse events at the element.
  void Click(const std::string& element) const {
    Call("POST", session_ + "/element/" + element + "/click", "{}");
  }

  // Runs |script| (a function body, no double quotes) and returns its string.
  std::string Script(const std::string& script) const {
    return JsonStringValue(
        Call("POST", session_ + "/execute/sync", "{\"script\":\"" + script + "\",\"args\":[]}"));
  }

  std::string ScreenshotPng() const {
    return Base64Decode(JsonStringValue(Call("GET", session_ + "/screenshot")));
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  std::string base_;
  std::string session_;
};

class HtmlInBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::HaveTool("chromium"))
        << "chromium is not installed: tools/install-deps.sh installs it (Debian package "
           "chromium); this test renders the HTML report in it";
    std::printf("%s", RunCommand({"chromium", "--version"}).out.c_str());
    fs::create_directories(dir_.path() / "util");
    std::ofstream(dir_.path() / "prog.c") << kProgram;
    std::ofstream(dir_.path() / "util" / "util.c") << kUtil;
    ASSERT_EQ(RunCommand({"gcc", "-g", "-O0", "-o", "prog", "prog.c", "util/util.c"}, dir_.path())
                  .exit_code,
              0);
    const auto r = RunCommand({HWCOV_BINARY, "run", "-q", "--backend", "soft", "--html", "html",
                               "--json", "cov.json", "--", "./prog"},
                              dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::create_directories(artifacts_);
  }

  // Chromium under a time limit (and a hard kill 10 s later).
  std::vector<std::string> Chromium() const {
    std::vector<std::string> argv = {"timeout", "-k", "10", std::to_string(kBrowserSeconds),
                                     "chromium"};
    for (const std::string& flag : ChromiumFlags(dir_.path() / "profile")) argv.push_back(flag);
    return argv;
  }

  void ExpectBrowserRan(const testing::CommandResult& r, const std::string& url) const {
    EXPECT_NE(r.exit_code, 124) << "chromium did not finish " << url << " within "
                                << kBrowserSeconds << " s";
    EXPECT_EQ(r.exit_code, 0) << url << ": " << r.err;
  }

  // The page's DOM after its scripts ran.
  std::string Dom(const std::string& url) const {
    std::vector<std::string> argv = Chromium();
    argv.push_back("--dump-dom");
    argv.push_back(url);
    const auto r = RunCommand(argv, dir_.path());
    ExpectBrowserRan(r, url);
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
    ExpectBrowserRan(r, url);
    std::printf("screenshot: %s\n", png.c_str());
    return png;
  }

  std::string Url(const std::string& page) const {
    return "file://" + (dir_.path() / "html" / page).string();
  }

  // The annotated page of prog.c, as the index links it.
  std::string ProgPage() const {
    const std::string index = ReadFile(dir_.path() / "html" / "index.html");
    std::smatch link;
    if (!std::regex_search(index, link, std::regex(R"re(href="(file\d+\.html)">[^<]*/prog\.c<)re")))
      return "no link to prog.c in the index";
    return link[1];
  }

  testing::TempDir dir_{"html-browser"};
  const fs::path artifacts_ = HWCOV_ARTIFACT_DIR;
};

// Row order of the Files table: the file names as the DOM has them.
std::vector<std::string> FileRows(const std::string& dom) {
  const size_t files = dom.find("<h2>Files</h2>");
  std::vector<std::string> names;
  if (files == std::string::npos) return names;
  const std::regex row(R"(<tr><td class="name" data-v="[^"]*/([a-z]+\.c)\">)");
  for (std::sregex_iterator it(dom.begin() + static_cast<long>(files), dom.end(), row), end;
       it != end; ++it)
    names.push_back((*it)[1]);
  return names;
}

// What the HTML shows for a ratio: "-" when there is nothing to count.
std::string Percent(const report::Ratio& r) {
  if (r.found == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", r.Percent());
  return buf;
}

// The cells of a summary row must state |s|, in order: missed lines, then
// hit/found and percentage of lines, functions and branches.
void ExpectFigures(const std::string& cells, const report::FileSummary& s) {
  std::string pattern = "<td data-v=\"" + std::to_string(s.lines.found - s.lines.hit) + "\">" +
                        std::to_string(s.lines.found - s.lines.hit) + "</td>";
  for (const report::Ratio* r : {&s.lines, &s.functions, &s.branches})
    pattern += "<td>" + std::to_string(r->hit) + "/" + std::to_string(r->found) +
               "</td><td data-v=\"[-0-9.]+\">" +
               std::regex_replace(Percent(*r), std::regex("[.]"), "[.]") + "</td>";
  EXPECT_TRUE(std::regex_search(cells, std::regex(pattern))) << pattern << "\nin " << cells;
}

// From |from| (the start of a row's markup) to its end.
std::string Row(const std::string& dom, size_t from) {
  if (from == std::string::npos) return "";
  return dom.substr(from, dom.find("</tr>", from) - from);
}

TEST_F(HtmlInBrowser, IndexShowsTheSameFiguresAndSorts) {
  const std::string dom = Dom(Url("index.html"));
  EXPECT_NE(dom.find("<title>hwcov coverage report</title>"), std::string::npos);

  // The figures of hwcov's own JSON of the same run, per file and in total.
  const report::Summary summary =
      report::Summarize(report::ReadCoverageJson(dir_.path() / "cov.json"));
  ASSERT_EQ(summary.files.size(), 2u);
  const size_t files_table = dom.find("<h2>Files</h2>");
  ASSERT_NE(files_table, std::string::npos) << dom;
  for (const report::FileSummary& f : summary.files) {
    SCOPED_TRACE(f.path);
    // Shown relative to the project root: matched by its last component.
    const size_t row = dom.find("/" + fs::path(f.path).filename().string() + "\">", files_table);
    ASSERT_NE(row, std::string::npos) << dom;
    ExpectFigures(Row(dom, row), f);
  }
  {
    SCOPED_TRACE("TOTAL");
    ExpectFigures(Row(dom, dom.find(">TOTAL<", files_table)), summary.total);
  }
  // prog.c has branches and util.c has none: "-" is checked above as well.
  EXPECT_TRUE(summary.total.branches.found > 0);

  // Missed lines first as written; the browser re-sorts on load by #sort=.
  EXPECT_EQ(FileRows(dom), (std::vector<std::string>{"util.c", "prog.c"}));
  EXPECT_EQ(FileRows(Dom(Url("index.html#sort=name"))),
            (std::vector<std::string>{"prog.c", "util.c"}));
  EXPECT_EQ(FileRows(Dom(Url("index.html#sort=missed-asc"))),
            (std::vector<std::string>{"prog.c", "util.c"}));
}

TEST_F(HtmlInBrowser, HeadersSortOnClick) {
  ASSERT_TRUE(testing::HaveTool("chromedriver"))
      << "chromedriver is not installed: tools/install-deps.sh installs it (Debian package "
         "chromium-driver); this test clicks the HTML report's table headers with it";
  ASSERT_TRUE(testing::HaveTool("curl")) << "curl is not installed: tools/install-deps.sh";
  WebDriver browser(dir_.path());
  ASSERT_TRUE(browser.ok());
  browser.Open(Url("index.html"));
  // Each table's rows (last path component) and its sorted column, as
  // "name name | key direction".
  auto table = [&](int n) {
    return browser.Script(
        "var t=document.querySelectorAll('table.sortable')[" + std::to_string(n) +
        "];var h=t.querySelector('th[aria-sort]');"
        "return Array.prototype.map.call(t.tBodies[0].rows,function(r){"
        "return r.cells[0].getAttribute('data-v').split('/').pop();}).join(' ')+' | '+"
        "(h?h.getAttribute('data-key')+' '+h.getAttribute('aria-sort'):'none');");
  };
  auto header = [&](int n, const std::string& key) {
    const std::vector<std::string> ids =
        browser.Find("table.sortable th[data-key=\"" + key + "\"]");
    EXPECT_EQ(ids.size(), 2u) << key;
    return ids.size() == 2 ? ids[static_cast<size_t>(n)] : std::string("none");
  };
  const std::string top = dir_.path().filename().string();  // the directory of prog.c
  const std::string dirs_as_written = "util " + top + " | missed descending";
  EXPECT_EQ(table(0), dirs_as_written);
  EXPECT_EQ(table(1), "util.c prog.c | missed descending");

  // The written order is "missed, descending": a click reverses it, a second
  // click restores it; the other table does not move.
  browser.Click(header(1, "missed"));
  EXPECT_EQ(table(1), "prog.c util.c | missed ascending");
  EXPECT_EQ(table(0), dirs_as_written);
  browser.Click(header(1, "missed"));
  EXPECT_EQ(table(1), "util.c prog.c | missed descending");
  // Names: A-Z first, then Z-A.
  browser.Click(header(1, "name"));
  EXPECT_EQ(table(1), "prog.c util.c | name ascending");
  browser.Click(header(1, "name"));
  EXPECT_EQ(table(1), "util.c prog.c | name descending");
  // Figures: largest first. prog.c has the larger line percentage.
  browser.Click(header(1, "lines"));
  EXPECT_EQ(table(1), "prog.c util.c | lines descending");
  browser.Click(header(0, "name"));
  EXPECT_EQ(table(0), top + " util | name ascending");
  EXPECT_EQ(table(1), "prog.c util.c | lines descending");

  // The sorted state, arrows included, as an artefact.
  const fs::path png = artifacts_ / "index-clicked.png";
  std::ofstream(png, std::ios::binary) << browser.ScreenshotPng();
  std::printf("screenshot: %s\n", png.c_str());
  EXPECT_EQ(ReadFile(png).compare(0, 8, "\x89PNG\r\n\x1a\n"), 0);
}

TEST_F(HtmlInBrowser, SourceIsTextAndUncoveredLinesAreMarked) {
  const std::string page = ProgPage();
  ASSERT_EQ(page.rfind("file", 0), 0u) << page;
  const std::string dom = Dom(Url(page));
  // The comment's <script> did not run: the title is still the file's path,
  // and the only script elements are the page's own two (sorting, navigation).
  EXPECT_EQ(dom.find("pwned</title>"), std::string::npos);
  EXPECT_NE(dom.find("prog.c</title>"), std::string::npos);
  size_t scripts = 0;
  for (size_t at = dom.find("<script"); at != std::string::npos; at = dom.find("<script", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 2u) << dom;
  // Source markup is text: escaped in the serialised DOM, never elements.
  EXPECT_NE(dom.find("&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(dom.find("&lt;/td&gt;&lt;b&gt;bold?&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(dom.find("<b>"), std::string::npos);
  // The string's "</td>" did not end its cell: the line is one row of four
  // cells, the source in the last.
  EXPECT_TRUE(std::regex_search(
      dom, std::regex(R"(<tr id="L6" class="hit"><td>6</td><td>1</td><td></td><td class="src">)"
                      R"(  const char\* markup = "&lt;/td&gt;)")))
      << dom;
  // The printf under the untaken if is an uncovered line, marked as such.
  EXPECT_TRUE(std::regex_search(
      dom,
      std::regex(R"(<tr id="L8" class="miss region"><td>8</td><td>0</td><td></td><td class="src">)"
                 R"(    printf\("%s %d\\n", markup)")))
      << dom;
  // The page's own figures are the JSON's for prog.c.
  const report::Summary summary =
      report::Summarize(report::ReadCoverageJson(dir_.path() / "cov.json"));
  for (const report::FileSummary& f : summary.files)
    if (fs::path(f.path).filename() == "prog.c")
      ExpectFigures(Row(dom, dom.find(">this file<")), f);
}

// Per-test coverage (--per-test): a suite of two runs, ./prog and ./prog 1 2
// 3 4 5 (named by their command lines); each source line names the tests
// that ran it, as the JSON of the same report says.
TEST_F(HtmlInBrowser, PerTestLinesNameTheirTests) {
  const auto r = RunCommand(
      {HWCOV_BINARY, "run", "-q", "--backend", "soft", "--per-test", "--html", "per-test", "--json",
       "per-test.json", "--", "sh", "-c", "./prog; ./prog 1 2 3 4 5"},
      dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = ProgPage();
  const std::string dom = Dom("file://" + (dir_.path() / "per-test" / page).string());
  Screenshot("file://" + (dir_.path() / "per-test" / page).string(), "per-test.png");
  // Hand-worked: main's line ran in both tests, the printf under if (argc >
  // 5) only with five arguments.
  EXPECT_TRUE(std::regex_search(
      dom, std::regex(R"(<tr id="L5" class="hit"><td>5</td><td>2</td><td></td>)"
                      R"(<td class="tests" title="prog, prog 1 2 3 4 5">)"
                      R"(covered by 2 tests: prog, prog 1 2 3 4 5</td><td class="src">int main)")))
      << dom;
  EXPECT_TRUE(std::regex_search(
      dom, std::regex(R"(<tr id="L8" class="hit"><td>8</td><td>1</td><td></td>)"
                      R"(<td class="tests" title="prog 1 2 3 4 5">covered by 1 test: )"
                      R"(prog 1 2 3 4 5</td><td class="src">    printf)")))
      << dom;
  // Every line's cell is the JSON's list of tests with a count.
  const mapper::Coverage c = report::ReadCoverageJson(dir_.path() / "per-test.json");
  ASSERT_EQ(c.tests.size(), 2u);
  size_t checked = 0;
  for (size_t i = 0; i < c.files.size(); ++i) {
    if (fs::path(c.files[i].path).filename() != "prog.c") continue;
    for (size_t j = 0; j < c.files[i].lines.size(); ++j) {
      std::vector<std::string> names;
      for (const mapper::TestCoverage& t : c.tests)
        if (t.files[i].lines[j].count > 0) names.push_back(t.name);
      const std::string row = "<tr id=\"L" + std::to_string(c.files[i].lines[j].line) + "\"";
      const size_t at = dom.find(row);
      ASSERT_NE(at, std::string::npos) << row;
      const std::string cells = dom.substr(at, dom.find("<td class=\"src\">", at) - at);
      if (names.empty()) {
        EXPECT_EQ(cells.find("covered by"), std::string::npos) << cells;
      } else {
        std::string list;
        for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
        EXPECT_NE(cells.find("covered by " + std::to_string(names.size()) +
                             (names.size() == 1 ? " test: " : " tests: ") + list + "</td>"),
                  std::string::npos)
            << cells;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 5u);
}

// A program of its own for the source page's controls: three functions with
// distinct entry counts, three uncovered regions, a branch never evaluated
// and one evaluated one way. Hand-worked for ./nav (argc 1), and so says
// gcov -b of the same source: rare() never runs (lines 1-3; line 2's two
// outcomes "never executed"), used() runs twice, main once; `if (argc > 5)`
// is taken (to line 10) once and falls through never; lines 9 and 12 never run.
constexpr const char* kNavProgram = R"(static int rare(int x) {
  return x > 3 ? x : -x;
}
static int used(int x) { return x + 1; }
int main(int argc, char** argv) {
  (void)argv;
  int n = used(argc) + used(0);
  if (argc > 5)
    n += rare(argc);
  n *= 2;
  if (argc > 6)
    n -= 1;
  return n == 6 ? 0 : 1;
}
)";

TEST_F(HtmlInBrowser, SourcePageMarksBranchesSortsFunctionsAndWalksUncoveredRegions) {
  ASSERT_TRUE(testing::HaveTool("chromedriver")) << "chromedriver is not installed";
  ASSERT_TRUE(testing::HaveTool("curl")) << "curl is not installed";
  const fs::path nav = dir_.path() / "nav";
  fs::create_directories(nav);
  std::ofstream(nav / "nav.c") << kNavProgram;
  ASSERT_EQ(RunCommand({"gcc", "-g", "-O0", "-o", "nav", "nav.c"}, nav).exit_code, 0);
  const auto r = RunCommand(
      {HWCOV_BINARY, "run", "-q", "--backend", "soft", "--html", "html", "--", "./nav"}, nav);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch link;
  const std::string index = ReadFile(nav / "html" / "index.html");
  ASSERT_TRUE(std::regex_search(index, link, std::regex(R"re(href="(file\d+\.html)">)re")));
  WebDriver browser(dir_.path());
  ASSERT_TRUE(browser.ok());
  browser.Open("file://" + (nav / "html" / link[1].str()).string());

  // Branch markers, as genhtml's: '+' taken, '-' not taken, '#' never evaluated.
  auto markers = [&](int line) {
    return browser.Script(
        "return Array.prototype.map.call(document.querySelectorAll('#L" + std::to_string(line) +
        " span.br'),function(s){return s.textContent+':'+s.className;}).join(' ');");
  };
  EXPECT_EQ(markers(2), "#:br br-never #:br br-never");
  const std::string if_markers = markers(8);
  EXPECT_TRUE(if_markers == "-:br br-not +:br br-taken" ||
              if_markers == "+:br br-taken -:br br-not")
      << if_markers;
  EXPECT_EQ(markers(7), "");  // no branch on the line
  EXPECT_EQ(browser.Script("return document.querySelector('#L8 span.br-taken').title;"),
            "branch 0.1 taken 1 times");

  // The function list: by line as written, then by a click on a header.
  auto functions = [&] {
    return browser.Script(
        "return Array.prototype.map.call(document.querySelector('table.functions').tBodies[0]."
        "rows,function(r){return r.cells[2].textContent+'='+r.cells[1].textContent;}).join(' ');");
  };
  auto header = [&](const std::string& key) {
    const std::vector<std::string> ids =
        browser.Find("table.functions th[data-key=\"" + key + "\"]");
    EXPECT_EQ(ids.size(), 1u) << key;
    return ids.empty() ? std::string("none") : ids[0];
  };
  EXPECT_EQ(functions(), "rare=0 used=2 main=1");
  browser.Click(header("entries"));
  EXPECT_EQ(functions(), "used=2 main=1 rare=0");
  browser.Click(header("name"));
  EXPECT_EQ(functions(), "main=1 rare=0 used=2");

  // Keys n and p walk the uncovered regions (first lines 1, 9 and 12), round.
  auto press = [&](const std::string& key) {
    browser.Call("POST", browser.Session() + "/actions",
                 "{\"actions\":[{\"type\":\"key\",\"id\":\"keyboard\",\"actions\":["
                 "{\"type\":\"keyDown\",\"value\":\"" +
                     key + "\"},{\"type\":\"keyUp\",\"value\":\"" + key + "\"}]}]}");
    return browser.Script("return location.hash;");
  };
  EXPECT_EQ(browser.Script("return document.querySelector('nav.uncovered').textContent;"),
            "3 uncovered regions: 1 9 12 (keys n / p: next / previous)");
  EXPECT_EQ(press("n"), "#L1");
  EXPECT_EQ(press("n"), "#L9");
  EXPECT_EQ(press("n"), "#L12");
  EXPECT_EQ(press("n"), "#L1");
  EXPECT_EQ(press("p"), "#L12");
  EXPECT_EQ(press("p"), "#L9");
}

// PNG: signature, then the IHDR chunk with width and height (big-endian).
std::pair<uint32_t, uint32_t> PngSize(const std::string& png) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      png.compare(12, 4, "IHDR") != 0)
    return {0, 0};
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
  const std::string source = ReadFile(Screenshot(Url(ProgPage()), "source.png"));
  for (const std::string* png : {&blank, &index, &source})
    EXPECT_EQ(PngSize(*png), (std::pair<uint32_t, uint32_t>{1280, 900}));
  // Text, tables and colours compress far worse than an empty page.
  EXPECT_GT(index.size(), 3 * blank.size()) << index.size() << " vs " << blank.size();
  EXPECT_GT(source.size(), 3 * blank.size()) << source.size() << " vs " << blank.size();
}

}  // namespace
}  // namespace hwcov
