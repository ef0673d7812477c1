// A self-contained HTML report: DIR/index.html with the trace completeness
// and per-directory and per-file tables (sorted by missed lines, most first;
// a small inline script re-sorts them by any column on a click or by a
// #sort=KEY fragment), and one page per source file with the annotated
// source. No external scripts, CSS or fonts: the directory can be opened from
// a CI artifact or a file:// URL as is, and reads the same without scripts.
// Every text from outside (paths, source, function names, trace messages)
// goes through XmlEscape.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <ostream>
#include <tuple>

#include "completeness.h"
#include "hwcov/report.h"
#include "hwcov/support.h"
#include "test_alignment.h"
#include "xml_escape.h"

namespace hwcov::report {
namespace {

const char kStyle[] =
    "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
    "td,th{padding:2px 8px;text-align:right}td.name,th:first-child{text-align:left}"
    "pre{margin:0}.hit{background:#dfd}.miss{background:#fdd}.part{background:#ffc}"
    ".unknown{background:#e4e4f4}.legend span{padding:2px 8px}"
    "td.src{text-align:left;font-family:monospace;white-space:pre}"
    "tr.total{font-weight:bold}th[data-key]{cursor:pointer;text-decoration:underline dotted}"
    "th[aria-sort=ascending]::after{content:\" \\25B2\"}"
    "th[aria-sort=descending]::after{content:\" \\25BC\"}"
    ".br{font-family:monospace;padding:0 1px}.br-taken{color:#070}.br-not{color:#b00}"
    ".br-never{color:#777}nav.uncovered{position:sticky;top:0;background:#fff;padding:4px 0}"
    "</style>\n";

// Sorts a table.sortable's body by the column whose header was clicked, or on
// load by #sort=KEY[-asc|-desc]. A first click sorts names A-Z and figures
// largest first; clicking the sorted column again reverses it. The header's
// aria-sort says how the table is sorted (the written order is "missed lines,
// descending"), and an arrow shows it. Cells carry their sort value in data-v;
// numbers sort as numbers.
const char kSortScript[] =
    "<script>\n"
    "function hwcovSort(th,desc){var t=th.closest('table'),b=t.tBodies[0],c=th.cellIndex;"
    "var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){"
    "var a=x.cells[c].getAttribute('data-v'),d=y.cells[c].getAttribute('data-v');"
    "var n=parseFloat(a)-parseFloat(d);var k=isNaN(n)?a.localeCompare(d):n;return desc?-k:k;});"
    "rows.forEach(function(r){b.appendChild(r);});"
    "t.querySelectorAll('th[aria-sort]').forEach(function(h){h.removeAttribute('aria-sort');});"
    "th.setAttribute('aria-sort',desc?'descending':'ascending');}\n"
    "document.querySelectorAll('table.sortable th[data-key]').forEach(function(th){"
    "th.addEventListener('click',function(){var s=th.getAttribute('aria-sort');"
    "hwcovSort(th,s?s==='ascending':th.getAttribute('data-key')!=='name');});});\n"
    "var m=/sort=([a-z]+)(-(asc|desc))?/.exec(location.hash);if(m){"
    "document.querySelectorAll('table.sortable th[data-key=\"'+m[1]+'\"]').forEach(function(th){"
    "hwcovSort(th,m[3]?m[3]==='desc':m[1]!=='name');});}\n"
    "</script>\n";

std::string Percent(const Ratio& r) {
  if (r.found == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", r.Percent());
  return buf;
}

std::string Cells(const FileSummary& s) {
  std::string out;
  out += "<td data-v=\"" + std::to_string(s.lines.found - s.lines.hit) + "\">" +
         std::to_string(s.lines.found - s.lines.hit) + "</td>";
  for (const Ratio* r : {&s.lines, &s.functions, &s.branches}) {
    char value[32];
    std::snprintf(value, sizeof value, "%.4f", r->found ? r->Percent() : -1.0);
    out += "<td>" + std::to_string(r->hit) + "/" + std::to_string(r->found) +
           (r->unknown ? " (" + std::to_string(r->unknown) + " unknown)" : "") +
           "</td><td data-v=\"" + value + "\">" + Percent(*r) + "</td>";
  }
  return out;
}

// A sortable table of |rows| (name, link or empty, summary), missed lines
// first, and its total.
void SummaryTable(std::ostream& out, const std::string& what,
                  std::vector<std::tuple<std::string, std::string, FileSummary>> rows,
                  const FileSummary& total) {
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    const FileSummary& x = std::get<2>(a);
    const FileSummary& y = std::get<2>(b);
    return x.lines.found - x.lines.hit > y.lines.found - y.lines.hit;
  });
  out << "<table class=\"sortable\">\n<thead><tr><th data-key=\"name\">" << what
      << "</th><th data-key=\"missed\" aria-sort=\"descending\">Missed lines</th><th>Lines</th>"
         "<th data-key=\"lines\">%</th><th>Functions</th><th data-key=\"functions\">%</th>"
         "<th>Branches</th><th data-key=\"branches\">%</th></tr></thead>\n<tbody>\n";
  for (const auto& [name, link, s] : rows) {
    out << "<tr><td class=\"name\" data-v=\"" << XmlEscape(name) << "\">";
    if (link.empty())
      out << XmlEscape(name);
    else
      out << "<a href=\"" << link << "\">" << XmlEscape(name) << "</a>";
    out << "</td>" << Cells(s) << "</tr>\n";
  }
  out << "</tbody>\n<tfoot><tr class=\"total\"><td class=\"name\">TOTAL</td>" << Cells(total)
      << "</tr></tfoot>\n</table>\n";
}

// What the row colours mean; "unknown" only where there is some.
void Legend(std::ostream& out, const FileSummary& s) {
  out << "<p class=\"legend\"><span class=\"hit\">covered</span> <span class=\"part\">branches "
         "partly taken</span> <span class=\"miss\">not covered</span>";
  if (s.lines.unknown || s.functions.unknown || s.branches.unknown)
    out << " <span class=\"unknown\">unknown: in a trace gap</span>";
  out << " &nbsp; branch outcomes: <span class=\"br br-taken\">+</span> taken "
         "<span class=\"br br-not\">-</span> not taken <span class=\"br br-never\">#</span> "
         "never evaluated (the jump never ran)</p>\n"
         "<p>An optimised binary reports the lines that survived compilation: source lines the "
         "compiler removed have no code to run and are not counted.</p>\n";
}

// genhtml's markers for the outcomes of one line: + taken, - evaluated but
// not taken, # never evaluated. The title carries the count.
std::string BranchMarkers(std::vector<mapper::BranchOutcome>::const_iterator begin,
                          std::vector<mapper::BranchOutcome>::const_iterator end) {
  std::string out;
  for (auto b = begin; b != end; ++b) {
    const std::string id = std::to_string(b->block) + "." + std::to_string(b->branch);
    if (!b->count)
      out += "<span class=\"br br-never\" title=\"branch " + id + " never evaluated\">#</span>";
    else if (*b->count == 0)
      out += "<span class=\"br br-not\" title=\"branch " + id + " not taken\">-</span>";
    else
      out += "<span class=\"br br-taken\" title=\"branch " + id + " taken " +
             std::to_string(*b->count) + " times\">+</span>";
  }
  return out;
}

// Keys n and p (and the links) move between the uncovered regions of a
// source page, as genhtml's and coverage.py's navigation do.
const char kNavigateScript[] =
    "<script>\n"
    "(function(){var r=document.querySelectorAll('tr.region'),i=-1;"
    "function go(d){if(!r.length)return;i=(i+d+r.length)%r.length;"
    "r[i].scrollIntoView({block:'center'});location.hash=r[i].id;}"
    "document.addEventListener('keydown',function(e){if(e.key==='n')go(1);"
    "if(e.key==='p')go(-1);});})();\n"
    "</script>\n";

// Page names by index, not by path: paths can be long, contain anything and
// collide once flattened.
std::string PageName(size_t index) { return "file" + std::to_string(index) + ".html"; }

void Header(std::ostream& out, const std::string& title) {
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << XmlEscape(title)
      << "</title>\n"
      << kStyle << "</head><body>\n<h1>" << XmlEscape(title) << "</h1>\n";
}

void Completeness(std::ostream& out, const mapper::TraceQuality& q, const FileSummary& total) {
  const uint64_t gaps = GapCount(q);
  out << "<p>" << XmlEscape(CompletenessLine(q));
  for (const auto& [kind, n] : q.gaps_by_kind) out << "; " << n << " " << XmlEscape(kind);
  if (q.unmapped_instructions)
    out << "; " << q.unmapped_instructions << " instructions in code with no binary (not counted)";
  out << "</p>\n";
  if (gaps || total.lines.unknown || total.functions.unknown || total.branches.unknown)
    out << "<p class=\"unknown\">Unknown (in a trace gap, not counted as missed): "
        << total.lines.unknown << " lines, " << total.functions.unknown << " functions, "
        << total.branches.unknown << " branches</p>\n";
  if (!q.gap_details.empty() || !q.warnings.empty()) {
    out << "<ul>\n";
    for (const auto& g : q.gap_details) out << "<li>gap: " << XmlEscape(g) << "</li>\n";
    for (const auto& w : q.warnings) out << "<li>warning: " << XmlEscape(w) << "</li>\n";
    out << "</ul>\n";
  }
}

// The first line of each run of known zero-count lines (lines without code
// in between do not end a run).
std::vector<uint32_t> UncoveredRegions(const mapper::FileCoverage& f) {
  std::vector<uint32_t> starts;
  bool in_region = false;
  for (const mapper::LineCount& l : f.lines) {
    if (l.unknown) continue;
    const bool missed = l.count == 0;
    if (missed && !in_region) starts.push_back(l.line);
    in_region = missed;
  }
  return starts;
}

class HtmlWriter : public ReportWriter {
 public:
  HtmlWriter(std::filesystem::path dir, std::filesystem::path root)
      : dir_(std::move(dir)), root_(std::move(root)) {}

