// Which source files and lines a report covers (docs/user-guide.md,
// "Choosing what is reported"). Applied once, before Summarize(), so every
// writer and every total sees the same filtered coverage.
#include <algorithm>
#include <fstream>
#include <set>

// GCC 12's <regex> trips its own -Wmaybe-uninitialized under -O with ASan
// (a false positive inside std::function moves, GCC bug 105562).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "paths.h"
#include "test_alignment.h"

namespace hwcov::report {
namespace {

std::vector<std::regex> Compile(const std::vector<std::string>& patterns, const char* option) {
  std::vector<std::regex> out;
  for (const std::string& p : patterns) {
    try {
      out.emplace_back(p, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw Error(std::string("invalid ") + option + " regular expression '" + p +
                  "': " + e.what());
    }
  }
  return out;
}

bool Below(const std::string& path, const std::filesystem::path& dir) {
  auto rel = std::filesystem::path(path).lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

// Lines excluded by markers in the source, in lcov's and gcovr's spellings.
struct Excluded {
  std::set<uint32_t> lines;     // no line, function or branch counts
  std::set<uint32_t> branches;  // no branch counts
};

bool Has(const std::string& text, const char* marker) {
  return text.find(std::string("LCOV_") + marker) != std::string::npos ||
         text.find(std::string("GCOVR_") + marker) != std::string::npos;
}

// An unreadable source (built elsewhere, deleted) has no markers: its
// coverage is reported whole rather than refused.
Excluded ReadMarkers(const std::string& path) {
  Excluded out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::string text;
  bool in_range = false, in_branch_range = false;
  for (uint32_t n = 1; std::getline(in, text); ++n) {
    // No marker is a substring of another ("LCOV_EXCL_BR_LINE" does not
    // contain "LCOV_EXCL_LINE"), so each is tested on its own.
    if (Has(text, "EXCL_BR_START")) in_branch_range = true;
    if (Has(text, "EXCL_START")) in_range = true;
    if (in_range || Has(text, "EXCL_LINE")) out.lines.insert(n);
    if (in_branch_range || Has(text, "EXCL_BR_LINE")) out.branches.insert(n);
    if (Has(text, "EXCL_BR_STOP")) in_branch_range = false;
    if (Has(text, "EXCL_STOP")) in_range = false;
  }
  return out;
}

void ApplyMarkers(mapper::FileCoverage& f) {
  const Excluded ex = ReadMarkers(f.path);
  if (ex.lines.empty() && ex.branches.empty()) return;
  std::erase_if(f.lines, [&](const auto& l) { return ex.lines.count(l.line) > 0; });
  std::erase_if(f.functions, [&](const auto& fn) { return ex.lines.count(fn.line) > 0; });
  std::erase_if(f.branches, [&](const auto& b) {
    return ex.lines.count(b.line) > 0 || ex.branches.count(b.line) > 0;
  });
}

}  // namespace

// Whether any of |regexes| is found in |path| or |shown|; marks each that is.
bool MatchAll(const std::vector<std::regex>& regexes, const std::string& path,
              const std::string& shown, std::vector<bool>& used) {
  bool any = false;
  for (size_t i = 0; i < regexes.size(); ++i)
    if (std::regex_search(path, regexes[i]) || std::regex_search(shown, regexes[i]))
      any = used[i] = true;
  return any;
}

mapper::Coverage Filter(mapper::Coverage coverage, const FilterOptions& options,
                        FilterCounts* counts) {
  const std::vector<std::regex> include = Compile(options.include, "--include");
  const std::vector<std::regex> exclude = Compile(options.exclude, "--exclude");
  const std::filesystem::path root = options.root.empty() ? options.root : NormalRoot(options.root);
  // System headers are not the project's code, unless the project is there.
  const bool hide_system =
      !options.system_sources && !root.empty() && !Below(root.string() + "/x", "/usr");
  FilterCounts local;
  FilterCounts& n = counts ? *counts : local;
  n = FilterCounts{};
  n.files = coverage.files.size();
  std::vector<bool> include_used(include.size()), exclude_used(exclude.size());
  std::vector<mapper::FileCoverage> kept;
  for (mapper::FileCoverage& f : coverage.files) {
    if (!root.empty() && !Below(f.path, root)) {
      if (n.outside_root++ == 0) n.example_outside_root = f.path;
      continue;
    }
    if (hide_system && Below(f.path, "/usr")) {
      ++n.system;
      continue;
    }
    const std::string shown = RelativeTo(f.path, root);
    if (!include.empty() && !MatchAll(include, f.path, shown, include_used)) {
      ++n.not_included;
      continue;
    }
    if (MatchAll(exclude, f.path, shown, exclude_used)) {
      ++n.excluded;
      continue;
    }
    // A file that markers emptied is dropped; one that never had lines (a
    // binary without DWARF: functions from ELF symbols only) is kept.
    const bool had_lines = !f.lines.empty();
    if (options.source_markers) ApplyMarkers(f);
    if (had_lines && f.lines.empty()) {
      ++n.emptied;
      continue;
    }
    kept.push_back(std::move(f));
  }
  for (size_t i = 0; i < include.size(); ++i)
    if (!include_used[i]) n.unmatched_patterns.push_back("--include '" + options.include[i] + "'");
  for (size_t i = 0; i < exclude.size(); ++i)
    if (!exclude_used[i]) n.unmatched_patterns.push_back("--exclude '" + options.exclude[i] + "'");
  coverage.files = std::move(kept);
  AlignTests(coverage);  // the tests lose what the total lost
  return coverage;
}

}  // namespace hwcov::report
