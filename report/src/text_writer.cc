// The terminal summary: per-file table in `llvm-cov report`'s shape, then
// what share of the trace the numbers rest on.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <ostream>

#include "hwcov/report.h"

namespace hwcov::report {
namespace {

std::string Percent(const Ratio& r) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", r.Percent());
  return buf;
}

std::string Pad(const std::string& s, size_t width, bool left) {
  if (s.size() >= width) return s;
  return left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
}

// Paths below the working directory are shown relative to it.
std::string DisplayPath(const std::string& path) {
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  if (ec) return path;
  auto rel = std::filesystem::path(path).lexically_relative(cwd);
  if (rel.empty() || *rel.begin() == "..") return path;
  return rel.string();
}

class TextWriter : public ReportWriter {
 public:
  TextWriter(std::ostream& out, bool color) : out_(out), color_(color) {}

  void Write(const mapper::Coverage& coverage, const Summary& summary) const override {
    size_t width = 8;
    for (const auto& f : summary.files) width = std::max(width, DisplayPath(f.path).size());
    const std::string header = Pad("Filename", width, true) + "  " + Pad("Lines", 8, false) +
                               Pad("Missed", 9, false) + Pad("Cover", 9, false) +
                               Pad("Functions", 11, false) + Pad("Missed", 9, false) +
                               Pad("Executed", 10, false) + Pad("Branches", 10, false) +
                               Pad("Missed", 9, false) + Pad("Cover", 9, false);
    const std::string rule(header.size(), '-');
    out_ << header << "\n" << rule << "\n";
    for (const auto& f : summary.files) Row(DisplayPath(f.path), f, width);
    out_ << rule << "\n";
    Row("TOTAL", summary.total, width);
    Completeness(coverage.quality, summary.total);
  }

 private:
  void Row(const std::string& name, const FileSummary& s, size_t width) const {
    out_ << Pad(name, width, true) << "  " << Pad(std::to_string(s.lines.found), 8, false)
         << Pad(std::to_string(s.lines.found - s.lines.hit), 9, false)
         << Colored(Pad(Percent(s.lines), 9, false), s.lines.Percent())
         << Pad(std::to_string(s.functions.found), 11, false)
         << Pad(std::to_string(s.functions.found - s.functions.hit), 9, false)
         << Colored(Pad(Percent(s.functions), 10, false), s.functions.Percent())
         << Pad(std::to_string(s.branches.found), 10, false)
         << Pad(std::to_string(s.branches.found - s.branches.hit), 9, false)
         << BranchCover(s.branches) << "\n";
  }

  // "-" without branches, as llvm-cov prints it (100% would claim something).
  std::string BranchCover(const Ratio& r) const {
    if (r.found == 0) return Pad("-", 9, false);
    return Colored(Pad(Percent(r), 9, false), r.Percent());
  }

  std::string Colored(const std::string& text, double percent) const {
    if (!color_) return text;
    const char* code = percent >= 80 ? "\033[32m" : percent >= 50 ? "\033[33m" : "\033[31m";
    return code + text + "\033[0m";
  }

  void Completeness(const mapper::TraceQuality& q, const FileSummary& total) const {
    char line[256];
    uint64_t gaps = 0;
    for (const auto& [kind, n] : q.gaps_by_kind) gaps += n;
    std::snprintf(line, sizeof line,
                  "Trace: %.2f%% of %llu PT bytes decoded cleanly, %llu instructions, %llu gaps",
                  100.0 * q.decoded_share(), static_cast<unsigned long long>(q.trace_bytes),
                  static_cast<unsigned long long>(q.instructions),
                  static_cast<unsigned long long>(gaps));
    out_ << line;
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
  bool color_;
};

}  // namespace

std::unique_ptr<ReportWriter> MakeTextWriter(std::ostream& out, bool color) {
  return std::make_unique<TextWriter>(out, color);
}

}  // namespace hwcov::report
