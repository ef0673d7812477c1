// Coverage of the lines a change touched (diff-cover's and Codecov's patch
// coverage): a unified diff's added lines against the report's line counts.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <sstream>

#include "hwcov/report.h"
#include "hwcov/support.h"

namespace hwcov::report {
namespace {

// "b/src/x.c" -> "src/x.c"; "/dev/null" (a deleted file) -> "".
std::string NewFileName(std::string name) {
  if (const size_t tab = name.find('\t'); tab != std::string::npos) name.resize(tab);
  if (name == "/dev/null") return "";
  if (name.size() > 2 && name[1] == '/' && (name[0] == 'b' || name[0] == 'w')) name.erase(0, 2);
  if (name.size() > 1 && name.front() == '"' && name.back() == '"')
    name = name.substr(1, name.size() - 2);  // git quotes unusual names
  return name;
}

// "@@ -a[,b] +c[,d] @@": the new side's first line and length.
bool ParseHunk(const std::string& line, uint32_t& start, uint32_t& count) {
  unsigned long c = 0, d = 1;
  const size_t plus = line.find(" +");
  if (plus == std::string::npos) return false;
  const char* p = line.c_str() + plus + 2;
  char* end = nullptr;
  c = std::strtoul(p, &end, 10);
  if (end == p) return false;
  if (*end == ',') {
    const char* q = end + 1;
    d = std::strtoul(q, &end, 10);
    if (end == q) return false;
  }
  if (*end != ' ') return false;
  start = static_cast<uint32_t>(c);
  count = static_cast<uint32_t>(d);
  return true;
}

}  // namespace

ChangedLines ParseUnifiedDiff(const std::string& diff, const std::filesystem::path& base_dir,
                              const std::string& origin) {
  ChangedLines out;
  std::istringstream in(diff);
  std::string line, file;
  uint32_t next = 0, left = 0;  // the new side's next line and lines left in the hunk
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (left > 0 && !line.empty() && (line[0] == '+' || line[0] == ' ' || line[0] == '-')) {
      if (line[0] == '+') {
        if (!file.empty()) out.by_file[file].push_back(next);
        ++next;
        --left;
      } else if (line[0] == ' ') {
        ++next;
        --left;
      }
      continue;
    }
    if (line.rfind("\\ ", 0) == 0) continue;  // "\ No newline at end of file"
    left = 0;
    if (line.rfind("+++ ", 0) == 0) {
      const std::string name = NewFileName(line.substr(4));
      file = name.empty() ? "" : (base_dir / name).lexically_normal().string();
      if (!file.empty()) out.by_file[file];  // a changed file, even if only lines were removed
    } else if (line.rfind("@@ ", 0) == 0) {
      if (!ParseHunk(line, next, left))
        throw Error(origin + ": line " + std::to_string(number) + ": malformed hunk header '" +
                    line.substr(0, 80) + "'");
    }
  }
  for (auto& [name, lines] : out.by_file) {
    std::sort(lines.begin(), lines.end());
    lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  }
  return out;
}

DiffCoverage CoverChanges(const mapper::Coverage& coverage, const ChangedLines& changes) {
  DiffCoverage out;
  out.changed_files = changes.by_file.size();
  for (const mapper::FileCoverage& f : coverage.files) {
    auto changed = changes.by_file.find(f.path);
    if (changed == changes.by_file.end()) continue;
    DiffFile file{f.path, {}, {}};
    for (const mapper::LineCount& l : f.lines) {
      if (l.unknown || !std::binary_search(changed->second.begin(), changed->second.end(), l.line))
        continue;
      ++file.lines.found;
      if (l.count > 0)
        ++file.lines.hit;
      else
        file.uncovered.push_back(l.line);
    }
    if (file.lines.found == 0) continue;
    out.lines += file.lines;
    out.files.push_back(std::move(file));
  }
  return out;
}

void WriteDiffSummary(std::ostream& out, const DiffCoverage& diff,
                      const std::filesystem::path& root) {
  char line[160];
  if (diff.lines.found == 0) {
    out << "Diff: " << diff.changed_files
        << " changed files, no changed line with code in the report (nothing to cover)\n";
    return;
  }
  std::snprintf(line, sizeof line,
                "Diff: %.2f%% of changed lines covered (%llu of %llu, in %zu file%s)\n",
                diff.lines.Percent(), static_cast<unsigned long long>(diff.lines.hit),
                static_cast<unsigned long long>(diff.lines.found), diff.files.size(),
                diff.files.size() == 1 ? "" : "s");
  out << line;
  for (const DiffFile& f : diff.files) {
    if (f.uncovered.empty()) continue;
    out << "  " << RelativeTo(f.path, root) << ": not covered:";
    for (size_t i = 0; i < f.uncovered.size(); ++i) out << (i ? ", " : " ") << f.uncovered[i];
    out << "\n";
  }
}

}  // namespace hwcov::report