  void Write(const mapper::Coverage& coverage, const Summary& summary) const override {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) ThrowFileError(dir_, "cannot create the HTML directory: " + ec.message());
    CheckTestsAligned(coverage);
    for (size_t i = 0; i < coverage.files.size(); ++i)
      FilePage(coverage.files[i], summary.files[i], TestsOfLines(coverage, i), dir_ / PageName(i));
    // The index last: its presence means the pages it links to are there.
    AtomicFile file(dir_ / "index.html");
    std::ostream& out = file.stream();
    Header(out, "hwcov coverage report");
    Completeness(out, coverage.quality, summary.total);
    std::map<std::string, FileSummary> directories;
    std::vector<std::tuple<std::string, std::string, FileSummary>> files;
    for (size_t i = 0; i < summary.files.size(); ++i) {
      const std::string path = RelativeTo(summary.files[i].path, root_);
      std::string directory = std::filesystem::path(path).parent_path().string();
      FileSummary& d = directories[directory.empty() ? "." : directory];
      d.lines += summary.files[i].lines;
      d.functions += summary.files[i].functions;
      d.branches += summary.files[i].branches;
      files.emplace_back(path, PageName(i), summary.files[i]);
    }
    std::vector<std::tuple<std::string, std::string, FileSummary>> by_directory;
    for (const auto& [name, s] : directories) by_directory.emplace_back(name, "", s);
    out << "<h2>Directories</h2>\n";
    SummaryTable(out, "Directory", std::move(by_directory), summary.total);
    out << "<h2>Files</h2>\n";
    SummaryTable(out, "File", std::move(files), summary.total);
    out << kSortScript << "</body></html>\n";
    file.Commit();
  }

