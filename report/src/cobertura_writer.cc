// Cobertura XML writer (coverage-04.dtd; /work/shared/notes/coverage-formats.md
// section 2.1). Kept to the DTD's attributes: Jenkins and DTD validation reject
// extras (gcovr 5.2's function-rate was invalid). What readers use:
//   GitLab:  <class filename> relative to the repository root, <line number
//            hits> parsed with Integer(): hits must fit in 32 bits.
//   Jenkins: condition-coverage "P% (c/t)" on branch lines; a branch line's
//            line coverage comes from c > 0; Integer.parseInt overflow -> 0.
// Trace completeness has no place in the DTD, so it goes in a comment; so do
// the numbers of unknown lines, functions and branches (in a trace gap:
// mapper.h), which have no <line> or <method> and are not in the rates.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <ostream>

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "hwcov/version.h"
#include "paths.h"
#include "xml_escape.h"

namespace hwcov::report {
namespace {

constexpr uint64_t kMaxHits = 2147483647;  // INT32_MAX: Java's Integer.parseInt limit

std::string Rate(const Ratio& r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", r.Percent() / 100.0);
  return buf;
}

uint64_t Clamp(uint64_t hits) { return std::min(hits, kMaxHits); }

std::string Timestamp() {
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) return epoch;
  return std::to_string(static_cast<long long>(std::time(nullptr)));
}

// gcovr's class name: the file path with '.' made identifier-like.
std::string ClassName(std::string path) {
  std::replace(path.begin(), path.end(), '.', '_');
  return path;
}

std::string PackageName(const std::string& filename) {
  std::string dir = std::filesystem::path(filename).parent_path().string();
  return dir.empty() ? "." : dir;
}

class CoberturaWriter : public ReportWriter {
 public:
  CoberturaWriter(std::filesystem::path path, const std::filesystem::path& root)
      : path_(std::move(path)), root_(NormalRoot(root)) {}

  void Write(const mapper::Coverage& coverage, const Summary& summary) const override {
    // Group files by package (directory), keeping each package's totals.
    struct Package {
      FileSummary total;
      std::vector<size_t> files;
    };
    std::map<std::string, Package> packages;
    for (size_t i = 0; i < coverage.files.size(); ++i) {
      Package& p = packages[PackageName(RelativeTo(coverage.files[i].path, root_))];
      p.total.lines += summary.files[i].lines;
      p.total.branches += summary.files[i].branches;
      p.files.push_back(i);
    }

    AtomicFile file(path_);
    std::ostream& out = file.stream();
    const FileSummary& t = summary.total;
    out << "<?xml version=\"1.0\" ?>\n"
        << "<!DOCTYPE coverage SYSTEM 'http://cobertura.sourceforge.net/xml/coverage-04.dtd'>\n"
        << "<coverage line-rate=\"" << Rate(t.lines) << "\" branch-rate=\"" << Rate(t.branches)
        << "\" lines-covered=\"" << t.lines.hit << "\" lines-valid=\"" << t.lines.found
        << "\" branches-covered=\"" << t.branches.hit << "\" branches-valid=\"" << t.branches.found
        << "\" complexity=\"0.0\" timestamp=\"" << XmlEscape(Timestamp()) << "\" version=\""
        << kVersionString << "\">\n";
    Completeness(out, coverage.quality);
    Unknown(out, t);
    // Without a root the file names are absolute: their source is "/". gcovr
    // 8 refuses a file without a <source>.
    out << "  <sources>\n    <source>" << XmlEscape(root_.empty() ? "/" : root_.string())
        << "</source>\n  </sources>\n";
    out << "  <packages>\n";
    for (const auto& [name, package] : packages) {
      out << "    <package name=\"" << XmlEscape(name) << "\" line-rate=\""
          << Rate(package.total.lines) << "\" branch-rate=\"" << Rate(package.total.branches)
          << "\" complexity=\"0.0\">\n      <classes>\n";
      for (size_t i : package.files) Class(out, coverage.files[i], summary.files[i]);
      out << "      </classes>\n    </package>\n";
    }
    out << "  </packages>\n</coverage>\n";
    file.Commit();
  }

