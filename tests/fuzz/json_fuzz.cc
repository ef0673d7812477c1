// Fuzz target: the native JSON coverage reader (report::ReadCoverageJson,
// docs/json-format.md), which `hwcov merge` and `hwcov report X.json` run on
// files from CI artifacts. Any bytes as a coverage file must give coverage or
// an hwcov::Error. What the reader accepts must then be what the mapper
// produces and what the rest of hwcov relies on:
//   - canonical: mapper::Merge into an empty coverage (the CoverageBuilder's
//     sort, dedup and line rules) gives it back unchanged;
//   - merge with itself: the same records with every count doubled (modulo
//     2^64, as mapper::Merge adds), quality figures doubled, messages twice;
//   - Summarize, the lcov writer and the JSON writer accept it (an
//     hwcov::Error from them is a bug here: it would be an "internal error");
//   - round trip: written back by the JSON writer and read again it is equal,
//     and writing that again gives the same bytes.
// A broken invariant aborts (fuzz::Check).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "fuzz_input.h"
#include "hwcov/mapper.h"
#include "hwcov/report.h"

namespace {

namespace mapper = hwcov::mapper;
namespace report = hwcov::report;
using hwcov::fuzz::Check;

bool SameLines(const mapper::LineCount& a, const mapper::LineCount& b, uint64_t factor) {
  return a.line == b.line && a.count * factor == b.count && a.unknown == b.unknown;
}

bool SameFunction(const mapper::FunctionCount& a, const mapper::FunctionCount& b, uint64_t factor) {
  return a.name == b.name && a.demangled == b.demangled && a.line == b.line &&
         a.entry_count * factor == b.entry_count && a.unknown == b.unknown;
}

bool SameBranch(const mapper::BranchOutcome& a, const mapper::BranchOutcome& b, uint64_t factor) {
  if (a.line != b.line || a.block != b.block || a.branch != b.branch) return false;
  if (a.count.has_value() != b.count.has_value()) return false;
  return !a.count || *a.count * factor == *b.count;
}

template <typename T, typename F>
bool SameList(const std::vector<T>& a, const std::vector<T>& b, uint64_t factor, F same) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i], factor)) return false;
  return true;
}

// |b| is |a| with every count multiplied by |factor| (unsigned, wrapping).
bool SameFiles(const mapper::Coverage& a, const mapper::Coverage& b, uint64_t factor) {
  if (a.files.size() != b.files.size()) return false;
  for (size_t i = 0; i < a.files.size(); ++i) {
    const mapper::FileCoverage& x = a.files[i];
    const mapper::FileCoverage& y = b.files[i];
    if (x.path != y.path || !SameList(x.lines, y.lines, factor, SameLines) ||
        !SameList(x.functions, y.functions, factor, SameFunction) ||
        !SameList(x.branches, y.branches, factor, SameBranch))
      return false;
  }
  return true;
}

bool SameQuality(const mapper::TraceQuality& a, const mapper::TraceQuality& b) {
  return a.trace_bytes == b.trace_bytes && a.decoded_bytes == b.decoded_bytes &&
         a.instructions == b.instructions && a.unmapped_instructions == b.unmapped_instructions &&
         a.gaps_by_kind == b.gaps_by_kind && a.gap_details == b.gap_details &&
         a.warnings == b.warnings;
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hwcov::fuzz::ScratchFile input("input.json");
  static hwcov::fuzz::ScratchFile first("first.json");  // path only: the writers create it
  static hwcov::fuzz::ScratchFile second("second.json");
  static hwcov::fuzz::ScratchFile lcov("out.info");
  static const uint8_t kNothing = 0;
  static const std::filesystem::path& first_path = first.Write(&kNothing, 0);
  static const std::filesystem::path& second_path = second.Write(&kNothing, 0);
  static const std::filesystem::path& lcov_path = lcov.Write(&kNothing, 0);

  const std::filesystem::path& path = input.Write(data, size);
  mapper::Coverage c;
  try {
    c = report::ReadCoverageJson(path);
  } catch (const hwcov::Error& e) {
    // The error convention: one line, "<file>: <what>"; text from the input
    // (paths, names, a stray byte) must not break it.
    const std::string what = e.what();
    const bool names_file = what.rfind(path.string() + ": ", 0) == 0;
    const bool one_line = std::none_of(what.begin(), what.end(), [](char ch) {
      return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    });
    if (!names_file || !one_line) std::fprintf(stderr, "error message: %s\n", what.c_str());
    Check(names_file, "the error names the file");
    Check(one_line, "the error is one line of printable text");
    hwcov::fuzz::Refused(e.what());
    return 0;
  }
  // From here on an hwcov::Error is a bug: it escapes and aborts.

  // A file record with nothing in it is harmless, and mapper::Merge drops it.
  mapper::Coverage nonempty = c;
  std::erase_if(nonempty.files, [](const mapper::FileCoverage& f) {
    return f.lines.empty() && f.functions.empty() && f.branches.empty();
  });
  mapper::Coverage canonical;
  mapper::Merge(canonical, c);
  Check(SameFiles(nonempty, canonical, 1), "the reader accepts only the mapper's canonical form");

  mapper::Coverage twice = c;
  mapper::Merge(twice, c);
  Check(SameFiles(nonempty, twice, 2),
        "merge with itself doubles every count and changes nothing else");
  const mapper::TraceQuality& q = c.quality;
  const mapper::TraceQuality& q2 = twice.quality;
  Check(q2.trace_bytes == 2 * q.trace_bytes && q2.decoded_bytes == 2 * q.decoded_bytes &&
            q2.instructions == 2 * q.instructions &&
            q2.unmapped_instructions == 2 * q.unmapped_instructions &&
            q2.gaps_by_kind.size() == q.gaps_by_kind.size() &&
            q2.gap_details.size() == 2 * q.gap_details.size() &&
            q2.warnings.size() == 2 * q.warnings.size(),
        "merge with itself doubles the trace quality");

  const report::Summary summary = report::Summarize(c);
  Check(summary.files.size() == c.files.size(), "one summary per file");
  Check(summary.total.lines.hit <= summary.total.lines.found &&
            summary.total.functions.hit <= summary.total.functions.found &&
            summary.total.branches.hit <= summary.total.branches.found,
        "hit <= found");
  report::MakeLcovWriter(lcov_path, "fuzz")->Write(c, summary);

  report::MakeJsonWriter(first_path)->Write(c, summary);
  const mapper::Coverage back = report::ReadCoverageJson(first_path);
  Check(SameFiles(c, back, 1) && SameQuality(c.quality, back.quality),
        "written and read back, the coverage is unchanged");
  report::MakeJsonWriter(second_path)->Write(back, report::Summarize(back));
  Check(Slurp(first_path) == Slurp(second_path), "written twice, the JSON is byte-identical");

  size_t lines = 0;
  for (const mapper::FileCoverage& f : c.files) lines += f.lines.size();
  hwcov::fuzz::Accepted(std::to_string(c.files.size()) + " files, " + std::to_string(lines) +
                        " lines");
  return 0;
}
