// The terminal summary: per-file table in `llvm-cov report`'s shape, then
// what share of the trace the numbers rest on.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <ostream>

#include "completeness.h"
#include "hwcov/report.h"

namespace hwcov::report {
namespace {

// "-" for an empty category, as llvm-cov prints it: 100% would claim something.
std::string Percent(const Ratio& r) {
  if (r.found == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", r.Percent());
  return buf;
}

std::string Pad(const std::string& s, size_t width, bool left) {
  if (s.size() >= width) return s;
  return left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
}

// Paths below the source root (else the working directory) are shown
// relative to it, as the filters match them.
std::string DisplayPath(const std::string& path, const std::filesystem::path& root) {
  if (!root.empty()) return RelativeTo(path, root);
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  if (ec) return path;
  return RelativeTo(path, cwd);
}

// "3-5, 9, 12-20": the known zero-count lines of |f| as ranges, in the shape
// of gcovr's --txt "Missing" column and coverage.py's `report -m`. Lines with
// no code in between do not break a range.
std::string MissingRanges(const mapper::FileCoverage& f) {
  std::string out;
  bool open = false;
  uint32_t first = 0, last = 0;
  auto close = [&] {
    if (!open) return;
    out += (out.empty() ? "" : ", ") + std::to_string(first);
    if (last != first) out += "-" + std::to_string(last);
    open = false;
  };
  for (const mapper::LineCount& l : f.lines) {
    if (l.unknown) continue;
    if (l.count > 0) {
      close();
      continue;
    }
    if (!open) first = l.line;
    last = l.line;
    open = true;
  }
  close();
  return out;
}

class TextWriter : public ReportWriter {
 public:
  TextWriter(std::ostream& out, TextOptions options) : out_(out), options_(std::move(options)) {}

  void Write(const mapper::Coverage& coverage, const Summary& summary) const override {
    size_t width = 8;
    for (const auto& f : summary.files)
      width = std::max(width, DisplayPath(f.path, options_.root).size());
    const std::string header =
        Pad("Filename", width, true) + "  " + Pad("Lines", 8, false) + Pad("Missed", 9, false) +
        Pad("Cover", 9, false) + Pad("Functions", 11, false) + Pad("Missed", 9, false) +
        Pad("Executed", 10, false) + Pad("Branches", 10, false) + Pad("Missed", 9, false) +
        Pad("Cover", 9, false) + (options_.show_missing ? "  Missing lines" : "");
    const std::string rule(header.size(), '-');
    out_ << header << "\n" << rule << "\n";
    for (size_t i = 0; i < summary.files.size(); ++i)
      Row(DisplayPath(summary.files[i].path, options_.root), summary.files[i], width,
          options_.show_missing ? MissingRanges(coverage.files[i]) : "");
    out_ << rule << "\n";
    Row("TOTAL", summary.total, width, "");
    Completeness(coverage.quality, summary.total);
    if (!coverage.tests.empty())
      out_ << "Tests: " << coverage.tests.size()
           << " (per-test coverage: which tests ran each line is in the JSON, lcov and HTML "
              "outputs)\n";
  }

 private:
  void Row(const std::string& name, const FileSummary& s, size_t width,
           const std::string& missing) const {
    out_ << Pad(name, width, true) << "  " << Pad(std::to_string(s.lines.found), 8, false)
         << Pad(std::to_string(s.lines.found - s.lines.hit), 9, false)
         << Colored(Pad(Percent(s.lines), 9, false), s.lines)
         << Pad(std::to_string(s.functions.found), 11, false)
         << Pad(std::to_string(s.functions.found - s.functions.hit), 9, false)
         << Colored(Pad(Percent(s.functions), 10, false), s.functions)
         << Pad(std::to_string(s.branches.found), 10, false)
         << Pad(std::to_string(s.branches.found - s.branches.hit), 9, false)
         << Colored(Pad(Percent(s.branches), 9, false), s.branches)
         << (missing.empty() ? "" : "  " + missing) << "\n";
  }

  std::string Colored(const std::string& text, const Ratio& r) const {
    if (!options_.color || r.found == 0) return text;
    const double percent = r.Percent();
    const char* code = percent >= 80 ? "\033[32m" : percent >= 50 ? "\033[33m" : "\033[31m";
    return code + text + "\033[0m";
  }

  void Completeness(const mapper::TraceQuality& q, const FileSummary& total) const {
    const uint64_t gaps = GapCount(q);
    out_ << CompletenessLine(q);
    std::string sep = " (";
    for (const auto& [kind, n] : q.gaps_by_kind) {
      out_ << sep << n << " " << kind;
      sep = ", ";
    }
    out_ << (gaps ? ")" : "") << "\n";
    // Code around the gaps may have run unseen: neither hit nor missed.
    if (gaps || total.lines.unknown || total.functions.unknown || total.branches.unknown)
      out_ << "Trace: unknown: " << total.lines.unknown << " lines (trace gaps), "
           << total.functions.unknown << " functions, " << total.branches.unknown
           << " branches; not counted as missed\n";
    if (q.unmapped_instructions)
      out_ << "Trace: " << q.unmapped_instructions
           << " instructions ran in code with no binary (not counted)\n";
    constexpr size_t kMaxListed = 10;
    for (size_t i = 0; i < q.gap_details.size() && i < kMaxListed; ++i)
      out_ << "  gap: " << q.gap_details[i] << "\n";
    if (q.gap_details.size() > kMaxListed)
      out_ << "  ... and " << q.gap_details.size() - kMaxListed << " more gaps\n";
    for (size_t i = 0; i < q.warnings.size() && i < kMaxListed; ++i)
      out_ << "  warning: " << q.warnings[i] << "\n";
    if (q.warnings.size() > kMaxListed)
      out_ << "  ... and " << q.warnings.size() - kMaxListed << " more warnings\n";
  }

  std::ostream& out_;
  TextOptions options_;
};

}  // namespace

std::unique_ptr<ReportWriter> MakeTextWriter(std::ostream& out, TextOptions options) {
  return std::make_unique<TextWriter>(out, std::move(options));
}

}  // namespace hwcov::report