 private:
  // Per line of file |i| (Coverage::tests), the names of the tests that ran
  // it; empty without per-test coverage.
  static std::vector<std::vector<const std::string*>> TestsOfLines(const mapper::Coverage& coverage,
                                                                   size_t i) {
    if (coverage.tests.empty()) return {};
    std::vector<std::vector<const std::string*>> out(coverage.files[i].lines.size());
    for (const mapper::TestCoverage& test : coverage.tests)
      for (size_t j = 0; j < out.size(); ++j)
        if (test.files[i].lines[j].count > 0) out[j].push_back(&test.name);
    return out;
  }

  // "covered by 3 tests: a, b, c": the first names, all of them in the title.
  static std::string TestsCell(const std::vector<const std::string*>& names) {
    if (names.empty()) return "<td></td>";
    constexpr size_t kShown = 5;
    std::string all, shown;
    for (size_t k = 0; k < names.size(); ++k) {
      all += (k ? ", " : "") + *names[k];
      if (k < kShown) shown += (k ? ", " : "") + *names[k];
    }
    if (names.size() > kShown) shown += ", ...";
    const std::string count =
        std::to_string(names.size()) + (names.size() == 1 ? " test" : " tests");
    return "<td class=\"tests\" title=\"" + XmlEscape(all) + "\">covered by " + count + ": " +
           XmlEscape(shown) + "</td>";
  }