 private:
  void Class(std::ostream& out, const mapper::FileCoverage& f, const FileSummary& s) const {
    const std::string filename = RelativeTo(f.path, root_);
    out << "        <class name=\"" << XmlEscape(ClassName(filename)) << "\" filename=\""
        << XmlEscape(filename) << "\" line-rate=\"" << Rate(s.lines) << "\" branch-rate=\""
        << Rate(s.branches) << "\" complexity=\"0.0\">\n          <methods>\n";
    for (const mapper::FunctionCount& fn : f.functions) {
      if (fn.unknown) continue;
      const Ratio entered{fn.entry_count ? 1u : 0u, 1};
      out << "            <method name=\""
          << XmlEscape(fn.demangled.empty() ? fn.name : fn.demangled)
          << "\" signature=\"\" line-rate=\"" << Rate(entered)
          << "\" branch-rate=\"1.0000\" complexity=\"0.0\">\n"
          << "              <lines>\n                <line number=\"" << fn.line << "\" hits=\""
          << Clamp(fn.entry_count) << "\"/>\n              </lines>\n            </method>\n";
    }
    out << "          </methods>\n          <lines>\n";
    auto branch = f.branches.begin();
    for (const mapper::LineCount& line : f.lines) {
      while (branch != f.branches.end() && branch->line < line.line) ++branch;
      Ratio outcomes;
      for (; branch != f.branches.end() && branch->line == line.line; ++branch) {
        ++outcomes.found;
        if (branch->count.value_or(0) > 0) ++outcomes.hit;
      }
      if (line.unknown) continue;
      out << "            <line number=\"" << line.line << "\" hits=\"" << Clamp(line.count);
      if (outcomes.found == 0) {
        out << "\" branch=\"false\"/>\n";
        continue;
      }
      // Integer percent, rounded down as gcovr does: 99.9% is not 100%.
      const uint64_t percent = outcomes.hit * 100 / outcomes.found;
      out << "\" branch=\"true\" condition-coverage=\"" << percent << "% (" << outcomes.hit << "/"
          << outcomes.found << ")\">\n              <conditions>\n"
          << "                <condition number=\"0\" type=\"jump\" coverage=\"" << percent
          << "%\"/>\n              </conditions>\n            </line>\n";
    }
    out << "          </lines>\n        </class>\n";
  }

  // A comment cannot contain "--"; the figures and gap kinds never do, but
  // gap kinds are names from the decoder, so dashes are replaced anyway.
  static void Completeness(std::ostream& out, const mapper::TraceQuality& q) {
    uint64_t gaps = 0;
    std::string kinds;
    for (const auto& [kind, n] : q.gaps_by_kind) {
      gaps += n;
      kinds += " " + kind + "=" + std::to_string(n);
    }
    std::replace(kinds.begin(), kinds.end(), '-', '_');
    char line[256];
    std::snprintf(line, sizeof line,
                  "  <!-- hwcov trace completeness: %.2f%% of %llu PT bytes decoded, %llu "
                  "instructions, %llu unmapped, %llu gaps",
                  100.0 * q.decoded_share(), static_cast<unsigned long long>(q.trace_bytes),
                  static_cast<unsigned long long>(q.instructions),
                  static_cast<unsigned long long>(q.unmapped_instructions),
                  static_cast<unsigned long long>(gaps));
    out << line << XmlEscape(kinds) << " -->\n";
  }

  static void Unknown(std::ostream& out, const FileSummary& t) {
    out << "  <!-- hwcov unknown (in a trace gap, left out of lines and rates): " << t.lines.unknown
        << " lines, " << t.functions.unknown << " functions, " << t.branches.unknown
        << " branches -->\n";
  }

  std::filesystem::path path_;
  std::filesystem::path root_;
};

}  // namespace

std::unique_ptr<ReportWriter> MakeCoberturaWriter(std::filesystem::path path,
                                                  std::filesystem::path root) {
  return std::make_unique<CoberturaWriter>(std::move(path), std::move(root));
}

}  // namespace hwcov::report