  void FilePage(const mapper::FileCoverage& f, const FileSummary& s,
                const std::vector<std::vector<const std::string*>>& tests,
                const std::filesystem::path& page) const {
    AtomicFile file(page);
    std::ostream& out = file.stream();
    Header(out, RelativeTo(f.path, root_));
    out << "<p><a href=\"index.html\">index</a></p>\n<table>\n<tr><th></th><th>Missed lines</th>"
           "<th>Lines</th><th>%</th><th>Functions</th><th>%</th><th>Branches</th><th>%</th></tr>\n"
           "<tr><td class=\"name\">this file</td>"
        << Cells(s) << "</tr>\n</table>\n";
    Legend(out, s);
    out << "<h2>Functions</h2>\n<table class=\"sortable functions\">\n<thead><tr>"
           "<th data-key=\"line\" aria-sort=\"ascending\">Line</th>"
           "<th data-key=\"entries\">Entries</th><th data-key=\"name\">Function</th></tr>"
           "</thead>\n<tbody>\n";
    for (const auto& fn : f.functions) {
      const std::string name = XmlEscape(fn.demangled.empty() ? fn.name : fn.demangled);
      out << "<tr class=\""
          << (fn.unknown       ? "unknown"
              : fn.entry_count ? "hit"
                               : "miss")
          << "\"><td data-v=\"" << fn.line << "\"><a href=\"#L" << fn.line << "\">" << fn.line
          << "</a></td><td data-v=\"" << (fn.unknown ? -1 : static_cast<double>(fn.entry_count))
          << "\">" << (fn.unknown ? "?" : std::to_string(fn.entry_count))
          << "</td><td class=\"name\" data-v=\"" << name << "\">" << name << "</td></tr>\n";
    }
    out << "</tbody></table>\n<h2>Source</h2>\n";
    const std::vector<uint32_t> regions = UncoveredRegions(f);
    out << "<nav class=\"uncovered\">" << regions.size() << " uncovered region"
        << (regions.size() == 1 ? "" : "s");
    for (size_t i = 0; i < regions.size(); ++i)
      out << (i ? " " : ": ") << "<a href=\"#L" << regions[i] << "\">" << regions[i] << "</a>";
    out << (regions.empty() ? "" : " (keys n / p: next / previous)") << "</nav>\n";
    // Without the source (built elsewhere), the counted lines alone; with a
    // source shorter than the counts (edited since), the extra counted lines
    // still appear, without text.
    std::vector<std::string> source;
    std::ifstream in(f.path, std::ios::binary);
    for (std::string text; in && std::getline(in, text);) source.push_back(std::move(text));
    if (!in.is_open()) out << "<p>Source not readable at this path; counted lines only.</p>\n";
    const bool per_test = !tests.empty();
    if (per_test) out << "<style>td.tests{text-align:left;font-size:smaller}</style>\n";
    out << "<table>\n<tr><th>Line</th><th>Count</th><th>Branches</th>"
        << (per_test ? "<th>Tests</th>" : "") << "<th></th></tr>\n";
    auto line = f.lines.begin();
    auto branch = f.branches.begin();
    const size_t last = std::max<size_t>(source.size(), f.lines.empty() ? 0 : f.lines.back().line);
    for (uint32_t n = 1; n <= last; ++n) {
      const bool counted = line != f.lines.end() && line->line == n;
      Ratio outcomes;
      while (branch != f.branches.end() && branch->line < n) ++branch;
      const auto line_branches = branch;
      for (; branch != f.branches.end() && branch->line == n; ++branch) {
        ++outcomes.found;
        if (branch->count.value_or(0) > 0) ++outcomes.hit;
      }
      const bool has_text = n <= source.size();
      if (!has_text && !counted) continue;
      const char* cls = !counted                        ? ""
                        : line->unknown                 ? "unknown"
                        : line->count == 0              ? "miss"
                        : outcomes.hit < outcomes.found ? "part"
                                                        : "hit";
      const bool region = std::binary_search(regions.begin(), regions.end(), n);
      out << "<tr id=\"L" << n << "\" class=\"" << cls << (region ? " region" : "") << "\"><td>"
          << n << "</td><td>";
      if (counted && line->unknown)
        out << "?";
      else if (counted)
        out << line->count;
      out << "</td><td>";
      if (outcomes.found && !(counted && line->unknown))
        out << outcomes.hit << "/" << outcomes.found << " " << BranchMarkers(line_branches, branch);
      out << "</td>";
      if (per_test) out << (counted ? TestsCell(tests[line - f.lines.begin()]) : "<td></td>");
      out << "<td class=\"src\">" << (has_text ? XmlEscape(source[n - 1]) : "") << "</td></tr>\n";
      if (counted) ++line;
    }
    out << "</table>\n" << kSortScript << kNavigateScript << "</body></html>\n";
    file.Commit();
  }

  std::filesystem::path dir_;
  std::filesystem::path root_;
};

}  // namespace

std::unique_ptr<ReportWriter> MakeHtmlWriter(std::filesystem::path dir,
                                             std::filesystem::path root) {
  return std::make_unique<HtmlWriter>(std::move(dir), std::move(root));
}

}  // namespace hwcov::report
